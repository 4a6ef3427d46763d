/**
 * The certificate browser in a real browser: Debian's Chromium driven by
 * playwright-core. Runs an execution, finds and opens its certificate, verifies
 * it in the page; verifies a tampered file offline; and checks that the
 * browser verifier agrees with the Node one on every certificate vector, on
 * a tdx certificate sealed through the dstack SDK, and on the real Intel quotes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './testing/chromium.js';
import { x25519 } from '@noble/curves/ed25519';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { keyFingerprint, verifyCertificate, type Certificate } from '../verify/index.js';
import { VECTOR_PUBLIC_KEY } from '../verify/testing/forge.js';
import { parseEventText, type EventEnvelope } from '../events/index.js';
import { execute, parseExecuteRequest } from '../commands/execute/index.js';
import { tdxVerifier, verifyTdxAttestation, type TdxPolicy } from '../attest/node.js';
import { trimQuote } from '../attest/index.js';
import { SIMULATED_COMPOSE_HASH, TDX_TESTDATA, startDstackSimulator, startPccsStandIn } from '../attest/testing/dstack-standins.js';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const VECTORS = join(import.meta.dirname, '../../test-vectors/certificates');

/**
 * Exits 3 after writing more than the 4 KiB stderr tail keeps: one long unbroken line (it must wrap on a
 * phone), then a traceback whose message holds markup (it must show as text, never as an element).
 */
const FAILING_SCRIPT = [
  'import sys, traceback',
  'print("half done")',
  'print("x" * 5000, file=sys.stderr)',
  'try:',
  '    raise ValueError("bad row <b>2</b>")',
  'except ValueError:',
  '    traceback.print_exc()',
  'sys.exit(3)',
  '',
].join('\n');

