import { sha256 } from '@noble/hashes/sha256';
import { sortKeyFits } from './sorted.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8ToBytes } from '../events/index.js';
import { codeOf, codeOfAsync } from '../tlog/testing/code-of.js';
import { commitRecords } from './commitment.js';
import { nodeRowCrypto } from './node.js';
import { checkRowProof, parseRowProof, proveAbsence, proveRecords, type ProvenRow, type RowProof } from './proof.js';
import { commitSorted, compareBytes, csvFields, type SortableFormat } from './sorted.js';

const secret = sha256(utf8ToBytes('a sorted run secret'));
const CERTIFICATE = 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY';
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const b64 = (source: string) => Buffer.from(source).toString('base64');

// Input order on purpose: a tie (a001 twice), a quoted key with a doubled quote, a record spanning two lines, a key
// past ASCII ("é" sorts after "z" bytewise), and the key column quoted in the header.
const CSV_LINES = [
  'name,"id",note',
  'Mallory,m042,"likes, commas"',
  'Alice,a001,plain',
  'Quote,"k""07","two\nlines"',
  'Eve,é01,accent',
  'Zed,z999,last',
  'Bob,b002,',
  'Alice2,a001,same key',
];
const csv = utf8ToBytes(`${CSV_LINES.join('\r\n')}\r\n`);
const csvInput = { certificateId: CERTIFICATE, format: 'csv' as const, dataset: csv, secret, sortedBy: 'id' };
const sortedCsv = commitSorted('csv', csv, secret, 'id');
const csvCommitment = { ...sortedCsv.commitment, certificate_id: CERTIFICATE };

const jsonl = utf8ToBytes(['{"user":"carol","n":3}', '{"n":1,"user":"alice"}', '{"user":"dave","tags":["x"]}', '{"user":"bob","n":2.0}'].join('\n'));
const jsonInput = { certificateId: CERTIFICATE, format: 'json' as const, dataset: jsonl, secret, sortedBy: 'user' };
const jsonCommitment = { ...commitSorted('json', jsonl, secret, 'user').commitment, certificate_id: CERTIFICATE };

const reasonOf = (format: SortableFormat, source: string, key: string) => {
  try {
    commitSorted(format, utf8ToBytes(source), secret, key);
    return 'committed';
  } catch (error) {
    return `${(error as { code: string }).code} ${(error as { fields: { reason: string } }).fields.reason}`;
  }
};

