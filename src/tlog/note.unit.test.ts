import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { decodeBase64, encodeBase64, isValidKeyName, parseDecimal } from './lines.js';
import {
  formatVerifierKey,
  generateNoteKey,
  type NoteSignature,
  noteKeyId,
  openNote,
  parseNote,
  parseNoteSignerKey,
  parseNoteVerifierKey,
  SIGNATURE_TYPE,
  signNote,
} from './note.js';
import { codeOf } from './testing/code-of.js';

// c2sp.org/signed-note, "Example".
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

const seed = (n: number) => new Uint8Array(32).fill(n);
const alice = generateNoteKey('example.com/alice', seed(1));
const bob = generateNoteKey('example.com/bob', seed(2));
const aliceSigner = parseNoteSignerKey(alice.skey);
const bobSigner = parseNoteSignerKey(bob.skey);
const aliceV = parseNoteVerifierKey(alice.vkey);
const bobV = parseNoteVerifierKey(bob.vkey);

describe('base64 and decimals (lines.ts)', () => {
  it('round-trips every byte string, and reads only the canonical text (what Buffer writes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text)).toEqual(bytes);
      }),
    );
  });

  it('refuses non-canonical, unpadded, and foreign-alphabet base64', () => {
    for (const bad of ['QQ', 'QR==', 'QUI=x', 'QUJ=', 'Q===', '=QQQ', 'QQ=A', '-_-_', 'QUJD\n', ' QUJD', 'QUJDÀ===', 'QQ==QQ=='])
      expect(decodeBase64(bad), bad).toBeNull();
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        const bytes = decodeBase64(text);
        if (bytes !== null) expect(encodeBase64(bytes)).toBe(text);
      }),
    );
  });

  it('reads decimals with no leading zero up to 2^53 - 1', () => {
    expect(parseDecimal('0')).toBe(0);
    expect(parseDecimal('20852163')).toBe(20852163);
    expect(parseDecimal('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['', '00', '01', '-1', '+1', '1e3', ' 1', '1 ', '9007199254740992', '99999999999999999', '１']) expect(parseDecimal(bad), bad).toBeNull();
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(parseDecimal(String(n))).toBe(n);
      }),
    );
  });

  it('accepts key names without Unicode spaces and plus signs (Go: unicode.IsSpace)', () => {
    expect(isValidKeyName('example.com/foo')).toBe(true);
    expect(isValidKeyName('oid/1.3.6.1')).toBe(true);
    expect(isValidKeyName('zw\u200bj')).toBe(true); // zero-width space is not a space for Go
    for (const bad of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2003b', 'a\u3000b', 'a\u0085b', 'a\u2028b', 'a\u0001b'])
      expect(isValidKeyName(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe('keys (Go formats)', () => {
  it("verifies the spec's example note with the spec's example vkey", () => {
    const verifier = parseNoteVerifierKey(SPEC_VKEY);
    expect(verifier.keyId).toBe(0x530d903a);
    const opened = openNote(SPEC_NOTE, [verifier]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/foo']);
  });

  it('computes the key ID as SHA-256(name ‖ \\n ‖ type ‖ key)[:4], and writes vkeys that read back', () => {
    const v = parseNoteVerifierKey(SPEC_VKEY);
    expect(noteKeyId('example.com/foo', 1, v.publicKey)).toBe(0x530d903a);
    expect(formatVerifierKey('example.com/foo', SIGNATURE_TYPE.ed25519, v.publicKey)).toBe(SPEC_VKEY);
    expect(aliceSigner.vkey).toBe(alice.vkey);
    expect(alice.skey).toMatch(/^PRIVATE\+KEY\+example\.com\/alice\+[0-9a-f]{8}\+AQ/);
    expect(aliceSigner.keyId).toBe(aliceV.keyId);
  });

  it('refuses every malformed vkey', () => {
    const [name, hash, key] = [SPEC_VKEY.split('+')[0]!, SPEC_VKEY.split('+')[1]!, SPEC_VKEY.split('+').slice(2).join('+')];
    const cases: [string, string][] = [
      ['', 'TLOG_NOTE_KEY_INVALID'],
      [name, 'TLOG_NOTE_KEY_INVALID'],
      [`${name}+${hash}`, 'TLOG_NOTE_KEY_INVALID'],
      [`${name}+${hash}+`, 'TLOG_NOTE_KEY_INVALID'],
      [`+${hash}+${key}`, 'TLOG_NOTE_KEY_INVALID'],
      [`example.com/bar+${hash}+${key}`, 'TLOG_NOTE_KEY_INVALID'], // hash mismatch
      [`${name}+${hash.toUpperCase()}+${key}`, 'TLOG_NOTE_KEY_INVALID'],
      [`${name}+0${hash}+${key}`, 'TLOG_NOTE_KEY_INVALID'],
      [`${name}+${hash}+${key.slice(0, -4)}`, 'TLOG_NOTE_KEY_INVALID'],
      [`a b+${hash}+${key}`, 'TLOG_NOTE_KEY_INVALID'],
      [formatVerifierKey('x.example/k', 0x02, new Uint8Array(32).fill(9)), 'TLOG_NOTE_KEY_UNSUPPORTED'],
      [formatVerifierKey('x.example/k', 0x04, aliceV.publicKey), 'TLOG_NOTE_KEY_UNSUPPORTED'],
      [formatVerifierKey('x.example/k', 0x01, new Uint8Array(31)), 'TLOG_NOTE_KEY_INVALID'],
      // the identity point (small order) and a non-canonical y ≥ p
      [formatVerifierKey('x.example/k', 0x01, Uint8Array.of(1, ...new Uint8Array(31))), 'TLOG_NOTE_KEY_INVALID'],
      [formatVerifierKey('x.example/k', 0x01, Uint8Array.of(0xed, ...new Uint8Array(30).fill(0xff), 0x7f)), 'TLOG_NOTE_KEY_INVALID'],
    ];
    for (const [vkey, code] of cases)
      expect(
        codeOf(() => parseNoteVerifierKey(vkey)),
        vkey,
      ).toBe(code);
  });

  it('refuses every malformed skey', () => {
    const body = alice.skey.slice('PRIVATE+KEY+'.length);
    for (const skey of [body, `PRIVATE+KEY+${body.replace('alice', 'alicf')}`, `PRIVATE+KEY+${body.slice(0, -4)}`, `private+key+${body}`, alice.vkey])
      expect(
        codeOf(() => parseNoteSignerKey(skey)),
        skey,
      ).toBe('TLOG_NOTE_KEY_INVALID');
    expect(codeOf(() => generateNoteKey('has space'))).toBe('TLOG_NOTE_KEY_INVALID');
    expect(generateNoteKey('a.example/x').skey).not.toBe(generateNoteKey('a.example/x').skey);
  });
});

describe('signing and opening notes', () => {
  const text = 'example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  it('signs, adds signatures after existing ones, replaces a re-signing key, and opens with the known keys', () => {
    const one = signNote({ text }, [aliceSigner]);
    expect(one.startsWith(`${text}\n— example.com/alice `)).toBe(true);
    const parsed = parseNote(one);
    const two = signNote({ text, signatures: parsed.signatures }, [bobSigner]);
    expect(parseNote(two).signatures.map((s) => s.name)).toEqual(['example.com/alice', 'example.com/bob']);
    const again = signNote({ text, signatures: parseNote(two).signatures }, [aliceSigner]);
    expect(parseNote(again).signatures.map((s) => s.name)).toEqual(['example.com/bob', 'example.com/alice']);
    const opened = openNote(two, [bobV]);
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/bob']);
    expect(opened.unverified.map((s) => s.name)).toEqual(['example.com/alice']);
    expect(openNote(two, [aliceV, bobV]).verified).toHaveLength(2);
  });

  it('refuses a note no known key signed, and a known key whose signature fails', () => {
    const signed = signNote({ text }, [aliceSigner]);
    expect(codeOf(() => openNote(signed, [bobV]))).toBe('TLOG_NOTE_UNVERIFIED');
    expect(codeOf(() => openNote(signed, []))).toBe('TLOG_NOTE_UNVERIFIED');
    const tampered = signed.replace('example.com/log\n1', 'example.com/log\n2');
    expect(codeOf(() => openNote(tampered, [aliceV]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    // a good and a bad signature of the same key: every one is verified (Go's Open checks only the first)
    const sig = parseNote(signed).signatures[0]!;
    const flipped = decodeBase64(sig.base64)!;
    flipped[10]! ^= 1;
    const twice = `${signed}— example.com/alice ${encodeBase64(flipped)}\n`;
    expect(codeOf(() => openNote(twice, [aliceV]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    // a repeat of the same good line counts once; an unknown key sharing the name (not the ID) is ignored
    const repeated = `${signed}${signed.slice(signed.indexOf('— '))}`;
    expect(openNote(repeated, [aliceV]).verified).toHaveLength(1);
    const otherId = `${signed}— example.com/alice ${encodeBase64(Uint8Array.of(1, 2, 3, 4, ...sig.signature))}\n`;
    const opened = openNote(otherId, [aliceV]);
    expect([opened.verified.length, opened.unverified.length]).toEqual([1, 1]);
  });

  it('refuses two known keys with the same name and ID', () => {
    expect(codeOf(() => openNote(signNote({ text }, [aliceSigner]), [aliceV, { ...aliceV }]))).toBe('TLOG_NOTE_KEYS_AMBIGUOUS');
    expect(codeOf(() => signNote({ text }, [aliceSigner, aliceSigner]))).toBe('TLOG_NOTE_KEYS_AMBIGUOUS');
  });

  it('refuses to sign text that is not note text', () => {
    for (const bad of ['no newline', 'tab\there\n', 'cr\r\n', 'lone \ud800\n'])
      expect(
        codeOf(() => signNote({ text: bad }, [aliceSigner])),
        bad,
      ).toBe('TLOG_NOTE_MALFORMED');
  });

  it('keeps text with blank lines inside, split at the last blank line', () => {
    const t = 'a\n\nb\n\n';
    const note = signNote({ text: t }, [aliceSigner]);
    expect(openNote(note, [aliceV]).text).toBe(t);
    expect(openNote(signNote({ text: '\n' }, [aliceSigner]), [aliceV]).text).toBe('\n');
  });
});

describe('parseNote refuses every malformed class', () => {
  const good = signNote({ text: 'hello\n' }, [aliceSigner]);
  const sigLine = good.slice(good.indexOf('— '));
  const b64 = sigLine.slice(sigLine.lastIndexOf(' ') + 1, -1);
  const cases: [string, string | Uint8Array][] = [
    ['no blank line', `hello\n${sigLine}`],
    ['no signatures', 'hello\n\n'],
    ['no final newline', good.slice(0, -1)],
    ['a CR', good.replace('hello', 'hel\rlo')],
    ['a tab', good.replace('hello', 'hel\tlo')],
    ['a NUL', good.replace('hello', 'hel\0lo')],
    ['a hyphen, not an em dash', good.replace('— ', '- ')],
    ['an en dash', good.replace('— ', '– ')],
    ['no space after the dash', good.replace('— ', '—')],
    ['two spaces', good.replace('alice ', 'alice  ')],
    ['an empty name', `hello\n\n—  ${b64}\n`],
    ['a plus in the name', good.replace('example.com/alice', 'example.com+alice')],
    ['no signature', `hello\n\n— example.com/alice\n`],
    ['an empty signature', `hello\n\n— example.com/alice \n`],
    ['a 4-byte signature (key ID only)', `hello\n\n— example.com/alice ${encodeBase64(new Uint8Array(4))}\n`],
    ['bad base64', good.replace(b64, `${b64.slice(0, -2)}!=`)],
    ['trailing text after the base64', good.replace(`${b64}\n`, `${b64} x\n`)],
    ['a blank line after the signatures', `${good}\n`],
    ['text after the signatures', `${good}trailer`],
    ['invalid UTF-8', Uint8Array.of(...new TextEncoder().encode('h\n\n'), 0xc3, 0x28, 0x0a)],
    ['a UTF-8 surrogate', Uint8Array.of(0xed, 0xa0, 0x80, ...new TextEncoder().encode(`\n\n${sigLine}`))],
    ['an overlong', Uint8Array.of(0xc0, 0xaf, ...new TextEncoder().encode(`\n\n${sigLine}`))],
    ['a lone surrogate string', `\ud800\n\n${sigLine}`],
  ];
  for (const [what, input] of cases)
    it(`refuses ${what}`, () => {
      expect(codeOf(() => parseNote(input))).toBe('TLOG_NOTE_MALFORMED');
    });

  it('bounds the size and the number of signature lines', () => {
    expect(codeOf(() => parseNote(`${'x'.repeat(300_000)}\n\n${sigLine}`))).toBe('TLOG_NOTE_TOO_LARGE');
    expect(codeOf(() => parseNote(new Uint8Array(300_000)))).toBe('TLOG_NOTE_TOO_LARGE');
    expect(parseNote(`hello\n\n${sigLine.repeat(100)}`).signatures).toHaveLength(100);
    expect(codeOf(() => parseNote(`hello\n\n${sigLine.repeat(101)}`))).toBe('TLOG_NOTE_TOO_LARGE');
    expect(codeOf(() => parseNote(good, { maxBytes: 10, maxSignatures: 1 }))).toBe('TLOG_NOTE_TOO_LARGE');
  });

  it('never throws anything but TLOG_NOTE_* on arbitrary input, and what it reads it writes back the same', () => {
    const pieces = fc.constantFrom('— ', '—', '\n', '\n\n', ' ', 'a', '+', 'example.com/alice', b64, 'AAAA', '=', '\r', '\t', 'é', '\u2003');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(pieces, { maxLength: 12 }).map((p) => p.join('')),
          fc.string(),
          fc.uint8Array({ maxLength: 64 }),
        ),
        (input) => {
          let parsed: ReturnType<typeof parseNote>;
          try {
            parsed = parseNote(input);
          } catch (error) {
            expect(isEphemeraError(error) && error.code.startsWith('TLOG_NOTE_')).toBe(true);
            return;
          }
          const rebuilt = `${parsed.text}\n${parsed.signatures.map((s: NoteSignature) => `— ${s.name} ${s.base64}\n`).join('')}`;
          expect(rebuilt).toBe(typeof input === 'string' ? input : new TextDecoder().decode(input));
        },
      ),
    );
  });

  it('refuses any single-byte change to a signed note, or ignores it as an unknown key, never verifying other text', () => {
    const bytes = new TextEncoder().encode(good);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const changed = bytes.slice();
        changed[i]! ^= x;
        try {
          const opened = openNote(changed, [aliceV]);
          expect(opened.text).toBe('hello\n');
        } catch (error) {
          expect(isEphemeraError(error) && error.code.startsWith('TLOG_NOTE_')).toBe(true);
        }
      }),
    );
  });
});
