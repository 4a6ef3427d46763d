/**
 * RFC 9180 test vectors (test-vectors/hpke, base mode, DHKEM(X25519)/HKDF-SHA256/AES-256-GCM),
 * through the suite Ephemera builds, with WebCrypto's AES-256-GCM and with node:crypto's: the
 * sender context made with the vectors' ephemeral key gives their `enc`, all 257 ciphertexts in
 * order and the three exports, and the recipient opens every one. The node:crypto AEAD is byte
 * for byte WebCrypto's. X-Wing has no vectors here: a round trip, and a wrong key refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../events/index.js';
import { nodeSealCrypto } from './node-aead.js';
import { cipherSuite, generateSealKeyPair } from './suites.js';
import type { SealCrypto } from './types.js';

interface Vectors {
  info: string;
  skRm: string;
  pkRm: string;
  skEm: string;
  pkEm: string;
  encryptions: { aad: string; ct: string; pt: string }[];
  exports: { context: string; length: number; value: string }[];
}

/** The BoringSSL line format: `name = hex`, `# encryptions[i]` / `# exports[i]` open a record. */
function parseVectors(text: string): Vectors {
  const top = new Map<string, string>();
  const encryptions: Record<string, string>[] = [];
  const exports: Record<string, string>[] = [];
  let record: Record<string, string> | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('# encryptions[')) encryptions.push((record = {}));
    else if (line.startsWith('# exports[')) exports.push((record = {}));
    else {
      const match = /^(\w+) = ?([0-9a-f]*)$/.exec(line);
      if (!match) continue;
      if (record) record[match[1]!] = match[2]!;
      else top.set(match[1]!, match[2]!);
    }
  }
  expect([top.get('mode'), top.get('kdf_id'), top.get('aead_id')]).toEqual(['0', '1', '2']);
  return {
    info: top.get('info')!,
    skRm: top.get('skRm')!,
    pkRm: top.get('pkRm')!,
    skEm: top.get('skEm')!,
    pkEm: top.get('pkEm')!,
    encryptions: encryptions.map((e) => ({ aad: e.aad!, ct: e.ct!, pt: e.pt! })),
    exports: exports.map((e) => ({ context: e.exporter_context!, length: Number(e.L), value: e.exported_value! })),
  };
}

const TEXT = readFileSync(join(import.meta.dirname, '../../test-vectors/hpke/x25519-sha256-aes256gcm-base.txt'), 'utf8');
const V = parseVectors(TEXT);

