/**
 * Local stand-ins that speak the real protocols, for tests without TDX
 * hardware (test support only, 127.0.0.1):
 * - a dstack guest agent (HTTP API the SDK uses with DSTACK_SIMULATOR_ENDPOINT):
 *   /Info, and /GetQuote returning a real TDX quote from test-vectors/tdx with
 *   the requested report data and a matching RTMR3 patched in — structurally
 *   real, its Intel signature necessarily broken; /GetKey: a key derived from
 *   the path and purpose and the simulator's compose hash (stable per app);
 * - a PCCS serving the testdata collateral on the PCCS v4 routes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '../../events/index.js';
import { runtimeEvent, replayRtmr3 } from '../rtmr.js';
import { withReport } from '../tdx-quote.js';

export const TDX_TESTDATA = join(import.meta.dirname, '../../../test-vectors/tdx');
export const SIMULATED_COMPOSE_HASH = 'c0ffee'.padEnd(64, '0');

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

export async function startDstackSimulator(
  composeHash = SIMULATED_COMPOSE_HASH,
  options: { corruptReportData?: boolean } = {},
): Promise<{ url: string; quotes: number; close(): Promise<void> }> {
  const baseQuote = new Uint8Array(readFileSync(join(TDX_TESTDATA, 'tdx_quote')));
  const eventLog = [runtimeEvent('app-id', 'ab'.repeat(20)), runtimeEvent('compose-hash', composeHash), runtimeEvent('instance-id', 'cd'.repeat(20))];
  const rtmr3 = replayRtmr3(eventLog).rtmr3;
  const state = { url: '', quotes: 0, close: async () => undefined as void };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const reply = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url === '/Info') {
        return reply({
          app_id: 'ab'.repeat(20),
          instance_id: 'cd'.repeat(20),
          app_name: 'ephemera',
          tcb_info: JSON.stringify({
            compose_hash: composeHash,
            os_image_hash: 'ee'.repeat(32),
            mrtd: '00'.repeat(48),
            rtmr0: '00'.repeat(48),
            rtmr1: '00'.repeat(48),
            rtmr2: '00'.repeat(48),
            rtmr3: bytesToHex(rtmr3),
            event_log: JSON.stringify(eventLog),
          }),
        });
      }
      if (req.url === '/GetQuote') {
        const reportData = hexToBytes(String(JSON.parse(body).report_data).padEnd(128, '0'));
        if (options.corruptReportData) reportData[63] ^= 1;
        state.quotes += 1;
        return reply({ quote: bytesToHex(withReport(baseQuote, reportData, rtmr3)), event_log: JSON.stringify(eventLog), report_data: bytesToHex(reportData) });
      }
      if (req.url === '/GetKey') {
        const { path, purpose } = JSON.parse(body) as { path: string; purpose: string };
        const key = createHash('sha256').update(`dstack-standin-key\n${composeHash}\n${path}\n${purpose}`).digest('hex');
        return reply({ key, signature_chain: [] });
      }
      return res.writeHead(404).end();
    });
  });
  state.url = await listen(server);
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

export async function startPccsStandIn(collateralFile = 'tdx_quote_collateral.json'): Promise<{ url: string; close(): Promise<void> }> {
  const c = JSON.parse(readFileSync(join(TDX_TESTDATA, collateralFile), 'utf8')) as Record<string, string>;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path.endsWith('/sgx/certification/v4/pckcrl')) {
      return res.writeHead(200, { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(c.pck_crl_issuer_chain!) }).end(Buffer.from(c.pck_crl!, 'hex'));
    }
    if (path.endsWith('/sgx/certification/v4/rootcacrl')) return res.writeHead(200).end(c.root_ca_crl);
    if (path.endsWith('/tdx/certification/v4/tcb')) {
      return res
        .writeHead(200, { 'TCB-Info-Issuer-Chain': encodeURIComponent(c.tcb_info_issuer_chain!), 'content-type': 'application/json' })
        .end(JSON.stringify({ tcbInfo: JSON.parse(c.tcb_info!), signature: c.tcb_info_signature }));
    }
    if (path.endsWith('/tdx/certification/v4/qe/identity')) {
      return res
        .writeHead(200, { 'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(c.qe_identity_issuer_chain!), 'content-type': 'application/json' })
        .end(JSON.stringify({ enclaveIdentity: JSON.parse(c.qe_identity!), signature: c.qe_identity_signature }));
    }
    return res.writeHead(404).end();
  });
  const url = await listen(server);
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
