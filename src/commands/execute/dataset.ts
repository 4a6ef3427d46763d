/**
 * Loads the dataset into memory only: inline base64 is decoded in memory; a
 * URL is fetched with a byte cap enforced while streaming (the body is never
 * buffered past the cap, never written to disk). SECURITY: errors name the
 * failure, never the content or the URL's query (it may carry a token).
 */
import { createHash } from 'node:crypto';
import { EphemeraError } from '../../errors.js';
import type { Hash } from '../../events/index.js';

export interface LoadedDataset {
  bytes: Uint8Array;
  source: 'inline' | 'url';
  hash: Hash;
}

export async function loadDataset(spec: { data?: string; url?: string }, maxBytes: number, fetchTimeoutMs = 30_000): Promise<LoadedDataset> {
  const bytes = spec.data !== undefined ? decodeInline(spec.data, maxBytes) : await fetchCapped(spec.url!, maxBytes, fetchTimeoutMs);
  return { bytes, source: spec.data !== undefined ? 'inline' : 'url', hash: sha256Hex(bytes) };
}

export function sha256Hex(bytes: Uint8Array): Hash {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function decodeInline(data: string, maxBytes: number): Uint8Array {
  const b64 = data.slice('base64:'.length);
  if (b64.length % 4 !== 0) throw new EphemeraError('DATASET_INVALID_BASE64', 'dataset.data is not valid base64', { fields: { field: 'body.dataset.data' } });
  if ((b64.length / 4) * 3 > maxBytes + 2) throw tooLarge(maxBytes);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > maxBytes) throw tooLarge(maxBytes);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

async function fetchCapped(url: string, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const failed = (why: string, cause?: unknown) =>
    new EphemeraError('DATASET_FETCH_FAILED', `dataset.url could not be fetched: ${why}`, { cause, fields: { field: 'body.dataset.url' } });
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw failed('connection failed or timed out', cause);
  }
  if (!response.ok || !response.body) throw failed(`HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body.cancel();
    throw tooLarge(maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        for (const c of chunks) c.fill(0);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof EphemeraError) throw cause;
    throw failed('the transfer broke off', cause);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
    chunk.fill(0);
  }
  return out;
}

function tooLarge(maxBytes: number): EphemeraError {
  return new EphemeraError('DATASET_TOO_LARGE', `the dataset exceeds ${maxBytes} bytes`, { fields: { field: 'body.dataset', max_bytes: maxBytes } });
}