describe('a sorted commitment', () => {
  it('keeps the csv header at 0 and orders the rest by the key column, bytewise, ties in input order', () => {
    expect(sortedCsv.order).toEqual([0, 2, 7, 6, 3, 1, 5, 4]);
    expect(sortedCsv.records.map(text)).toEqual([0, 2, 7, 6, 3, 1, 5, 4].map((i) => CSV_LINES[i]));
    expect(sortedCsv.keys.slice(1).map(text)).toEqual(['a001', 'a001', 'b002', 'k"07', 'm042', 'z999', 'é01']);
    expect(sortedCsv.commitment).toMatchObject({ format: 'csv', count: 8, sorted_by: 'id' });
  });

  it('commits tree index i with salt_i (§2): the same root as the records written in sorted order, committed as they are', () => {
    const rewritten = utf8ToBytes(sortedCsv.records.map(text).join('\n'));
    expect(commitRecords('csv', rewritten, secret).commitment.root).toBe(sortedCsv.commitment.root);
    expect(commitRecords('csv', csv, secret).commitment.root).not.toBe(sortedCsv.commitment.root);
    expect(commitSorted('csv', csv, secret, 'id', nodeRowCrypto)).toEqual(sortedCsv);
  });

  it('sorts JSON records by a string member', () => {
    const { order, commitment } = commitSorted('json', jsonl, secret, 'user');
    expect(order).toEqual([1, 3, 0, 2]);
    expect(commitment).toMatchObject({ format: 'json', count: 4, sorted_by: 'user' });
    expect(commitSorted('json', utf8ToBytes('[{"k":"b"}, {"k":"a"}]'), secret, 'k').order).toEqual([1, 0]);
  });

  it('refuses a dataset without the key in every record: sort_key_invalid (and the splitter’s own reasons first)', () => {
    const invalid = 'ROWS_UNSPLITTABLE sort_key_invalid';
    expect(reasonOf('csv', 'name,id\nx,1\n', 'id')).toBe('committed');
    expect(reasonOf('csv', 'name,id\nx,1\n', 'ID')).toBe(invalid);
    expect(reasonOf('csv', 'id,name,id\nx,1,2\n', 'id')).toBe(invalid); // named twice
    expect(reasonOf('csv', 'name,id\nx\n', 'id')).toBe(invalid); // a record without the column
    expect(reasonOf('csv', 'name,id\nx,1\n\n', 'id')).toBe(invalid); // an empty line has one field
    expect(reasonOf('csv', 'name,id\nx,"1\n', 'id')).toBe('ROWS_UNSPLITTABLE csv_quoting');
    expect(reasonOf('csv', 'name,id\nx,1\n', '')).toBe(invalid);
    expect(reasonOf('json', '{"k":"a"}\n{"k":1}', 'k')).toBe(invalid);
    expect(reasonOf('json', '{"k":"a"}\n{"j":"b"}', 'k')).toBe(invalid);
    expect(reasonOf('json', '{"k":"a"}\n["k"]', 'k')).toBe(invalid);
    expect(reasonOf('json', '{"k":"a"}\n{"k":"\\ud800"}', 'k')).toBe(invalid); // a lone surrogate has no UTF-8 bytes
    expect(reasonOf('json', '{"k":"a"}\n{"__proto__":{"k":"b"}}', 'k')).toBe(invalid); // an own member only
    expect(reasonOf('json', '{"k":"a"}\n{"k":', 'k')).toBe('ROWS_UNSPLITTABLE json_invalid');
    expect(reasonOf('txt' as SortableFormat, 'a\nb', 'k')).toBe(invalid);
  });

  it('reads csv fields as the splitter does: quotes removed, doubled quotes one, quoted commas and line ends kept', () => {
    const fields = (source: string) => csvFields(utf8ToBytes(source))?.map(text) ?? null;
    expect(fields('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
    expect(fields('"x\r\ny"')).toEqual(['x\r\ny']);
    expect(fields('')).toEqual(['']);
    expect(fields('a\rb')).toEqual(['a\rb']);
    for (const broken of ['a"b', '"a"b', '"a', 'a\nb']) expect(fields(broken)).toBeNull();
  });
});

describe('proofs on a sorted commitment', () => {
  it('disclose rows by tree index', async () => {
    const proof = await proveRecords(csvInput, [4, 7]);
    expect(proof.sorted_by).toBe('id');
    const checked = checkRowProof(parseRowProof(JSON.stringify(proof)), csvCommitment);
    expect(checked).toEqual({ rows: [4, 7].map((index) => ({ index, record: sortedCsv.records[index] })), absent: [] });
  });

  it('prove keys absent: in the middle, between ties, before the first, after the last', async () => {
    const keys = ['c000', 'a0010', 'a000', '', 'zzzz', 'éz', 'k"06'];
    const proof = await proveAbsence(csvInput, keys);
    expect(proof.rows.map((row) => row.index)).toEqual([0]); // the header, naming the key column
    const where = proof.absent.map(({ below, above }) => [below?.index ?? null, above?.index ?? null]);
    expect(where).toEqual([
      [3, 4],
      [2, 3],
      [null, 1],
      [null, 1],
      [6, 7],
      [7, null],
      [3, 4],
    ]);
    const checked = checkRowProof(parseRowProof(JSON.stringify(proof)), csvCommitment);
    expect(checked.absent).toEqual(keys);
    expect(checked.rows.map((row) => text(row.record))).toEqual(['name,"id",note']);
  });

  it('disclose every record with a given key, ties included, with the header; a key nobody has is ROWS_BAD_INPUT', async () => {
    const wanted = text(sortedCsv.keys[3]!);
    const ties = sortedCsv.keys.flatMap((key, i) => (i > 0 && text(key) === wanted ? [i] : []));
    const proof = await proveRecords({ ...csvInput, withKeys: [wanted] }, []);
    expect(proof.rows.map((row) => row.index)).toEqual([0, ...ties]);
    expect(checkRowProof(proof, csvCommitment).rows).toHaveLength(ties.length + 1);
    await expect(proveRecords({ ...csvInput, withKeys: ['no such key'] }, [])).rejects.toMatchObject({ code: 'ROWS_BAD_INPUT' });
    await expect(proveRecords({ ...csvInput, sortedBy: null, withKeys: [wanted] }, [])).rejects.toMatchObject({ code: 'ROWS_BAD_INPUT' });
  });

  it('prove rows and absent keys in one proof; the header is not disclosed twice', async () => {
    const proof = await proveRecords(csvInput, [5, 0], ['b003']);
    expect(proof.rows.map((row) => row.index)).toEqual([5, 0]);
    expect(checkRowProof(proof, csvCommitment).absent).toEqual(['b003']);
  });

  it('prove a key absent from a csv with a header only, and from JSON Lines', async () => {
    const headerOnly = { ...csvInput, dataset: utf8ToBytes('name,id\r\n') };
    const empty = await proveAbsence(headerOnly, ['anything']);
    expect(empty.absent).toEqual([{ key: 'anything', below: null, above: null }]);
    const emptyCommitment = { ...commitSorted('csv', headerOnly.dataset, secret, 'id').commitment, certificate_id: CERTIFICATE };
    expect(checkRowProof(empty, emptyCommitment).absent).toEqual(['anything']);

    const json = await proveAbsence(jsonInput, ['aaron', 'bobby', 'zoe']);
    expect(json.rows).toEqual([]);
    expect(json.absent.map(({ below, above }) => [below?.index ?? null, above?.index ?? null])).toEqual([
      [null, 0],
      [1, 2],
      [3, null],
    ]);
    expect(checkRowProof(parseRowProof(JSON.stringify(json)), jsonCommitment).absent).toEqual(['aaron', 'bobby', 'zoe']);
  });

  it('refuse to prove a present key absent, or absence without a sorted commitment', async () => {
    expect(await codeOfAsync(() => proveAbsence(csvInput, ['b002']))).toBe('ROWS_KEY_PRESENT');
    expect(await codeOfAsync(() => proveAbsence(csvInput, ['k"07']))).toBe('ROWS_KEY_PRESENT'); // unquoted, as committed
    expect(await codeOfAsync(() => proveAbsence(jsonInput, ['carol']))).toBe('ROWS_KEY_PRESENT');
    expect(await codeOfAsync(() => proveRecords({ ...csvInput, sortedBy: null }, [], ['c000']))).toBe('ROWS_BAD_INPUT');
    expect(await codeOfAsync(() => proveAbsence(csvInput, ['c', 'c']))).toBe('ROWS_BAD_INPUT');
    expect(await codeOfAsync(() => proveAbsence(csvInput, ['x'.repeat(64 * 1024 + 1)]))).toBe('ROWS_BAD_INPUT');
    expect(await codeOfAsync(() => proveAbsence(csvInput, ['\ud800']))).toBe('ROWS_BAD_INPUT');
    expect(
      await codeOfAsync(() =>
        proveAbsence(
          csvInput,
          Array.from({ length: 10_001 }, (_, i) => `k${i}`),
        ),
      ),
    ).toBe('ROWS_BAD_INPUT');
    expect(await codeOfAsync(() => proveRecords(csvInput, []))).toBe('ROWS_BAD_INPUT');
  });
});

describe('every tampering of an absence proof is refused with its code', async () => {
  const proof = await proveRecords(csvInput, [], ['c000']); // between b002 (3) and k"07 (4)
  const rowAt = async (index: number) => (await proveRecords(csvInput, [index])).rows[0]!;
  const [row2, row5] = [await rowAt(2), await rowAt(5)];
  const tampered = (change: (p: RowProof) => void, against: typeof csvCommitment = csvCommitment) => {
    const copy = structuredClone(proof);
    change(copy);
    return codeOf(() => checkRowProof(parseRowProof(JSON.stringify(copy)), against));
  };
  const flipHex = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
  const absent = (p: RowProof) => p.absent[0]!;

  it('holds untouched', () => expect(tampered(() => {})).toBe('no error'));

  it('neighbours not adjacent, swapped, or from another position', () => {
    expect(tampered((p) => (absent(p).above = row5))).toBe('ROWS_PROOF_ABSENCE_INVALID');
    expect(tampered((p) => ([absent(p).below, absent(p).above] = [absent(p).above, absent(p).below]))).toBe('ROWS_PROOF_ABSENCE_INVALID');
    // Adjacent and proved, but one position down: a001 (2) and b002 (3) do not enclose c000.
    expect(
      tampered((p) => {
        absent(p).above = absent(p).below;
        absent(p).below = row2;
      }),
    ).toBe('ROWS_PROOF_ABSENCE_INVALID');
    expect(tampered((p) => (absent(p).key = 'a0015'))).toBe('ROWS_PROOF_ABSENCE_INVALID'); // a key the neighbours do not enclose
    expect(tampered((p) => (absent(p).key = 'zzz'))).toBe('ROWS_PROOF_ABSENCE_INVALID');
  });

  it('a neighbour dropped to fake an edge, or the header as a neighbour', async () => {
    expect(tampered((p) => (absent(p).below = null))).toBe('ROWS_PROOF_ABSENCE_INVALID');
    expect(tampered((p) => (absent(p).above = null))).toBe('ROWS_PROOF_ABSENCE_INVALID');
    expect(tampered((p) => ((absent(p).below = null), (absent(p).above = null)))).toBe('ROWS_PROOF_ABSENCE_INVALID');
    const header = proof.rows[0]!;
    const before = await proveAbsence(csvInput, ['a000']); // above is 1, below none
    expect(
      tampered((p) => {
        p.absent[0] = { key: 'a000', below: structuredClone(header), above: before.absent[0]!.above };
      }),
    ).toBe('ROWS_PROOF_ABSENCE_INVALID');
  });

  it('the header as the neighbour below, even where its own field would enclose the key', async () => {
    // Header key "id" < "j" < "m1": only the rule that neighbours are data records refuses it.
    const input = { ...csvInput, dataset: utf8ToBytes('id,name\nm1,x\nz2,y\n') };
    const against = { ...commitSorted('csv', input.dataset, secret, 'id').commitment, certificate_id: CERTIFICATE };
    const honest = await proveAbsence(input, ['j']);
    expect(honest.absent[0]!.below).toBeNull();
    honest.absent[0]!.below = structuredClone(honest.rows[0]!);
    expect(codeOf(() => checkRowProof(honest, against))).toBe('ROWS_PROOF_ABSENCE_INVALID');
  });

  it('a key equal to a neighbour’s', () => {
    expect(tampered((p) => (absent(p).key = 'b002'))).toBe('ROWS_KEY_PRESENT');
    expect(tampered((p) => (absent(p).key = 'k"07'))).toBe('ROWS_KEY_PRESENT');
  });

  it('the header withheld or wrong', () => {
    expect(tampered((p) => (p.rows = []))).toBe('ROWS_PROOF_ABSENCE_INVALID');
    expect(tampered((p) => (p.rows = [row2]))).toBe('ROWS_PROOF_ABSENCE_INVALID');
    expect(tampered((p) => (p.rows[0]!.record = b64('name,id,note')))).toBe('ROWS_PROOF_INVALID');
  });

  it('a header that does not name the key exactly once, even in a tree that holds it', async () => {
    // A commitment no honest executor writes (its header names "id" twice), claimed sorted by "id".
    const dataset = utf8ToBytes('id,id\na,1\nc,2\n');
    const forged = { ...commitRecords('csv', dataset, secret).commitment, sorted_by: 'id', certificate_id: CERTIFICATE };
    const rows = (await proveRecords({ ...csvInput, dataset, sortedBy: null }, [0, 1, 2])).rows;
    const lie: RowProof = { ...(await proveRecords({ ...csvInput, dataset, sortedBy: null }, [0])), sorted_by: 'id', rows: [rows[0]!] };
    lie.absent = [{ key: 'b', below: rows[1]!, above: rows[2]! }];
    expect(codeOf(() => checkRowProof(lie, forged))).toBe('ROWS_PROOF_ABSENCE_INVALID');
  });

  it('a salt, record, path or index of a neighbour changed', () => {
    const neighbour = (p: RowProof): ProvenRow => absent(p).below!;
    expect(tampered((p) => (neighbour(p).salt = flipHex(neighbour(p).salt)))).toBe('ROWS_PROOF_INVALID');
    expect(tampered((p) => (neighbour(p).record = b64('Bob,b0029,')))).toBe('ROWS_PROOF_INVALID');
    expect(tampered((p) => (neighbour(p).proof[0] = flipHex(neighbour(p).proof[0]!)))).toBe('ROWS_PROOF_INVALID');
    expect(tampered((p) => (absent(p).above!.index = 8))).toBe('ROWS_PROOF_INDEX_INVALID');
    expect(tampered((p) => (neighbour(p).record = b64('a\nb')))).toBe('ROWS_PROOF_RECORD_INVALID');
  });

  it('an absence proof against an unsorted commitment, or another key', async () => {
    const unsorted = { ...commitRecords('csv', csv, secret).commitment, certificate_id: CERTIFICATE };
    expect(tampered(() => {}, unsorted)).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    const plain = await proveRecords({ ...csvInput, sortedBy: null }, [0]);
    plain.absent = structuredClone(proof.absent);
    expect(codeOf(() => checkRowProof(parseRowProof(JSON.stringify(plain)), unsorted))).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    expect(tampered((p) => (p.sorted_by = 'name'))).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    const byName = { ...commitSorted('csv', csv, secret, 'name').commitment, certificate_id: CERTIFICATE };
    expect(tampered(() => {}, byName)).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
  });

  it('malformed: extra members, a key twice, too long, not text, a sort key on txt', () => {
    expect(tampered((p) => ((absent(p) as unknown as Record<string, unknown>).extra = 1))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => p.absent.push(structuredClone(absent(p))))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => (absent(p).key = 'x'.repeat(64 * 1024 + 1)))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => ((absent(p) as unknown as Record<string, unknown>).key = 7))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => ((p.rows = []), (p.absent = [])))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => (p.format = 'txt'))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => (p.sorted_by = ''))).toBe('ROWS_PROOF_MALFORMED');
    expect(codeOf(() => parseRowProof(JSON.stringify(proof).replace('"c000"', '"\\ud800"')))).toBe('ROWS_PROOF_MALFORMED');
  });
});

