/**
 * The sealed request (docs/sealed.md §3): round trips over chunk sizes, dataset sizes, sealed and
 * clear sandboxes, both suites and both AEADs; every tampering refused with its code and the
 * plaintext buffer left all zero; the framing parser refuses everything else as malformed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { bytesToHex, canonicalize, sha256Bytes, utf8ToBytes } from '../events/index.js';
import { nodeSealCrypto } from './node-aead.js';
import { openSealedRequest, openSealedRequestInto, readSealedHeader, sealRequest } from './sealed-request.js';
import { REQUEST_INFO, cipherSuite } from './suites.js';
import { makeKeyDocument } from './testing/key-documents.js';
import type { KeyDocument, SealCrypto, SealRequestInput, SealedRequestHeader } from './types.js';

const X25519 = await makeKeyDocument('x25519-aes256gcm');
const XWING = await makeKeyDocument('xwing-aes256gcm');
const SANDBOX = { tools: ['bash'], entrypoint: 'main.sh', scripts: { 'main.sh': 'cat "$DATASET_PATH"' } };
const API_KEY = 'sk-ant-CANARY-api-key-0123456789';
const CHUNK = 65_536;
const MARKER = utf8ToBytes('DATASET-MARKER-7f3a');

/** `n` bytes that start with MARKER and count up: any misplaced byte shows. */
function dataset(n: number): Uint8Array {
  const bytes = new Uint8Array(n).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
  bytes.set(MARKER.subarray(0, Math.min(n, MARKER.length)));
  return bytes;
}
const input = (over: Partial<SealRequestInput> = {}): SealRequestInput => ({
  dataset: dataset(200_000),
  format: 'csv',
  sandbox: SANDBOX,
  apiKey: API_KEY,
  chunkBytes: CHUNK,
  ...over,
});
const includes = (haystack: Uint8Array, needle: Uint8Array) => Buffer.from(haystack).includes(Buffer.from(needle));

/** Opens into a buffer the test keeps, and returns the refusal's code and whether that buffer is all zero. */
async function refusal(body: Uint8Array, key = X25519.key, crypto?: SealCrypto): Promise<{ code: string; zeroed: boolean }> {
  let read: ReturnType<typeof readSealedHeader>;
  try {
    read = readSealedHeader(body);
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return { code: error.code, zeroed: true };
  }
  const plaintext = new Uint8Array(read.header.plaintext_bytes).fill(0xaa);
  try {
    await openSealedRequestInto(plaintext, body, read, key, crypto);
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return { code: error.code, zeroed: plaintext.every((b) => b === 0) };
  }
  return { code: 'OPENED', zeroed: false };
}

/** The body's parts, to cut and splice. */
function parts(body: Uint8Array) {
  const read = readSealedHeader(body);
  const chunks: Uint8Array[] = [];
  for (let at = read.chunksOffset; at < body.length; at += read.header.chunk_bytes + 16) chunks.push(body.slice(at, at + read.header.chunk_bytes + 16));
  return { header: read.header, chunks };
}
/** A body from a header (written canonically unless `text` is given) and chunks. */
function frame(header: SealedRequestHeader | Record<string, unknown>, chunks: Uint8Array[], text = canonicalize(header)): Uint8Array {
  const headerBytes = utf8ToBytes(text);
  const prefix = new Uint8Array(12);
  prefix.set(utf8ToBytes('EPHSEAL1'));
  new DataView(prefix.buffer).setUint32(8, headerBytes.length);
  return Uint8Array.from(Buffer.concat([prefix, headerBytes, ...chunks]));
}

