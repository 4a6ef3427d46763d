/** The browser bundles, raw and gzipped: the page (UI + the project's own verifier) and the TDX verifier it loads for tdx certificates. */
import { gzipSync } from 'node:zlib';
import { webBundle } from '../src/web/plugin.js';
import type { BenchOptions, BenchRow } from './types.js';

export async function bench(_options: BenchOptions): Promise<BenchRow[]> {
  const js = Buffer.from(await webBundle('main'));
  const tdx = Buffer.from(await webBundle('tdx'));
  return [
    { name: 'web bundle with verifier (minified)', value: Math.round(js.length / 1024), unit: 'KiB' },
    { name: 'web bundle with verifier (gzip)', value: Math.round(gzipSync(js).length / 1024), unit: 'KiB' },
    {
      name: 'TDX verifier bundle, loaded for tdx certificates only (gzip)',
      value: Math.round(gzipSync(tdx).length / 1024),
      unit: 'KiB',
      note: `${Math.round(tdx.length / 1024)} KiB minified; DCAP with @phala/dcap-qvl`,
    },
  ];
}
