/**
 * "Check row proof" (/rows) in Chromium (playwright-core): a certificate committing the rows of a real
 * 10,000-row CSV (rows/testing/row-certificate.ts) and a proof of three of them, checked in the page,
 * which verifies the certificate and the proof itself and sends nothing but the certificate fetch by id;
 * every tampering of the proof refused with its code; hostile records shown as inert text.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './testing/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proveRecords } from '../rows/index.js';
import { nodeRowCrypto } from '../rows/node.js';
import { HOSTILE_ROWS, PROOF_TAMPERINGS, TEST_SECRET, rowCertificate, tenThousandRowCsv } from '../rows/testing/row-certificate.js';
import { keyFingerprint } from '../verify/index.js';
import { VECTOR_PUBLIC_KEY } from '../verify/testing/forge.js';
import { webRoutes } from './plugin.js';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

describe('row proof page (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-web-rows-'));
  const csv = tenThousandRowCsv();
  const committed = rowCertificate({ dataset: csv });
  const other = rowCertificate({ dataset: csv, secret: new Uint8Array(32).fill(9) });
  const absent = rowCertificate({ dataset: csv, rows: { absent: 'json_invalid' } });
  const id = committed.certificate.certificate_id;
  const served = new Map([committed, other, absent].map((c) => [c.certificate.certificate_id, c.text]));
  let proofText: string;
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  /** Every request the page made, as "METHOD path". */
  const requests: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const proof = await proveRecords({ certificateId: id, format: 'csv', dataset: csv, secret: TEST_SECRET, crypto: nodeRowCrypto }, [
      0,
      HOSTILE_ROWS.markup,
      HOSTILE_ROWS.fakeLine,
    ]);
    proofText = JSON.stringify(proof, null, 2);
    app = Fastify();
    await app.register(webRoutes({ certificateExists: async (certificate) => served.has(certificate) }));
    app.get<{ Params: { id: string } }>('/certificate/:id', async (req, reply) => {
      const text = served.get(req.params.id);
      return text ? reply.type('application/json').send(text) : reply.status(404).send({ error: { code: 'CERTIFICATE_NOT_FOUND' } });
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    context = await launchChromium(dir);
    page = await context.newPage();
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await page.goto(`${base}/rows`);
    await page.evaluate((pin) => localStorage.setItem('ephemera.trusted-keys', JSON.stringify([pin])), keyFingerprint(VECTOR_PUBLIC_KEY));
  });
  afterAll(async () => {
    await context?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const json = (name: string, text: string) => ({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
  /** Checks `proof` against the certificate given by id (or as a file): the outcome, and the banner's title. */
  const check = async (proof: string, certificate: { id: string } | { file: string }) => {
    if ('id' in certificate) {
      await page.getByTestId('certificate-file').setInputFiles([]);
      await page.getByTestId('certificate-id').fill(certificate.id);
    } else await page.getByTestId('certificate-file').setInputFiles(json('certificate.json', certificate.file));
    await page.getByTestId('proof-file').setInputFiles(json('proof.json', proof));
    await page.getByTestId('check-rows').click();
    const verdict = page.getByTestId('rows-verdict');
    await verdict.waitFor();
    return { outcome: await verdict.getAttribute('data-outcome'), title: await page.getByTestId('rows-title').textContent() };
  };

  it('links from a certificate with rows to the page, which proves three records of the 10,000 by its id, as inert text', async () => {
    await page.goto(`${base}/c/${id}`);
    expect(await page.getByTestId('rows').textContent()).toContain('10001 csv records committed');
    await page.getByTestId('rows-link').click();
    await page.waitForURL(`${base}/rows?certificate=${id}`);
    expect(await page.getByTestId('certificate-id').inputValue()).toBe(id);
    requests.length = 0;
    expect(await check(proofText, { id })).toEqual({ outcome: 'proven', title: "✔ 3 records proven part of the run's input" });
    const shown = await page.getByTestId('proven-record').allTextContents();
    expect(shown).toEqual([
      'id,name,email,amount,note',
      '17,person 17,p17@example.org,629.17,"<b>bold</b> \\u{001b}[2Jcleared, ""quoted"""',
      '42,person 42,p42@example.org,554.42,"first line\\n  99  forged,record"',
    ]);
    expect(await page.locator('[data-testid="rows-result"] b').count()).toBe(0);
    // The page fetched the certificate by its id, and sent nothing else anywhere.
    expect(requests).toEqual([`GET /certificate/${id}`]);
    await page.screenshot({ path: join(ARTIFACTS, 'rows-proven.png'), fullPage: true });
    // On a phone the records wrap: nothing is wider than the screen.
    await page.setViewportSize({ width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(ARTIFACTS, 'rows-proven-375.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('checks a certificate file with no request at all, and says when its signer is not trusted', async () => {
    await page.evaluate(() => localStorage.setItem('ephemera.trusted-keys', '[]'));
    requests.length = 0;
    expect(await check(proofText, { file: committed.text })).toEqual({
      outcome: 'proven',
      title: "⚠ 3 records proven part of the run's input · signer not trusted",
    });
    expect(requests).toEqual([]);
    await page.evaluate((pin) => localStorage.setItem('ephemera.trusted-keys', JSON.stringify([pin])), keyFingerprint(VECTOR_PUBLIC_KEY));
  });

  it('refuses every tampering of the proof with its code, showing no record', async () => {
    const refused: Record<string, string | null> = {};
    for (const tampering of PROOF_TAMPERINGS) {
      const { outcome, title } = await check(tampering.edit(JSON.parse(proofText)), { id });
      refused[tampering.name] = outcome;
      expect(title).toBe(`✘ Proof refused — ${tampering.code}`);
      expect(await page.getByTestId('proven-record').count()).toBe(0);
    }
    expect(refused).toEqual(Object.fromEntries(PROOF_TAMPERINGS.map((t) => [t.name, t.code])));
  });

  it('refuses a proof of another certificate, a certificate without rows, and checks nothing against an invalid certificate', async () => {
    expect((await check(proofText, { id: other.certificate.certificate_id })).outcome).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
    const none = await check(proofText, { id: absent.certificate.certificate_id });
    expect(none.outcome).toBe('ROWS_NOT_COMMITTED');
    expect(await page.getByTestId('rows-verdict').textContent()).toContain('json_invalid');
    const forged = committed.text.replace(/"root": "[0-9a-f]{64}"/, `"root": "${'0'.repeat(64)}"`);
    expect(forged).not.toBe(committed.text);
    expect((await check(proofText, { file: forged })).outcome).toBe('certificate-invalid');
    expect(await page.getByTestId('proven-record').count()).toBe(0);
  });
});
