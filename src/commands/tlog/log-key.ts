/**
 * The log key (docs/transparency.md §9): an Ed25519 note key derived from the
 * attestor (never configured, never on disk), named by the origin, and its
 * document: the statement binding origin and vkey to the executor, attested
 * over its report data. The seed stays inside the signer's closure.
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import type { Attestor } from '../../attest/index.js';
import { bytesToHex } from '../../events/index.js';
import { logKeyReportData, logKeyStatementHash, noteSignerFromSeed, type LogKeyDocument, type LogKeyStatement, type NoteSigner } from '../../tlog/index.js';

export interface LogKey {
  readonly origin: string;
  readonly vkey: string;
  readonly signer: NoteSigner;
  /** The attested log key document (made on first call, kept; a failed attestation is tried again next time). */
  document(): Promise<LogKeyDocument>;
}

/** `ephemera.log/` + the first 16 hex digits of SHA-256(public key). */
export function defaultOrigin(publicKey: Uint8Array): string {
  return `ephemera.log/${createHash('sha256').update(publicKey).digest('hex').slice(0, 16)}`;
}

export async function openLogKey(attestor: Attestor, configuredOrigin: string | null, clock: () => Date = () => new Date()): Promise<LogKey> {
  const seed = await attestor.tlogKeySeed();
  const origin = configuredOrigin ?? defaultOrigin(ed25519.getPublicKey(seed));
  const signer = noteSignerFromSeed(origin, seed);
  seed.fill(0);
  let made: Promise<LogKeyDocument> | null = null;
  const make = async (): Promise<LogKeyDocument> => {
    const statement: LogKeyStatement = {
      type: 'ephemera.log-key-statement',
      v: 1,
      origin,
      vkey: signer.vkey,
      tee: await attestor.describe(),
      issued_at: clock().toISOString(),
    };
    const statementHash = logKeyStatementHash(statement);
    const reportData = logKeyReportData(statementHash);
    return { statement, statement_hash: statementHash, report_data: bytesToHex(reportData), attestation: await attestor.attest(reportData) };
  };
  return {
    origin,
    vkey: signer.vkey,
    signer,
    document: () => (made ??= make().catch((error: unknown) => ((made = null), Promise.reject(error)))),
  };
}
