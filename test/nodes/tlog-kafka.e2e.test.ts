/**
 * The transparency log across two `ephemera serve` processes on one Kafka topic (real broker, real bubblewrap,
 * simulated TEE): node A sequences (EPHEMERA_TLOG=sequencer), node B follows (the default on Kafka). A run on
 * each is logged by A; B projects the same records from `<topic>.tlog` into its own tile store and serves the
 * same checkpoint, whose tiles read from B verify against A's attested log key. B, on a simulated TEE, holds a
 * key of its own, so it vouches for no log key (503 TLOG_UNAVAILABLE) rather than serve one that signs nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash, verifyInclusion } from '../../src/attest/index.js';
import { requireKafka } from '../../src/events/kafka-testing.js';
import { hexToBytes } from '../../src/events/index.js';
import { TiledTree, encodeLeaf, openCheckpoint, parseNoteVerifierKey, type CertificateTransparency, type LogKeyDocument } from '../../src/tlog/index.js';
import { startNode, type NodeProcess } from './node-process.js';

const root = mkdtempSync(join(tmpdir(), 'ephemera-tlog-kafka-'));
const common = {
  EPHEMERA_LOG: 'kafka',
  KAFKA_BROKERS: requireKafka().join(','),
  EPHEMERA_KAFKA_TOPIC: `ephemera.test.tlog.${ulid().toLowerCase()}`,
  EPHEMERA_KAFKA_PARTITIONS: '2',
  EPHEMERA_TLOG_INTERVAL_MS: '200',
  // Each simulated node has its own key: the follower is told the sequencer's origin.
  EPHEMERA_TLOG_ORIGIN: 'ephemera.test/two-nodes',
};
let a: NodeProcess;
let b: NodeProcess;

const body = JSON.stringify({
  dataset: { data: `base64:${Buffer.from('x\n1\n').toString('base64')}`, format: 'csv' },
  sandbox: { tools: ['python'], scripts: { 'main.py': 'print(1)' }, environment: { timeout_seconds: 20, max_memory_mb: 256 } },
});

async function run(node: NodeProcess): Promise<string> {
  const response = await fetch(`${node.url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(response.status, node.output()).toBe(200);
  return ((await response.json()) as { certificate_id: string }).certificate_id;
}

async function eventually<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what} within 30 s\nA:\n${a.output()}\nB:\n${b.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  [a, b] = await Promise.all([
    startNode({ name: 'tlog-a', dataDir: join(root, 'a'), env: { ...common, EPHEMERA_NODE_ID: 'tlog-a', EPHEMERA_TLOG: 'sequencer' } }),
    startNode({ name: 'tlog-b', dataDir: join(root, 'b'), env: { ...common, EPHEMERA_NODE_ID: 'tlog-b' } }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

describe('the transparency log on Kafka: a sequencer and a follower', () => {
  it("logs both nodes' runs once; the follower serves the sequencer's checkpoint and tiles, which verify", async () => {
    const ids = [await run(a), await run(b)];
    const answers = await Promise.all(
      ids.map((id) =>
        eventually(`${id} logged by the sequencer`, async () => {
          const response = await fetch(`${a.url}/tlog/leaves/${id}`);
          return response.status === 200 ? ((await response.json()) as CertificateTransparency) : null;
        }),
      ),
    );
    expect(answers.map((x) => x.leaf_index).sort()).toEqual([0, 1]);
    const document = (await (await fetch(`${a.url}/.well-known/ephemera-log-key.json`)).json()) as LogKeyDocument;
    expect(document.statement.origin).toBe('ephemera.test/two-nodes');
    const verifier = parseNoteVerifierKey(document.statement.vkey);
    const latest = await (await fetch(`${a.url}/tlog/checkpoint`)).text();
    const theirs = await eventually('the follower at the same checkpoint', async () => {
      const response = await fetch(`${b.url}/tlog/checkpoint`);
      const text = response.status === 200 ? await response.text() : null;
      return text === latest ? text : null;
    });
    const { checkpoint } = openCheckpoint(theirs, [verifier]);
    expect(checkpoint.size).toBe(2);
    const tree = new TiledTree({ size: checkpoint.size, root: checkpoint.rootHash }, async (path) => {
      const tile = await fetch(`${b.url}/tlog/${path}`);
      expect(tile.status).toBe(200);
      return new Uint8Array(await tile.arrayBuffer());
    });
    for (const answer of answers) {
      expect(await tree.leafHash(answer.leaf_index)).toEqual(leafHash(encodeLeaf(answer.leaf)));
      // Each answer is proved to the checkpoint it carries (an earlier one, if it was logged first).
      const proved = openCheckpoint(answer.checkpoint, [verifier]).checkpoint;
      verifyInclusion(leafHash(encodeLeaf(answer.leaf)), answer.leaf_index, proved.size, answer.inclusion_proof.map(hexToBytes), proved.rootHash);
    }
    for (const url of [`${b.url}/.well-known/ephemera-log-key.json`, `${b.url}/tlog/leaves/${ids[0]}`]) {
      const refused = await fetch(url);
      expect([url, refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([url, 503, 'TLOG_UNAVAILABLE']);
    }
  }, 120_000);
});
