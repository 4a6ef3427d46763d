/**
 * The sealed request (docs/sealed.md §3):
 *
 *   "EPHSEAL1" ‖ u32be header_length ‖ header (JCS JSON) ‖ chunks
 *
 * Plaintext P = u32be inner_length ‖ inner (JCS {api_key, sandbox}) ‖ dataset,
 * cut into chunk_bytes pieces, each sealed in order on one HPKE context with
 * aad = SHA-256(header bytes). The sequence number orders the chunks and the
 * header's plaintext_bytes fixes their number, so no chunk can be dropped,
 * moved, repeated or added. Isomorphic.
 */
import { EphemeraError, isEphemeraError } from '../errors.js';
import { SEAL_SUITES, bytesToHex, canonicalize, hexToBytes, isPlainObject, s, sha256Bytes, utf8ToBytes, type Schema } from '../events/index.js';
import { readStrictJson, refuse } from './strict.js';
import { REQUEST_INFO, SUITE_SIZES, cipherSuite } from './suites.js';
import { DEFAULT_CHUNK_BYTES, type KeyDocument, type OpenedRequest, type SealCrypto, type SealRequestInput, type SealedRequestHeader } from './types.js';
import type { SealSuite, Submission } from '../events/index.js';

const MAGIC = utf8ToBytes('EPHSEAL1');
const PREFIX_BYTES = MAGIC.length + 4;
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
export const MIN_CHUNK_BYTES = 65_536;
export const MAX_CHUNK_BYTES = 16_777_216;
export const MAX_PLAINTEXT_BYTES = 2 ** 31;
const TAG_BYTES = 16;
/** The inner part holds an API key and maybe a sandbox description: far below this. */
const MAX_INNER_BYTES = 16 * 1024 * 1024;

/** A JSON object (bounded like the rest of a request), or null; the server checks it with the request schema. */
const sandboxSchema = s.nullable(s.json(100_000, 16 << 20)) as Schema<Record<string, unknown> | null>;

const headerSchema: Schema<SealedRequestHeader> = s.object({
  type: s.literal('ephemera.sealed-request'),
  v: s.literal(1),
  key_id: s.hash(),
  suite: s.oneOf(SEAL_SUITES),
  enc: s.hex(undefined, 2 * 1120),
  chunk_bytes: s.int(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES),
  plaintext_bytes: s.int(4, MAX_PLAINTEXT_BYTES),
  dataset: s.object({
    format: s.oneOf(['csv', 'json', 'txt'] as const),
    allow_empty: s.bool(),
    // "input" is the default, never written: one spelling per value.
    rows: s.optional(s.either(s.literal('none'), s.object({ sorted_by: s.string(256) }))),
  }),
  sandbox: sandboxSchema,
  result_recipient: s.nullable(s.hex(64)),
});

const innerSchema = s.object({ api_key: s.nullable(s.string(4096)), sandbox: sandboxSchema });

function chunkCount(header: Pick<SealedRequestHeader, 'plaintext_bytes' | 'chunk_bytes'>): number {
  return Math.ceil(header.plaintext_bytes / header.chunk_bytes);
}

/** The sandbox carries no API key where it can be read: the key travels only as the inner `api_key`. */
function holdsApiKey(sandbox: Record<string, unknown> | null): boolean {
  const llm = sandbox?.llm;
  return isPlainObject(llm) && Object.hasOwn(llm, 'api_key');
}

/** The HPKE exporter context of the row secret (docs/row-proofs.md §7): both ends derive it, nothing carries it. */
export const ROW_SECRET_EXPORT = utf8ToBytes('ephemera/v1/row-secret');
const ROW_SECRET_BYTES = 32;

