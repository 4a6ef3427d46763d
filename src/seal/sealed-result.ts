/**
 * Sealed results (docs/sealed.md §5): R = JCS({salt, result, stderr_tail})
 * sealed once to the caller's X25519 key; the certificate keeps only the
 * ciphertext and result_hash = SHA-256(R), a salted commitment. Its owner
 * opens R and anyone can then check it against result_hash. Isomorphic.
 */
import { EphemeraError } from '../errors.js';
import {
  bytesToHex,
  canonicalize,
  hashBytes,
  hexToBytes,
  runResultSchemaV2,
  s,
  stderrTailSchemaV2,
  utf8ToBytes,
  type Hash,
  type RunResult,
  type Schema,
  type SealedResult,
  type StderrTail,
} from '../events/index.js';
import { readStrictJson, refuse } from './strict.js';
import { RESULT_INFO, cipherSuite } from './suites.js';
import type { ResultKeyFile, SealCrypto, SealedCertificate } from './types.js';

const RESULT_AAD_TAG = 'ephemera/v1/sealed-result\n';
const SUITE = 'x25519-aes256gcm';

interface OpenedResult {
  salt: string;
  result: RunResult;
  stderr_tail: StderrTail | null;
}

const openedResultSchema: Schema<OpenedResult> = s.object({
  salt: s.hex(64),
  result: runResultSchemaV2,
  stderr_tail: s.nullable(stderrTailSchemaV2),
});

const resultAad = (executionId: string) => utf8ToBytes(RESULT_AAD_TAG + executionId);

export async function sealResult(
  recipientHex: string,
  executionId: string,
  content: { result: RunResult; stderr_tail: StderrTail | null },
  crypto?: SealCrypto,
): Promise<{ sealed: SealedResult; resultHash: Hash }> {
  if (!/^[0-9a-f]{64}$/.test(recipientHex)) throw new TypeError('the recipient must be 64 lowercase hex (an X25519 public key)');
  const salt = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
  const plaintext = utf8ToBytes(canonicalize({ salt, result: content.result, stderr_tail: content.stderr_tail }));
  const resultHash = hashBytes(plaintext);
  const cs = cipherSuite(SUITE, crypto);
  const recipientPublicKey = await cs.kem.deserializePublicKey(hexToBytes(recipientHex));
  const context = await cs.createSenderContext({ recipientPublicKey, info: RESULT_INFO });
  const ciphertext = new Uint8Array(await context.seal(plaintext, resultAad(executionId)));
  plaintext.fill(0);
  return { sealed: { suite: SUITE, recipient: recipientHex, enc: bytesToHex(new Uint8Array(context.enc)), ciphertext: bytesToHex(ciphertext) }, resultHash };
}

export async function openSealedResult(certificate: SealedCertificate, key: ResultKeyFile, crypto?: SealCrypto): Promise<OpenedResult> {
  const sealed = certificate.result.sealed;
  if (!sealed) refuse('SEALED_RESULT_MISMATCH', "the certificate's result is not sealed", 'result.sealed');
  if (sealed.recipient !== key.public_key)
    refuse('SEALED_RESULT_KEY_MISMATCH', "the key file's public key is not the certificate's result recipient", 'result.sealed.recipient');
  if (sealed.suite !== SUITE || !/^[0-9a-f]{64}$/.test(sealed.enc) || !/^(?:[0-9a-f]{2})+$/.test(sealed.ciphertext))
    refuse('SEALED_RESULT_MISMATCH', 'result.sealed is not a sealed result', 'result.sealed');
  let plaintext: Uint8Array;
  try {
    const cs = cipherSuite(SUITE, crypto);
    const recipientKey = await cs.kem.deserializePrivateKey(hexToBytes(key.private_key));
    const context = await cs.createRecipientContext({ recipientKey, enc: hexToBytes(sealed.enc), info: RESULT_INFO });
    plaintext = new Uint8Array(await context.open(hexToBytes(sealed.ciphertext), resultAad(certificate.execution_id)));
  } catch {
    throw new EphemeraError('SEALED_RESULT_KEY_MISMATCH', 'the key file does not open this sealed result', { fields: { field: 'result.sealed' } });
  }
  try {
    if (hashBytes(plaintext) !== certificate.result.result_hash)
      refuse('SEALED_RESULT_MISMATCH', 'the opened result does not hash to result_hash', 'result.result_hash');
    return readStrictJson(plaintext, openedResultSchema, 'SEALED_RESULT_MISMATCH', 'sealed result', { canonical: true });
  } finally {
    plaintext.fill(0);
  }
}
