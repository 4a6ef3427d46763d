import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { fixtureLog, honestLeaves, syntheticLeaf, type FixtureLog } from '../verify/testing/log-fixture.js';
import { auditLog, checkHistoryPage } from './history.js';
import type { HistoryAnswer } from './transparency.js';
import { parseCheckpoint } from './checkpoint.js';
import { parseNote } from './note.js';
import { formatEntryBundlePath } from './tile-path.js';

const honest = honestLeaves;
const A = syntheticLeaf(0, 'a', null).fingerprint;

const checkpointOf = (log: FixtureLog) => parseCheckpoint(parseNote(log.checkpoint).text);

/** The error a call throws: its code and fields (the break it names). */
function refusal(body: () => unknown): { code: string; fields: Record<string, unknown> } {
  try {
    body();
  } catch (error) {
    if (isEphemeraError(error)) return { code: error.code, fields: { ...error.fields } };
    throw error;
  }
  return { code: 'no error', fields: {} };
}
async function refusalAsync(body: () => Promise<unknown>): Promise<{ code: string; fields: Record<string, unknown> }> {
  try {
    await body();
  } catch (error) {
    if (isEphemeraError(error)) return { code: error.code, fields: { ...error.fields } };
    throw error;
  }
  return { code: 'no error', fields: {} };
}

/** The history as an honest server of this log builds it: from the newest leaf of the fingerprint, following prev. */
async function chainFrom(log: FixtureLog, start: number): Promise<HistoryAnswer> {
  const answer = await log.historyOf(log.leaves[start]!.fingerprint);
  const leaves: HistoryAnswer['leaves'] = [];
  for (let i: number | null = start; i !== null; i = log.leaves[i]!.prev) leaves.push(answer.leaves.find((l) => l.leaf_index === i)!);
  return { ...answer, leaves };
}

describe('checkHistoryPage', () => {
  it('accepts the whole chain of a fingerprint, newest first, each leaf proved', async () => {
    const log = await fixtureLog(honest());
    const answer = await log.historyOf(A);
    const page = checkHistoryPage(answer, checkpointOf(log), A);
    expect(page.leaves.map((l) => l.leaf_index)).toEqual([5, 3, 2, 0]);
    expect(page.next).toBeNull();
  });

  it('refuses a history that hides a run: the chain breaks where it was', async () => {
    const log = await fixtureLog(honest());
    const answer = await log.historyOf(A);
    const hidden = { ...answer, leaves: answer.leaves.filter((l) => l.leaf_index !== 3) };
    expect(refusal(() => checkHistoryPage(hidden, checkpointOf(log), A))).toEqual({
      code: 'TLOG_HISTORY_BROKEN',
      fields: { break: 'chain', leaf_index: 5, prev: 3, shown: 2 },
    });
  });

  it('hiding the oldest run leaves a prev to follow: the page says where the chain goes on', async () => {
    const log = await fixtureLog(honest());
    const answer = await log.historyOf(A);
    const trimmed = { ...answer, leaves: answer.leaves.slice(0, 3) };
    expect(checkHistoryPage(trimmed, checkpointOf(log), A).next).toBe(0);
  });

  it('refuses a tampered proof, a changed leaf, a leaf of another fingerprint, a reordered list', async () => {
    const log = await fixtureLog(honest());
    const answer = await log.historyOf(A);
    const cp = checkpointOf(log);
    const [l5, l3, l2, l0] = answer.leaves as [
      HistoryAnswer['leaves'][number],
      HistoryAnswer['leaves'][number],
      HistoryAnswer['leaves'][number],
      HistoryAnswer['leaves'][number],
    ];
    const flipped = l3.inclusion_proof.map((h, i) => (i === 1 ? `${h[0] === '0' ? '1' : '0'}${h.slice(1)}` : h));
    expect(refusal(() => checkHistoryPage({ leaves: [l5, { ...l3, inclusion_proof: flipped }, l2, l0] }, cp, A)).fields).toEqual({
      break: 'proof',
      leaf_index: 3,
    });
    const changed = { ...l2, leaf: { ...l2.leaf, result_hash: l5.leaf.certificate_hash } };
    expect(refusal(() => checkHistoryPage({ leaves: [l5, l3, changed, l0] }, cp, A)).fields).toEqual({ break: 'proof', leaf_index: 2 });
    const b = (await log.historyOf(log.leaves[4]!.fingerprint)).leaves[0]!;
    expect(refusal(() => checkHistoryPage({ leaves: [l5, l3, b, l2, l0] }, cp, A)).fields).toEqual({ break: 'foreign-leaf', leaf_index: 4 });
    expect(refusal(() => checkHistoryPage({ leaves: [l3, l5, l2, l0] }, cp, A)).fields).toEqual({ break: 'order', leaf_index: 5 });
    expect(refusal(() => checkHistoryPage({ leaves: [l5, l5, l3, l2, l0] }, cp, A)).fields).toEqual({ break: 'order', leaf_index: 5 });
  });

  it('refuses a leaf outside the checkpoint it is checked against', async () => {
    const log = await fixtureLog(honest());
    const small = await fixtureLog(honest().slice(0, 4));
    const answer = await log.historyOf(A);
    expect(refusal(() => checkHistoryPage(answer, checkpointOf(small), A)).fields).toEqual({ break: 'outside-checkpoint', leaf_index: 5 });
  });

  it('checks a page against where the previous page said the chain goes on', async () => {
    const log = await fixtureLog(honest());
    const answer = await log.historyOf(A);
    const cp = checkpointOf(log);
    const first = checkHistoryPage({ leaves: answer.leaves.slice(0, 2) }, cp, A);
    expect(first.next).toBe(2);
    expect(checkHistoryPage({ leaves: answer.leaves.slice(2) }, cp, A, first.next).next).toBeNull();
    expect(refusal(() => checkHistoryPage({ leaves: answer.leaves.slice(3) }, cp, A, first.next)).fields).toEqual({ break: 'page', leaf_index: 2 });
    expect(refusal(() => checkHistoryPage({ leaves: [] }, cp, A, first.next)).fields).toEqual({ break: 'page', leaf_index: 2 });
  });

  it('refuses a leaf whose prev is not earlier than itself (a walk that would turn back)', async () => {
    const leaves = honest();
    leaves[2] = syntheticLeaf(2, 'a', 5);
    const log = await fixtureLog(leaves);
    const answer = await log.historyOf(A);
    expect(refusal(() => checkHistoryPage({ leaves: answer.leaves.slice(2) }, checkpointOf(log), A)).fields).toEqual({
      break: 'order',
      leaf_index: 2,
      prev: 5,
    });
  });
});