describe('web certificate browser (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-web-'));
  let services: Services;
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let certificateId: string;
  let failedId: string;
  let fingerprint: string;
  /** The verdict banner once every check is listed. */
  const verified = async (on: Page = page) => {
    await on.locator('[data-check="fields"]').waitFor();
    return { title: await on.getByTestId('verdict-title').textContent(), tone: await on.getByTestId('verdict').getAttribute('data-tone') };
  };
  /** This browser's pinned keys (localStorage of the server's origin). */
  const setPins = async (pins: string[], on: Page = page) => {
    await on.goto(`${base}/verify`);
    await on.evaluate((p) => localStorage.setItem('ephemera.trusted-keys', JSON.stringify(p)), pins);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'data'), EPHEMERA_TLOG: 'off' }));
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
    // A run whose script exits non-zero: its certificate is valid, and it records a failure.
    const failedRun = (
      await app.inject({
        method: 'POST',
        url: '/execute',
        payload: {
          dataset: { data: `base64:${Buffer.from('a,b\n1,2\n').toString('base64')}`, format: 'csv' },
          sandbox: {
            tools: ['python'],
            scripts: { 'main.py': FAILING_SCRIPT },
            environment: { timeout_seconds: 20, max_memory_mb: 128 },
          },
        },
      })
    ).json();
    expect(failedRun.status).toBe('failed');
    failedId = failedRun.certificate_id;
    fingerprint = (await app.inject({ url: '/.well-known/ephemera-key.json' })).json().fingerprint;
    context = await launchChromium(dir);
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when a newcomer opens / and follows a certificate', () => {
    it('shows the key fields and verifies every check in the browser: untrusted until the key is pinned, then green', async () => {
      await setPins([]);
      const response = await page.goto(`${base}/`);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
      await page.getByRole('link', { name: certificateId }).click();
      await expect.poll(() => page.getByTestId('certificate-id').textContent()).toBe(certificateId);
      const certificate = (await app.inject({ url: `/certificate/${certificateId}` })).json();
      expect(await page.getByTestId('status').textContent()).toBe('completed');
      expect(await page.getByTestId('run-outcome').getAttribute('data-run-status')).toBe('completed');
      expect(await page.getByTestId('run-outcome').textContent()).toContain('Run completed');
      expect(await page.getByTestId('dataset-hash').textContent()).toBe(certificate.dataset_hash);
      expect(await page.getByTestId('result').textContent()).toBe('{"rows": 1}\n');
      expect(await page.getByTestId('stderr').count()).toBe(0); // a completed run's certificate has no stderr tail
      expect(await page.getByTestId('sql-answers').count()).toBe(0); // nor an SQL answers column: it made no SQL call
      await page.getByTestId('verify').click();
      // A reader who pinned nothing: the signature holds, nothing says whose key it is; amber, not green.
      expect(await verified()).toEqual({ title: '⚠ Certificate valid · run completed · signer not trusted', tone: 'warn' });
      expect(await page.locator('[data-status="pass"]').count()).toBe(6);
      expect(await page.getByTestId('key-fingerprint').textContent()).toBe(fingerprint);
      expect(await page.getByTestId('signing-key').textContent()).toBe(fingerprint);
      await page.screenshot({ path: join(ARTIFACTS, 'certificate-untrusted.png'), fullPage: true });
      await page.getByTestId('pin-key').click();
      await expect.poll(() => page.getByTestId('verdict-title').textContent()).toBe('✔ Certificate valid · run completed · signer trusted');
      expect(JSON.parse((await page.evaluate(() => localStorage.getItem('ephemera.trusted-keys'))) ?? '[]')).toEqual([fingerprint]);
      expect(await verified()).toEqual({ title: '✔ Certificate valid · run completed · signer trusted', tone: 'ok' });
      expect(await page.getByTestId('verdict').textContent()).toContain('signed by a key you pinned');
      expect(await page.getByTestId('verdict').textContent()).toContain('exit code 0');
      await page.screenshot({ path: join(ARTIFACTS, 'certificate-verified.png'), fullPage: true });
    });
  });

  describe("when a reader opens a failed run's certificate", () => {
    it('says "certificate valid · run failed" with the failure code and exit code, in amber, never a green "Valid"', async () => {
      await setPins([fingerprint]); // even a trusted signer does not make a failed run green
      await page.goto(`${base}/c/${failedId}`);
      const before = page.getByTestId('run-outcome');
      expect(await before.getAttribute('data-run-status')).toBe('failed');
      expect(await before.getAttribute('class')).toContain('banner-warn');
      expect(await before.textContent()).toContain('Run failed');
      expect(await before.textContent()).toContain('EXECUTION_NONZERO_EXIT (the entry script exited with a non-zero status), exit code 3');
      // The script's last stderr, exactly as the certificate commits to it, as text: the <b> is not an element.
      const { stderr_tail: tail } = (await app.inject({ url: `/certificate/${failedId}` })).json().result;
      expect(tail.truncated).toBe(true);
      const shown = page.getByTestId('stderr-tail');
      expect(await shown.textContent()).toBe(tail.text);
      expect(tail.text).toMatch(/^x+\nTraceback \(most recent call last\):\n[\s\S]*\nValueError: bad row <b>2<\/b>\n$/);
      expect(await shown.locator('b').count()).toBe(0);
      expect(await page.getByTestId('stderr').textContent()).toContain('stderr (last lines)');
      expect(await page.getByTestId('stderr-size').textContent()).toBe(`(last ${Buffer.byteLength(tail.text)} of ${tail.bytes} bytes)`);
      expect(Buffer.byteLength(tail.text)).toBeLessThanOrEqual(4096);
      expect(tail.bytes).toBeGreaterThan(5000);
      await page.getByTestId('verify').click();
      expect(await verified()).toEqual({ title: '⚠ Certificate valid · run failed · signer trusted', tone: 'warn' });
      expect(await page.locator('[data-status="pass"]').count()).toBe(6);
      const verdict = await page.getByTestId('verdict').textContent();
      expect(verdict).toContain('EXECUTION_NONZERO_EXIT');
      expect(verdict).toContain('exit code 3');
      expect(verdict).toContain('not a successful answer');
      // No green banner anywhere, and no headline that reads as a plain success.
      expect(await page.locator('.banner-ok').count()).toBe(0);
      expect(await page.locator('#app').textContent()).not.toMatch(/✔ Certificate valid|Valid and trusted/);
      expect(await page.getByTestId('verdict-title').evaluate((el) => getComputedStyle(el).color)).not.toBe('rgb(26, 127, 55)');
      await page.screenshot({ path: join(ARTIFACTS, 'certificate-failed.png'), fullPage: true });
    });

    it('says the same when its file is dropped on /verify: the outcome is read from the verified file', async () => {
      const certificate = (await app.inject({ url: `/certificate/${failedId}` })).body;
      await setPins([]);
      await page.getByTestId('file').setInputFiles({ name: 'failed.json', mimeType: 'application/json', buffer: Buffer.from(certificate) });
      expect(await verified()).toEqual({ title: '⚠ Certificate valid · run failed · signer not trusted', tone: 'warn' });
      expect(await page.getByTestId('verdict').textContent()).toContain('EXECUTION_NONZERO_EXIT');
    });
  });

  describe('when a reader looks at the checks', () => {
    it('names each in plain words, with the technical id one keypress away', async () => {
      await setPins([]);
      await page.goto(`${base}/c/${certificateId}`);
      await page.getByTestId('verify').click();
      await verified();
      const events = page.locator('[data-check="events"]');
      expect(await events.locator('summary').textContent()).toContain('Events link into one unbroken chain');
      expect(await events.locator('summary').getAttribute('title')).toBe('check events');
      const id = events.getByTestId('check-id');
      expect(await id.isVisible()).toBe(false);
      await events.locator('summary').focus();
      await page.keyboard.press('Enter');
      await id.waitFor({ state: 'visible' });
      expect(await id.textContent()).toBe('events');
      expect(await events.locator('.technical').textContent()).toContain('passed');
      const names = await page.locator('[data-check] summary').allTextContents();
      expect(names.map((n) => n.replace(/^[✔✘–] (passed|failed|not run): /, ''))).toEqual([
        'The file is one well-formed certificate, read strictly',
        'Events link into one unbroken chain, in the order a run goes',
        'The Merkle root covers every event',
        'The attested data binds this root, run and sealing time',
        'The attestation signs this certificate',
        'Every field shown matches what the events record',
      ]);
    });
  });

  describe('when a simulated certificate is shown', () => {
    it('gives its key fingerprint and how to pin it, on the command line and in this browser', async () => {
      await setPins([]);
      await page.goto(`${base}/c/${certificateId}`);
      const notice = page.getByTestId('simulated-notice');
      expect(await notice.textContent()).toContain('not hardware-backed');
      expect(await page.getByTestId('signing-key').textContent()).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await page.getByTestId('pin-hint').textContent()).toContain(`ephemera trust add ${fingerprint}`);
      expect(await page.getByTestId('pin-hint').textContent()).toContain('Trust this key in this browser');
      await page.getByTestId('verify').click();
      await verified();
      expect(await page.getByTestId('trust-pin-hint').textContent()).toContain(`ephemera trust add ${fingerprint}`);
      expect(await page.getByTestId('pin-key').textContent()).toBe('Trust this key in this browser');
    });
  });

  describe('when a certificate of sealed input and a sealed result is shown (docs/sealed.md §4–5)', () => {
    // The conformance vector's events, appended to this server's log: served and derived as any run's.
    const vector = JSON.parse(readFileSync(join(VECTORS, 'cases/valid-sealed-input-and-result.json'), 'utf8'));
    const resultKey = JSON.parse(readFileSync(join(VECTORS, 'manifest.json'), 'utf8')).result_key;
    const keyFile = (key: unknown) => ({ name: 'result-key.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(key)) });

    it('says how the input arrived and shows "Sealed result", no output; the right key file opens it here, matching the commitment', async () => {
      await services.log.append((vector.events as unknown[]).map((e) => parseEventText(JSON.stringify(e)) as EventEnvelope));
      await page.goto(`${base}/c/${certificateId}`);
      expect(await page.getByTestId('input').textContent()).toBe('plain');
      const sent: string[] = [];
      page.on('request', (request) => sent.push(`${request.url()} ${request.postData() ?? ''}`));
      await page.goto(`${base}/c/${vector.certificate_id}`);
      expect(await page.getByTestId('input').textContent()).toBe(`sealed to key statement ${vector.dataset.submission.key_statement_hash} (dataset, API key)`);
      expect(await page.getByTestId('sealed-result').textContent()).toContain('Sealed result');
      expect(await page.getByTestId('result').count()).toBe(0);
      expect(await page.getByTestId('result-recipient').textContent()).toBe(keyFingerprint(resultKey.public_key));
      const before = sent.length;
      await page.getByTestId('result-key-file').setInputFiles(keyFile(resultKey));
      await expect.poll(() => page.getByTestId('open-status').textContent()).toContain('matches');
      expect(await page.getByTestId('open-status').textContent()).toContain(vector.result.result_hash);
      expect(await page.getByTestId('opened-output').textContent()).toBe('{"rows": 200, "share": 0.25, "note": "✓ 😀"}\n');
      // Opening fetched the HPKE bundle and sent nothing else: the key file stayed in the browser.
      expect(sent.slice(before)).toEqual([`${base}/assets/seal.js `]);
      expect(sent.join('\n')).not.toContain(resultKey.private_key);
      await page.screenshot({ path: join(ARTIFACTS, 'certificate-sealed-opened.png'), fullPage: true });
      // The page verifies as any other: valid, with the vector key pinned.
      await setPins([VECTOR_PUBLIC_KEY]);
      await page.goto(`${base}/c/${vector.certificate_id}`);
      await page.getByTestId('verify').click();
      expect(await verified()).toEqual({ title: '✔ Certificate valid · run completed · signer trusted', tone: 'ok' });
    });

    it('refuses a wrong key file with its code, and shows nothing of the result', async () => {
      await page.goto(`${base}/c/${vector.certificate_id}`);
      const other = randomBytes(32);
      const wrong = {
        type: 'ephemera.result-key',
        suite: 'x25519-aes256gcm',
        public_key: Buffer.from(x25519.getPublicKey(other)).toString('hex'),
        private_key: other.toString('hex'),
      };
      await page.getByTestId('result-key-file').setInputFiles(keyFile(wrong));
      await expect.poll(() => page.getByTestId('open-status').textContent()).toContain('SEALED_RESULT_KEY_MISMATCH');
      expect(await page.getByTestId('opened-result').textContent()).toBe('');
      // The recipient's public key with another private key: it names the recipient, but does not open it.
      await page.getByTestId('result-key-file').setInputFiles(keyFile({ ...wrong, public_key: resultKey.public_key }));
      await expect.poll(() => page.getByTestId('open-status').textContent()).toContain('SEALED_RESULT_KEY_INVALID');
      await page.getByTestId('result-key-file').setInputFiles({ name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('{"type":"nope"}') });
      await expect.poll(() => page.getByTestId('open-status').textContent()).toContain('SEALED_RESULT_KEY_INVALID');
      expect(await page.getByTestId('opened-result').textContent()).toBe('');
    });
  });

  describe('when the pages are read on a phone (375 × 812)', () => {
    it('never scrolls sideways: the list, a failed and a completed certificate with a proof open, and /verify', async () => {
      const phone = await context.newPage();
      try {
        await phone.setViewportSize({ width: 375, height: 812 });
        const width = () => phone.evaluate(() => document.scrollingElement!.scrollWidth);
        await setPins([], phone);
        await phone.goto(`${base}/`);
        await phone.getByRole('link', { name: failedId }).waitFor();
        expect(await width()).toBeLessThanOrEqual(375);
        await phone.screenshot({ path: join(ARTIFACTS, 'list-375.png'), fullPage: true });
        for (const [id, name] of [
          [failedId, 'certificate-failed-375.png'],
          [certificateId, 'certificate-375.png'],
        ] as const) {
          await phone.goto(`${base}/c/${id}`);
          await phone.getByTestId('verify').click();
          await verified(phone);
          await phone.locator('[data-check] summary').first().click();
          await phone.getByRole('button', { name: 'show' }).first().click();
          await phone.locator('td > span > code').first().waitFor(); // the inclusion proof, a long line of hashes
          expect(await width(), id).toBeLessThanOrEqual(375);
          if (id === failedId) {
            // The stderr tail's 4,000-character line wraps inside its box: nothing to scroll, there or on the page.
            const tail = phone.getByTestId('stderr-tail');
            expect(await tail.evaluate((el) => el.scrollWidth <= el.clientWidth && el.getBoundingClientRect().right <= 375)).toBe(true);
            // Scrolled to its end: the traceback's last line is what the box shows first.
            expect(await tail.evaluate((el) => el.scrollTop > 0 && el.scrollTop + el.clientHeight >= el.scrollHeight - 1)).toBe(true);
            await tail.screenshot({ path: join(ARTIFACTS, 'stderr-375.png') });
          }
          await phone.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
          await phone.evaluate(() => window.scrollTo(0, 0));
          await phone.screenshot({ path: join(ARTIFACTS, name.replace('.png', '-top.png')) }); // what a phone shows first
        }
        await phone.goto(`${base}/verify`);
        await phone.getByTestId('file').setInputFiles({
          name: 'failed.json',
          mimeType: 'application/json',
          buffer: Buffer.from((await app.inject({ url: `/certificate/${failedId}` })).body),
        });
        await verified(phone);
        expect(await width()).toBeLessThanOrEqual(375);
        await phone.screenshot({ path: join(ARTIFACTS, 'verify-375.png'), fullPage: true });
      } finally {
        await phone.close();
      }
    });
  });

  describe("when the reader gives a build-info and a certificate's file is dropped on /verify (docs/reproducible-builds.md §5)", () => {
    it("shows the commit it was built from, that it is reproducible, unmeasured without a quote, and the tools the build's; one tool off fails", async () => {
      const certificate = (await app.inject({ url: `/certificate/${certificateId}` })).json();
      const tools = certificate.events.find((e: { type: string }) => e.type === 'sandbox.created').data.runtime.tools;
      const build = {
        format: 'ephemera.build-info/1',
        version: '0.1.0',
        commit: 'b'.repeat(40),
        bundle: {
          sha256: `sha256:${'12'.repeat(32)}`,
          source_date_epoch: 1_764_806_400,
          build_env: { node: 'v20.20.2', npm: '11.19.1', cc: null, cxx: null, platform: 'linux-x64' },
        },
        image: null,
        compose_hash: null,
        runtime: { format: 'ephemera.runtime/1', base: 'Debian GNU/Linux 12 (bookworm)', packages: {}, tools },
      };
      await page.goto(`${base}/verify`);
      // This browser trusts the signer, and forgets the build-info afterwards whatever happens: later tests keep their own policy.
      const pins = await page.evaluate(() => localStorage.getItem('ephemera.trusted-keys'));
      await page.evaluate((f) => localStorage.setItem('ephemera.trusted-keys', JSON.stringify([f])), fingerprint);
      await page.reload();
      try {
        await page.getByText('Your policy for TDX certificates').click();
        const paste = async (text: string) => {
          await page.getByTestId('trusted-build-infos').fill(text);
          await page.getByTestId('trusted-build-infos').dispatchEvent('change');
        };
        await paste('{"format": "ephemera.build-info/1"}');
        expect(await page.getByTestId('build-info-error').textContent()).toMatch(/^Not kept: .*missing member/);
        await paste(JSON.stringify([build]));
        expect(await page.getByTestId('build-info-error').textContent()).toBe('');
        const drop = async () => {
          await page.getByTestId('file').setInputFiles({ name: 'cert.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(certificate)) });
          await page.locator('[data-check="build"]').waitFor();
        };
        await drop();
        expect(await page.locator('[data-check="build"]').getAttribute('data-status')).toBe('pass');
        expect(await page.getByTestId('build').getAttribute('data-build')).toBe('match');
        expect(await page.getByTestId('build-commit').textContent()).toBe('b'.repeat(40));
        expect(await page.getByTestId('build-reproducible').textContent()).toContain(`yes: rebuild bundle sha256:${'12'.repeat(32)}`);
        expect(await page.getByTestId('build-tools').textContent()).toBe("the build's, checked by the verifier in this browser");
        await page.reload();
        await page.getByText('Your policy for TDX certificates').click();
        await paste(JSON.stringify({ ...build, runtime: { ...build.runtime, tools: { ...tools, python3: { ...tools.python3, version: 'Python 9' } } } }));
        await drop();
        expect(await page.locator('[data-check="build"]').getAttribute('data-status')).toBe('fail');
        expect(await page.getByTestId('verdict-title').textContent()).toMatch(
          /^✘ Certificate invalid — first failure: VERIFY_BUILD_RUNTIME_MISMATCH at events\[\d+\]\.data\.runtime\.tools$/,
        );
        expect(await page.getByTestId('build-tools').textContent()).toMatch(
          /^not the build's: python3: version "Python 3\.11\.\d+" where the build has "Python 9"$/,
        );
      } finally {
        await page.evaluate((p) => {
          localStorage.removeItem('ephemera.tdx-policy');
          if (p === null) localStorage.removeItem('ephemera.trusted-keys');
          else localStorage.setItem('ephemera.trusted-keys', p);
        }, pins);
      }
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
      expect(await verified()).toEqual({ title: '✘ Certificate invalid — first failure: VERIFY_FIELD_MISMATCH at result.output', tone: 'bad' });
      // A failed check shows its technical id and where it failed without a click.
      expect(await page.locator('[data-check="fields"]').getByTestId('check-id').isVisible()).toBe(true);
      expect(await page.locator('[data-check="fields"] .technical').textContent()).toContain('result.output');
      expect(requests).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'tampered-rejected.png'), fullPage: true });
    });
  });

  describe('when a certificate with its transparency member is dropped on /verify (docs/transparency.md §12)', () => {
    const drop = async (name: string) => {
      await page.goto(`${base}/verify`);
      await page
        .getByTestId('file')
        .setInputFiles({ name: `${name}.json`, mimeType: 'application/json', buffer: readFileSync(join(VECTORS, 'cases', `${name}.json`)) });
      await page.locator('[data-check="fields"]').waitFor();
    };

    it('shows its leaf, tree size, origin and cosigners as this browser verified them; a copy without one says it is not logged', async () => {
      await setPins([VECTOR_PUBLIC_KEY]);
      await drop('logged');
      await page.locator('[data-check="transparency"]').waitFor();
      expect(await page.locator('[data-check="transparency"]').getAttribute('data-status')).toBe('pass');
      expect(await verified()).toEqual({ title: '✔ Certificate valid · run completed · signer trusted', tone: 'ok' });
      const box = page.getByTestId('transparency');
      expect(await box.getAttribute('data-logged')).toBe('true');
      expect(await box.getAttribute('data-log-trusted')).toBe('true');
      expect(await page.getByTestId('log-leaf').textContent()).toBe('5 of a tree of 8');
      expect(await page.getByTestId('log-origin').textContent()).toBe('ephemera.log/test-fixture');
      expect(await page.getByTestId('log-cosigners').textContent()).toBe(
        'witness-0.example (not checked: no witness key given), witness-1.example (not checked: no witness key given)',
      );
      expect(await page.getByTestId('log-trust').textContent()).toMatch(/^log key attested/);
      await page.screenshot({ path: join(ARTIFACTS, 'certificate-logged.png'), fullPage: true });

      await drop('not-logged');
      expect(await page.getByTestId('transparency').getAttribute('data-logged')).toBe('false');
      expect(await page.getByTestId('transparency').textContent()).toContain('Not logged yet');
      expect(await page.locator('[data-check="transparency"]').count()).toBe(0);
    });

    it('shows the same on the certificate page, from the served certificate (its bytes as the log would serve them)', async () => {
      const bytes = readFileSync(join(VECTORS, 'cases', 'logged.json'));
      const id = JSON.parse(bytes.toString()).certificate_id as string;
      await setPins([VECTOR_PUBLIC_KEY]);
      await page.route(`${base}/certificate/${id}`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: bytes }));
      try {
        await page.goto(`${base}/c/${id}`);
        await page.getByTestId('verify').click();
        await page.locator('[data-check="transparency"]').waitFor();
        expect(await verified()).toEqual({ title: '✔ Certificate valid · run completed · signer trusted', tone: 'ok' });
        expect(await page.getByTestId('log-leaf').textContent()).toBe('5 of a tree of 8');
        expect(await page.getByTestId('log-origin').textContent()).toBe('ephemera.log/test-fixture');
      } finally {
        await page.unroute(`${base}/certificate/${id}`);
      }
    });

    it('refuses a forged inclusion proof with its code, and shows no log entry', async () => {
      await drop('proof-flipped');
      await page.locator('[data-check="transparency"][data-status="fail"]').waitFor();
      expect(await verified()).toEqual({ title: '✘ Certificate invalid — first failure: TLOG_INCLUSION_INVALID at transparency.inclusion_proof', tone: 'bad' });
      expect(await page.getByTestId('transparency').count()).toBe(0);
    });
  });

  describe('when a certificate records SQL calls (docs/sql-tool.md §8)', () => {
    it("shows each sql row's answers (rows, bytes, how many cut) beside its calls, and a dash for the other rows", async () => {
      const bytes = readFileSync(join(VECTORS, 'cases', 'sql-calls.json'));
      const id = JSON.parse(bytes.toString()).certificate_id as string;
      await page.route(`${base}/certificate/${id}`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: bytes }));
      try {
        await page.goto(`${base}/c/${id}`);
        await page.getByTestId('sql-answers').first().waitFor();
        expect(await page.getByTestId('sql-answers').allTextContents()).toEqual(['—', '1,000 rows, 65,519 bytes, 1 truncated', '—', '3 rows, 52 bytes']);
        expect(await page.locator('th', { hasText: 'SQL answers' }).count()).toBe(1);
      } finally {
        await page.unroute(`${base}/certificate/${id}`);
      }
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
        builds: '',
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
      expect(await page.getByTestId('verdict-title').textContent()).toContain(`Certificate invalid — first failure: ${inNode.failure!.code}`);
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
        manifest.cases.map((c: { name: string; file: string; options?: Record<string, unknown> & { trusted_keys?: string[] } }) => ({
          name: c.name,
          base64: readFileSync(join(VECTORS, c.file)).toString('base64'),
          options: {
            trustedKeys: c.options?.trusted_keys ?? d.trusted_keys,
            limits: c.options?.limits,
            log: {
              logKeys: c.options?.log_keys,
              witnesses: c.options?.witnesses,
              witnessesRequired: c.options?.witnesses_required,
              requireLog: c.options?.require_log,
            },
            tdx: { trustedComposeHashes: d.tdx.trusted_compose_hashes, allowedTcbStatuses: d.tdx.allowed_tcb_statuses },
          },
        })),
      );
      expect(Object.keys(results)).toHaveLength(manifest.cases.length);
      for (const c of manifest.cases) expect({ name: c.name, ...(results[c.name] as object) }).toEqual({ name: c.name, ...c.expected });
    });
  });

  describe('when a run is watched live (/e/<execution id>)', () => {
    const startAsync = async (dataset: object, script: string) => {
      const accepted = await fetch(`${base}/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'respond-async' },
        body: JSON.stringify({
          dataset,
          sandbox: { tools: ['bash'], scripts: { 'main.sh': script }, environment: { timeout_seconds: 20, max_memory_mb: 64 } },
        }),
      });
      expect(accepted.status).toBe(202);
      return ((await accepted.json()) as { execution_id: string }).execution_id;
    };

    it('shows each step as it happens, then leads to the certificate; nothing scrolls sideways at 375 px', async () => {
      const phone = await context.newPage();
      try {
        await phone.setViewportSize({ width: 375, height: 812 });
        const id = await startAsync({ data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' }, 'sleep 2; echo done');
        await phone.goto(`${base}/e/${id}`);
        // Live: the sandbox is there and the script still sleeps.
        await phone.locator('[data-step="sandbox.created"]').waitFor();
        expect(await phone.getByTestId('watch-state').textContent()).toBe('Running…');
        expect(await phone.getByTestId('watch-certificate').count()).toBe(0);
        const link = phone.getByTestId('watch-certificate');
        await link.waitFor({ timeout: 30_000 });
        expect(await phone.getByTestId('watch-state').textContent()).toBe('Certified');
        const steps = await phone.locator('[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
        expect(steps).toEqual(
          expect.arrayContaining(['execution.requested', 'dataset.loaded', 'sandbox.created', 'execution.completed', 'certificate.sealed']),
        );
        expect(await phone.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(375);
        await phone.screenshot({ path: join(ARTIFACTS, 'watch-375.png'), fullPage: true });
        await link.click();
        await phone.waitForURL(`${base}/c/cert_${id}`);
      } finally {
        await phone.close();
      }
    });

    it('says why a refused run has no certificate, and that an unknown run cannot be followed', async () => {
      const id = await startAsync({ url: 'http://127.0.0.1:9/x.txt', format: 'txt' }, 'true');
      await page.goto(`${base}/e/${id}`);
      await page.getByTestId('watch-error').waitFor();
      expect(await page.getByTestId('watch-error').textContent()).toMatch(/^DATASET_URL_SCHEME_FORBIDDEN: /);
      expect(await page.getByTestId('watch-state').textContent()).toBe('Run refused: no certificate');
      await page.goto(`${base}/e/01JD7ZX3Q4M5N6P7R8S9T0XXXX`);
      await page.waitForFunction(() => document.querySelector('[data-testid="watch-state"]')?.textContent?.startsWith('This run cannot be followed'));
      expect((await page.goto(`${base}/e/not-a-ulid`))?.status()).toBe(404);
    });

    it("sends a reader of a run still going from its certificate's page to its live view, and back once it is sealed", async () => {
      const id = await startAsync({ data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' }, 'sleep 3; echo done');
      await vi.waitFor(async () => expect(((await (await fetch(`${base}/executions/${id}`)).json()) as { state: string }).state).toBe('running'), {
        timeout: 20_000,
        interval: 50,
      });
      await page.goto(`${base}/c/cert_${id}`);
      await page.waitForURL(`${base}/e/${id}`);
      await page.getByTestId('watch-certificate').click({ timeout: 30_000 });
      await page.waitForURL(`${base}/c/cert_${id}`);
      await page.getByTestId('verify').waitFor();
    });

    it('waits for a run this server does not know yet (accepted by another node behind a proxy), then follows it', async () => {
      const later = ulid();
      await page.goto(`${base}/e/${later}`);
      await page.waitForFunction(() => document.querySelector('[data-testid="watch-state"]')?.textContent?.startsWith('Not recorded yet'));
      // The run appears: recorded under that id by this node's own executor (as another node's would be, in the shared log).
      await execute(
        parseExecuteRequest({
          dataset: { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' },
          sandbox: { tools: ['bash'], scripts: { 'main.sh': 'echo later' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
        }),
        { ...services, executionId: later },
      );
      await page.getByTestId('watch-certificate').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('watch-state').textContent()).toBe('Certified');
    });
  });
});