/** Seals an arbitrary plaintext under an arbitrary header, as a malicious client could. */
async function sealRaw(doc: KeyDocument, plaintext: Uint8Array, over: Partial<SealedRequestHeader> = {}): Promise<Uint8Array> {
  const cs = cipherSuite(doc.statement.suite);
  const context = await cs.createSenderContext({
    recipientPublicKey: await cs.kem.deserializePublicKey(Buffer.from(doc.statement.public_key, 'hex')),
    info: REQUEST_INFO,
  });
  const header: SealedRequestHeader = {
    type: 'ephemera.sealed-request',
    v: 1,
    key_id: doc.statement_hash,
    suite: doc.statement.suite,
    enc: bytesToHex(new Uint8Array(context.enc)),
    chunk_bytes: CHUNK,
    plaintext_bytes: plaintext.length,
    dataset: { format: 'csv', allow_empty: false },
    sandbox: SANDBOX,
    result_recipient: null,
    ...over,
  };
  const aad = sha256Bytes(utf8ToBytes(canonicalize(header)));
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < plaintext.length; at += CHUNK) chunks.push(new Uint8Array(await context.seal(plaintext.subarray(at, at + CHUNK), aad)));
  return frame(header, chunks);
}
const innerPlaintext = (inner: string, data = dataset(10)) => {
  const bytes = utf8ToBytes(inner);
  const p = new Uint8Array(4 + bytes.length + data.length);
  new DataView(p.buffer).setUint32(0, bytes.length);
  p.set(bytes, 4);
  p.set(data, 4 + bytes.length);
  return p;
};

