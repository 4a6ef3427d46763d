/**
 * The certificate browser in a real browser: Debian's Chromium driven by
 * playwright-core. Runs an execution, finds and opens its certificate, verifies
 * it in the page; verifies a tampered file offline; and checks that the
 * browser verifier agrees with the Node one on every certificate vector, on
 * a tdx certificate sealed through the dstack SDK, and on the real Intel quotes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { verifyCertificate, type Certificate } from '../verify/index.js';
import { execute, parseExecuteRequest } from '../commands/execute/index.js';
import { tdxVerifier, verifyTdxAttestation, type TdxPolicy } from '../attest/node.js';
import { trimQuote } from '../attest/index.js';
import { SIMULATED_COMPOSE_HASH, TDX_TESTDATA, startDstackSimulator, startPccsStandIn } from '../attest/testing/dstack-standins.js';

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
    const body = (
      await app.inject({
        method: 'POST',
        url: '/execute',
        payload: {
          dataset: { data: `base64:${Buffer.from('name,ssn\nada,123-45-6789\n').toString('base64')}`, format: 'csv' },
          sandbox: {
            tools: ['python'],
            scripts: { 'main.py': 'import os\nprint(\'{"rows": %d}\' % (len(open(os.environ["DATASET_PATH"]).readlines()) - 1))\n' },
            environment: { timeout_seconds: 20, max_memory_mb: 128 },
          },
        },
      })
    ).json();
    certificateId = body.certificate_id;
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
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
      // A reader who pinned nothing: the signature holds, nothing says whose key it is.
      expect(await page.getByTestId('verdict').textContent()).toMatch(/Valid signature · signer not trusted/);
      expect(await page.locator('[data-status="pass"]').count()).toBe(6);
      const key = (await app.inject({ url: '/.well-known/ephemera-key.json' })).json();
      expect(await page.getByTestId('key-fingerprint').textContent()).toBe(key.fingerprint);
      expect(await page.getByTestId('signing-key').textContent()).toBe(key.fingerprint);
      await page.screenshot({ path: join(ARTIFACTS, 'certificate-untrusted.png'), fullPage: true });
      await page.getByTestId('pin-key').click();
      await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/Valid and trusted/);
      expect(JSON.parse((await page.evaluate(() => localStorage.getItem('ephemera.trusted-keys'))) ?? '[]')).toEqual([key.fingerprint]);
      await page.locator('[data-check="fields"]').waitFor();
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

  describe('when a tdx certificate sealed through the dstack SDK is dropped on /verify', () => {
    it("checks it offline under the reader's policy exactly as Node does: binding and build pass, Intel's side fails, never valid", async () => {
      const simulator = await startDstackSimulator();
      const pccs = await startPccsStandIn();
      const dstack = await createServices(
        loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'dstack'), EPHEMERA_TEE: 'dstack', DSTACK_SIMULATOR_ENDPOINT: simulator.url, EPHEMERA_PCCS_URL: pccs.url }),
      );
      let certificate: Certificate;
      try {
        certificate = (
          await execute(
            parseExecuteRequest({
              dataset: { data: 'base64:aGVsbG8K', format: 'txt' },
              sandbox: { tools: ['bash'], scripts: { 'main.sh': 'wc -c < "$DATASET_PATH"' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
            }),
            dstack,
          )
        ).certificate;
      } finally {
        await dstack.close();
        await simulator.close();
        await pccs.close();
      }
      await page.goto(`${base}/verify`);
      await page.getByText('Your policy for TDX certificates').click();
      await page.getByTestId('trusted-builds').fill(SIMULATED_COMPOSE_HASH);
      await page.getByTestId('trusted-builds').dispatchEvent('change');
      await page.getByTestId('allowed-tcb').fill('SWHardeningNeeded');
      await page.getByTestId('allowed-tcb').dispatchEvent('change');
      expect(JSON.parse((await page.evaluate(() => localStorage.getItem('ephemera.tdx-policy'))) ?? '{}')).toEqual({
        trustedComposeHashes: [SIMULATED_COMPOSE_HASH],
        allowedTcbStatuses: ['SWHardeningNeeded'],
      });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.getByTestId('file').setInputFiles({ name: 'tdx.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(certificate)) });
      await page.locator('[data-check="fields"]').waitFor();
      const shown = Object.fromEntries(
        await page.locator('[data-check]').evaluateAll((items) => items.map((li) => [li.getAttribute('data-check'), li.getAttribute('data-status')])),
      );
      const inNode = await verifyCertificate(certificate, {
        attestationVerifiers: { tdx: tdxVerifier({ trustedComposeHashes: [SIMULATED_COMPOSE_HASH], allowedTcbStatuses: ['SWHardeningNeeded'] }) },
      });
      expect(shown).toEqual(Object.fromEntries(inNode.checks.map((c) => [c.name, c.status])));
      // The stand-in PCCS serves 2025's collateral: at the sealing time (today) it has expired, so DCAP is not even run.
      expect(shown).toMatchObject({
        report_data: 'pass',
        'attestation.report_data': 'pass',
        'attestation.rtmr3': 'pass',
        'attestation.compose_hash': 'pass',
        'attestation.collateral': 'fail',
      });
      expect(await page.getByTestId('verdict').textContent()).toContain(`Invalid — first failure: ${inNode.failure!.code}`);
      expect(inNode.valid).toBe(false);
      expect(requests).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'tdx-certificate-checked.png'), fullPage: true });
    });
  });

  describe('when the browser checks the real Intel TDX quotes (test-vectors/tdx)', () => {
    it('gives every check the same outcome and code as Node: valid at its pinned time, expired today, tampered, outdated platform', async () => {
      const read = (f: string) => readFileSync(join(TDX_TESTDATA, f));
      // As a version-2 certificate carries them: without the hardware's zero padding.
      const quote = Buffer.from(trimQuote(read('tdx_quote')));
      const tampered = Buffer.from(quote);
      tampered[48 + 100] ^= 1;
      const cases: [string, Record<string, unknown>, number][] = [
        ['valid', { quote: quote.toString('hex'), collateral: JSON.parse(read('tdx_quote_collateral.json').toString()) }, 1750400000],
        ['expired', { quote: quote.toString('hex'), collateral: JSON.parse(read('tdx_quote_collateral.json').toString()) }, Math.floor(Date.now() / 1000)],
        ['tampered', { quote: tampered.toString('hex'), collateral: JSON.parse(read('tdx_quote_collateral.json').toString()) }, 1750400000],
        [
          'outdated',
          {
            quote: Buffer.from(trimQuote(read('tdx_quote_outdated'))).toString('hex'),
            collateral: JSON.parse(read('tdx_quote_outdated_collateral.json').toString()),
          },
          1771498731,
        ],
      ];
      await page.goto(`${base}/verify`);
      for (const [name, fields, atSeconds] of cases) {
        const attestation = { type: 'tdx', event_log: [], ...fields };
        const reportData = quote.subarray(48 + 520, 48 + 584);
        const policy: TdxPolicy = { trustedComposeHashes: [], allowedTcbStatuses: [], atSeconds };
        // A string, not a function: the test runner would rewrite a function's import() for Node.
        const inBrowser = await page.evaluate(
          `import('/assets/tdx.js').then((m) => m.tdxVerifier(${JSON.stringify(policy)})(${JSON.stringify(attestation)}, Uint8Array.from(${JSON.stringify([...reportData])})))`,
        );
        const inNode = verifyTdxAttestation(attestation, reportData, policy);
        expect({ name, checks: inBrowser }).toEqual({ name, checks: JSON.parse(JSON.stringify(inNode)) });
      }
      const byName = (checks: { name: string; status: string; code?: string }[]) => Object.fromEntries(checks.map((c) => [c.name, c.code ?? c.status]));
      const outcomes = cases.map(([, fields, atSeconds]) =>
        byName(
          verifyTdxAttestation({ type: 'tdx', event_log: [], ...fields }, quote.subarray(48 + 520, 48 + 584), {
            trustedComposeHashes: [],
            allowedTcbStatuses: [],
            atSeconds,
          }),
        ),
      );
      // Expired collateral is refused before dcap-qvl parses it; the rest reach DCAP.
      expect(outcomes.map((o) => [o.collateral, o.dcap, o.tcb_status])).toEqual([
        ['pass', 'pass', 'pass'],
        ['ATTEST_COLLATERAL_EXPIRED', undefined, undefined],
        ['pass', 'ATTEST_QUOTE_SIGNATURE_INVALID', undefined],
        ['pass', 'ATTEST_TCB_OUT_OF_DATE', undefined],
      ]);
    });
  });

  describe('when the browser runs the conformance suite (test-vectors/certificates)', () => {
    it("gives every case its verdict, as Node does, reading each file's bytes", async () => {
      const manifest = JSON.parse(readFileSync(join(VECTORS, 'manifest.json'), 'utf8'));
      await page.goto(`${base}/verify`);
      const d = manifest.defaults;
      const results = await page.evaluate(
        async (cases: { name: string; base64: string; options: unknown }[]) => {
          const verify = (
            window as unknown as {
              ephemeraVerifyBytes: (b: string, o: unknown) => Promise<{ valid: boolean; trusted: boolean; failure: { code: string } | null }>;
            }
          ).ephemeraVerifyBytes;
          const out: Record<string, unknown> = {};
          for (const c of cases) {
            const v = await verify(c.base64, c.options);
            out[c.name] = { valid: v.valid, trusted: v.trusted, code: v.failure?.code ?? null };
          }
          return out;
        },
        manifest.cases.map((c: { name: string; file: string; options?: { trusted_keys?: string[]; limits?: unknown } }) => ({
          name: c.name,
          base64: readFileSync(join(VECTORS, c.file)).toString('base64'),
          options: {
            trustedKeys: c.options?.trusted_keys ?? d.trusted_keys,
            limits: c.options?.limits,
            tdx: { trustedComposeHashes: d.tdx.trusted_compose_hashes, allowedTcbStatuses: d.tdx.allowed_tcb_statuses },
          },
        })),
      );
      expect(Object.keys(results)).toHaveLength(manifest.cases.length);
      for (const c of manifest.cases) expect({ name: c.name, ...(results[c.name] as object) }).toEqual({ name: c.name, ...c.expected });
    });
  });
});
