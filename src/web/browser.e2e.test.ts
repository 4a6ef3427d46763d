/**
 * The certificate browser in a real browser: Debian's Chromium driven by
 * playwright-core. Runs an execution, finds and opens its certificate, verifies
 * it in the page; verifies a tampered file offline; and checks that the
 * browser verifier agrees with the Node one on every certificate vector.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { verifyCertificate } from '../verify/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const VECTORS = join(import.meta.dirname, '../../test-vectors/certificates');

describe('web certificate browser (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-web-'));
  let services: Services;
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let certificateId: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium missing: ${CHROMIUM} not found (apt-get install chromium; .ci/setup.d/30-chromium.sh does it in CI)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'data') }));
    app = await buildApp(services);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    const body = (await app.inject({
      method: 'POST', url: '/execute',
      payload: { dataset: { data: `base64:${Buffer.from('name,ssn\nada,123-45-6789\n').toString('base64')}`, format: 'csv' }, sandbox: { scripts: { 'main.py': 'import os\nprint(\'{"rows": %d}\' % (len(open(os.environ["DATASET_PATH"]).readlines()) - 1))\n' }, environment: { timeout_seconds: 20, max_memory_mb: 128 } } },
    })).json();
    certificateId = body.certificate_id;
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when a newcomer opens / and follows a certificate', () => {
    it('shows the key fields and verifies every check in the browser', async () => {
      const response = await page.goto(`${base}/`);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
      await page.getByRole('link', { name: certificateId }).click();
      await expect.poll(() => page.getByTestId('certificate-id').textContent()).toBe(certificateId);
      const certificate = (await app.inject({ url: `/certificate/${certificateId}` })).json();
      expect(await page.getByTestId('status').textContent()).toBe('completed');
      expect(await page.getByTestId('dataset-hash').textContent()).toBe(certificate.dataset_hash);
      expect(await page.getByTestId('result').textContent()).toBe('{"rows": 1}\n');
      await page.getByTestId('verify').click();
      await page.locator('[data-check="fields"]').waitFor();
      expect(await page.getByTestId('verdict').textContent()).toMatch(/Valid/);
      expect(await page.locator('[data-status="pass"]').count()).toBe(6);
      await page.screenshot({ path: join(ARTIFACTS, 'certificate-verified.png'), fullPage: true });
    });
  });

  describe('when a tampered certificate file is dropped on /verify', () => {
    it('fails on the right check, offline', async () => {
      const certificate = (await app.inject({ url: `/certificate/${certificateId}` })).json();
      certificate.result.output = '{"rows": 0}\n';
      await page.goto(`${base}/verify`);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.getByTestId('file').setInputFiles({ name: 'tampered.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(certificate)) });
      await page.locator('[data-check="fields"]').waitFor();
      expect(await page.locator('[data-check="fields"]').getAttribute('data-status')).toBe('fail');
      expect(await page.getByTestId('verdict').textContent()).toContain('VERIFY_FIELD_MISMATCH at result.output');
      expect(requests).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'tampered-rejected.png'), fullPage: true });
    });
  });

  describe('when the browser and Node verify every certificate vector', () => {
    it('they agree, and both match the vector', async () => {
      await page.goto(`${base}/verify`);
      for (const file of readdirSync(VECTORS)) {
        const vector = JSON.parse(readFileSync(join(VECTORS, file), 'utf8'));
        const inBrowser = await page.evaluate(async (doc) => {
          const v = await (window as unknown as { ephemeraVerify: (d: unknown) => Promise<{ valid: boolean; failure: { code: string } | null }> }).ephemeraVerify(doc);
          return { valid: v.valid, code: v.failure?.code ?? null };
        }, vector.certificate);
        const inNode = await verifyCertificate(vector.certificate);
        expect({ file, ...inBrowser }).toEqual({ file, valid: inNode.valid, code: inNode.failure?.code ?? null });
        expect(inBrowser).toEqual(vector.expected);
      }
    });
  });
});
