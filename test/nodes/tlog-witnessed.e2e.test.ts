/**
 * The "done when", end to end with real processes: `ephemera witness` started from the CLI, an
 * `ephemera serve` (embedded log, simulated TEE, real bubblewrap) configured to ask it, one run. The served
 * certificate carries its inclusion proof to a checkpoint the witness cosigned, and `ephemera verify
 * --require-log --witness <its key>` accepts it; a stranger's witness key, a moved leaf index or a proof of
 * another leaf are refused. Go's reference code (sumdb/note, sumdb/tlog) agrees on the served checkpoint's
 * signature, the certificate's inclusion proof and the served tiles.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash } from '../../src/attest/index.js';
import { SimulatedAttestor } from '../../src/attest/node.js';
import { openLogKey } from '../../src/commands/tlog/log-key.js';
import {
  generateCosignerKey,
  encodeLeaf,
  newTiles,
  formatTilePath,
  openCheckpoint,
  parseNoteVerifierKey,
  type CertificateTransparency,
} from '../../src/tlog/index.js';
import type { Certificate } from '../../src/verify/index.js';
import { startWitnessProcess, type WitnessProcess } from '../../src/witness/testing/witness-process.js';
import { buildGoProgram } from '../interop/go-program.js';
import { startNode, type NodeProcess } from './node-process.js';

const ROOT = join(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'ephemera-tlog-witnessed-'));
const dataDir = join(root, 'node');
let witness: WitnessProcess;
let witnessKey: string;
let node: NodeProcess;
let simulatedKey: string;

const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const JOB = JSON.stringify({
  dataset: { data: b64('a,b\n1,2\n'), format: 'csv' },
  sandbox: { tools: ['python'], scripts: { 'main.py': 'print("ok")' }, environment: { timeout_seconds: 20, max_memory_mb: 256 } },
});

/** `ephemera verify` on a file; resolves with the exit code and the JSON verdict. */
function verify(file: string, ...flags: string[]): { code: number; verdict: { transparency?: unknown } } {
  try {
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'verify', file, '--json', '--trust-key', simulatedKey, ...flags], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, XDG_CONFIG_HOME: join(root, 'config') },
    });
    return { code: 0, verdict: JSON.parse(out) };
  } catch (error) {
    const failed = error as { status: number; stdout: string };
    return { code: failed.status, verdict: JSON.parse(failed.stdout) };
  }
}

beforeAll(async () => {
  // The log key derives from the node's simulated attestor key: make it first, so the witness can follow the log.
  const attestor = new SimulatedAttestor(dataDir);
  simulatedKey = attestor.publicKeyHex;
  const logKey = await openLogKey(attestor, null);
  witness = await startWitnessProcess({ origin: logKey.origin, logKey: logKey.vkey, state: join(root, 'witness') });
  witnessKey = witness.vkey;
  node = await startNode({
    name: 'tlog-witnessed',
    dataDir,
    env: { EPHEMERA_LOG: 'sqlite', EPHEMERA_TLOG_INTERVAL_MS: '200', EPHEMERA_TLOG_WITNESSES: `${witness.vkey}@${witness.url}` },
  });
}, 90_000);

afterAll(async () => {
  await node?.stop();
  witness?.child.kill('SIGTERM');
  rmSync(root, { recursive: true, force: true });
});

