/**
 * What the executor's row commitment leaves behind (docs/row-proofs.md §6, threats J.64): nothing of the salt key
 * (node.ts keeps HMAC pads derived from it while it commits) and nothing of the dataset once splitting stops.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RowCommitter } from '../../rows/index.js';
import { hashAndCommitRows } from './rows.js';

/** Every HMAC-pad pair node.ts keeps while `run` runs (they live in a WeakMap keyed by the salt key). */
async function padsKeptBy(run: () => Promise<unknown>): Promise<{ inner: Buffer; outer: Buffer }[]> {
  const kept: { inner: Buffer; outer: Buffer }[] = [];
  const set = WeakMap.prototype.set;
  WeakMap.prototype.set = function (this: WeakMap<object, unknown>, key: object, value: unknown) {
    if (value && typeof value === 'object' && 'inner' in value && 'outer' in value) kept.push(value as { inner: Buffer; outer: Buffer });
    return set.call(this, key, value);
  } as typeof set;
  try {
    await run();
  } finally {
    WeakMap.prototype.set = set;
  }
  return kept;
}

describe('hashAndCommitRows', () => {
  const csv = new TextEncoder().encode('id,x\n1,a\n2,b\n');

  it('zeroes the HMAC pads derived from the salt key, in input order and sorted', async () => {
    for (const asked of [undefined, { sorted_by: 'id' }] as const) {
      const secret = randomBytes(32);
      const kept = await padsKeptBy(() => hashAndCommitRows('csv', csv, asked, secret));
      expect(kept.length).toBe(1);
      expect(kept[0]!.inner.every((b) => b === 0) && kept[0]!.outer.every((b) => b === 0)).toBe(true);
    }
  });

  it('commits the same root whichever chunk the records fall in, and says why when it cannot', async () => {
    const secret = randomBytes(32);
    const big = new TextEncoder().encode(`id,x\n${Array.from({ length: 30_000 }, (_, i) => `${i},v${i}`).join('\n')}\n`);
    const { rows } = await hashAndCommitRows('csv', big, undefined, secret);
    expect(rows.rows).toMatchObject({ format: 'csv', count: 30_001, sorted_by: null });
    expect((await hashAndCommitRows('csv', new TextEncoder().encode('a\n"b\n'), undefined, secret)).rows).toEqual({ rows_absent: { reason: 'csv_quoting' } });
    expect((await hashAndCommitRows('csv', big, 'none', secret)).rows).toEqual({ rows_absent: { reason: 'not_requested' } });
  });

  it('refuses a sorted commitment of more than MAX_SORTED_RECORDS records before it holds them (too_many_records)', async () => {
    const lines = new Uint8Array(1_000_002).fill(0x0a);
    lines.set(new TextEncoder().encode('k\n'));
    expect((await hashAndCommitRows('csv', lines, { sorted_by: 'k' }, randomBytes(32))).rows).toEqual({ rows_absent: { reason: 'too_many_records' } });
  });
});

describe('RowCommitter', () => {
  it('zeroes the JSON line still open when a later line is refused: no dataset bytes stay behind', () => {
    const committer = new RowCommitter('json', new Uint8Array(32));
    const bytes = (text: string) => new TextEncoder().encode(text);
    committer.push(bytes('{"ssn":"123-45-'));
    committer.push(bytes('6789"}\nnot json\n'));
    expect(committer.finish()).toEqual({ committed: false, reason: 'json_invalid' });
    // biome-ignore lint/suspicious/noExplicitAny: reaching the private buffer of the line splitter
    const open = (committer as any).splitter.lines.open.buffer as Uint8Array;
    expect(open.every((b) => b === 0)).toBe(true);
  });
});
