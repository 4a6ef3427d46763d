/**
 * The transparency log of a real `ephemera serve` (child process, embedded log, simulated TEE, real bubblewrap):
 * two runs of one computation are logged; the checkpoint, the tiles and entry bundles over HTTP, and each leaf's
 * proof verify with src/tlog and src/attest against the attested log key; the history chains them. Then kill -9
 * and a restart on the same data directory: the same tree is served, and a third run extends the chain.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash, verifyInclusion, verifySimulatedAttestation } from '../../src/attest/index.js';
import { hexToBytes } from '../../src/events/index.js';
import {
  TiledTree,
  batchRecord,
  checkEntryBundle,
  encodeLeaf,
  encodeTlogRecord,
  formatCheckpoint,
  leafOfCertificate,
  signNote,
  logKeyReportData,
  logKeyStatementHash,
  openCheckpoint,
  parseNoteVerifierKey,
  type CertificateTransparency,
  type HistoryAnswer,
  type LogKeyDocument,
} from '../../src/tlog/index.js';
import { SimulatedAttestor } from '../../src/attest/node.js';
import { openLogKey } from '../../src/commands/tlog/log-key.js';
import { SqliteTlogLedger } from '../../src/events/tlog-ledger-sqlite.js';
import { TlogProjection } from '../../src/projections/tlog/log-projection.js';
import { sealedCertificate } from '../../src/projections/tlog/testing/certificates.js';
import { TileStore } from '../../src/projections/tlog/tile-store.js';
import { startNode, type NodeProcess } from './node-process.js';

const root = mkdtempSync(join(tmpdir(), 'ephemera-tlog-e2e-'));
const dataDir = join(root, 'node');
const env = { EPHEMERA_LOG: 'sqlite', EPHEMERA_TLOG_INTERVAL_MS: '200' };
let node: NodeProcess;

const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const body = JSON.stringify({
  dataset: { data: b64('a,b\n1,2\n'), format: 'csv' },
  sandbox: { tools: ['python'], scripts: { 'main.py': 'print("ok")' }, environment: { timeout_seconds: 20, max_memory_mb: 256 } },
});

async function run(): Promise<string> {
  const response = await fetch(`${node.url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(response.status, node.output()).toBe(200);
  return ((await response.json()) as { certificate_id: string }).certificate_id;
}

async function logged(id: string): Promise<CertificateTransparency> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${node.url}/tlog/leaves/${id}`);
    if (response.status === 200) return (await response.json()) as CertificateTransparency;
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('TLOG_NOT_LOGGED');
    if (Date.now() > deadline) throw new Error(`${id} not logged within 20 s:\n${node.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The log key document, checked: statement hash, report data, the simulated attestation over it. */
async function logKey(): Promise<LogKeyDocument> {
  const document = (await (await fetch(`${node.url}/.well-known/ephemera-log-key.json`)).json()) as LogKeyDocument;
  expect(document.statement_hash).toBe(logKeyStatementHash(document.statement));
  const reportData = logKeyReportData(document.statement_hash);
  expect(document.report_data).toBe(Buffer.from(reportData).toString('hex'));
  verifySimulatedAttestation(document.attestation as unknown as Record<string, unknown>, reportData);
  expect(document.statement.vkey.startsWith(`${document.statement.origin}+`)).toBe(true);
  return document;
}