describe('the RFC 9180 vector file', () => {
  it('is base mode, HKDF-SHA256, AES-256-GCM, and holds 257 encryptions and 3 exports', () => {
    expect(TEXT).toMatch(/^mode = 0\nkdf_id = 1\naead_id = 2\n/);
    expect(V.encryptions).toHaveLength(257);
    expect(V.exports).toHaveLength(3);
    expect(V.pkEm).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe.each([
  ['WebCrypto', undefined],
  ['node:crypto', nodeSealCrypto],
] as [string, SealCrypto | undefined][])('DHKEM(X25519)/HKDF-SHA256/AES-256-GCM with %s AES-256-GCM', (_name, crypto) => {
  const suite = cipherSuite('x25519-aes256gcm', crypto);

  it('derives the vectors’ sender context: enc, 257 ciphertexts in sequence, 3 exports', async () => {
    const ekm = { privateKey: await suite.kem.deserializePrivateKey(hexToBytes(V.skEm)), publicKey: await suite.kem.deserializePublicKey(hexToBytes(V.pkEm)) };
    const recipientPublicKey = await suite.kem.deserializePublicKey(hexToBytes(V.pkRm));
    const sender = await suite.createSenderContext({ recipientPublicKey, info: hexToBytes(V.info), ekm });
    expect(bytesToHex(new Uint8Array(sender.enc))).toBe(V.pkEm);
    const got: string[] = [];
    for (const e of V.encryptions) got.push(bytesToHex(new Uint8Array(await sender.seal(hexToBytes(e.pt), hexToBytes(e.aad)))));
    expect(got).toEqual(V.encryptions.map((e) => e.ct));
    for (const x of V.exports) expect(bytesToHex(new Uint8Array(await sender.export(hexToBytes(x.context), x.length)))).toBe(x.value);
  });

  it('opens all 257 ciphertexts in sequence with skRm, and exports the same values', async () => {
    const recipientKey = await suite.kem.deserializePrivateKey(hexToBytes(V.skRm));
    const recipient = await suite.createRecipientContext({ recipientKey, enc: hexToBytes(V.pkEm), info: hexToBytes(V.info) });
    const got: string[] = [];
    for (const e of V.encryptions) got.push(bytesToHex(new Uint8Array(await recipient.open(hexToBytes(e.ct), hexToBytes(e.aad)))));
    expect(got).toEqual(V.encryptions.map((e) => e.pt));
    for (const x of V.exports) expect(bytesToHex(new Uint8Array(await recipient.export(hexToBytes(x.context), x.length)))).toBe(x.value);
  });

  it('refuses a ciphertext out of sequence (the second opened first)', async () => {
    const recipientKey = await suite.kem.deserializePrivateKey(hexToBytes(V.skRm));
    const recipient = await suite.createRecipientContext({ recipientKey, enc: hexToBytes(V.pkEm), info: hexToBytes(V.info) });
    await expect(recipient.open(hexToBytes(V.encryptions[1]!.ct), hexToBytes(V.encryptions[1]!.aad))).rejects.toThrow();
  });
});

describe('the node:crypto AEAD', () => {
  const web = new Aes256Gcm();
  const node = nodeSealCrypto.aes256gcm();

  it('declares what WebCrypto’s does (id 0x0002, 32-byte key, 12-byte nonce, 16-byte tag)', () => {
    expect([node.id, node.keySize, node.nonceSize, node.tagSize]).toEqual([0x0002, 32, 12, 16]);
    expect([node.id, node.keySize, node.nonceSize, node.tagSize]).toEqual([web.id, web.keySize, web.nonceSize, web.tagSize]);
  });

  it('seals byte for byte as WebCrypto does, and each opens the other’s', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 40 }),
        async (key, iv, data, aad) => {
          const a = new Uint8Array(await web.createEncryptionContext(key.slice()).seal(iv, data, aad));
          const b = new Uint8Array(await node.createEncryptionContext(key.slice()).seal(iv, data, aad));
          expect(bytesToHex(b)).toBe(bytesToHex(a));
          expect(bytesToHex(new Uint8Array(await node.createEncryptionContext(key.slice()).open(iv, a, aad)))).toBe(bytesToHex(data));
          expect(bytesToHex(new Uint8Array(await web.createEncryptionContext(key.slice()).open(iv, b, aad)))).toBe(bytesToHex(data));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses a flipped tag bit, other associated data, and a ciphertext shorter than its tag', async () => {
    const key = new Uint8Array(32).fill(7);
    const iv = new Uint8Array(12).fill(1);
    const sealed = new Uint8Array(await node.createEncryptionContext(key.slice()).seal(iv, new Uint8Array([1, 2, 3]), new Uint8Array([9])));
    const flipped = sealed.slice();
    flipped[flipped.length - 1]! ^= 1;
    await expect(node.createEncryptionContext(key.slice()).open(iv, flipped, new Uint8Array([9]))).rejects.toThrow();
    await expect(node.createEncryptionContext(key.slice()).open(iv, sealed, new Uint8Array([8]))).rejects.toThrow();
    await expect(node.createEncryptionContext(key.slice()).open(iv, sealed.subarray(0, 15), new Uint8Array([9]))).rejects.toThrow();
  });

  it('is what the suite plugs in when given (not WebCrypto’s)', () => {
    const plugged = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: nodeSealCrypto.aes256gcm() });
    expect(plugged.aead.constructor.name).not.toBe('Aes256Gcm');
    expect(cipherSuite('x25519-aes256gcm', nodeSealCrypto).aead.constructor.name).toBe(plugged.aead.constructor.name);
  });
});

describe.each([
  ['WebCrypto', undefined],
  ['node:crypto', nodeSealCrypto],
] as [string, SealCrypto | undefined][])('X-Wing with %s AES-256-GCM', (_name, crypto) => {
  const suite = cipherSuite('xwing-aes256gcm', crypto);
  const info = new TextEncoder().encode('test');

  it('round trips: a 1120-byte enc, a 1216-byte public key', async () => {
    const { keyPair, publicKeyHex } = await generateSealKeyPair('xwing-aes256gcm', crypto);
    expect(publicKeyHex).toHaveLength(2 * 1216);
    const sender = await suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(hexToBytes(publicKeyHex)), info });
    expect(sender.enc.byteLength).toBe(1120);
    const ct = await sender.seal(new Uint8Array([1, 2, 3]), new Uint8Array([4]));
    const recipient = await suite.createRecipientContext({ recipientKey: keyPair, enc: sender.enc, info });
    expect([...new Uint8Array(await recipient.open(ct, new Uint8Array([4])))]).toEqual([1, 2, 3]);
  });

  it('refuses to open with another key pair', async () => {
    const { publicKeyHex } = await generateSealKeyPair('xwing-aes256gcm', crypto);
    const other = await generateSealKeyPair('xwing-aes256gcm', crypto);
    const sender = await suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(hexToBytes(publicKeyHex)), info });
    const ct = await sender.seal(new Uint8Array([1, 2, 3]));
    const recipient = await suite.createRecipientContext({ recipientKey: other.keyPair, enc: sender.enc, info });
    await expect(recipient.open(ct)).rejects.toThrow();
  });
});
