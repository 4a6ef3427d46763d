/** The browser bundle (UI + the project's own verifier): raw and gzipped size. */
import { gzipSync } from 'node:zlib';
import { webBundle } from '../src/web/plugin.js';
import type { BenchRow } from './types.js';

export async function bench(): Promise<BenchRow[]> {
  const js = Buffer.from(await webBundle());
  return [
    { name: 'web bundle with verifier (minified)', value: Math.round(js.length / 1024), unit: 'KiB' },
    { name: 'web bundle with verifier (gzip)', value: Math.round(gzipSync(js).length / 1024), unit: 'KiB' },
  ];
}
