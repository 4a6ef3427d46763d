/**
 * checkFreshCheckpoint (`verify --refresh`): the log's latest checkpoint
 * against a certificate's, with tiles from real fixture logs.
 */
import { describe, expect, it } from 'vitest';
import { generateNoteKey, parseNote, parseNoteSignerKey, signNote, type TileReader } from '../tlog/index.js';
import { codeOf } from '../tlog/testing/code-of.js';
import { checkFreshCheckpoint, LogEvidenceError } from './consistency.js';
import { fixtureLogSync, syntheticLeaf, type FixtureLog } from './testing/log-fixture.js';

const leaves = Array.from({ length: 300 }, (_, i) => syntheticLeaf(i, `run ${i % 7}`, null));
const old = fixtureLogSync(leaves.slice(0, 260));
const member = { checkpoint: old.checkpoint, log_key: old.vkey };
const readerOf =
  (log: FixtureLog, reads: string[] = []): TileReader =>
  async (path) => {
    reads.push(path);
    const data = log.files.get(path);
    if (!data) throw new Error(`no ${path}`);
    return data;
  };
const codeOfAsync = async (run: () => Promise<unknown>) =>
  run().then(
    () => null,
    (e: { code?: string }) => e.code ?? String(e),
  );

describe('checkFreshCheckpoint', () => {
  it('accepts the same checkpoint without reading a tile', async () => {
    const reads: string[] = [];
    expect(await checkFreshCheckpoint(member, old.checkpoint, readerOf(old, reads))).toMatchObject({ relation: 'same', fresh: { size: 260 } });
    expect(reads).toEqual([]);
  });

  it("accepts a grown log whose tiles show the certificate's tree inside it", async () => {
    const grown = fixtureLogSync(leaves, { witnesses: 1 });
    const reads: string[] = [];
    expect(await checkFreshCheckpoint(member, grown.checkpoint, readerOf(grown, reads))).toMatchObject({
      relation: 'extends',
      old: { size: 260 },
      fresh: { size: 300 },
    });
    expect(reads.length).toBeGreaterThan(0);
  });

  it('refuses the same size with another root, both signed by the log key: a split view, with both notes', async () => {
    const forked = old.signCheckpoint(260, new Uint8Array(32).fill(1));
    const error = await checkFreshCheckpoint(member, forked, readerOf(old)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogEvidenceError);
    expect(error).toMatchObject({ code: 'TLOG_SPLIT_VIEW', notes: { certificate: old.checkpoint, latest: forked } });
  });

  it('refuses a larger tree that does not contain the old one, and a smaller one, keeping the notes', async () => {
    const rewritten = fixtureLogSync([syntheticLeaf(9999, 'x', null), ...leaves.slice(1)]);
    expect(await codeOfAsync(() => checkFreshCheckpoint(member, rewritten.checkpoint, readerOf(rewritten)))).toBe('TLOG_CONSISTENCY_INVALID');
    const smaller = fixtureLogSync(leaves.slice(0, 100));
    expect(await codeOfAsync(() => checkFreshCheckpoint(member, smaller.checkpoint, readerOf(smaller)))).toBe('TLOG_CONSISTENCY_INVALID');
  });

  it("refuses tiles that do not authenticate against the fresh root, a checkpoint not signed by the log key, and another log's", async () => {
    const grown = fixtureLogSync(leaves);
    const bad = new Map(grown.files);
    // Leaves 256…259 of the old tree sit in the fresh tree's right-edge tile of level 0.
    const tile = bad.get('tile/0/001.p/44')!.slice();
    tile[0]! ^= 1;
    bad.set('tile/0/001.p/44', tile);
    expect(await codeOfAsync(() => checkFreshCheckpoint(member, grown.checkpoint, readerOf({ ...grown, files: bad })))).toBe('TLOG_TILE_MISMATCH');
    expect(await codeOfAsync(() => checkFreshCheckpoint(member, grown.checkpoint, async () => Promise.reject(new Error('down'))))).toBe(
      'TLOG_TILE_UNAVAILABLE',
    );
    const stranger = signNote({ text: parseNote(grown.checkpoint).text }, [parseNoteSignerKey(generateNoteKey(old.origin, new Uint8Array(32).fill(3)).skey)]);
    expect(await codeOfAsync(() => checkFreshCheckpoint(member, stranger, readerOf(grown)))).toBe('TLOG_NOTE_UNVERIFIED');
    expect(codeOf(() => parseNote('not a note'))).toBe('TLOG_NOTE_MALFORMED');
    // A wrong --server: the command could not ask the certificate's log, which says nothing against the certificate.
    const other = fixtureLogSync(leaves, { origin: 'other.example/log' });
    const error = (await checkFreshCheckpoint(member, other.checkpoint, readerOf(other)).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('TLOG_CHECKPOINT_UNAVAILABLE');
    expect(error.message).toContain(`another log ("other.example/log"), not the certificate's ${old.origin}`);
  });
});
