import { describe, expect, it } from 'vitest';
import { generateCosignerKey, parseCosignerSignerKey, parseNote, signNote, type HistoryAnswer, type LogLeaf } from '../tlog/index.js';
import { codeOf } from '../tlog/testing/code-of.js';
import { agreementOf, HISTORY_MAX_LEAVES, parseHistoryAnswer, verifyHistory } from './history.js';
import { fixtureLog, honestLeaves, syntheticLeaf, type FixtureLog } from './testing/log-fixture.js';
import { VECTOR_PUBLIC_KEY } from './testing/forge.js';

const trusted = { trustedKeys: [VECTOR_PUBLIC_KEY] };
const honest = honestLeaves;
const A = syntheticLeaf(0, 'a', null).fingerprint;

/** A server of this log's history: `?before=` pages of `pageSize`, after `edit` (a dishonest server's change). */
function server(log: FixtureLog, pageSize = HISTORY_MAX_LEAVES, edit: (leaves: HistoryAnswer['leaves']) => HistoryAnswer['leaves'] = (l) => l) {
  const asked: (number | null)[] = [];
  const read = async (before: number | null) => {
    asked.push(before);
    const answer = await log.historyOf(A);
    const leaves = edit(answer.leaves).filter((l) => before === null || l.leaf_index < before);
    return JSON.stringify({ ...answer, leaves: leaves.slice(0, pageSize) });
  };
  return { read, asked };
}

describe('parseHistoryAnswer', () => {
  it('reads what the log answers, and refuses anything outside its closed, bounded schema', async () => {
    const log = await fixtureLog(honest());
    const answer = await log.historyOf(A);
    const text = JSON.stringify(answer);
    expect(parseHistoryAnswer(text)).toEqual(answer);
    const leaf = answer.leaves[0]!;
    const variants: unknown[] = [
      { ...answer, extra: 1 },
      { ...answer, fingerprint: 'sha256:00' },
      { ...answer, leaves: [{ ...leaf, leaf_index: -1 }] },
      { ...answer, leaves: [{ ...leaf, leaf: { ...leaf.leaf, prev: 'x' } }] },
      { ...answer, leaves: [{ ...leaf, leaf: { ...leaf.leaf, extra: true } }] },
      { ...answer, leaves: [{ ...leaf, inclusion_proof: ['AB'.repeat(32)] }] },
      { ...answer, leaves: [{ ...leaf, inclusion_proof: Array(64).fill('ab'.repeat(32)) }] },
      { ...answer, leaves: Array(HISTORY_MAX_LEAVES + 1).fill(leaf) },
      { ...answer, log_key: { ...answer.log_key, statement_hash: 1 } },
    ];
    for (const variant of variants) expect(codeOf(() => parseHistoryAnswer(JSON.stringify(variant)))).toBe('TLOG_HISTORY_MALFORMED');
    expect(codeOf(() => parseHistoryAnswer(`${text} x`))).toBe('TLOG_HISTORY_MALFORMED');
    expect(codeOf(() => parseHistoryAnswer(new Uint8Array(9 * 1024 * 1024)))).toBe('TLOG_HISTORY_MALFORMED');
  });
});