export async function sealRequest(
  doc: KeyDocument,
  input: SealRequestInput,
  crypto?: SealCrypto,
): Promise<{ body: Uint8Array; header: SealedRequestHeader; rowSecret: Uint8Array }> {
  const chunkBytes = input.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES)
    throw new RangeError(`chunkBytes must be an integer in [${MIN_CHUNK_BYTES}, ${MAX_CHUNK_BYTES}]`);
  const recipient = input.resultRecipient ?? null;
  if (recipient !== null && !/^[0-9a-f]{64}$/.test(recipient)) throw new TypeError('resultRecipient must be 64 lowercase hex (an X25519 public key)');
  const suite = doc.statement.suite;

  // sandbox.llm.api_key, if the caller left it there, moves into the ciphertext.
  let sandbox = input.sandbox;
  let apiKey = input.apiKey ?? null;
  if (holdsApiKey(sandbox)) {
    const { api_key: inSandbox, ...llm } = sandbox.llm as Record<string, unknown>;
    if (typeof inSandbox !== 'string' || (apiKey !== null && apiKey !== inSandbox)) throw new TypeError('sandbox.llm.api_key and apiKey disagree');
    apiKey = inSandbox;
    sandbox = { ...sandbox, llm };
  }
  if (apiKey === '') throw new TypeError('apiKey is empty: give null for no key');
  const inner = utf8ToBytes(canonicalize({ api_key: apiKey, sandbox: input.sealSandbox ? sandbox : null }));
  const plaintextBytes = 4 + inner.length + input.dataset.length;
  if (plaintextBytes > MAX_PLAINTEXT_BYTES) throw new RangeError(`a sealed request holds at most ${MAX_PLAINTEXT_BYTES} bytes`);

  const cs = cipherSuite(suite, crypto);
  const recipientPublicKey = await cs.kem.deserializePublicKey(hexToBytes(doc.statement.public_key));
  const context = await cs.createSenderContext({ recipientPublicKey, info: REQUEST_INFO });
  const header: SealedRequestHeader = {
    type: 'ephemera.sealed-request',
    v: 1,
    key_id: doc.statement_hash,
    suite,
    enc: bytesToHex(new Uint8Array(context.enc)),
    chunk_bytes: chunkBytes,
    plaintext_bytes: plaintextBytes,
    dataset: { format: input.format, allow_empty: input.allowEmpty ?? false, ...(input.rows && input.rows !== 'input' ? { rows: input.rows } : {}) },
    sandbox: input.sealSandbox ? null : sandbox,
    result_recipient: recipient,
  };
  const headerBytes = utf8ToBytes(canonicalize(header));
  const aad = sha256Bytes(headerBytes);
  const chunks = chunkCount(header);
  const chunksOffset = PREFIX_BYTES + headerBytes.length;
  const body = new Uint8Array(chunksOffset + plaintextBytes + TAG_BYTES * chunks);
  body.set(MAGIC);
  new DataView(body.buffer).setUint32(MAGIC.length, headerBytes.length);
  body.set(headerBytes, PREFIX_BYTES);

  // P is never assembled: the first chunk is the inner part and the dataset's start, the others are dataset views.
  const innerPrefix = 4 + inner.length;
  let out = chunksOffset;
  for (let i = 0; i < chunks; i++) {
    const start = i * chunkBytes;
    const end = Math.min(start + chunkBytes, plaintextBytes);
    let piece: Uint8Array;
    if (start < innerPrefix) {
      piece = new Uint8Array(end - start);
      const prefix = new Uint8Array(innerPrefix);
      new DataView(prefix.buffer).setUint32(0, inner.length);
      prefix.set(inner, 4);
      piece.set(prefix.subarray(start, Math.min(end, innerPrefix)));
      if (end > innerPrefix) piece.set(input.dataset.subarray(0, end - innerPrefix), innerPrefix - start);
      prefix.fill(0);
    } else piece = input.dataset.subarray(start - innerPrefix, end - innerPrefix);
    const sealed = new Uint8Array(await context.seal(piece, aad));
    if (start < innerPrefix) piece.fill(0);
    body.set(sealed, out);
    out += sealed.length;
  }
  inner.fill(0);
  return { body, header, rowSecret: new Uint8Array(await context.export(ROW_SECRET_EXPORT, ROW_SECRET_BYTES)) };
}

/** Checks the framing and the header (closed, canonical), and that the body is exactly as long as they say. */
export function readSealedHeader(body: Uint8Array): { header: SealedRequestHeader; headerBytes: Uint8Array; chunksOffset: number } {
  const malformed = (why: string, field = '(body)'): never => refuse('SEALED_REQUEST_MALFORMED', why, field);
  if (body.length < PREFIX_BYTES) malformed('shorter than the magic and header length');
  for (let i = 0; i < MAGIC.length; i++) if (body[i] !== MAGIC[i]) malformed('does not start with "EPHSEAL1"');
  const headerLength = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(MAGIC.length);
  if (headerLength > MAX_HEADER_BYTES) malformed(`the header is longer than ${MAX_HEADER_BYTES} bytes`);
  const chunksOffset = PREFIX_BYTES + headerLength;
  if (chunksOffset > body.length) malformed('the body ends inside the header');
  const headerBytes = body.subarray(PREFIX_BYTES, chunksOffset);
  const header = readStrictJson(headerBytes, headerSchema, 'SEALED_REQUEST_MALFORMED', 'header', { canonical: true });
  if (header.enc.length !== 2 * SUITE_SIZES[header.suite].enc) malformed(`header.enc is not a ${header.suite} encapsulated key`, 'header.enc');
  if (holdsApiKey(header.sandbox)) malformed('header.sandbox holds llm.api_key: an API key is only ever sent sealed', 'header.sandbox.llm.api_key');
  const expected = chunksOffset + header.plaintext_bytes + TAG_BYTES * chunkCount(header);
  if (body.length !== expected) malformed(`the body is ${body.length} bytes, its header implies ${expected}`);
  return { header, headerBytes, chunksOffset };
}

