/**
 * The history page (/history/<fingerprint>) in Chromium at 375 px: the page's own check of a real
 * small log's history (src/verify/testing/log-fixture.ts, served as GET /tlog/history answers it),
 * trusted once the attestor key is pinned, broken when the server hides a run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './testing/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryAnswer } from '../tlog/index.js';
import { keyFingerprint } from '../verify/index.js';
import { VECTOR_PUBLIC_KEY } from '../verify/testing/forge.js';
import { fixtureLog, syntheticLeaf, type FixtureLog } from '../verify/testing/log-fixture.js';
import { webRoutes } from './plugin.js';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const A = syntheticLeaf(0, 'a', null).fingerprint;
const VALID_TEXT = readFileSync(join(import.meta.dirname, '../../test-vectors/certificates/cases/valid.json'), 'utf8');
const VALID = JSON.parse(VALID_TEXT) as { certificate_id: string; fingerprint: string };

describe('history page (Chromium, 375 px)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-web-history-'));
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let log: FixtureLog;
  /** The run the server leaves out of its answer (a dishonest log), if any. */
  let hide: number | null = null;
  /** A log that answers as if its newest run of the fingerprint had not happened (a consistent, shorter chain). */
  let dropNewest = false;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    log = await fixtureLog([syntheticLeaf(0, 'a', null), syntheticLeaf(1, 'b', null), syntheticLeaf(2, 'a', 0), syntheticLeaf(3, 'a', 2)]);
    app = Fastify();
    await app.register(webRoutes({ certificateExists: async () => true }));
    app.get('/certificate/:id', async (_req, reply) => reply.type('application/json').send(VALID_TEXT));
    app.get<{ Params: { fingerprint: string } }>('/tlog/history/:fingerprint', async (req) => {
      const answer = await log.historyOf(req.params.fingerprint);
      const shown = answer.leaves.filter((l: HistoryAnswer['leaves'][number]) => l.leaf_index !== hide);
      return { ...answer, leaves: dropNewest ? shown.slice(1) : shown };
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    context = await launchChromium(dir);
    page = await context.newPage();
    await page.setViewportSize({ width: 375, height: 812 });
  });
  afterAll(async () => {
    await context?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const title = async () => {
    await page.getByTestId('history-title').waitFor();
    return page.getByTestId('history-title').textContent();
  };

  it('checks the history in the page: not trusted until the attestor key is pinned, then complete, results agreeing', async () => {
    await page.goto(`${base}/verify`);
    await page.evaluate(() => localStorage.setItem('ephemera.trusted-keys', '[]'));
    await page.goto(`${base}/history/${A}`);
    expect(await title()).toBe('⚠ History complete · log key not trusted');
    await page.evaluate((pin) => localStorage.setItem('ephemera.trusted-keys', JSON.stringify([pin])), keyFingerprint(VECTOR_PUBLIC_KEY));
    await page.reload();
    expect(await title()).toBe('✔ History complete · log key trusted');
    expect(await page.getByTestId('history-results').getAttribute('data-results')).toBe('agree');
    expect(await page.locator('tbody tr').count()).toBe(3);
    expect(await page.locator('tbody a').first().getAttribute('href')).toBe(`/c/${log.leaves[3]!.certificate_id}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(ARTIFACTS, 'history-375.png'), fullPage: true });
  });

  it('says the history is broken when the server hides a run', async () => {
    hide = 2;
    try {
      await page.goto(`${base}/history/${A}`);
      expect(await title()).toBe('✘ History broken');
      expect(await page.getByTestId('history-error').textContent()).toMatch(/^TLOG_HISTORY_BROKEN: leaf 3 says the run before it is leaf 2/);
    } finally {
      hide = null;
    }
  });

  it('requires the run the reader came from: shown as theirs, or the history is broken without it', async () => {
    const mine = `leaf=3&certificate=${log.leaves[3]!.certificate_id}`;
    await page.goto(`${base}/history/${A}?${mine}`);
    expect(await title()).toBe('✔ History complete · log key trusted');
    expect(await page.locator('tbody td').first().textContent()).toBe('3 (yours)');
    dropNewest = true;
    try {
      await page.goto(`${base}/history/${A}`);
      expect(await title()).toBe('✔ History complete · log key trusted'); // without it, nothing shows what is missing
      await page.goto(`${base}/history/${A}?${mine}`);
      expect(await title()).toBe('✘ History broken');
      expect(await page.getByTestId('history-error').textContent()).toMatch(/^TLOG_HISTORY_BROKEN: .*not in the history/);
    } finally {
      dropNewest = false;
    }
  });

  it("is linked from a certificate's page, by its fingerprint", async () => {
    await page.goto(`${base}/c/${VALID.certificate_id}`);
    const link = page.getByTestId('history-link');
    expect(await link.getAttribute('href')).toBe(`/history/${VALID.fingerprint}`);
    await link.click();
    expect(await title()).toBe('✔ History complete · log key trusted');
    expect(await page.getByTestId('history-fingerprint').textContent()).toBe(VALID.fingerprint);
    expect(await page.locator('tbody tr').count()).toBe(0); // the fixture log has no run of it
  });

  it('answers 404 for a path that is not a fingerprint', async () => {
    expect((await app.inject({ url: '/history/nope' })).statusCode).toBe(404);
    expect((await app.inject({ url: `/history/${A}` })).statusCode).toBe(200);
  });
});
