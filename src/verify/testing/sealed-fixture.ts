/**
 * A sealed result made exactly as docs/sealed.md §5 says, reproducibly, for
 * the conformance suite: a fixed recipient key (RFC 7748 §6.1 Alice), a fixed
 * encapsulation (HPKE's `ekm`, for tests only) and a fixed salt, so the
 * vectors come out byte for byte the same every time. The production code
 * (src/seal) draws all three at random. Test support only.
 */
import { x25519 } from '@noble/curves/ed25519';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { bytesToHex, canonicalize, hashUtf8, hexToBytes, type Hash, type RunResult, type SealedResult, type StderrTail } from '../../events/index.js';

/** RFC 7748 §6.1, Alice's private key: the vector recipient's. Never a production key. */
export const RESULT_KEY_PRIVATE_HEX = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
export const RESULT_KEY_PUBLIC_HEX = bytesToHex(x25519.getPublicKey(hexToBytes(RESULT_KEY_PRIVATE_HEX)));
/** The key file `ephemera keygen` writes, for the vector recipient: what opens the sealed-result cases. */
export const RESULT_KEY_FILE = {
  type: 'ephemera.result-key',
  suite: 'x25519-aes256gcm',
  public_key: RESULT_KEY_PUBLIC_HEX,
  private_key: RESULT_KEY_PRIVATE_HEX,
} as const;

const RESULT_INFO = 'ephemera/v1/sealed-result';
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Seals `content` to `recipientHex` for `executionId`; `ekmSeed` and `salt` fixed so the output is too. */
export async function sealResultFixed(
  recipientHex: string,
  executionId: string,
  content: { result: RunResult; stderr_tail: StderrTail | null },
  ekmSeed: string,
  salt: string,
): Promise<{ sealed: SealedResult; resultHash: Hash; plaintext: string }> {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const plaintext = canonicalize({ salt, result: content.result, stderr_tail: content.stderr_tail });
  const recipientPublicKey = await suite.kem.importKey('raw', hexToBytes(recipientHex).buffer as ArrayBuffer, true);
  const sender = await suite.createSenderContext({ recipientPublicKey, info: utf8(RESULT_INFO), ekm: hexToBytes(ekmSeed) });
  const ciphertext = await sender.seal(utf8(plaintext), utf8(`${RESULT_INFO}\n${executionId}`));
  return {
    sealed: {
      suite: 'x25519-aes256gcm',
      recipient: recipientHex,
      enc: bytesToHex(new Uint8Array(sender.enc)),
      ciphertext: bytesToHex(new Uint8Array(ciphertext)),
    },
    resultHash: hashUtf8(plaintext),
    plaintext,
  };
}