describe('sealRequest and openSealedRequest', () => {
  it.each([
    ['an empty dataset (allowed empty)', 0, CHUNK],
    ['a one-byte dataset', 1, CHUNK],
    ['a dataset that fills the first chunk exactly', CHUNK - 4 - '{"api_key":null,"sandbox":null}'.length, CHUNK],
    ['a dataset of several chunks, the last one short', 200_000, CHUNK],
    ['a dataset of chunks that are not a power of two', 333_333, 100_003],
    ['a dataset in one default-size (1 MiB) chunk', 300_000, undefined],
  ])('round trips %s', async (_what, size, chunkBytes) => {
    const data = dataset(size);
    const { body, header } = await sealRequest(X25519.document, input({ dataset: data, chunkBytes, allowEmpty: size === 0, apiKey: null }), nodeSealCrypto);
    expect(header.chunk_bytes).toBe(chunkBytes ?? 1 << 20);
    expect(body.length).toBe(readSealedHeader(body).chunksOffset + header.plaintext_bytes + 16 * Math.ceil(header.plaintext_bytes / header.chunk_bytes));
    const opened = await openSealedRequest(body, readSealedHeader(body), X25519.key, nodeSealCrypto);
    expect(bytesToHex(opened.dataset)).toBe(bytesToHex(data));
    expect(opened.dataset.buffer).toBe(opened.plaintext.buffer);
    expect(opened.header.dataset).toEqual({ format: 'csv', allow_empty: size === 0 });
    expect(opened.sandbox).toEqual(SANDBOX);
    expect(opened.apiKey).toBeNull();
    expect(opened.submission).toEqual({ mode: 'sealed', suite: 'x25519-aes256gcm', key_statement_hash: X25519.document.statement_hash, sealed: ['dataset'] });
    if (size >= MARKER.length) expect(includes(body, MARKER)).toBe(false);
  });

  it('keeps the sandbox in the clear (authenticated) and the API key sealed; the header names neither the key nor the data', async () => {
    const { body, header } = await sealRequest(X25519.document, input(), nodeSealCrypto);
    expect(header.sandbox).toEqual(SANDBOX);
    expect(includes(body, utf8ToBytes(API_KEY))).toBe(false);
    expect(includes(body, MARKER)).toBe(false);
    const opened = await openSealedRequest(body, readSealedHeader(body), X25519.key, nodeSealCrypto);
    expect(opened.apiKey).toBe(API_KEY);
    expect(opened.submission.sealed).toEqual(['dataset', 'api_key']);
  });

  it('seals the sandbox inside when asked: the header says null, the opened request has it', async () => {
    const { body, header } = await sealRequest(X25519.document, input({ sealSandbox: true }));
    expect(header.sandbox).toBeNull();
    expect(includes(body, utf8ToBytes('main.sh'))).toBe(false);
    const opened = await openSealedRequest(body, readSealedHeader(body), X25519.key);
    expect(opened.sandbox).toEqual(SANDBOX);
    expect(opened.submission.sealed).toEqual(['dataset', 'api_key', 'sandbox']);
  });

  it('moves an API key left in sandbox.llm.api_key into the ciphertext, out of the clear header', async () => {
    const sandbox = { ...SANDBOX, llm: { provider: 'anthropic', model: 'm', api_key: API_KEY } };
    const { body, header } = await sealRequest(X25519.document, input({ sandbox, apiKey: undefined }));
    expect(header.sandbox).toEqual({ ...SANDBOX, llm: { provider: 'anthropic', model: 'm' } });
    expect(includes(body, utf8ToBytes(API_KEY))).toBe(false);
    expect((await openSealedRequest(body, readSealedHeader(body), X25519.key)).apiKey).toBe(API_KEY);
    await expect(sealRequest(X25519.document, input({ sandbox, apiKey: 'another' }))).rejects.toThrow(TypeError);
  });

  it('names the result recipient in the authenticated header', async () => {
    const recipient = 'ab'.repeat(32);
    const { body } = await sealRequest(X25519.document, input({ resultRecipient: recipient }));
    expect(readSealedHeader(body).header.result_recipient).toBe(recipient);
    await expect(sealRequest(X25519.document, input({ resultRecipient: 'AB'.repeat(32) }))).rejects.toThrow(TypeError);
  });

  it('seals with WebCrypto and opens with node:crypto, and the reverse', async () => {
    const a = await sealRequest(X25519.document, input());
    expect((await openSealedRequest(a.body, readSealedHeader(a.body), X25519.key, nodeSealCrypto)).apiKey).toBe(API_KEY);
    const b = await sealRequest(X25519.document, input(), nodeSealCrypto);
    expect((await openSealedRequest(b.body, readSealedHeader(b.body), X25519.key)).apiKey).toBe(API_KEY);
  });

  it('round trips with X-Wing (a 1120-byte enc)', async () => {
    const { body, header } = await sealRequest(XWING.document, input(), nodeSealCrypto);
    expect(header.enc).toHaveLength(2240);
    const opened = await openSealedRequest(body, readSealedHeader(body), XWING.key, nodeSealCrypto);
    expect(bytesToHex(opened.dataset)).toBe(bytesToHex(dataset(200_000)));
  });

  it('gives both ends the same row secret from the HPKE exporter, a fresh one per request, in both suites, and never in the body', async () => {
    for (const { document, key } of [X25519, XWING]) {
      const a = await sealRequest(document, input(), nodeSealCrypto);
      const opened = await openSealedRequest(a.body, readSealedHeader(a.body), key, nodeSealCrypto);
      expect(a.rowSecret).toHaveLength(32);
      expect(bytesToHex(opened.rowSecret)).toBe(bytesToHex(a.rowSecret));
      expect(includes(a.body, a.rowSecret)).toBe(false);
      const b = await sealRequest(document, input(), nodeSealCrypto);
      expect(bytesToHex(b.rowSecret)).not.toBe(bytesToHex(a.rowSecret));
    }
    // RFC 9180 §5.3: the exporter secret under this label, nothing else.
    const { body, rowSecret } = await sealRequest(X25519.document, input());
    const context = await cipherSuite('x25519-aes256gcm').createRecipientContext({
      recipientKey: X25519.key.keyPair,
      enc: Buffer.from(readSealedHeader(body).header.enc, 'hex'),
      info: REQUEST_INFO,
    });
    expect(bytesToHex(new Uint8Array(await context.export(utf8ToBytes('ephemera/v1/row-secret'), 32)))).toBe(bytesToHex(rowSecret));
  });

  it('names how the rows are committed in the authenticated header, never the default', async () => {
    const header = async (rows: SealRequestInput['rows']) => readSealedHeader((await sealRequest(X25519.document, input({ rows }))).body).header.dataset;
    expect(await header(undefined)).toEqual({ format: 'csv', allow_empty: false });
    expect(await header('input')).toEqual({ format: 'csv', allow_empty: false });
    expect(await header('none')).toEqual({ format: 'csv', allow_empty: false, rows: 'none' });
    expect(await header({ sorted_by: 'id' })).toEqual({ format: 'csv', allow_empty: false, rows: { sorted_by: 'id' } });
    // "input" spelled out is not the one spelling of the default.
    const { body } = await sealRequest(X25519.document, input({ rows: 'none' }));
    const read = readSealedHeader(body);
    const headerBytes = utf8ToBytes(canonicalize({ ...read.header, dataset: { ...read.header.dataset, rows: 'input' } }));
    const spelled = new Uint8Array(12 + headerBytes.length + body.length - read.chunksOffset);
    spelled.set(body.subarray(0, 8));
    new DataView(spelled.buffer).setUint32(8, headerBytes.length);
    spelled.set(headerBytes, 12);
    spelled.set(body.subarray(read.chunksOffset), 12 + headerBytes.length);
    expect((await refusal(spelled)).code).toBe('SEALED_REQUEST_MALFORMED');
  });

  it('uses a fresh encapsulation for every request', async () => {
    const a = await sealRequest(X25519.document, input());
    const b = await sealRequest(X25519.document, input());
    expect(a.header.enc).not.toBe(b.header.enc);
  });

  it('refuses chunk sizes outside [65536, 16777216]', async () => {
    await expect(sealRequest(X25519.document, input({ chunkBytes: 65_535 }))).rejects.toThrow(RangeError);
    await expect(sealRequest(X25519.document, input({ chunkBytes: 16_777_217 }))).rejects.toThrow(RangeError);
  });
});

