import { hkdf } from '@noble/hashes/hkdf';
import { sha256 } from '@noble/hashes/sha256';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, utf8ToBytes } from '../events/index.js';
import { leafHash, rootFromLeafHashes } from '../attest/merkle.js';
import { codeOf } from '../tlog/testing/code-of.js';
import { nodeRowCrypto } from './node.js';
import { commitRecords, rowLeaf, rowSalt, rowSaltKey } from './commitment.js';
import { checkRowProof, parseRowProof, proveRecords, type RowProof } from './proof.js';

const secret = sha256(utf8ToBytes('a run secret'));
const CERTIFICATE = 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY';
/** A real-looking CSV of 10,000 patients and a header. */
const csv = utf8ToBytes(
  ['id,name,email,note', ...Array.from({ length: 10_000 }, (_, i) => `${i},patient ${i},p${i}@example.org,"visit ${i % 7}, ""routine"""`)].join('\r\n') +
    '\r\n',
);
const u64be = (i: number) => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(i));
  return out;
};

describe('salts and leaves', () => {
  it('salt_i is HKDF-SHA256(secret, salt = label, info = label ‖ "\\n" ‖ u64be(i), 32) exactly', () => {
    const prk = rowSaltKey(secret);
    for (const i of [0, 1, 255, 2 ** 32 - 1])
      expect(bytesToHex(rowSalt(prk, i))).toBe(
        bytesToHex(hkdf(sha256, secret, utf8ToBytes('ephemera/v1/row-salt'), concatBytes(utf8ToBytes('ephemera/v1/row-salt\n'), u64be(i)), 32)),
      );
    expect(codeOf(() => rowSaltKey(new Uint8Array(31)))).toBe('ROWS_BAD_INPUT');
  });

  it('commit to the records with the RFC 6962 tree of the event stream, and another secret gives another root', () => {
    const { commitment, records } = commitRecords('txt', utf8ToBytes('a\nb\nc\n'), secret);
    const prk = rowSaltKey(secret);
    const expected = records.map((record, i) => leafHash(rowLeaf(i, rowSalt(prk, i), record)));
    expect(commitment).toEqual({ format: 'txt', count: 3, root: bytesToHex(rootFromLeafHashes(expected)), sorted_by: null });
    expect(commitRecords('txt', utf8ToBytes('a\nb\nc\n'), sha256(utf8ToBytes('other'))).commitment.root).not.toBe(commitment.root);
  });

  it('are the same bytes with node:crypto (the server) as with @noble/hashes (the browser)', () => {
    const dataset = csv.subarray(0, 20_000);
    expect(commitRecords('csv', dataset, secret, nodeRowCrypto)).toEqual(commitRecords('csv', dataset, secret));
  });
});

