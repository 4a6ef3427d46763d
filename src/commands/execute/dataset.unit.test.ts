import { describe, expect, it } from 'vitest';
import { EMPTY_ALLOWLIST } from '../../net/address-policy.js';
import type { FetchPolicy } from '../../net/safe-fetch.js';
import { loadDataset } from './dataset.js';
import { parseExecuteRequest } from './request.js';

const policy: FetchPolicy = { allowHttp: false, allow: EMPTY_ALLOWLIST, maxRedirects: 0, timeoutMs: 1000, idleTimeoutMs: 1000, maxBytes: 64 };
const text = 'name,ssn\nalice,123-45-6789\nbob,987-65-4321\n';
const b64 = Buffer.from(text).toString('base64');
const wrapped = (eol: string) => `base64:${b64.match(/.{1,16}/g)!.join(eol)}${eol}`;
const sandbox = { tools: ['bash'], scripts: { 'main.sh': 'true\n' }, environment: { timeout_seconds: 5, max_memory_mb: 64 } };

describe('loadDataset, inline', () => {
  it.each([
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
  ])('accepts base64 wrapped MIME-style with %s line breaks, by the schema and the decoder', async (_label, eol) => {
    const request = parseExecuteRequest({ dataset: { data: wrapped(eol), format: 'csv' }, sandbox });
    const dataset = await loadDataset(request.dataset, policy);
    expect(Buffer.from(dataset.bytes).toString()).toBe(text);
    expect(Buffer.from(dataset.bytes).equals(Buffer.from((await loadDataset({ data: `base64:${b64}` }, policy)).bytes))).toBe(true);
  });

  it.each(['base64:YW Jj', 'base64:YWJj\rZGVm', 'base64:YQ==YWJj', 'base64:YWJjZ'])('refuses %j (schema or decoder)', async (data) => {
    const error = await Promise.resolve()
      .then(() => loadDataset(parseExecuteRequest({ dataset: { data, format: 'txt' }, sandbox }).dataset, policy))
      .catch((e: { code: string }) => e.code);
    expect(['REQUEST_INVALID', 'DATASET_INVALID_BASE64']).toContain(error);
  });

  it('refuses a dataset over the cap', async () => {
    await expect(loadDataset({ data: `base64:${Buffer.alloc(100).toString('base64')}` }, policy)).rejects.toMatchObject({ code: 'DATASET_TOO_LARGE' });
  });

  it('refuses an empty dataset with DATASET_EMPTY unless the request allows it', async () => {
    await expect(loadDataset({ data: 'base64:' }, policy)).rejects.toMatchObject({ code: 'DATASET_EMPTY', fields: { source: 'inline' } });
    await expect(loadDataset({ data: 'base64:\r\n' }, policy)).rejects.toMatchObject({ code: 'DATASET_EMPTY' });
    const request = parseExecuteRequest({ dataset: { data: 'base64:', format: 'txt', allow_empty: true }, sandbox });
    expect((await loadDataset(request.dataset, policy)).bytes.length).toBe(0);
  });

  it('keeps the schema strict around allow_empty', () => {
    expect(() => parseExecuteRequest({ dataset: { data: 'base64:', format: 'txt', allow_empty: 'yes' }, sandbox })).toThrow(
      'dataset.allow_empty: must be true or false',
    );
    expect(() => parseExecuteRequest({ dataset: { data: 'base64:', format: 'txt', allowEmpty: true }, sandbox })).toThrow(
      'dataset.allowEmpty: is not a known field',
    );
  });
});
