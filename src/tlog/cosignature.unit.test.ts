import { ed25519 } from '@noble/curves/ed25519';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cosignatureMessage,
  cosignatureTimestamp,
  cosignerVerifierKey,
  generateCosignerKey,
  parseCosignature,
  parseCosignerSignerKey,
  parseCosignerVerifierKey,
} from './cosignature.js';
import { decodeBase64, encodeBase64 } from './lines.js';
import { formatSignerKey, generateNoteKey, noteKeyId, openNote, parseNote, parseNoteSignerKey, parseNoteVerifierKey, signNote } from './note.js';
import { codeOf } from './testing/code-of.js';

// c2sp.org/tlog-cosignature: the example checkpoint with a cosignature, and the example signed message.
const CHECKPOINT = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const SPEC_NOTE = `${CHECKPOINT}
— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
`;
const SPEC_MESSAGE = 'cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

const T = 1_679_315_147;
const witness = generateCosignerKey('witness.example.com/w1', new Uint8Array(32).fill(3));
const cosigner = parseCosignerSignerKey(witness.skey, () => T * 1000 + 999);
const verifier = parseCosignerVerifierKey(witness.vkey);

describe('cosignature/v1', () => {
  it("reads the spec's example cosignature line: key ID, then the timestamp of the spec's message", () => {
    const line = parseNote(SPEC_NOTE).signatures[1]!;
    expect(line.keyId).toBe(0x8d66cf3f);
    expect(line.signature).toHaveLength(72);
    expect(cosignatureTimestamp(line)).toBe(T);
    expect(new TextDecoder().decode(cosignatureMessage(CHECKPOINT, T))).toBe(SPEC_MESSAGE);
  });

  it('signs a checkpoint at the clock time, in whole seconds, verifiable as a note signature of type 0x04', () => {
    const signed = signNote({ text: CHECKPOINT }, [cosigner]);
    const opened = openNote(signed, [verifier]);
    expect(cosignatureTimestamp(opened.verified[0]!)).toBe(T);
    const { signature } = parseCosignature(opened.verified[0]!.signature);
    expect(ed25519.verify(signature, cosignatureMessage(CHECKPOINT, T), verifier.publicKey)).toBe(true);
    expect(verifier.keyId).toBe(noteKeyId('witness.example.com/w1', 0x04, verifier.publicKey));
    expect(cosigner.vkey).toBe(witness.vkey);
  });

  it('refuses a changed timestamp, a changed checkpoint, and the wrong length', () => {
    const signed = signNote({ text: CHECKPOINT }, [cosigner]);
    const sig = parseNote(signed).signatures[0]!;
    const raw = decodeBase64(sig.base64)!;
    raw[11]! ^= 1; // the timestamp's last byte
    const retimed = `${CHECKPOINT}\n— ${sig.name} ${encodeBase64(raw)}\n`;
    expect(codeOf(() => openNote(retimed, [verifier]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    expect(codeOf(() => openNote(signed.replace('20852163', '20852164'), [verifier]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    const short = `${CHECKPOINT}\n— ${sig.name} ${encodeBase64(decodeBase64(sig.base64)!.slice(0, 70))}\n`;
    expect(codeOf(() => openNote(short, [verifier]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    expect(codeOf(() => parseCosignature(new Uint8Array(71)))).toBe('TLOG_COSIGNATURE_MALFORMED');
    expect(codeOf(() => parseCosignature(Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0, ...new Uint8Array(64))))).toBe('TLOG_COSIGNATURE_MALFORMED');
    expect(parseCosignature(Uint8Array.of(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...new Uint8Array(64))).timestamp).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('separates the log key from the cosigner key: same Ed25519 key, different key IDs, neither verifies the other', () => {
    const seed = new Uint8Array(32).fill(9);
    const log = generateNoteKey('example.com/x', seed);
    const cos = generateCosignerKey('example.com/x', seed);
    expect(log.vkey.split('+')[1]).not.toBe(cos.vkey.split('+')[1]);
    const logSigned = signNote({ text: CHECKPOINT }, [parseNoteSignerKey(log.skey)]);
    expect(codeOf(() => openNote(logSigned, [parseCosignerVerifierKey(cos.vkey)]))).toBe('TLOG_NOTE_UNVERIFIED');
    expect(codeOf(() => parseCosignerVerifierKey(log.vkey))).toBe('TLOG_NOTE_KEY_UNSUPPORTED');
    expect(codeOf(() => parseNoteVerifierKey(cos.vkey))).toBe('TLOG_NOTE_KEY_UNSUPPORTED');
    // the secret key is the same Ed25519 skey (transparency-dev's convention); the cosigner vkey is its 0x04 form
    expect(cos.skey).toBe(log.skey);
    expect(cosignerVerifierKey(log.vkey)).toBe(cos.vkey);
    expect(parseCosignerSignerKey(log.skey).vkey).toBe(cos.vkey);
    expect(codeOf(() => cosignerVerifierKey(cos.vkey))).toBe('TLOG_NOTE_KEY_UNSUPPORTED');
    expect(codeOf(() => parseCosignerSignerKey(formatSignerKey('example.com/x', 0x04, seed)))).toBe('TLOG_NOTE_KEY_UNSUPPORTED');
  });

  it('verifies a cosignature over the exact bytes of the note text: a byte order mark added in front does not keep it valid', () => {
    // TextDecoder drops a leading U+FEFF by default: a cosignature over CHECKPOINT must not verify on "\uFEFF" + CHECKPOINT,
    // whose origin is another string, nor be made over the text without it.
    const line = parseNote(signNote({ text: CHECKPOINT }, [cosigner])).signatures[0]!;
    const forged = `\uFEFF${CHECKPOINT}\n— ${line.name} ${line.base64}\n`;
    expect(codeOf(() => openNote(forged, [verifier]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    const bomSigned = signNote({ text: `\uFEFF${CHECKPOINT}` }, [cosigner]);
    expect(codeOf(() => openNote(`${CHECKPOINT}\n${bomSigned.slice(bomSigned.lastIndexOf('— '))}`, [verifier]))).toBe('TLOG_NOTE_SIGNATURE_INVALID');
    expect(openNote(bomSigned, [verifier]).text).toBe(`\uFEFF${CHECKPOINT}`);
    // and bytes that are not UTF-8 verify nothing (no replacement character stands for them)
    const message = new TextEncoder().encode(CHECKPOINT);
    expect(verifier.verify(message, line.signature)).toBe(true);
    expect(verifier.verify(Uint8Array.of(0xff, ...message), line.signature)).toBe(false);
  });

  it('cosigns only checkpoints, at a POSIX time', () => {
    expect(codeOf(() => signNote({ text: 'not a checkpoint\n' }, [cosigner]))).toBe('TLOG_CHECKPOINT_MALFORMED');
    expect(codeOf(() => signNote({ text: CHECKPOINT }, [parseCosignerSignerKey(witness.skey, () => -5000)]))).toBe('TLOG_COSIGNATURE_MALFORMED');
    // a timestamp of 0 is a cosignature without one, which a witness MUST NOT give (tlog-witness)
    expect(codeOf(() => signNote({ text: CHECKPOINT }, [parseCosignerSignerKey(witness.skey, () => 999)]))).toBe('TLOG_COSIGNATURE_MALFORMED');
  });

  it('verifies any checkpoint cosigned at any time, and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Math.floor(Number.MAX_SAFE_INTEGER / 1000) }), fc.nat(1_000_000), (seconds, size) => {
        const text = `example.com/log\n${size}\n${encodeBase64(new Uint8Array(32).fill(size & 0xff))}\n`;
        const at = parseCosignerSignerKey(witness.skey, () => seconds * 1000);
        const opened = openNote(signNote({ text }, [at]), [verifier]);
        expect(cosignatureTimestamp(opened.verified[0]!)).toBe(seconds);
      }),
      { numRuns: 30 },
    );
  });
});
