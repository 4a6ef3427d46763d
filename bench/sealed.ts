/**
 * Sealed submissions (issue 19). End to end: a sealed POST /execute (key document fetched and verified, the
 * dataset sealed in 1 MiB chunks, sent, opened by the server, run, certified) against a plain one (the dataset as
 * base64 JSON) of the same 1, 64 and 256 MiB dataset and a trivial script (`wc -c`), over loopback to a real
 * `ephemera serve`. Goal: sealed ≤ 1.2x plain at 256 MiB. And the AEAD alone: the HPKE context's seal over the
 * same bytes in 1 MiB chunks with node:crypto's AES-256-GCM plugged in (what the CLI and server use) and with
 * WebCrypto (what a browser uses) under Node, against node:crypto's AES-256-GCM called directly (the floor). Goal: ≥ 80 %
 * of the floor's speed. Node's WebCrypto is not a browser's, so the same HPKE seal also runs in real Chromium (Debian's,
 * through playwright-core, launched as src/web/*.e2e.test.ts launch it) beside WebCrypto's AES-256-GCM called directly
 * in the same page (the browser's floor). Quick mode: 1 and 16 MiB, 32 MiB for the AEAD.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { chromium } from 'playwright-core';
import { BROWSER_BUILD, CSP } from '../src/web/plugin.js';
import { startNode } from '../test/nodes/node-process.js';
import { readSimulatedPublicKey } from '../src/attest/simulated.js';
import { submitSealed } from '../src/seal/index.js';
import { nodeSealCrypto } from '../src/seal/node-aead.js';
import { cipherSuite } from '../src/seal/suites.js';
import type { SealCrypto } from '../src/seal/types.js';
import type { BrowserSealBench } from './sealed-browser.js';
import { againstFloor, median, type BenchOptions, type BenchRow } from './types.js';

const MIB = 1 << 20;
const SANDBOX = { tools: ['bash'], scripts: { 'main.sh': 'wc -c < "$DATASET_PATH"\n' }, environment: { timeout_seconds: 120, max_memory_mb: 512 } };

async function plainOnce(url: string, dataset: Buffer): Promise<void> {
  const body = JSON.stringify({ dataset: { data: `base64:${dataset.toString('base64')}`, format: 'txt' }, sandbox: SANDBOX });
  const response = await fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const answer = (await response.json()) as { status?: string; error?: { code: string } };
  if (response.status !== 200 || answer.status !== 'completed')
    throw new Error(`plain POST /execute: ${response.status} ${answer.error?.code ?? answer.status}`);
}

async function sealedOnce(url: string, dataset: Buffer, pin: string): Promise<void> {
  const sent = await submitSealed({
    server: url,
    policy: { trustedKeys: [pin] },
    input: { dataset, format: 'txt', sandbox: structuredClone(SANDBOX) },
    crypto: nodeSealCrypto,
  });
  const answer = sent.body as { status?: string; error?: { code: string } };
  if (sent.status !== 200 || answer.status !== 'completed') throw new Error(`sealed POST /execute: ${sent.status} ${answer.error?.code ?? answer.status}`);
}

async function endToEnd(sizes: number[], runs: number): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-sealed-'));
  const largest = Math.max(...sizes) * MIB;
  const node = await startNode({
    name: 'bench-sealed',
    dataDir: join(dir, 'data'),
    // Room for the largest dataset as base64 JSON (4/3 of it) and as a sealed body.
    env: { EPHEMERA_BODY_LIMIT_BYTES: String(Math.ceil(largest * 1.4) + MIB), EPHEMERA_MAX_DATASET_BYTES: String(largest + MIB) },
    startTimeoutMs: 60_000,
  });
  const rows: BenchRow[] = [];
  try {
    // The bench trusts the node it started: its data directory's own simulated attestor key.
    const pin = readSimulatedPublicKey(join(dir, 'data'));
    if (!pin) throw new Error('the node wrote no simulated key');
    for (const size of sizes) {
      const dataset = randomBytes(size * MIB);
      const plain = await median(runs, () => plainOnce(node.url, dataset));
      const sealed = await median(runs, () => sealedOnce(node.url, dataset, pin));
      const floor = { name: `plain POST /execute, ${size} MiB (base64 JSON)`, value: +plain.toFixed(0), unit: 'ms' };
      rows.push(
        { ...floor, note: `median of ${runs} after a warm-up; script wc -c; SQLite log, simulated TEE` },
        againstFloor(
          {
            name: `sealed POST /execute, ${size} MiB (key fetched and verified, sealed, opened)`,
            value: +sealed.toFixed(0),
            unit: 'ms',
            note: 'x25519-aes256gcm, 1 MiB chunks, node:crypto AEAD on both ends',
          },
          floor,
          size >= 256 ? { text: '≤ 1.2x plain at 256 MiB', ratioAtMost: 1.2 } : undefined,
        ),
      );
    }
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** MiB/s of sealing `bytes` in 1 MiB chunks, through the suite the server and the page use (default AEAD: WebCrypto's). */
async function hpkeRate(data: Uint8Array, crypto?: SealCrypto): Promise<number> {
  const suite = cipherSuite('x25519-aes256gcm', crypto);
  const { publicKey } = await suite.kem.generateKeyPair();
  const aad = randomBytes(32);
  const ms = await median(3, async () => {
    const context = await suite.createSenderContext({ recipientPublicKey: publicKey, info: new TextEncoder().encode('bench') });
    for (let at = 0; at < data.length; at += MIB) await context.seal(data.subarray(at, at + MIB), aad);
  });
  return data.length / MIB / (ms / 1000);
}

