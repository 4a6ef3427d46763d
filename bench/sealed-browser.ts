/**
 * The browser half of bench/sealed.ts, bundled by it with the web page's esbuild options and run in Chromium: the
 * HPKE sender context the sealed-submission page builds (src/seal/suites.ts's `cipherSuite` with no `SealCrypto`:
 * @hpke/core's WebCrypto Aes256Gcm, what /assets/submit.js seals with) and, as the browser's own floor, WebCrypto's
 * AES-256-GCM called directly, both over the same random bytes in 1 MiB chunks. Not a bench module: it has no
 * `bench` and runs only in the page.
 */
import { cipherSuite } from '../src/seal/suites.js';

const MIB = 1 << 20;

export interface BrowserSealBench {
  /** MiB/s of each, median of `runs` after a warm-up, over `mib` MiB of random bytes made in the page. */
  rates(mib: number, runs: number): Promise<{ hpke: number; native: number; userAgent: string }>;
}

function randomData(bytes: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(bytes);
  // getRandomValues fills at most 64 KiB a call.
  for (let at = 0; at < bytes; at += 65536) crypto.getRandomValues(data.subarray(at, at + 65536));
  return data;
}

/** Median of `runs` timings in ms, after one warm-up (bench/types.ts's `median`, with the page's clock). */
async function median(runs: number, body: () => Promise<void>): Promise<number> {
  await body();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await body();
    times.push(performance.now() - start);
  }
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function hpkeMs(data: Uint8Array<ArrayBuffer>, aad: Uint8Array<ArrayBuffer>, runs: number): Promise<number> {
  const suite = cipherSuite('x25519-aes256gcm');
  const { publicKey } = await suite.kem.generateKeyPair();
  return median(runs, async () => {
    const context = await suite.createSenderContext({ recipientPublicKey: publicKey, info: new TextEncoder().encode('bench') });
    for (let at = 0; at < data.length; at += MIB) await context.seal(data.subarray(at, at + MIB), aad);
  });
}

async function nativeMs(data: Uint8Array<ArrayBuffer>, aad: Uint8Array<ArrayBuffer>, runs: number): Promise<number> {
  const key = await crypto.subtle.importKey('raw', randomData(32), { name: 'AES-GCM' }, false, ['encrypt']);
  return median(runs, async () => {
    for (let at = 0, seq = 0; at < data.length; at += MIB, seq++) {
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setUint32(8, seq);
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, data.subarray(at, at + MIB));
    }
  });
}

const bench: BrowserSealBench = {
  async rates(mib, runs) {
    const data = randomData(mib * MIB);
    const aad = randomData(32);
    const rate = (ms: number) => mib / (ms / 1000);
    const native = rate(await nativeMs(data, aad, runs));
    const hpke = rate(await hpkeMs(data, aad, runs));
    return { hpke, native, userAgent: navigator.userAgent };
  },
};
Object.assign(globalThis, { ephemeraSealBench: bench });
