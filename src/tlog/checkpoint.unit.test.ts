import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { CHECKPOINT_MAX_BYTES, formatCheckpoint, openCheckpoint, parseCheckpoint } from './checkpoint.js';
import { encodeBase64 } from './lines.js';
import { generateNoteKey, parseNoteSignerKey, parseNoteVerifierKey, signNote } from './note.js';
import { codeOf } from './testing/code-of.js';

// c2sp.org/tlog-checkpoint, the introduction's example.
const SPEC = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

describe('checkpoints', () => {
  it("reads the spec's example and writes it back", () => {
    const c = parseCheckpoint(SPEC);
    expect(c.origin).toBe('example.com/behind-the-sofa');
    expect(c.size).toBe(20852163);
    expect(encodeBase64(c.rootHash)).toBe('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    expect(c.extensions).toEqual([]);
    expect(formatCheckpoint(c)).toBe(SPEC);
  });

  it('keeps extension lines, and any origin text', () => {
    const text = `${SPEC}ext one\nmore ext\n`;
    expect(parseCheckpoint(text).extensions).toEqual(['ext one', 'more ext']);
    expect(parseCheckpoint(`origin with space+plus é\n0\n${encodeBase64(new Uint8Array(32))}\n`).origin).toBe('origin with space+plus é');
  });

  const root = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';
  const bad: [string, string][] = [
    ['no final newline', SPEC.slice(0, -1)],
    ['two lines', 'example.com/x\n1\n'],
    ['an empty origin', `\n1\n${root}\n`],
    ['an empty extension line', `${SPEC}\n`],
    ['an empty line between extensions', `${SPEC}a\n\nb\n`],
    ['a leading zero', `o\n01\n${root}\n`],
    ['a sign', `o\n+1\n${root}\n`],
    ['a negative size', `o\n-1\n${root}\n`],
    ['a size beyond 2^53 - 1', `o\n9007199254740992\n${root}\n`],
    ['a size with spaces', `o\n 1\n${root}\n`],
    ['a hex size', `o\n0x10\n${root}\n`],
    ['a 31-byte root', `o\n1\n${encodeBase64(new Uint8Array(31))}\n`],
    ['a 33-byte root', `o\n1\n${encodeBase64(new Uint8Array(33))}\n`],
    ['a non-canonical root', `o\n1\n${root.slice(0, -2)}3=\n`],
    ['an unpadded root', `o\n1\n${root.slice(0, -1)}\n`],
    ['a CR', `o\r\n1\n${root}\n`],
    ['a tab', `o\t\n1\n${root}\n`],
    ['a lone surrogate', `o\ud800\n1\n${root}\n`],
  ];
  for (const [what, text] of bad)
    it(`refuses ${what}`, () => {
      expect(codeOf(() => parseCheckpoint(text))).toBe('TLOG_CHECKPOINT_MALFORMED');
    });

  it('bounds its size, and refuses to write what it would not read', () => {
    expect(codeOf(() => parseCheckpoint(`${SPEC}${'x'.repeat(CHECKPOINT_MAX_BYTES)}\n`))).toBe('TLOG_CHECKPOINT_MALFORMED');
    const c = parseCheckpoint(SPEC);
    expect(codeOf(() => formatCheckpoint({ ...c, origin: 'a\nb' }))).toBe('TLOG_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ ...c, origin: '' }))).toBe('TLOG_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ ...c, size: -1 }))).toBe('TLOG_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ ...c, size: 1.5 }))).toBe('TLOG_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ ...c, rootHash: new Uint8Array(16) }))).toBe('TLOG_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ ...c, extensions: [''] }))).toBe('TLOG_CHECKPOINT_MALFORMED');
  });

  it('round-trips every checkpoint, and refuses arbitrary text only with its code', () => {
    const line = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /^[^\u0000-\u001f\ud800-\udfff]+$/.test(s));
    fc.assert(
      fc.property(
        line,
        fc.maxSafeNat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, rootHash, extensions) => {
          const text = formatCheckpoint({ origin, size, rootHash, extensions });
          expect(parseCheckpoint(text)).toEqual({ origin, size, rootHash, extensions });
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
        } catch (error) {
          expect(isEphemeraError(error) && error.code).toBe('TLOG_CHECKPOINT_MALFORMED');
        }
      }),
    );
  });

  it('opens a signed checkpoint', () => {
    const key = generateNoteKey('example.com/behind-the-sofa', new Uint8Array(32).fill(7));
    const signed = signNote({ text: SPEC }, [parseNoteSignerKey(key.skey)]);
    const { checkpoint, note } = openCheckpoint(signed, [parseNoteVerifierKey(key.vkey)]);
    expect(checkpoint.size).toBe(20852163);
    expect(note.verified).toHaveLength(1);
    const unsignedBody = signNote({ text: 'not\na checkpoint\n' }, [parseNoteSignerKey(key.skey)]);
    expect(codeOf(() => openCheckpoint(unsignedBody, [parseNoteVerifierKey(key.vkey)]))).toBe('TLOG_CHECKPOINT_MALFORMED');
  });
});