/** The checkpoint over HTTP, its tiles read over HTTP into a TiledTree, every entry bundle checked; each proof verified. */
async function verifyLog(document: LogKeyDocument, answers: CertificateTransparency[]): Promise<{ size: number; root: string }> {
  const response = await fetch(`${node.url}/tlog/checkpoint`);
  expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-cache');
  const { checkpoint } = openCheckpoint(await response.text(), [parseNoteVerifierKey(document.statement.vkey)]);
  expect(checkpoint.origin).toBe(document.statement.origin);
  const tiles: string[] = [];
  const tree = new TiledTree({ size: checkpoint.size, root: checkpoint.rootHash }, async (path) => {
    tiles.push(path);
    const tile = await fetch(`${node.url}/tlog/${path}`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    return new Uint8Array(await tile.arrayBuffer());
  });
  await tree.verifyRoot();
  const bundle = await fetch(`${node.url}/tlog/tile/entries/000.p/${checkpoint.size}`);
  expect(checkEntryBundle(new Uint8Array(await bundle.arrayBuffer()), await tree.tile(0, 0))).toHaveLength(checkpoint.size);
  for (const answer of answers) {
    const { checkpoint: theirs } = openCheckpoint(answer.checkpoint, [parseNoteVerifierKey(answer.log_key.statement.vkey)]);
    verifyInclusion(leafHash(encodeLeaf(answer.leaf)), answer.leaf_index, theirs.size, answer.inclusion_proof.map(hexToBytes), theirs.rootHash);
    expect(await tree.leafHash(answer.leaf_index)).toEqual(leafHash(encodeLeaf(answer.leaf)));
  }
  return { size: checkpoint.size, root: Buffer.from(checkpoint.rootHash).toString('hex') };
}

beforeAll(async () => {
  node = await startNode({ name: 'tlog', dataDir, env });
}, 60_000);

afterAll(async () => {
  await node?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('the transparency log of ephemera serve', () => {
  let first: CertificateTransparency;
  let second: CertificateTransparency;
  let before: { size: number; root: string };

  it('logs every certificate with a proof into a checkpoint signed by the attested log key, tiles served as C2SP', async () => {
    const [a, b] = [await run(), await run()];
    first = await logged(a);
    second = await logged(b);
    const document = await logKey();
    expect(first.log_key).toEqual(document);
    expect(first.leaf.certificate_id).toBe(a);
    expect(first.leaf.fingerprint).toBe(second.leaf.fingerprint);
    expect(second.leaf.prev).toBe(first.leaf_index);
    before = await verifyLog(document, [first, second]);
    expect(before.size).toBe(2);
    // Nothing of the log failed on the way (the tlog_leaves index, the ledger, the tile store report on stderr).
    expect(node.output()).not.toContain('tlog: ');
  }, 90_000);

  it("answers the fingerprint's history newest first, and refuses what is not a tile or not in the tree", async () => {
    const history = (await (await fetch(`${node.url}/tlog/history/${first.leaf.fingerprint}`)).json()) as HistoryAnswer;
    expect(history.leaves.map((l) => l.leaf_index)).toEqual([second.leaf_index, first.leaf_index]);
    const notInTree = await fetch(`${node.url}/tlog/tile/0/001`);
    expect(notInTree.status).toBe(404);
    expect(((await notInTree.json()) as { error: { code: string } }).error.code).toBe('TLOG_TILE_NOT_FOUND');
    const invalid = await fetch(`${node.url}/tlog/tile/0/01`);
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('TLOG_TILE_PATH_INVALID');
  });

  it('after kill -9 and a restart on the same data directory, serves the same tree and extends the chain', async () => {
    await node.kill9();
    node = await startNode({ name: 'tlog-restarted', dataDir, env });
    const document = await logKey();
    expect(document.statement.vkey).toBe(first.log_key.statement.vkey);
    const third = await logged(await run());
    expect(third.leaf_index).toBe(2);
    expect(third.leaf.prev).toBe(second.leaf_index);
    const after = await verifyLog(document, [first, second, third]);
    expect(after.size).toBe(3);
    // The old checkpoint's root is the first two leaves' tree hash in the new tree.
    const tree = new TiledTree(
      { size: after.size, root: hexToBytes(after.root) },
      async (path) => new Uint8Array(await (await fetch(`${node.url}/tlog/${path}`)).arrayBuffer()),
    );
    expect(Buffer.from(await tree.treeHash(2)).toString('hex')).toBe(before.root);
    before = after;
  }, 90_000);

  it('`projections rebuild` gives the same root; `tlog check` agrees with the event log, and names a forged leaf', async () => {
    await node.stop();
    const rebuilt = cli('projections', 'rebuild', '--json');
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout).tlog).toEqual({ size: 3, root: before.root });
    const checked = cli('tlog', 'check', '--json');
    expect(checked.status, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ size: 3, root: before.root, differences: 0, ignored_records: [], ignored_count: 0 });
    // A batch the log key signed, of a certificate the event log does not have.
    const key = await openLogKey(new SimulatedAttestor(dataDir), null);
    const forged = leafOfCertificate(sealedCertificate('forged'), null);
    const replay = new TlogProjection({ store: new TileStore(join(root, 'scratch')), origin: key.origin });
    const ledger = new SqliteTlogLedger(join(dataDir, 'events.sqlite'));
    try {
      await replay.catchUp(ledger);
      const builder = replay.fork();
      builder.append([leafHash(encodeLeaf(forged))]);
      const checkpoint = signNote({ text: formatCheckpoint({ origin: key.origin, size: 4, rootHash: builder.root(), extensions: [] }) }, [key.signer]);
      await ledger.append(encodeTlogRecord(batchRecord(key.origin, 3, [encodeLeaf(forged)], checkpoint)), 3);
    } finally {
      await ledger.close();
    }
    const caught = cli('tlog', 'check', '--json');
    expect(caught.status).toBe(1);
    // The report, then the error (TLOG_CHECK_MISMATCH) the CLI writes as JSON too.
    const [report, error] = caught.stdout.trim().split(/\n(?=\{)/);
    expect(JSON.parse(error!).error.code).toBe('TLOG_CHECK_MISMATCH');
    expect(JSON.parse(report!).first_differences).toEqual([
      { leaf_index: 3, certificate_id: forged.certificate_id, why: 'no such certificate in the event log' },
    ]);
  }, 120_000);
});

function cli(...args: string[]) {
  return spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/ephemera.js'), ...args, '--data-dir', dataDir], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', EPHEMERA_TEE: 'simulated', ...env },
    timeout: 60_000,
  });
}