describe('verifyHistory', () => {
  it('trusts a whole chain whose checkpoint is signed by a trusted log key, and says the results agree', async () => {
    const log = await fixtureLog(honest());
    const verdict = await verifyHistory(A, server(log).read, trusted);
    expect(verdict).toMatchObject({ status: 'trusted', error: null, pages: 1, checkpoint: { origin: log.origin, size: 6 } });
    expect(verdict.runs.map((r) => r.leaf_index)).toEqual([5, 3, 2, 0]);
    expect(verdict.results).toMatchObject({ verdict: 'agree', compared: 4, sealed: 0 });
    expect(verdict.log_key_trust).toMatch(/attested/);
  });

  it('follows ?before= pages to the first run, each page continuing where the last one pointed', async () => {
    const log = await fixtureLog(honest());
    const paged = server(log, 2);
    const verdict = await verifyHistory(A, paged.read, trusted);
    expect(verdict.status).toBe('trusted');
    expect(paged.asked).toEqual([null, 3]);
    expect(verdict.runs.map((r) => r.leaf_index)).toEqual([5, 3, 2, 0]);
  });

  it('finds a run hidden from the history: on the page, between pages, or at the end', async () => {
    const log = await fixtureLog(honest());
    const without = (index: number) => (leaves: HistoryAnswer['leaves']) => leaves.filter((l) => l.leaf_index !== index);
    for (const [hidden, pageSize, brk] of [
      [3, 1000, 'chain'],
      [2, 2, 'page'],
      [0, 1000, 'page'],
    ] as const) {
      const verdict = await verifyHistory(A, server(log, pageSize, without(hidden)).read, trusted);
      expect(verdict.status).toBe('invalid');
      expect(verdict.error).toMatchObject({ code: 'TLOG_HISTORY_BROKEN', fields: { break: brk } });
    }
  });

  it("refuses a history that leaves out the reader's own run, or predates it", async () => {
    const log = await fixtureLog(honest());
    // A server that answers as if leaf 5 never happened: a consistent chain, but not the reader's.
    const older = await verifyHistory(A, server(log, 1000, (l) => l.slice(1)).read, trusted, {
      held: [{ leaf_index: 5, certificate_id: log.leaves[5]!.certificate_id }],
    });
    expect(older.error).toMatchObject({ code: 'TLOG_HISTORY_BROKEN', fields: { break: 'omits-held', leaf_index: 5 } });
    const later = await verifyHistory(A, server(log).read, trusted, { held: [{ leaf_index: 9, certificate_id: log.leaves[5]!.certificate_id }] });
    expect(later.error?.message).toMatch(/old history/);
    const other = await verifyHistory(A, server(log).read, trusted, { held: [{ leaf_index: 3, certificate_id: log.leaves[5]!.certificate_id }] });
    expect(other.status).toBe('invalid');
    const mine = await verifyHistory(A, server(log).read, trusted, { held: [{ leaf_index: 3, certificate_id: log.leaves[3]!.certificate_id }] });
    expect(mine.status).toBe('trusted');
    expect(mine.runs.filter((r) => r.held).map((r) => r.leaf_index)).toEqual([3]);
  });

  it('still checks the chain under a log key you do not trust: untrusted when it holds, invalid when not', async () => {
    const log = await fixtureLog(honest());
    const untrusted = await verifyHistory(A, server(log).read, {});
    expect(untrusted).toMatchObject({ status: 'untrusted', error: { code: 'TLOG_LOG_KEY_UNTRUSTED' } });
    expect(untrusted.runs).toHaveLength(4);
    expect(untrusted.log_vkey).toBe(log.vkey);
    expect(untrusted.runs[0]!.inclusion_proof).toEqual((await log.historyOf(A)).leaves[0]!.inclusion_proof);
    const broken = await verifyHistory(A, server(log, 1000, (l) => l.filter((x) => x.leaf_index !== 3)).read, {});
    expect(broken).toMatchObject({ status: 'invalid', error: { code: 'TLOG_HISTORY_BROKEN' } });
    const pinned = await verifyHistory(A, server(log).read, { logKeys: [log.vkey] });
    expect(pinned.status).toBe('trusted');
  });

  it('holds witnesses to the policy', async () => {
    const log = await fixtureLog(honest(), { witnesses: 2 });
    const witnesses = log.witnesses.map((w) => w.vkey);
    expect((await verifyHistory(A, server(log).read, { ...trusted, witnesses })).cosigned_by).toHaveLength(2);
    // Another fixture log's witness 0 is the same key (fixed seeds): named again, it is still one witness.
    const again = (await fixtureLog(honest(), { witnesses: 1 })).witnesses[0]!.vkey;
    expect(await verifyHistory(A, server(log).read, { ...trusted, witnesses: [...witnesses, again] })).toMatchObject({ status: 'trusted' });
    const stranger = generateCosignerKey('witness-x.example', new Uint8Array(32).fill(7)).vkey;
    const short = await verifyHistory(A, server(log).read, { ...trusted, witnesses: [...witnesses, stranger] });
    expect(short).toMatchObject({ status: 'untrusted', error: { code: 'TLOG_COSIGNATURES_INSUFFICIENT' } });
  });

  it('never trusts a page whose checkpoint the log key did not sign, even when a witness the reader named cosigned it', async () => {
    const log = await fixtureLog(honest(), { witnesses: 1 });
    const witness = log.witnesses[0]!;
    const onlyCosigned = signNote({ text: parseNote(log.checkpoint).text }, [parseCosignerSignerKey(witness.skey, () => Date.parse('2026-12-01T00:00:10Z'))]);
    const read = async () => JSON.stringify({ ...(await log.historyOf(A)), checkpoint: onlyCosigned });
    const verdict = await verifyHistory(A, read, { ...trusted, witnesses: [witness.vkey] });
    expect(verdict).toMatchObject({ status: 'untrusted', error: { code: 'TLOG_NOTE_UNVERIFIED' } });
  });

  it('catches a split view between pages: a later page read from a fork of the same size that ends the chain early', async () => {
    const log = await fixtureLog(honest());
    // The same log key, the same size, another tree: run 2 says it is the first, hiding run 0.
    const fork = await fixtureLog([syntheticLeaf(0, 'c', null), ...honest().slice(1, 2), syntheticLeaf(2, 'a', null), ...honest().slice(3)]);
    expect(fork.checkpoint).not.toBe(log.checkpoint);
    const read = async (before: number | null) => {
      const answer = await (before === null ? log : fork).historyOf(A);
      const leaves = answer.leaves.filter((l) => before === null || l.leaf_index < before).slice(0, 2);
      return JSON.stringify({ ...answer, leaves });
    };
    const verdict = await verifyHistory(A, read, trusted);
    expect(verdict).toMatchObject({ status: 'invalid', error: { code: 'TLOG_SPLIT_VIEW' } });
  });

  it('refuses an answer for another fingerprint, and one that is not JSON', async () => {
    const log = await fixtureLog(honest());
    const b = log.leaves[1]!.fingerprint;
    expect((await verifyHistory(b, server(log).read, trusted)).error?.code).toBe('TLOG_HISTORY_MALFORMED');
    expect((await verifyHistory(A, async () => '<html>', trusted)).error?.code).toBe('TLOG_HISTORY_MALFORMED');
  });

  it('passes on what the page reader throws (an unreachable log is no verdict)', async () => {
    const unreachable = new Error('connection refused');
    await expect(verifyHistory(A, async () => Promise.reject(unreachable), trusted)).rejects.toBe(unreachable);
  });

  it('a fingerprint with no runs has an empty, trusted history', async () => {
    const log = await fixtureLog(honest());
    const empty = async () => JSON.stringify({ ...(await log.historyOf(A)), leaves: [] });
    expect(await verifyHistory(A, empty, trusted)).toMatchObject({ status: 'trusted', runs: [], results: { verdict: 'nothing-to-compare' } });
  });
});

