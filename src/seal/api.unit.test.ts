import { describe, expect, it } from 'vitest';
import { nodeSealCrypto } from './node-aead.js';
import {
  checkKeyDocument,
  openSealedRequest,
  readSealedHeader,
  sealRequest,
  generateResultKey,
  sealResult,
  openSealedResult,
  parseResultKeyFile,
} from './index.js';
import { makeKeyDocument, NOW, SIGNING_PUBLIC_KEY } from './testing/key-documents.js';

describe('smoke', () => {
  it('round trips', async () => {
    for (const crypto of [undefined, nodeSealCrypto]) {
      const { document, key } = await makeKeyDocument('x25519-aes256gcm', crypto);
      const v = await checkKeyDocument(document, { trustedKeys: [SIGNING_PUBLIC_KEY], now: () => NOW });
      expect(v.trust.basis).toBe('pinned-key');
      const dataset = new TextEncoder().encode('a,b\n1,2\n'.repeat(30000));
      const { body } = await sealRequest(document, { dataset, format: 'csv', sandbox: { tools: ['bash'] }, apiKey: 'sk-x', chunkBytes: 65536 }, crypto);
      const read = readSealedHeader(body);
      const opened = await openSealedRequest(body, read, key, crypto);
      expect(Buffer.from(opened.dataset).equals(Buffer.from(dataset))).toBe(true);
      expect(opened.apiKey).toBe('sk-x');
      expect(opened.submission.sealed).toEqual(['dataset', 'api_key']);
      const rk = await generateResultKey(crypto);
      const file = parseResultKeyFile(JSON.stringify(rk));
      const { sealed, resultHash } = await sealResult(
        file.public_key,
        '01J',
        { result: { output: 'hi', bytes: 2, truncated: false, json: null }, stderr_tail: null },
        crypto,
      );
      const r = await openSealedResult({ execution_id: '01J', result: { result_hash: resultHash, sealed } }, file, crypto);
      expect(r.result.output).toBe('hi');
    }
  });
});
