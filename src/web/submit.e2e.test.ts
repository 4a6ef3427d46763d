/**
 * /submit in a real browser (Debian's Chromium through playwright-core) against a real server: the page refuses
 * to send to a key the reader has not pinned (the browser makes no POST /execute), and once it is pinned it
 * verifies the key document, seals in the browser with WebCrypto and gets a certificate naming the key
 * statement. The same client module (src/seal) also runs under Node with its default (WebCrypto) AEAD.
 */
import { checkRowProof, proveRecords } from '../rows/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './testing/chromium.js';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { submitSealed } from '../seal/index.js';

const DATASET = 'name,ssn\nada,123-45-6789\ngrace,987-65-4321\n';
const SANDBOX = { tools: ['bash'], scripts: { 'main.sh': 'wc -l < "$DATASET_PATH"' }, environment: { timeout_seconds: 20, max_memory_mb: 64 } };

describe('the sealed-submission page (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-web-submit-'));
  let services: Services;
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let fingerprint: string;
  let statementHash: string;
  const posts: string[] = [];

  beforeAll(async () => {
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'data') }));
    app = await buildApp(services);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    fingerprint = (await app.inject({ url: '/.well-known/ephemera-key.json' })).json().fingerprint;
    statementHash = (await app.inject({ url: '/.well-known/ephemera-seal-key.json' })).json().statement_hash;
    context = await launchChromium(dir);
    page = await context.newPage();
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
    });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fill = async (pins: string) => {
    await page.goto(`${base}/submit`);
    await page.evaluate(() => localStorage.removeItem('ephemera.trusted-keys'));
    await page.reload();
    await page.getByTestId('dataset').setInputFiles({ name: 'patients.csv', mimeType: 'text/csv', buffer: Buffer.from(DATASET) });
    await page.getByTestId('sandbox').fill(JSON.stringify(SANDBOX));
    await page.getByTestId('server-keys').fill(pins);
  };

  it('refuses to send to a key nobody pinned: SEAL_KEY_UNTRUSTED on the page, and no POST left the browser', async () => {
    await fill('');
    await page.getByTestId('send').click();
    const error = page.getByTestId('submit-error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('SEAL_KEY_UNTRUSTED');
    expect(await error.textContent()).toContain('Nothing was sent.');
    expect(await page.getByTestId('certificate-link').count()).toBe(0);
    expect(posts).toEqual([]);
  });

  it('with the attestor key pinned, shows what it verified, seals in the browser and links a certificate naming the key statement', async () => {
    await fill(fingerprint);
    await page.getByTestId('send').click();
    await page.getByTestId('certificate-link').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('key-statement').textContent()).toBe(statementHash);
    expect(await page.getByTestId('attestor-fingerprint').textContent()).toBe(fingerprint);
    expect(await page.getByTestId('statement-hash').textContent()).toBe(statementHash);
    expect(posts).toEqual(['/execute']);
    const id = await page.getByTestId('certificate-link').textContent();
    const certificate = (await app.inject({ url: `/certificate/${id}` })).json();
    expect(certificate.dataset.submission).toMatchObject({ mode: 'sealed', key_statement_hash: statementHash, sealed: ['dataset'] });
    expect(certificate.result.output).toBe('3\n');
    // The row secret the browser derived (never sent) proves a record of the dataset against the certificate.
    const secret = (await page.getByTestId('row-secret').textContent())!;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const proof = await proveRecords(
      { certificateId: certificate.certificate_id, format: 'csv', dataset: new TextEncoder().encode(DATASET), secret: Buffer.from(secret, 'hex') },
      [1],
    );
    expect(checkRowProof(proof, { certificate_id: certificate.certificate_id, ...certificate.dataset.rows }).rows).toHaveLength(1);
    // The pin is remembered for the next visit.
    expect(await page.evaluate(() => localStorage.getItem('ephemera.trusted-keys'))).toContain(fingerprint);
  });

  it('the same client module under Node (WebCrypto AEAD, the default): verifies, seals and is certified', async () => {
    const sent = await submitSealed({
      server: base,
      policy: { trustedKeys: [fingerprint] },
      input: { dataset: new TextEncoder().encode(DATASET), format: 'csv', sandbox: structuredClone(SANDBOX) },
    });
    expect(sent.status).toBe(200);
    expect(sent.statementHash).toBe(statementHash);
    expect((sent.body as { submission: { key_statement_hash: string } }).submission.key_statement_hash).toBe(statementHash);
    await expect(
      submitSealed({ server: base, policy: { trustedKeys: [] }, input: { dataset: new Uint8Array(4), format: 'txt', sandbox: structuredClone(SANDBOX) } }),
    ).rejects.toMatchObject({ code: 'SEAL_KEY_UNTRUSTED' });
  });
});