const GOOD = await sealRequest(X25519.document, input(), nodeSealCrypto);
const OTHER = await sealRequest(X25519.document, input(), nodeSealCrypto);
const SMALL = await sealRequest(X25519.document, input({ dataset: dataset(70_000) }), nodeSealCrypto);

describe('a tampered sealed request', () => {
  const good = GOOD;
  const { header, chunks } = parts(good.body);
  const flip = (bytes: Uint8Array, at: number) => {
    const copy = bytes.slice();
    copy[at]! ^= 0x01;
    return copy;
  };
  const withHeader = (over: Record<string, unknown>) => frame({ ...header, ...over }, chunks);

  it('has four chunks, the last one short (the cases below rely on it)', () => {
    expect(chunks.map((c) => c.length)).toEqual([CHUNK + 16, CHUNK + 16, CHUNK + 16, header.plaintext_bytes - 3 * CHUNK + 16]);
  });

  it.each<[string, () => Uint8Array]>([
    ['a byte of the first chunk', () => frame(header, [flip(chunks[0]!, 100), ...chunks.slice(1)])],
    ['a byte of a middle chunk', () => frame(header, [chunks[0]!, flip(chunks[1]!, 5000), ...chunks.slice(2)])],
    ['a byte of the last chunk', () => frame(header, [...chunks.slice(0, 3), flip(chunks[3]!, 0)])],
    ['a bit of the last tag', () => frame(header, [...chunks.slice(0, 3), flip(chunks[3]!, chunks[3]!.length - 1)])],
    ['the encapsulated key', () => withHeader({ enc: `${header.enc.slice(0, 10)}${header.enc[10] === '0' ? '1' : '0'}${header.enc.slice(11)}` })],
    ['the encapsulated key, a low-order point', () => withHeader({ enc: '00'.repeat(32) })],
    ['the key id', () => withHeader({ key_id: `sha256:${'e'.repeat(64)}` })],
    ['the dataset format', () => withHeader({ dataset: { format: 'json', allow_empty: false } })],
    ['allow_empty', () => withHeader({ dataset: { format: 'csv', allow_empty: true } })],
    ['the clear sandbox', () => withHeader({ sandbox: { ...SANDBOX, tools: ['python'] } })],
    ['the sandbox moved out of the header (null)', () => withHeader({ sandbox: null })],
    ['the result recipient added', () => withHeader({ result_recipient: 'cd'.repeat(32) })],
    ['two chunks swapped', () => frame(header, [chunks[1]!, chunks[0]!, ...chunks.slice(2)])],
    ['a chunk repeated in place of the next', () => frame(header, [chunks[0]!, chunks[0]!, ...chunks.slice(2)])],
    ['the last chunk dropped, plaintext_bytes shortened to match', () => frame({ ...header, plaintext_bytes: 3 * CHUNK }, chunks.slice(0, 3))],
    ['chunk_bytes halved with the body still consistent', () => frame({ ...header, chunk_bytes: CHUNK, plaintext_bytes: 3 * CHUNK }, chunks.slice(0, 3))],
  ])('is SEALED_DECRYPT_FAILED when %s changes, and the plaintext is zeroed', async (_what, make) => {
    expect(await refusal(make(), X25519.key, nodeSealCrypto)).toEqual({ code: 'SEALED_DECRYPT_FAILED', zeroed: true });
  });

  it.each<[string, () => Uint8Array]>([
    ['the last chunk dropped', () => frame(header, chunks.slice(0, 3))],
    ['an extra chunk appended', () => frame(header, [...chunks, chunks[0]!])],
    ['one byte appended', () => Uint8Array.from([...good.body, 0])],
    ['the body truncated by one byte', () => good.body.subarray(0, good.body.length - 1)],
    ['plaintext_bytes changed', () => withHeader({ plaintext_bytes: header.plaintext_bytes + 1 })],
    ['chunk_bytes changed', () => withHeader({ chunk_bytes: CHUNK * 2 })],
    ['the suite changed (enc no longer its length)', () => withHeader({ suite: 'xwing-aes256gcm' })],
    ['the type changed', () => withHeader({ type: 'ephemera.sealed-requests' })],
    ['the version changed', () => withHeader({ v: 2 })],
    ['a member added', () => withHeader({ note: 'x' })],
    ['the header written with whitespace (not JCS)', () => frame(header, chunks, JSON.stringify(header, null, 1))],
    [
      'the header written with members out of order (not JCS)',
      () => frame(header, chunks, JSON.stringify(Object.fromEntries(Object.entries(header).reverse()))),
    ],
    ['a duplicate member', () => frame(header, chunks, canonicalize(header).replace('{', '{"chunk_bytes":65536,'))],
    ['the clear sandbox carrying llm.api_key', () => withHeader({ sandbox: { ...SANDBOX, llm: { api_key: 'x' } } })],
    ['the magic', () => flip(good.body, 3)],
    ['the header length', () => flip(good.body, 11)],
  ])('is SEALED_REQUEST_MALFORMED when %s', async (_what, make) => {
    expect((await refusal(make())).code).toBe('SEALED_REQUEST_MALFORMED');
  });

  it('is SEALED_DECRYPT_FAILED with another key, or another suite’s key, and the plaintext is zeroed', async () => {
    const other = await makeKeyDocument('x25519-aes256gcm');
    expect(await refusal(good.body, other.key)).toEqual({ code: 'SEALED_DECRYPT_FAILED', zeroed: true });
    expect(await refusal(good.body, XWING.key)).toEqual({ code: 'SEALED_DECRYPT_FAILED', zeroed: true });
  });

  it('is SEALED_DECRYPT_FAILED when chunks of another request to the same key are spliced in', async () => {
    const other = parts(OTHER.body);
    expect(await refusal(frame(header, [chunks[0]!, other.chunks[1]!, ...chunks.slice(2)]))).toEqual({ code: 'SEALED_DECRYPT_FAILED', zeroed: true });
  });
});