describe('a certificate proved into a witnessed log', () => {
  let certificate: Certificate & { transparency?: CertificateTransparency };
  let file: string;

  it('is served with its inclusion proof to a checkpoint the CLI witness cosigned, and verifies with --require-log --witness', async () => {
    const response = await fetch(`${node.url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JOB });
    expect(response.status, node.output()).toBe(200);
    const id = ((await response.json()) as { certificate_id: string }).certificate_id;
    const witnessName = witnessKey.split('+')[0]!;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const served = await fetch(`${node.url}/certificate/${id}`);
      expect(served.status).toBe(200);
      certificate = (await served.json()) as typeof certificate;
      if (certificate.transparency?.checkpoint.includes(`\n— ${witnessName} `)) break;
      if (Date.now() > deadline) throw new Error(`not cosigned within 30 s:\n${node.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    file = join(root, 'certificate.json');
    writeFileSync(file, JSON.stringify(certificate));

    const ok = verify(file, '--require-log', '--witness', witnessKey);
    expect(ok.code, JSON.stringify(ok.verdict)).toBe(0);
    expect(ok.verdict.transparency).toMatchObject({ leaf_index: certificate.transparency!.leaf_index, cosigned_by: [witnessName] });
  }, 90_000);

  it('is refused under a witness that did not cosign, and with a moved leaf index or another leaf', () => {
    const stranger = generateCosignerKey('stranger.example').vkey;
    const untrusted = verify(file, '--require-log', '--witness', stranger);
    expect(untrusted.code).toBe(4);
    expect(JSON.stringify(untrusted.verdict)).toContain('TLOG_COSIGNATURES_INSUFFICIENT');

    const moved = structuredClone(certificate);
    moved.transparency!.leaf_index += 1;
    const movedFile = join(root, 'moved.json');
    writeFileSync(movedFile, JSON.stringify(moved));
    expect(verify(movedFile, '--require-log', '--witness', witnessKey).code).toBe(1);

    const otherLeaf = structuredClone(certificate);
    otherLeaf.transparency!.leaf.result_hash = `sha256:${'0'.repeat(64)}`;
    const otherFile = join(root, 'other-leaf.json');
    writeFileSync(otherFile, JSON.stringify(otherLeaf));
    expect(verify(otherFile, '--require-log').code).toBe(1);

    const { transparency, ...unlogged } = certificate;
    const unloggedFile = join(root, 'unlogged.json');
    writeFileSync(unloggedFile, JSON.stringify(unlogged));
    expect(transparency).toBeDefined();
    expect(verify(unloggedFile).code).toBe(0);
    expect(verify(unloggedFile, '--require-log').code).toBe(1);
  }, 60_000);

  it("agrees with Go's sumdb/note and sumdb/tlog: the checkpoint's signature, the inclusion proof and the served tiles", async () => {
    const t = certificate.transparency!;
    const noteProgram = buildGoProgram(join(ROOT, 'test/interop/go/note'));
    const tlogProgram = buildGoProgram(join(ROOT, 'test/interop/go/tlog'));
    const [opened] = JSON.parse(
      execFileSync(noteProgram, { input: JSON.stringify([{ op: 'open', msg: t.checkpoint, vkeys: [t.log_key.statement.vkey] }]), encoding: 'utf8' }),
    );
    const ours = openCheckpoint(t.checkpoint, [parseNoteVerifierKey(t.log_key.statement.vkey)]);
    expect(opened.error ?? '').toBe('');
    expect(opened.text).toBe(ours.note.text);

    const { size, rootHash } = ours.checkpoint;
    const tiles: Record<string, string> = {};
    for (const tile of newTiles(0, size)) {
      const path = formatTilePath(tile);
      const served = await fetch(`${node.url}/tlog/${path}`);
      expect(served.status).toBe(200);
      tiles[path] = Buffer.from(await served.arrayBuffer()).toString('base64');
    }
    const b = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const proof = t.inclusion_proof.map((hex) => Buffer.from(hex, 'hex').toString('base64'));
    const ops = [
      { op: 'checkRecord', proof, t: size, th: b(rootHash), n: t.leaf_index, h: b(leafHash(encodeLeaf(t.leaf))) },
      { op: 'tileReader', size, root: b(rootHash), tiles, records: [[size, t.leaf_index]] },
    ];
    const [check, reader] = JSON.parse(execFileSync(tlogProgram, { input: JSON.stringify({ leaves: 0, ops }), encoding: 'utf8' }));
    expect(check.error).toBe('ok');
    expect(reader.error ?? '').toBe('');
    expect(reader.hash).toBe(b(rootHash));
    expect(reader.recordProofs[0] ?? []).toEqual(proof);
  }, 120_000);
});