/**
 * Opens every chunk into one buffer (the dataset is a view into it). Any failure zeroes what was
 * opened and says only SEALED_DECRYPT_FAILED: which chunk failed would tell a prober too much.
 * Key id, expiry and replay are the key ring's to check.
 */
export function openSealedRequest(
  body: Uint8Array,
  read: ReturnType<typeof readSealedHeader>,
  key: { keyPair: CryptoKeyPair; suite: SealSuite },
  crypto?: SealCrypto,
): Promise<OpenedRequest> {
  return openSealedRequestInto(new Uint8Array(read.header.plaintext_bytes), body, read, key, crypto);
}

/** openSealedRequest into the caller's buffer of exactly plaintext_bytes (zeroed on every failure). */
export async function openSealedRequestInto(
  plaintext: Uint8Array,
  body: Uint8Array,
  read: ReturnType<typeof readSealedHeader>,
  key: { keyPair: CryptoKeyPair; suite: SealSuite },
  crypto?: SealCrypto,
): Promise<OpenedRequest> {
  const { header, headerBytes, chunksOffset } = read;
  if (plaintext.length !== header.plaintext_bytes) throw new RangeError('the plaintext buffer must be plaintext_bytes long');
  let rowSecret: Uint8Array;
  try {
    if (header.suite !== key.suite) throw new Error('suite');
    const cs = cipherSuite(key.suite, crypto);
    const context = await cs.createRecipientContext({ recipientKey: key.keyPair, enc: hexToBytes(header.enc), info: REQUEST_INFO });
    const aad = sha256Bytes(headerBytes);
    let at = chunksOffset;
    for (let start = 0; start < header.plaintext_bytes; start += header.chunk_bytes) {
      const length = Math.min(header.chunk_bytes, header.plaintext_bytes - start);
      const opened = new Uint8Array(await context.open(body.subarray(at, at + length + TAG_BYTES), aad));
      if (opened.length !== length) throw new Error('length');
      plaintext.set(opened, start);
      opened.fill(0);
      at += length + TAG_BYTES;
    }
    rowSecret = new Uint8Array(await context.export(ROW_SECRET_EXPORT, ROW_SECRET_BYTES));
  } catch {
    plaintext.fill(0);
    throw new EphemeraError('SEALED_DECRYPT_FAILED', 'the sealed request does not open with this key', { fields: { field: '(body)' } });
  }
  try {
    return { header, ...readInner(plaintext, header), plaintext, rowSecret };
  } catch (error) {
    plaintext.fill(0);
    rowSecret.fill(0);
    throw isEphemeraError(error) ? error : new EphemeraError('SEALED_PAYLOAD_INVALID', 'the inner part cannot be read');
  }
}

function readInner(plaintext: Uint8Array, header: SealedRequestHeader): Omit<OpenedRequest, 'header' | 'plaintext' | 'rowSecret'> {
  const invalid = (why: string, field = 'inner'): never => refuse('SEALED_PAYLOAD_INVALID', why, field);
  const innerLength = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).getUint32(0);
  if (innerLength > MAX_INNER_BYTES || 4 + innerLength > plaintext.length) invalid('the inner length runs past the plaintext');
  const inner = readStrictJson(plaintext.subarray(4, 4 + innerLength), innerSchema, 'SEALED_PAYLOAD_INVALID', 'inner', { canonical: true, secret: true });
  if ((header.sandbox === null) === (inner.sandbox === null)) invalid('exactly one of header.sandbox and inner.sandbox must be an object', 'inner.sandbox');
  if (holdsApiKey(inner.sandbox)) invalid('inner.sandbox holds llm.api_key: the key goes in inner.api_key', 'inner.sandbox.llm.api_key');
  if (inner.api_key === '') invalid('inner.api_key is empty: write null for no key', 'inner.api_key');
  const sealed: Submission['sealed'] = ['dataset'];
  if (inner.api_key !== null) sealed.push('api_key');
  if (inner.sandbox !== null) sealed.push('sandbox');
  return {
    apiKey: inner.api_key,
    sandbox: (inner.sandbox ?? header.sandbox)!,
    dataset: plaintext.subarray(4 + innerLength),
    submission: { mode: 'sealed', suite: header.suite, key_statement_hash: header.key_id, sealed },
  };
}