describe('an opened request whose inner part is not one', () => {
  it.each<[string, Uint8Array, Partial<SealedRequestHeader>?]>([
    ['an inner length past the plaintext', Uint8Array.from([0, 0, 1, 0, 1, 2, 3, 4])],
    ['an inner part that is not JSON', innerPlaintext('{"api_key":null,')],
    ['an inner part not in JCS form', innerPlaintext('{"sandbox":null,"api_key":null}')],
    ['an unknown inner member', innerPlaintext('{"api_key":null,"extra":1,"sandbox":null}')],
    ['a missing inner member', innerPlaintext('{"api_key":null}')],
    ['an empty API key', innerPlaintext('{"api_key":"","sandbox":null}')],
    ['no sandbox anywhere', innerPlaintext('{"api_key":null,"sandbox":null}'), { sandbox: null }],
    ['a sandbox in both places', innerPlaintext('{"api_key":null,"sandbox":{"tools":[]}}')],
    ['an inner sandbox carrying llm.api_key', innerPlaintext('{"api_key":null,"sandbox":{"llm":{"api_key":"k"}}}'), { sandbox: null }],
    ['invalid UTF-8', innerPlaintext('{"api_key":"\u0000","sandbox":null}').map((b, i) => (i === 17 ? 0xff : b))],
  ])('is SEALED_PAYLOAD_INVALID for %s, and the plaintext is zeroed', async (_what, plaintext, over) => {
    expect(await refusal(await sealRaw(X25519.document, plaintext, over))).toEqual({ code: 'SEALED_PAYLOAD_INVALID', zeroed: true });
  });

  it('names nothing of the inner part in its refusal: no member name, no character, no position (the answer crosses whatever terminates TLS)', async () => {
    for (const inner of [
      '{"api_key":"sk-SECRET-k","sandbox":null,"SECRET-name":1}',
      '{"api_key":"sk-SECRET-k","SECRET-dup":1,"SECRET-dup":2}',
      '{"api_key":sk-SECRET-k,"sandbox":null}',
      '{"api_key":"sk-SECRET-k"Q,"sandbox":null}',
      '{"api_key":"sk-SECRET-k","sandbox":{"SECRET-dup":1,"SECRET-dup":2}}',
    ]) {
      const body = await sealRaw(X25519.document, innerPlaintext(inner), { sandbox: null });
      const refused = await openSealedRequest(body, readSealedHeader(body), X25519.key).then(
        () => null,
        (error: unknown) => error as { code: string; message: string; fields: unknown },
      );
      expect(refused?.code).toBe('SEALED_PAYLOAD_INVALID');
      const said = `${refused?.message} ${JSON.stringify(refused?.fields)}`;
      expect(said).not.toMatch(/SECRET|character|"s"|api_key/);
    }
  });

  it('opens a hand-made request that follows the rules (the helper makes real ones)', async () => {
    const body = await sealRaw(X25519.document, innerPlaintext('{"api_key":"k","sandbox":null}'));
    expect((await openSealedRequest(body, readSealedHeader(body), X25519.key)).apiKey).toBe('k');
  });
});

describe('readSealedHeader on arbitrary input', () => {
  const good = SMALL;

  it('refuses random bytes with SEALED_REQUEST_MALFORMED and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, magic) => {
        const body = magic ? Uint8Array.from([...utf8ToBytes('EPHSEAL1'), ...bytes]) : bytes;
        expect(() => readSealedHeader(body)).toThrow(expect.objectContaining({ code: 'SEALED_REQUEST_MALFORMED' }));
      }),
    );
  });

  it('refuses every truncation of a real body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.body.length - 1 }), (length) => {
        expect(() => readSealedHeader(good.body.subarray(0, length))).toThrow(expect.objectContaining({ code: 'SEALED_REQUEST_MALFORMED' }));
      }),
    );
  });

  it('never opens a real body with one byte changed: malformed, or it does not decrypt', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: good.body.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const body = good.body.slice();
        body[at]! ^= xor;
        const { code, zeroed } = await refusal(body, X25519.key, nodeSealCrypto);
        expect(['SEALED_REQUEST_MALFORMED', 'SEALED_DECRYPT_FAILED']).toContain(code);
        expect(zeroed).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
