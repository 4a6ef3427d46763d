/**
 * dstack attestor: Intel TDX quotes from the dstack guest agent
 * (@phala/dstack-sdk). At sealing it asks for a quote over the 64-byte report
 * data and fetches the quote's collateral (TCB info, QE identity, CRLs and
 * chains) from a PCCS, so the certificate verifies offline for years.
 * The attestation holds only what its verification covers (docs/verification.md
 * §7.2): the quote without its zero padding, the RTMR3 runtime events (each
 * digest recomputable), and the collateral members the DCAP check reads.
 * SECURITY: the agent's socket lives outside the sandbox; nothing inside a
 * sandbox can reach it (no bind, no network).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DstackClient } from '@phala/dstack-sdk';
import qvl from '@phala/dcap-qvl';
import { EphemeraError } from '../errors.js';
import { DSTACK_RUNTIME_EVENT_TYPE, isPlainObject } from '../events/index.js';
import { TLOG_KEY_PATH, TLOG_KEY_SEED_TAG, type Attestor, type TdxAttestation, type TeeDescription } from './attestor.js';
import { trimQuote } from './tdx-quote.js';

export const DSTACK_SOCKETS = ['/var/run/dstack.sock', '/run/dstack.sock', '/var/run/dstack/dstack.sock', '/run/dstack/dstack.sock'];

export function dstackSocketPresent(): boolean {
  return DSTACK_SOCKETS.some((path) => existsSync(path));
}

export interface DstackOptions {
  /** Guest agent endpoint: a unix socket path or an http(s) URL (a simulator); default: the SDK's socket search. */
  endpoint?: string;
  /** PCCS base URL for collateral. */
  pccsUrl: string;
}

export class DstackAttestor implements Attestor {
  readonly kind = 'dstack' as const;
  private readonly client: DstackClient;
  private identity: TeeDescription | null = null;

  constructor(private readonly options: DstackOptions) {
    this.client = new DstackClient(options.endpoint);
  }

  /** Fails with ATTEST_UNAVAILABLE unless the guest agent answers. */
  async assertReachable(): Promise<void> {
    if (!(await this.client.isReachable())) throw new EphemeraError('ATTEST_UNAVAILABLE', 'the dstack guest agent is not reachable');
  }

  async describe(): Promise<TeeDescription> {
    if (this.identity) return this.identity;
    let info: Awaited<ReturnType<typeof this.client.info>>;
    try {
      info = await this.client.info();
    } catch (cause) {
      throw new EphemeraError('ATTEST_UNAVAILABLE', 'the dstack guest agent did not answer Info', { cause });
    }
    const tcb = (info.tcb_info ?? {}) as unknown as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : null);
    this.identity = {
      type: 'dstack',
      hardware_backed: true,
      app_id: text(info.app_id),
      instance_id: text(info.instance_id),
      app_name: text(info.app_name),
      compose_hash: text(tcb.compose_hash ?? info.compose_hash),
      os_image_hash: text(tcb.os_image_hash ?? info.os_image_hash),
      measurements: { mrtd: text(tcb.mrtd), rtmr0: text(tcb.rtmr0), rtmr1: text(tcb.rtmr1), rtmr2: text(tcb.rtmr2), rtmr3: text(tcb.rtmr3) },
    };
    return this.identity;
  }

  async attest(reportData: Uint8Array): Promise<TdxAttestation> {
    if (reportData.length !== 64) throw new EphemeraError('ATTEST_FAILED', 'report data must be 64 bytes');
    let quote: Buffer;
    let eventLog: unknown;
    try {
      const response = await this.client.getQuote(reportData);
      quote = Buffer.from(trimQuote(Buffer.from(response.quote.replace(/^0x/, ''), 'hex')));
      eventLog = JSON.parse(response.event_log);
    } catch (cause) {
      throw new EphemeraError('ATTEST_FAILED', 'the dstack guest agent did not produce a usable quote', { cause });
    }
    let collateral: TdxAttestation['collateral'];
    try {
      collateral = compactCollateral((await qvl.getCollateral(this.options.pccsUrl, quote)) as unknown as Record<string, unknown>);
    } catch (cause) {
      throw new EphemeraError('ATTEST_FAILED', 'could not fetch the quote collateral from the PCCS', { cause });
    }
    return { type: 'tdx', quote: quote.toString('hex'), event_log: runtimeEvents(eventLog), collateral };
  }

  /** From the dstack KMS: the same key for every instance of this app, so every sequencer signs as the same log. */
  async tlogKeySeed(): Promise<Uint8Array> {
    let key: Uint8Array;
    try {
      key = (await this.client.getKey(TLOG_KEY_PATH.path, TLOG_KEY_PATH.purpose)).key;
    } catch (cause) {
      throw new EphemeraError('ATTEST_UNAVAILABLE', 'the dstack guest agent did not derive the log key', { cause });
    }
    if (key.length < 32) throw new EphemeraError('ATTEST_FAILED', 'the dstack KMS key is shorter than 32 bytes');
    return new Uint8Array(createHash('sha256').update(TLOG_KEY_SEED_TAG).update(key).digest());
  }
}

/** The RTMR3 runtime events of the agent's log: the only ones a verifier can recompute and replay to the quote. */
function runtimeEvents(log: unknown): TdxAttestation['event_log'] {
  if (!Array.isArray(log)) throw new EphemeraError('ATTEST_FAILED', 'the dstack event log is not a list');
  return log
    .filter((entry) => isPlainObject(entry) && entry.imr === 3)
    .map((entry) => {
      if (
        entry.event_type !== DSTACK_RUNTIME_EVENT_TYPE ||
        typeof entry.event !== 'string' ||
        typeof entry.digest !== 'string' ||
        typeof entry.event_payload !== 'string'
      ) {
        throw new EphemeraError('ATTEST_FAILED', 'an RTMR3 event in the dstack log is not a runtime event');
      }
      return {
        imr: 3 as const,
        event_type: DSTACK_RUNTIME_EVENT_TYPE as typeof DSTACK_RUNTIME_EVENT_TYPE,
        digest: entry.digest.toLowerCase(),
        event: entry.event,
        event_payload: entry.event_payload.toLowerCase(),
      };
    });
}

const COLLATERAL_MEMBERS = [
  'pck_crl_issuer_chain',
  'root_ca_crl',
  'pck_crl',
  'tcb_info_issuer_chain',
  'tcb_info',
  'tcb_info_signature',
  'qe_identity_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
] as const;

/** The members the verifier checks, byte arrays as lowercase hex (dcap-qvl reads both): a quarter of the size. */
function compactCollateral(collateral: Record<string, unknown>): TdxAttestation['collateral'] {
  const out: Record<string, string> = {};
  for (const key of COLLATERAL_MEMBERS) {
    const value = collateral[key];
    out[key] = Array.isArray(value) ? Buffer.from(value as number[]).toString('hex') : String(value);
  }
  return out as TdxAttestation['collateral'];
}