async function nativeRate(data: Uint8Array): Promise<number> {
  const key = randomBytes(32);
  const aad = randomBytes(32);
  const ms = await median(3, () => {
    for (let at = 0, seq = 0; at < data.length; at += MIB, seq++) {
      const iv = Buffer.alloc(12);
      iv.writeUInt32BE(seq, 8);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
      cipher.update(data.subarray(at, at + MIB));
      cipher.final();
      cipher.getAuthTag();
    }
  });
  return data.length / MIB / (ms / 1000);
}

const CHROMIUM = '/usr/bin/chromium';

/**
 * bench/sealed-browser.ts bundled with the options of src/web/plugin.ts's `webBundle`. The page's own sealing bundle
 * cannot be driven from outside: /assets/submit.js exports only `submitPage` (a form that fetches and verifies a key
 * document before it seals), /assets/seal.js only opens sealed results; both keep the HPKE context inside. The entry
 * builds the context with the same code (src/seal/suites.ts, WebCrypto's Aes256Gcm) that submit.js seals with.
 */
async function browserBundle(): Promise<string> {
  const result = await build({
    ...BROWSER_BUILD,
    entryPoints: [join(import.meta.dirname, 'sealed-browser.ts')],
  });
  return result.outputFiles[0]!.text;
}

/** The HPKE context seal and WebCrypto AES-256-GCM, MiB/s, in Chromium on a page served over loopback with the web page's CSP. */
async function chromiumRates(mib: number, runs: number): Promise<{ hpke: number; native: number; userAgent: string }> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium missing: ${CHROMIUM} not found (apt-get install chromium)`);
  const script = await browserBundle();
  const app = Fastify({ logger: false });
  const send = (type: string, body: string) => (_req: FastifyRequest, reply: FastifyReply) =>
    reply.header('content-type', type).header('content-security-policy', CSP).send(body);
  app.get(
    '/',
    send('text/html; charset=utf-8', '<!doctype html><meta charset="utf-8"><title>sealed bench</title><script type="module" src="/bench.js"></script>'),
  );
  app.get('/bench.js', send('text/javascript; charset=utf-8', script));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-chromium-'));
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForFunction(() => 'ephemeraSealBench' in globalThis);
    const rates = ([mib, runs]: readonly [number, number]) =>
      (globalThis as unknown as { ephemeraSealBench: BrowserSealBench }).ephemeraSealBench.rates(mib, runs);
    return await page.evaluate(rates, [mib, runs] as const);
  } finally {
    await context.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function aead(mib: number): Promise<BenchRow[]> {
  const data = randomBytes(mib * MIB);
  const native = await nativeRate(data);
  const floor = { name: `node:crypto AES-256-GCM directly, ${mib} MiB in 1 MiB chunks`, value: +native.toFixed(0), unit: 'MiB/s' };
  const goal = { text: '≥ 80 % of node:crypto', ratioAtMost: 1.25 };
  const withNode = await hpkeRate(data, nodeSealCrypto);
  const withWeb = await hpkeRate(data);
  const inChromium = await chromiumRates(mib, 3);
  const chromiumFloor = {
    name: `WebCrypto AES-256-GCM directly in Chromium, ${mib} MiB in 1 MiB chunks`,
    value: +inChromium.native.toFixed(0),
    unit: 'MiB/s',
  };
  const chromiumNote = `${inChromium.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'} headless; median of 3 after a warm-up, timed in the page`;
  const inChromiumRow = {
    name: 'HPKE context seal in Chromium (WebCrypto)',
    value: +inChromium.hpke.toFixed(0),
    unit: 'MiB/s',
    note: `the sealed-submission page's HPKE code (src/seal/suites.ts, @hpke/core's Aes256Gcm) bundled for the browser; ${chromiumNote}`,
  };
  return [
    { ...floor, note: 'the floor: the cipher with nothing around it' },
    againstFloor(
      { name: 'HPKE context seal, node:crypto AEAD (CLI, server)', value: +withNode.toFixed(0), unit: 'MiB/s', note: 'src/seal/node-aead.ts in @hpke/core' },
      floor,
      goal,
    ),
    againstFloor(
      {
        name: 'HPKE context seal, WebCrypto AEAD (browser default)',
        value: +withWeb.toFixed(0),
        unit: 'MiB/s',
        note: "@hpke/core's Aes256Gcm on Node's WebCrypto",
      },
      floor,
      goal,
    ),
    againstFloor({ ...chromiumFloor, note: `the browser's floor: its own cipher with nothing around it; ${chromiumNote}` }, floor),
    againstFloor(inChromiumRow, floor, goal),
    againstFloor({ ...inChromiumRow, name: "HPKE context seal in Chromium (WebCrypto), against Chromium's own AES-256-GCM" }, chromiumFloor),
  ];
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const aeadRows = await aead(options.quick ? 32 : 256);
  return [...aeadRows, ...(await endToEnd(options.quick ? [1, 16] : [1, 64, 256], options.quick ? 1 : 3))];
}
