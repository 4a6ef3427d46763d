/**
 * Loads the dataset into memory only: inline base64 (MIME line breaks
 * allowed) is decoded in memory; a URL is fetched by the guarded fetcher
 * (src/net/safe-fetch.ts: no loopback, private, link-local or metadata
 * addresses, checked on every hop, byte cap while streaming, deadlines). The
 * bytes never touch the disk. An empty dataset is refused unless the request
 * allows it. SECURITY: errors name the failure, never the content or the URL.
 */
import { EphemeraError } from '../../errors.js';
import type { Config } from '../../config.js';
import { parseAllowList } from '../../net/address-policy.js';
import { type FetchDeps, type FetchPolicy, safeFetch, tooLarge } from '../../net/safe-fetch.js';

/** The bytes in memory; their hash and row commitment are taken in one pass over them (rows.ts). */
export interface LoadedDataset {
  bytes: Uint8Array;
  source: 'inline' | 'url';
}

export interface DatasetSpec {
  data?: string;
  url?: string;
  allow_empty?: boolean;
}

export async function loadDataset(spec: DatasetSpec, policy: FetchPolicy, fetchDeps: FetchDeps = {}): Promise<LoadedDataset> {
  const bytes = spec.data !== undefined ? decodeInline(spec.data, policy.maxBytes) : await safeFetch(spec.url!, policy, fetchDeps);
  if (bytes.length === 0 && spec.allow_empty !== true) {
    throw new EphemeraError('DATASET_EMPTY', 'the dataset is empty (0 bytes); allow it with dataset.allow_empty: true (API) or --allow-empty (ephemera run)', {
      fields: { field: 'body.dataset', source: spec.data !== undefined ? 'inline' : 'url' },
    });
  }
  return { bytes, source: spec.data !== undefined ? 'inline' : 'url' };
}

const policies = new WeakMap<Config, FetchPolicy>();

/** The fetch policy the server's configuration sets for dataset URLs: derived once per (frozen) configuration, not per request. */
export function datasetFetchPolicy(config: Config): FetchPolicy {
  const known = policies.get(config);
  if (known) return known;
  const policy: FetchPolicy = {
    allowHttp: config.datasetUrlAllowHttp,
    allow: parseAllowList(config.datasetUrlAllow),
    maxRedirects: config.datasetMaxRedirects,
    timeoutMs: config.datasetFetchTimeoutMs,
    idleTimeoutMs: config.datasetFetchIdleTimeoutMs,
    maxBytes: config.maxDatasetBytes,
  };
  policies.set(config, policy);
  return policy;
}

/** Line breaks (\n or \r\n, MIME style) are dropped before the strict check; anything else outside the alphabet is refused. */
function decodeInline(data: string, maxBytes: number): Uint8Array {
  const b64 = data.slice('base64:'.length).replace(/\r?\n/g, '');
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new EphemeraError('DATASET_INVALID_BASE64', 'dataset.data is not valid base64', { fields: { field: 'body.dataset.data' } });
  }
  if ((b64.length / 4) * 3 > maxBytes + 2) throw tooLarge(maxBytes);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > maxBytes) throw tooLarge(maxBytes);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** A sealed request's dataset (already bytes in memory): the same cap and empty-dataset rule as a loaded one. */
export function sealedDataset(bytes: Uint8Array, spec: Pick<DatasetSpec, 'allow_empty'>, maxBytes: number): LoadedDataset {
  if (bytes.length > maxBytes) throw tooLarge(maxBytes);
  if (bytes.length === 0 && spec.allow_empty !== true) {
    throw new EphemeraError('DATASET_EMPTY', 'the sealed dataset is empty (0 bytes); allow it with dataset.allow_empty: true', {
      fields: { field: 'dataset', source: 'sealed' },
    });
  }
  return { bytes, source: 'inline' };
}
