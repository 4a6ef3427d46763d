/**
 * Sealed results and result key files (docs/sealed.md §5): the owner opens the result and its
 * hash is the certificate's result_hash; another key, another execution, any changed byte, a
 * wrong hash or a non-canonical plaintext are refused with their codes.
 */
import { x25519 } from '@noble/curves/ed25519';
import { describe, expect, it } from 'vitest';
import { bytesToHex, canonicalize, hashBytes, hexToBytes, utf8ToBytes } from '../events/index.js';
import { nodeSealCrypto } from './node-aead.js';
import { generateResultKey, parseResultKeyFile } from './result-key.js';
import { openSealedResult, sealResult } from './sealed-result.js';
import { RESULT_INFO, cipherSuite } from './suites.js';
import type { ResultKeyFile, SealedCertificate } from './types.js';
import { codeOf } from './testing/code-of.js';

const EXECUTION_ID = '01JF0000000000000000000000';
const CONTENT = {
  result: { output: 'SECRET-OUTPUT-42\n', bytes: 17, truncated: false, json: { answer: 42 } },
  stderr_tail: { text: 'warning: x', bytes: 10, truncated: false },
};
const KEY = await generateResultKey(nodeSealCrypto);
const OTHER = await generateResultKey();

async function certificateFor(content = CONTENT, recipient = KEY.public_key): Promise<SealedCertificate> {
  const { sealed, resultHash } = await sealResult(recipient, EXECUTION_ID, content, nodeSealCrypto);
  return { execution_id: EXECUTION_ID, result: { result_hash: resultHash, sealed } };
}
/** A certificate whose sealed plaintext is exactly `text`, as a dishonest executor could make. */
async function certificateOfText(text: string, resultHash = hashBytes(utf8ToBytes(text))): Promise<SealedCertificate> {
  const cs = cipherSuite('x25519-aes256gcm');
  const context = await cs.createSenderContext({ recipientPublicKey: await cs.kem.deserializePublicKey(hexToBytes(KEY.public_key)), info: RESULT_INFO });
  const ciphertext = new Uint8Array(await context.seal(utf8ToBytes(text), utf8ToBytes(`ephemera/v1/sealed-result\n${EXECUTION_ID}`)));
  return {
    execution_id: EXECUTION_ID,
    result: {
      result_hash: resultHash,
      sealed: { suite: 'x25519-aes256gcm', recipient: KEY.public_key, enc: bytesToHex(new Uint8Array(context.enc)), ciphertext: bytesToHex(ciphertext) },
    },
  };
}

