/**
 * AES-256-GCM from node:crypto as an @hpke/core AEAD (id 0x0002): the same
 * cipher as WebCrypto's `Aes256Gcm`, byte for byte (checked against the RFC
 * 9180 vectors), without WebCrypto's per-call promise and copy overhead.
 * The server and the CLI pass `nodeSealCrypto`; the browser passes nothing.
 * The only module of src/seal/ that may import node: (dependency-cruiser).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { AeadId, type AeadEncryptionContext, type AeadInterface } from '@hpke/core';
import type { SealCrypto } from './types.js';

const TAG_BYTES = 16;

function view(input: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
}

/** The bytes as an ArrayBuffer of their own: node's own allocation when it is exactly theirs (no copy), else a copy (zeroing the pooled original). */
function ownBuffer(bytes: Buffer): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  const copy = new Uint8Array(bytes);
  bytes.fill(0);
  return copy.buffer;
}

class NodeAesGcmContext implements AeadEncryptionContext {
  readonly #key: KeyObject;

  constructor(rawKey: ArrayBufferLike | ArrayBufferView) {
    const copy = Buffer.from(view(rawKey));
    this.#key = createSecretKey(copy);
    copy.fill(0);
  }

  async seal(iv: ArrayBufferLike | ArrayBufferView, data: ArrayBufferLike | ArrayBufferView, aad: ArrayBufferLike | ArrayBufferView): Promise<ArrayBuffer> {
    const plaintext = view(data);
    const cipher = createCipheriv('aes-256-gcm', this.#key, view(iv), { authTagLength: TAG_BYTES });
    cipher.setAAD(view(aad));
    const out = new Uint8Array(plaintext.length + TAG_BYTES);
    const body = cipher.update(plaintext);
    out.set(body);
    out.set(cipher.final(), body.length);
    out.set(cipher.getAuthTag(), plaintext.length);
    return out.buffer;
  }

  async open(iv: ArrayBufferLike | ArrayBufferView, data: ArrayBufferLike | ArrayBufferView, aad: ArrayBufferLike | ArrayBufferView): Promise<ArrayBuffer> {
    const sealed = view(data);
    if (sealed.length < TAG_BYTES) throw new Error('ciphertext shorter than its tag');
    const length = sealed.length - TAG_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', this.#key, view(iv), { authTagLength: TAG_BYTES });
    decipher.setAAD(view(aad));
    decipher.setAuthTag(sealed.subarray(length));
    const out = decipher.update(sealed.subarray(0, length));
    try {
      decipher.final();
    } catch (error) {
      // Unauthenticated plaintext never leaves this function.
      out.fill(0);
      throw error;
    }
    return ownBuffer(out);
  }
}

class NodeAes256Gcm implements AeadInterface {
  readonly id = AeadId.Aes256Gcm;
  readonly keySize = 32;
  readonly nonceSize = 12;
  readonly tagSize = TAG_BYTES;

  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    return new NodeAesGcmContext(key);
  }
}

export const nodeSealCrypto: SealCrypto = Object.freeze({ aes256gcm: () => new NodeAes256Gcm() });
