import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, rootFromLeafHashes } from '../attest/merkle.js';
import { isEphemeraError } from '../errors.js';
import { formatCheckpoint } from './checkpoint.js';
import { cosignatureTimestamp, generateCosignerKey, parseCosignerSignerKey, parseCosignerVerifierKey } from './cosignature.js';
import { decodeBase64, encodeBase64 } from './lines.js';
import { generateNoteKey, parseNote, parseNoteSignerKey, parseNoteVerifierKey, signNote } from './note.js';
import {
  appendCosignatures,
  checkAddCheckpoint,
  formatAddCheckpointRequest,
  formatAddCheckpointResponse,
  formatTreeSizeBody,
  ADD_CHECKPOINT_MAX_BYTES,
  MAX_PROOF_LINES,
  parseAddCheckpointRequest,
  parseAddCheckpointResponse,
  parseTreeSizeBody,
  WITNESS_HTTP_STATUS,
} from './witness-messages.js';
import { codeOf } from './testing/code-of.js';

// c2sp.org/tlog-witness, "add-checkpoint": the example request and response bodies.
const SPEC_REQUEST = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`;
const SPEC_RESPONSE = `— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
`;

/** RFC 6962 §2.1.2 SUBPROOF, the reference. */
function consistencyProof(m: number, leaves: Uint8Array[], complete = true): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [rootFromLeafHashes(leaves)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  if (m <= k) return [...consistencyProof(m, leaves.slice(0, k), complete), rootFromLeafHashes(leaves.slice(k))];
  return [...consistencyProof(m - k, leaves.slice(k), false), rootFromLeafHashes(leaves.slice(0, k))];
}

const ORIGIN = 'example.com/log';
const logKey = generateNoteKey(ORIGIN, new Uint8Array(32).fill(5));
const logSigner = parseNoteSignerKey(logKey.skey);
const logVerifier = parseNoteVerifierKey(logKey.vkey);
const leaves = Array.from({ length: 20 }, (_, i) => leafHash(Uint8Array.of(i)));
const signedAt = (size: number, origin = ORIGIN) =>
  signNote({ text: formatCheckpoint({ origin, size, rootHash: rootFromLeafHashes(leaves.slice(0, size)), extensions: [] }) }, [logSigner]);
const request = (oldSize: number, size: number, proof = oldSize === 0 ? [] : consistencyProof(oldSize, leaves.slice(0, size))) =>
  parseAddCheckpointRequest(formatAddCheckpointRequest({ oldSize, proof, signedCheckpoint: signedAt(size) }));
const witnessAt = (size: number | null) => ({
  logKeys: (origin: string) => (origin === ORIGIN ? [logVerifier] : undefined),
  latest: size === null ? null : { size, rootHash: rootFromLeafHashes(leaves.slice(0, size)) },
});

describe('add-checkpoint request', () => {
  it("reads the spec's example", () => {
    const r = parseAddCheckpointRequest(SPEC_REQUEST);
    expect(r.oldSize).toBe(20852014);
    expect(r.proof.map(encodeBase64)).toEqual(SPEC_REQUEST.split('\n').slice(1, 5));
    expect(r.checkpoint.size).toBe(20852163);
    expect(r.note.signatures).toHaveLength(2);
  });

  it('writes what it reads', () => {
    const proof = consistencyProof(5, leaves.slice(0, 13));
    const body = formatAddCheckpointRequest({ oldSize: 5, proof, signedCheckpoint: signedAt(13) });
    expect(body.startsWith(`old 5\n${encodeBase64(proof[0]!)}\n`)).toBe(true);
    expect(parseAddCheckpointRequest(body).proof).toEqual(proof);
    expect(parseAddCheckpointRequest(new TextEncoder().encode(body)).oldSize).toBe(5);
  });

  const checkpoint = SPEC_REQUEST.slice(SPEC_REQUEST.indexOf('\n\n') + 2);
  const proofLine = 'PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n';
  const bad: [string, string][] = [
    ['no old line', checkpoint],
    ['"Old"', `Old 1\n\n${checkpoint}`],
    ['two spaces', `old  1\n\n${checkpoint}`],
    ['a leading zero', `old 01\n\n${checkpoint}`],
    ['an empty size', `old \n\n${checkpoint}`],
    ['no blank line', `old 1\n${checkpoint}`],
    ['a 31-byte proof hash', `old 1\n${encodeBase64(new Uint8Array(31))}\n\n${checkpoint}`],
    ['an unpadded proof hash', `old 1\n${proofLine.slice(0, -2)}\n\n${checkpoint}`],
    ['64 proof lines', `old 1\n${proofLine.repeat(MAX_PROOF_LINES + 1)}\n${checkpoint}`],
    ['an old size above the size', `old 20852164\n\n${checkpoint}`],
    ['a checkpoint with no signature', `old 1\n\n${checkpoint.slice(0, checkpoint.indexOf('\n\n') + 2)}`],
    ['a malformed checkpoint body', `old 1\n\nexample.com/x\n1\n\n${checkpoint.slice(checkpoint.indexOf('\n\n') + 2)}`],
    ['a CR', `old 1\r\n\n${checkpoint}`],
    ['nothing', ''],
  ];
  for (const [what, body] of bad)
    it(`refuses ${what} (400)`, () => {
      expect(codeOf(() => parseAddCheckpointRequest(body))).toBe('TLOG_WITNESS_REQUEST_MALFORMED');
    });

  it('accepts exactly 63 proof lines', () => {
    expect(parseAddCheckpointRequest(`old 1\n${proofLine.repeat(MAX_PROOF_LINES)}\n${checkpoint}`).proof).toHaveLength(MAX_PROOF_LINES);
  });

  it('refuses arbitrary bodies only with its code', () => {
    const pieces = fc.constantFrom('old ', '1', '0', '\n', proofLine, checkpoint, ' ', 'x');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 10 }), (parts) => {
        const body = parts.join('');
        try {
          const r = parseAddCheckpointRequest(body);
          expect(r.oldSize).toBeLessThanOrEqual(r.checkpoint.size);
        } catch (error) {
          expect(isEphemeraError(error) && error.code).toBe('TLOG_WITNESS_REQUEST_MALFORMED');
        }
      }),
    );
  });
});

describe("the witness's checks", () => {
  it('accepts a first checkpoint from 0, a proven extension, and the same checkpoint again', () => {
    expect(checkAddCheckpoint(request(0, 7), witnessAt(null)).verified).toHaveLength(1);
    expect(checkAddCheckpoint(request(0, 0), witnessAt(null)).text).toContain('\n0\n');
    for (const [m, n] of [
      [1, 2],
      [3, 7],
      [4, 8],
      [7, 20],
      [13, 13],
    ] as const)
      expect(checkAddCheckpoint(request(m, n), witnessAt(m)).verified, `${m}→${n}`).toHaveLength(1);
  });

  it('answers each refusal with its code and the status the spec assigns', () => {
    const cases: [string, () => unknown, keyof typeof WITNESS_HTTP_STATUS][] = [
      ['an unknown origin', () => checkAddCheckpoint(request(0, 3), { ...witnessAt(null), logKeys: () => undefined }), 'TLOG_WITNESS_ORIGIN_UNKNOWN'],
      [
        'no trusted signature',
        () => checkAddCheckpoint(request(0, 3), { ...witnessAt(null), logKeys: () => [parseNoteVerifierKey(generateNoteKey(ORIGIN).vkey)] }),
        'TLOG_WITNESS_CHECKPOINT_UNVERIFIED',
      ],
      [
        'a failing trusted signature',
        () => {
          const tampered = signedAt(3).replace('\n3\n', '\n4\n');
          return checkAddCheckpoint(parseAddCheckpointRequest(`old 0\n\n${tampered}`), witnessAt(null));
        },
        'TLOG_WITNESS_CHECKPOINT_UNVERIFIED',
      ],
      ['an old size not the latest', () => checkAddCheckpoint(request(3, 7), witnessAt(4)), 'TLOG_WITNESS_OLD_SIZE_MISMATCH'],
      ['an old size 0 when the witness has cosigned', () => checkAddCheckpoint(request(0, 7), witnessAt(4)), 'TLOG_WITNESS_OLD_SIZE_MISMATCH'],
      ['an old size when the witness never cosigned', () => checkAddCheckpoint(request(3, 7), witnessAt(null)), 'TLOG_WITNESS_OLD_SIZE_MISMATCH'],
      [
        'a size-0 checkpoint with another root',
        () => {
          const text = formatCheckpoint({ origin: ORIGIN, size: 0, rootHash: new Uint8Array(32), extensions: [] });
          return checkAddCheckpoint(parseAddCheckpointRequest(`old 0\n\n${signNote({ text }, [logSigner])}`), witnessAt(null));
        },
        'TLOG_WITNESS_INCONSISTENT',
      ],
      ['a proof from 0', () => checkAddCheckpoint(request(0, 7, [leaves[0]!]), witnessAt(null)), 'TLOG_WITNESS_INCONSISTENT'],
      ['a wrong proof', () => checkAddCheckpoint(request(3, 7, consistencyProof(3, leaves.slice(0, 8))), witnessAt(3)), 'TLOG_WITNESS_INCONSISTENT'],
      ['a short proof', () => checkAddCheckpoint(request(3, 7, consistencyProof(3, leaves.slice(0, 7)).slice(1)), witnessAt(3)), 'TLOG_WITNESS_INCONSISTENT'],
      [
        'the same size with another root',
        () => checkAddCheckpoint(request(5, 5), { ...witnessAt(5), latest: { size: 5, rootHash: new Uint8Array(32) } }),
        'TLOG_WITNESS_INCONSISTENT',
      ],
      ['the same size with a proof', () => checkAddCheckpoint(request(5, 5, [leaves[0]!]), witnessAt(5)), 'TLOG_WITNESS_INCONSISTENT'],
    ];
    for (const [what, f, code] of cases) expect(codeOf(f), what).toBe(code);
    expect(WITNESS_HTTP_STATUS).toEqual({
      ok: 200,
      TLOG_WITNESS_REQUEST_MALFORMED: 400,
      TLOG_WITNESS_CHECKPOINT_UNVERIFIED: 403,
      TLOG_WITNESS_ORIGIN_UNKNOWN: 404,
      TLOG_WITNESS_OLD_SIZE_MISMATCH: 409,
      TLOG_WITNESS_INCONSISTENT: 422,
    });
  });

  it('gives the latest size in the conflict, as the 409 body says it', () => {
    try {
      checkAddCheckpoint(request(3, 7), witnessAt(4));
    } catch (error) {
      expect(isEphemeraError(error) && formatTreeSizeBody(error.fields.size as number)).toBe('4\n');
    }
    expect(parseTreeSizeBody('4\n')).toBe(4);
    for (const bad of ['4', '04\n', '-1\n', '\n', '4\n\n', 'x\n'])
      expect(
        codeOf(() => parseTreeSizeBody(bad)),
        bad,
      ).toBe('TLOG_WITNESS_RESPONSE_MALFORMED');
    expect(codeOf(() => formatTreeSizeBody(-1))).toBe('TLOG_WITNESS_RESPONSE_MALFORMED');
  });
});

describe('add-checkpoint response', () => {
  it("reads the spec's example, and writes it back", () => {
    const sigs = parseAddCheckpointResponse(SPEC_RESPONSE);
    expect(sigs.map((s) => s.name)).toEqual(['witness.example/w1', 'witness.example/w1', 'witness.example/w2']);
    expect(formatAddCheckpointResponse(sigs)).toBe(SPEC_RESPONSE);
  });

  it('refuses an answer that is not signature lines', () => {
    for (const bad of [
      '',
      '\n',
      SPEC_RESPONSE.slice(0, -1),
      `${SPEC_RESPONSE}\n`,
      SPEC_RESPONSE.replace('— ', '- '),
      'x\n',
      `${'— a QUJDREVGRw==\n'.repeat(101)}`,
    ])
      expect(
        codeOf(() => parseAddCheckpointResponse(bad)),
        bad.slice(0, 20),
      ).toBe('TLOG_WITNESS_RESPONSE_MALFORMED');
    expect(codeOf(() => formatAddCheckpointResponse([]))).toBe('TLOG_WITNESS_RESPONSE_MALFORMED');
  });

  it('refuses a request or an answer given as a string too long before reading it (the size first, then the text)', () => {
    const messageOf = (body: () => unknown) => {
      try {
        body();
      } catch (error) {
        return isEphemeraError(error) ? `${error.code}: ${error.message}` : String(error);
      }
      return 'no error';
    };
    // a control character at the end: found only by reading the whole text, which a size check first never does
    const huge = `${'x'.repeat(ADD_CHECKPOINT_MAX_BYTES + 1)}\u0001`;
    expect(messageOf(() => parseAddCheckpointRequest(huge))).toMatch(/^TLOG_WITNESS_REQUEST_MALFORMED: the request is larger than/);
    expect(messageOf(() => parseAddCheckpointResponse(huge))).toMatch(/^TLOG_WITNESS_RESPONSE_MALFORMED: the answer is not text of at most/);
  });

  it("appends a witness's cosignatures to the checkpoint and verifies them with the witness keys", () => {
    const w1 = generateCosignerKey('witness.example/w1', new Uint8Array(32).fill(11));
    const w2 = generateCosignerKey('witness.example/w2', new Uint8Array(32).fill(12));
    const signed = signedAt(7);
    const cosigned = signNote({ text: parseNote(signed).text }, [parseCosignerSignerKey(w1.skey, () => 1_700_000_000_000)]);
    const response = formatAddCheckpointResponse(parseNote(cosigned).signatures);
    const { note, opened } = appendCosignatures(signed, response, [parseCosignerVerifierKey(w1.vkey), parseCosignerVerifierKey(w2.vkey)]);
    expect(opened.verified.map((s) => [s.name, cosignatureTimestamp(s)])).toEqual([['witness.example/w1', 1_700_000_000]]);
    expect(parseNote(note).signatures.map((s) => s.name)).toEqual([ORIGIN, 'witness.example/w1']);
    const raw = decodeBase64(parseAddCheckpointResponse(response)[0]!.base64)!;
    raw[40]! ^= 1;
    const forged = `— witness.example/w1 ${encodeBase64(raw)}\n`;
    expect(codeOf(() => appendCosignatures(signed, forged, [parseCosignerVerifierKey(w1.vkey)]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    expect(codeOf(() => appendCosignatures(signed, response, [parseCosignerVerifierKey(w2.vkey)]))).toBe('TLOG_NOTE_UNVERIFIED');
  });
});
