/**
 * dstack attestor: Intel TDX quotes from the dstack guest agent
 * (@phala/dstack-sdk). At sealing it asks for a quote over the 64-byte report
 * data and fetches the quote's collateral (TCB info, QE identity, CRLs and
 * chains) from a PCCS, so the certificate verifies offline for years.
 * SECURITY: the agent's socket lives outside the sandbox; nothing inside a
 * sandbox can reach it (no bind, no network).
 */
import { existsSync } from 'node:fs';
import { DstackClient } from '@phala/dstack-sdk';
import qvl from '@phala/dcap-qvl';
import { EphemeraError } from '../errors.js';
import { bytesToHex } from '../events/index.js';
import type { Attestor } from './attestor.js';

export const DSTACK_SOCKETS = ['/var/run/dstack.sock', '/run/dstack.sock', '/var/run/dstack/dstack.sock', '/run/dstack/dstack.sock'];

export function dstackSocketPresent(): boolean {
  return DSTACK_SOCKETS.some((path) => existsSync(path));
}

export interface DstackOptions {
  /** Guest agent endpoint: a unix socket path or an http(s) URL (a simulator); default: the SDK's socket search. */
  endpoint?: string;
  /** PCCS base URL for collateral. */
  pccsUrl: string;
  clock?: () => Date;
}

export class DstackAttestor implements Attestor {
  readonly kind = 'dstack' as const;
  private readonly client: DstackClient;
  private identity: Record<string, unknown> | null = null;

  constructor(private readonly options: DstackOptions) {
    this.client = new DstackClient(options.endpoint);
  }

  /** Fails with ATTEST_UNAVAILABLE unless the guest agent answers. */
  async assertReachable(): Promise<void> {
    if (!(await this.client.isReachable())) throw new EphemeraError('ATTEST_UNAVAILABLE', 'the dstack guest agent is not reachable');
  }

  async describe(): Promise<Record<string, unknown>> {
    if (this.identity) return this.identity;
    let info;
    try {
      info = await this.client.info();
    } catch (cause) {
      throw new EphemeraError('ATTEST_UNAVAILABLE', 'the dstack guest agent did not answer Info', { cause });
    }
    const tcb = (info.tcb_info ?? {}) as unknown as Record<string, unknown>;
    this.identity = {
      type: 'dstack', hardware_backed: true, app_id: info.app_id, instance_id: info.instance_id, app_name: info.app_name,
      compose_hash: tcb.compose_hash ?? info.compose_hash ?? null, os_image_hash: tcb.os_image_hash ?? info.os_image_hash ?? null,
      measurements: { mrtd: tcb.mrtd ?? null, rtmr0: tcb.rtmr0 ?? null, rtmr1: tcb.rtmr1 ?? null, rtmr2: tcb.rtmr2 ?? null, rtmr3: tcb.rtmr3 ?? null },
    };
    return this.identity;
  }

  async attest(reportData: Uint8Array): Promise<Record<string, unknown> & { type: string }> {
    if (reportData.length !== 64) throw new EphemeraError('ATTEST_FAILED', 'report data must be 64 bytes');
    let quoteHex: string;
    let eventLog: unknown;
    try {
      const response = await this.client.getQuote(reportData);
      quoteHex = response.quote.replace(/^0x/, '').toLowerCase();
      eventLog = JSON.parse(response.event_log);
    } catch (cause) {
      throw new EphemeraError('ATTEST_FAILED', 'the dstack guest agent did not produce a quote', { cause });
    }
    let collateral: Record<string, unknown>;
    try {
      collateral = compactCollateral((await qvl.getCollateral(this.options.pccsUrl, Buffer.from(quoteHex, 'hex'))) as unknown as Record<string, unknown>);
    } catch (cause) {
      throw new EphemeraError('ATTEST_FAILED', 'could not fetch the quote collateral from the PCCS', { cause });
    }
    return {
      type: 'tdx',
      quote: quoteHex,
      event_log: eventLog,
      app_info: await this.describe(),
      collateral,
      collateral_fetched_at: (this.options.clock ?? (() => new Date()))().toISOString(),
      pccs_url: this.options.pccsUrl,
      report_data: bytesToHex(reportData),
    };
  }
}

/** Byte arrays as hex strings (dcap-qvl reads both): a quarter of the size in the certificate. */
function compactCollateral(collateral: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(collateral)) {
    if (value === null || value === undefined) continue;
    out[key] = Array.isArray(value) ? Buffer.from(value as number[]).toString('hex') : value;
  }
  return out;
}