describe('random keyed datasets (fast-check)', () => {
  // A small alphabet gives ties and near misses; '"', ',' and a line end need quoting; '😀' and '\uffff' order
  // differently in UTF-16 and in UTF-8 bytes.
  const key = fc.string({ unit: fc.constantFrom('a', 'b', '"', ',', '\n', 'é', '😀', '\uffff'), maxLength: 3 });
  const quote = (field: string) => `"${field.replaceAll('"', '""')}"`;
  const dataset = (format: SortableFormat, keys: string[]) =>
    utf8ToBytes(format === 'csv' ? ['n,k', ...keys.map((k, i) => `${i},${quote(k)}`)].join('\n') : keys.map((k, i) => JSON.stringify({ n: i, k })).join('\n'));

  it('every absent key proves absent, every present key refuses, and the records are in key order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<SortableFormat>('csv', 'json'),
        fc.array(key, { maxLength: 12 }),
        fc.array(key, { maxLength: 6 }),
        async (format, keys, probes) => {
          fc.pre(format === 'csv' || keys.length > 0);
          const bytes = dataset(format, keys);
          const sorted = commitSorted(format, bytes, secret, 'k');
          const data = sorted.keys.slice(format === 'csv' ? 1 : 0);
          for (let i = 1; i < data.length; i++) expect(compareBytes(data[i - 1]!, data[i]!)).toBeLessThanOrEqual(0);
          const input = { certificateId: CERTIFICATE, format, dataset: bytes, secret, sortedBy: 'k' };
          const commitment = { ...sorted.commitment, certificate_id: CERTIFICATE };
          for (const probe of new Set(probes)) {
            if (keys.includes(probe)) expect(await codeOfAsync(() => proveAbsence(input, [probe]))).toBe('ROWS_KEY_PRESENT');
            else expect(checkRowProof(parseRowProof(JSON.stringify(await proveAbsence(input, [probe]))), commitment).absent).toEqual([probe]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('sortKeyFits (what ephemera run checks before it spends a run)', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  it('asks the csv header, or the first json record, whether the key is there', () => {
    expect(sortKeyFits('csv', bytes('id,"e,mail"\r\n1,a\n'), 'e,mail')).toBe(true);
    expect(sortKeyFits('csv', bytes('id,email\n1,a\n'), 'emial')).toBe(false);
    expect(sortKeyFits('csv', bytes('\ufeffid,name\n1,a\n'), 'id')).toBe(false);
    expect(sortKeyFits('json', bytes('{"k":"a"}\n{"k":"b"}\n'), 'k')).toBe(true);
    expect(sortKeyFits('json', bytes('[{"k":1}]'), 'k')).toBe(false);
    expect(sortKeyFits('json', bytes(''), 'k')).toBe(false);
    expect(sortKeyFits('csv', bytes('"id\n'), 'id')).toBe(false);
  });
});