describe('sealResult and openSealedResult', () => {
  it('opens for its owner, with a 64-hex salt, and the plaintext hashes to result_hash', async () => {
    const certificate = await certificateFor();
    const opened = await openSealedResult(certificate, KEY);
    expect(opened.result).toEqual(CONTENT.result);
    expect(opened.stderr_tail).toEqual(CONTENT.stderr_tail);
    expect(opened.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(hashBytes(utf8ToBytes(canonicalize(opened)))).toBe(certificate.result.result_hash);
  });

  it('says nothing of the result in the clear, and salts the commitment (same result, other hash)', async () => {
    const a = await certificateFor();
    const b = await certificateFor();
    expect(JSON.stringify(a)).not.toContain('SECRET-OUTPUT');
    expect(a.result.result_hash).not.toBe(b.result.result_hash);
    expect(a.result.sealed!.enc).not.toBe(b.result.sealed!.enc);
  });

  it('opens a result with no stderr tail, with WebCrypto', async () => {
    const opened = await openSealedResult(await certificateFor({ ...CONTENT, stderr_tail: null } as never), KEY);
    expect(opened.stderr_tail).toBeNull();
  });

  it('is SEALED_RESULT_KEY_MISMATCH for another key file, and for one that claims the recipient’s public key', async () => {
    const certificate = await certificateFor();
    expect(await codeOf(() => openSealedResult(certificate, OTHER))).toBe('SEALED_RESULT_KEY_MISMATCH');
    expect(await codeOf(() => openSealedResult(certificate, { ...OTHER, public_key: KEY.public_key }))).toBe('SEALED_RESULT_KEY_MISMATCH');
  });

  it.each<[string, (c: SealedCertificate) => SealedCertificate]>([
    ['another execution id (the associated data)', (c) => ({ ...c, execution_id: '01JF0000000000000000000001' })],
    [
      'a ciphertext byte',
      (c) => ({
        ...c,
        result: {
          ...c.result,
          sealed: { ...c.result.sealed!, ciphertext: `${c.result.sealed!.ciphertext[0] === '0' ? '1' : '0'}${c.result.sealed!.ciphertext.slice(1)}` },
        },
      }),
    ],
    [
      'the encapsulated key',
      (c) => ({
        ...c,
        result: { ...c.result, sealed: { ...c.result.sealed!, enc: `${c.result.sealed!.enc.slice(0, 63)}${c.result.sealed!.enc[63] === '0' ? '1' : '0'}` } },
      }),
    ],
  ])('is SEALED_RESULT_KEY_MISMATCH when %s changes (it does not open)', async (_what, tamper) => {
    expect(await codeOf(async () => openSealedResult(tamper(await certificateFor()), KEY))).toBe('SEALED_RESULT_KEY_MISMATCH');
  });

  it('is SEALED_RESULT_MISMATCH when result_hash is not the plaintext’s, or the result is not sealed', async () => {
    const certificate = await certificateFor();
    expect(await codeOf(() => openSealedResult({ ...certificate, result: { ...certificate.result, result_hash: `sha256:${'0'.repeat(64)}` } }, KEY))).toBe(
      'SEALED_RESULT_MISMATCH',
    );
    expect(await codeOf(() => openSealedResult({ execution_id: EXECUTION_ID, result: { result_hash: null } }, KEY))).toBe('SEALED_RESULT_MISMATCH');
  });

  it.each([
    ['not in JCS form', JSON.stringify({ stderr_tail: null, salt: 'ab'.repeat(32), result: CONTENT.result })],
    ['with an unknown member', canonicalize({ extra: 1, salt: 'ab'.repeat(32), result: CONTENT.result, stderr_tail: null })],
    ['with a short salt', canonicalize({ salt: 'ab', result: CONTENT.result, stderr_tail: null })],
    ['not JSON', 'not json'],
  ])('is SEALED_RESULT_MISMATCH when the plaintext (hashed honestly) is %s', async (_what, text) => {
    expect(await codeOf(async () => openSealedResult(await certificateOfText(text), KEY))).toBe('SEALED_RESULT_MISMATCH');
  });

  it('opens a hand-made canonical plaintext (the helper above makes real ones)', async () => {
    const text = canonicalize({ salt: 'ab'.repeat(32), result: CONTENT.result, stderr_tail: null });
    expect((await openSealedResult(await certificateOfText(text), KEY)).salt).toBe('ab'.repeat(32));
  });
});

describe('result key files', () => {
  const text = JSON.stringify(KEY);

  it('are generated as X25519 pairs whose public key is the private key’s', () => {
    expect(KEY.type).toBe('ephemera.result-key');
    expect(bytesToHex(x25519.getPublicKey(hexToBytes(KEY.private_key)))).toBe(KEY.public_key);
    expect(parseResultKeyFile(text)).toEqual(KEY);
  });

  it.each<[string, string]>([
    ['a public key that is not the private key’s', JSON.stringify({ ...KEY, public_key: OTHER.public_key })],
    ['an unknown member', JSON.stringify({ ...KEY, note: 'x' })],
    ['a missing member', JSON.stringify({ ...KEY, private_key: undefined })],
    ['another suite', JSON.stringify({ ...KEY, suite: 'xwing-aes256gcm' })],
    ['uppercase hex', JSON.stringify({ ...KEY, private_key: KEY.private_key.toUpperCase() })],
    ['a duplicate member', text.replace('{', `{"public_key":"${KEY.public_key}",`)],
    ['not JSON', 'x'],
    ['an oversized file', JSON.stringify({ ...KEY, pad: ' '.repeat(5000) })],
  ])('refuses %s: SEALED_RESULT_KEY_INVALID', async (_what, input) => {
    expect(await codeOf(() => parseResultKeyFile(input))).toBe('SEALED_RESULT_KEY_INVALID');
  });

  it('never puts the private key in an error message', async () => {
    const bad: ResultKeyFile = { ...KEY, public_key: OTHER.public_key };
    try {
      parseResultKeyFile(JSON.stringify(bad));
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(KEY.private_key);
    }
    expect.assertions(1);
  });
});