describe('a proof of three rows of a 10,000-row CSV', () => {
  const input = { certificateId: CERTIFICATE, format: 'csv' as const, dataset: csv, secret };
  const { commitment } = commitRecords('csv', csv, secret);
  const against = { ...commitment, certificate_id: CERTIFICATE };

  it('discloses the three records, and checks against the commitment alone (no dataset, no secret)', async () => {
    const proof = await proveRecords(input, [17, 42, 10_000]);
    const text = JSON.stringify(proof);
    const checked = checkRowProof(parseRowProof(text), against);
    expect(checked.absent).toEqual([]);
    expect(checked.rows.map(({ index, record }) => [index, new TextDecoder().decode(record)])).toEqual([
      [17, '16,patient 16,p16@example.org,"visit 2, ""routine"""'],
      [42, '41,patient 41,p41@example.org,"visit 6, ""routine"""'],
      [10_000, '9999,patient 9999,p9999@example.org,"visit 3, ""routine"""'],
    ]);
    expect(commitment.count).toBe(10_001);
    expect(proof.rows[0]!.proof.length).toBeLessThanOrEqual(14); // O(log n): a path in a tree of 10,001 leaves
    // Nothing but the disclosed records: three records, and besides them only salts and hashes.
    expect(proof.rows.map((row) => Object.keys(row).sort())).toEqual(Array(3).fill(['index', 'proof', 'record', 'salt']));
    expect(text).not.toContain('patient 18');
  });

  it('refuses every tampering with its own code', async () => {
    const proof = await proveRecords(input, [17, 42, 10_000]);
    const tampered = (change: (p: RowProof) => void) => {
      const copy = structuredClone(proof);
      change(copy);
      return codeOf(() => checkRowProof(parseRowProof(JSON.stringify(copy)), against));
    };
    const flipHex = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    const record = (text: string) => Buffer.from(text).toString('base64');
    expect(tampered((p) => (p.rows[0]!.salt = flipHex(p.rows[0]!.salt)))).toBe('ROWS_PROOF_INVALID');
    expect(tampered((p) => (p.rows[0]!.record = record('16,patient 16,p16@example.org,"visit 2, ""urgent"""')))).toBe('ROWS_PROOF_INVALID');
    expect(tampered((p) => (p.rows[0]!.proof[0] = flipHex(p.rows[0]!.proof[0]!)))).toBe('ROWS_PROOF_INVALID');
    expect(tampered((p) => p.rows[0]!.proof.pop())).toBe('ROWS_PROOF_INVALID');
    expect(tampered((p) => (p.rows[0]!.index = 18))).toBe('ROWS_PROOF_INVALID'); // the salt and the leaf bind the index
    expect(tampered((p) => (p.rows[1]!.index = 10_001))).toBe('ROWS_PROOF_INDEX_INVALID');
    expect(tampered((p) => p.rows.push(structuredClone(p.rows[0]!)))).toBe('ROWS_PROOF_INDEX_INVALID');
    expect(tampered((p) => (p.root = flipHex(p.root)))).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    expect(tampered((p) => (p.count = 10_002))).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    expect(tampered((p) => (p.certificate_id = 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXZ'))).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    expect(tampered((p) => (p.rows[0]!.record = record('a\nb')))).toBe('ROWS_PROOF_RECORD_INVALID');
    expect(tampered((p) => (p.rows[0]!.record = 'YQ='))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => ((p as unknown as Record<string, unknown>).extra = 1))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => (p.rows = []))).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => delete (p as Partial<RowProof>).absent)).toBe('ROWS_PROOF_MALFORMED');
    expect(tampered((p) => (p.sorted_by = 'id'))).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    expect(codeOf(() => parseRowProof('{"type":"ephemera.row-proof","type":"x"}'))).toBe('ROWS_PROOF_MALFORMED');
  });

  it('asks for real records only', async () => {
    await expect(proveRecords(input, [10_001])).rejects.toMatchObject({ code: 'ROWS_PROOF_INDEX_INVALID' });
    await expect(proveRecords(input, [3, 3])).rejects.toMatchObject({ code: 'ROWS_PROOF_INDEX_INVALID' });
    await expect(proveRecords(input, [])).rejects.toMatchObject({ code: 'ROWS_BAD_INPUT' });
  });

  it('commits a JSON record as written (1.0 and big integers stay as they are), and refuses one that is not a JSON value', async () => {
    const dataset = utf8ToBytes('[{"a":1.0,"b":[true,null]}, 9007199254740993]');
    const proof = await proveRecords({ certificateId: CERTIFICATE, format: 'json', dataset, secret }, [0, 1]);
    const { commitment: json } = commitRecords('json', dataset, secret);
    const records = checkRowProof(proof, { ...json, certificate_id: CERTIFICATE }).rows.map((r) => new TextDecoder().decode(r.record));
    expect(records).toEqual(['{"a":1.0,"b":[true,null]}', '9007199254740993']);
    proof.rows[0]!.record = Buffer.from('{"a":1.0,').toString('base64');
    expect(codeOf(() => checkRowProof(proof, { ...json, certificate_id: CERTIFICATE }))).toBe('ROWS_PROOF_RECORD_INVALID');
  });
});
