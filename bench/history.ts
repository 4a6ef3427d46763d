/**
 * A fingerprint's history (docs/transparency.md §14): checking one full page of 1,000 runs
 * (`verifyHistory`: strict parse, the checkpoint's log key, 1,000 inclusion proofs, the chain), and
 * the audit (`auditLog`), which reads every entry bundle of the log against its authenticated tile
 * and checks every leaf's prev: leaves per second over a log of 1e5 leaves (quick: 1e4) held in
 * memory, against parsing the same entries alone (`parseLeaf`, the least work an audit does).
 * node:crypto hashes, as the CLI runs it.
 */
import { nodeSha256 } from '../src/events/node-hash.js';
import { auditLog, encodeLeaf, parseLeaf, TiledTree, type LogLeaf } from '../src/tlog/index.js';
import { verifyHistory } from '../src/verify/index.js';
import { VECTOR_PUBLIC_KEY } from '../src/verify/testing/forge.js';
import { fixtureLog, syntheticLeaf } from '../src/verify/testing/log-fixture.js';
import { againstFloor, type BenchOptions, type BenchRow, median, timed } from './types.js';

export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  // One page: 1,000 runs of one fingerprint in a log of 2,000 leaves (another fingerprint interleaved).
  const leaves: LogLeaf[] = [];
  for (let i = 0; i < 2000; i++) leaves.push(syntheticLeaf(i, i % 2 === 0 ? 'page' : 'other', i >= 2 ? i - 2 : null));
  const small = await fixtureLog(leaves);
  const fingerprint = leaves[0]!.fingerprint;
  const page = JSON.stringify(await small.historyOf(fingerprint));
  const pageMs = await median(quick ? 3 : 9, async () => {
    const verdict = await verifyHistory(fingerprint, async () => page, { trustedKeys: [VECTOR_PUBLIC_KEY] });
    if (verdict.status !== 'trusted' || verdict.runs.length !== 1000) throw new Error(`bench: the page did not verify (${verdict.error?.code})`);
  });
  rows.push({
    name: 'history page of 1,000 runs verified (parse, log key, proofs, chain)',
    value: +pageMs.toFixed(1),
    unit: 'ms',
    note: `${(page.length / 1e6).toFixed(1)} MB`,
  });

  // The audit over a whole log: 1,000 fingerprints, each run chained to the last.
  const size = quick ? 10_000 : 100_000;
  const last = new Map<number, number>();
  const all: LogLeaf[] = [];
  for (let i = 0; i < size; i++) {
    const run = i % 1000;
    all.push(syntheticLeaf(i, `run ${run}`, last.get(run) ?? null));
    last.set(run, i);
  }
  const log = await fixtureLog(all);
  const read = async (path: string) => log.files.get(path)!;
  const audit = await timed(() => auditLog(new TiledTree({ size, root: log.root }, read, nodeSha256), read, { hash: nodeSha256 }));
  const entries = all.map(encodeLeaf);
  const floor = await timed(() => {
    for (const entry of entries) parseLeaf(entry);
  });
  rows.push(
    againstFloor(
      {
        name: `audit of a log of ${quick ? '1e4' : '1e5'} leaves (every bundle against its tile, every prev)`,
        value: Math.round(size / (audit.ms / 1000)),
        unit: 'leaves/s',
      },
      { name: 'parseLeaf alone over the same entries', value: Math.round(size / (floor.ms / 1000)), unit: 'leaves/s' },
    ),
  );
  return rows;
}