describe('agreementOf', () => {
  const run = (leaf_index: number, result_hash: string | null, result_sealed = false) => ({ leaf_index, result_hash, result_sealed });
  it('compares clear results only; sealed ones are counted apart', () => {
    expect(agreementOf([run(3, 'x'), run(2, 'y'), run(1, 'x'), run(0, 'z', true)])).toEqual({
      verdict: 'differ',
      compared: 3,
      sealed: 1,
      without_result: 0,
      groups: [
        { result_hash: 'x', leaf_indexes: [3, 1] },
        { result_hash: 'y', leaf_indexes: [2] },
      ],
    });
    expect(agreementOf([run(1, 'x'), run(0, 'x', true)]).verdict).toBe('nothing-to-compare');
    expect(agreementOf([run(2, 'x'), run(1, null), run(0, 'x')])).toMatchObject({ verdict: 'agree', without_result: 1 });
  });

  it('sees a differing result in a real history', async () => {
    const leaves: LogLeaf[] = honest();
    leaves[3] = { ...leaves[3]!, result_hash: leaves[1]!.result_hash };
    const log = await fixtureLog(leaves);
    const verdict = await verifyHistory(A, server(log).read, trusted);
    expect(verdict.status).toBe('trusted');
    expect(verdict.results.verdict).toBe('differ');
    expect(verdict.results.groups.at(-1)?.leaf_indexes).toEqual([3]);
  });
});