describe('auditLog', () => {
  const bundles = (log: FixtureLog) => async (path: string) => {
    const data = log.files.get(path);
    if (!data) throw new Error(`no bundle ${path}`);
    return data;
  };

  it("reads every leaf of an honest log and finds the fingerprint's runs", async () => {
    const log = await fixtureLog(honest());
    expect(await auditLog(log.tree, bundles(log), { fingerprint: A })).toEqual({ size: 6, fingerprints: 2, indexes: [0, 2, 3, 5] });
  });

  it('catches a sequencer that skipped a run, which the history alone cannot show', async () => {
    const leaves = honest();
    leaves[5] = syntheticLeaf(5, 'a', 2); // leaf 3 left out of the chain by the sequencer itself
    const log = await fixtureLog(leaves);
    // The history a server answers follows the log's own prev links: it is consistent, and passes.
    const answer = await chainFrom(log, 5);
    expect(checkHistoryPage(answer, checkpointOf(log), A).leaves.map((l) => l.leaf_index)).toEqual([5, 2, 0]);
    expect(await refusalAsync(() => auditLog(log.tree, bundles(log), { fingerprint: A }))).toEqual({
      code: 'TLOG_HISTORY_BROKEN',
      fields: { break: 'skipped', leaf_index: 5, prev: 2, expected: 3, fingerprint: A },
    });
  });

  it('catches a first run that claims a predecessor, and a bundle that is not the tile', async () => {
    const leaves = honest();
    leaves[1] = syntheticLeaf(1, 'b', 0);
    const log = await fixtureLog(leaves);
    expect((await refusalAsync(() => auditLog(log.tree, bundles(log)))).fields).toMatchObject({ break: 'skipped', leaf_index: 1, expected: null });
    const good = await fixtureLog(honest());
    const other = await fixtureLog([...honest().slice(0, 5), syntheticLeaf(9, 'a', 3)]);
    const path = formatEntryBundlePath({ index: 0, width: 6 });
    const swapped = async (p: string) => (p === path ? other.files.get(path)! : good.files.get(p)!);
    expect((await refusalAsync(() => auditLog(good.tree, swapped))).code).toBe('TLOG_ENTRY_BUNDLE_MISMATCH');
  });

  it('walks a log of several bundles, one at a time', async () => {
    const leaves = [];
    const last = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const run = `r${i % 7}`;
      leaves.push(syntheticLeaf(i, run, last.get(run) ?? null));
      last.set(run, i);
    }
    const log = await fixtureLog(leaves);
    const seen: number[] = [];
    const result = await auditLog(log.tree, bundles(log), { fingerprint: leaves[3]!.fingerprint, onProgress: (done) => seen.push(done) });
    expect(seen).toEqual([256, 512, 600]);
    expect(result.fingerprints).toBe(7);
    expect(result.indexes).toEqual(leaves.map((_, i) => i).filter((i) => i % 7 === 3));
  });
});
