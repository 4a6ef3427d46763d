/**
 * ephemera verify CERT.json|CERT_ID [--at TIME] [--trusted-compose-hashes H,…] [--allowed-tcb-statuses S,…] [--json]
 * A file is verified offline (no log, no network); an id is read from the
 * configured log first. --at fixes the verification time for TDX collateral
 * (RFC 3339 or seconds); default: when the collateral was fetched at sealing.
 * Exit 0 valid, 1 invalid, 2 unusable input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { EphemeraError } from '../errors.js';
import { createServices, verifyOptionsFor } from '../services.js';
import { verifyCertificate, type Verdict } from '../verify/index.js';
import { EXIT, parse, printJson } from './common.js';

/** Largest certificate file read (THREATS E40: caps before expensive work). */
export const MAX_CERTIFICATE_FILE_BYTES = 512 * 1024 * 1024;

export async function verifyCommand(argv: string[]): Promise<number> {
  const args = parse(argv, { at: { type: 'string' } });
  const target = args.positionals[0];
  if (!target) throw new EphemeraError('CLI_USAGE', 'usage: ephemera verify CERT.json|CERT_ID [--at TIME] [--json]');
  const config = args.config();
  const atSeconds = parseAt(args.values.at as string | undefined);
  const certificate = existsSync(target) ? readCertificateFile(target) : await fromLog(target, config);
  const verdict = await verifyCertificate(certificate, verifyOptionsFor(config, atSeconds === undefined ? {} : { atSeconds }));
  if (args.json) printJson(verdict);
  else process.stdout.write(formatVerdict(verdict));
  return verdict.valid ? EXIT.ok : EXIT.internal;
}

async function fromLog(id: string, config: ReturnType<ReturnType<typeof parse>['config']>): Promise<unknown> {
  const services = await createServices({ ...config, tee: 'simulated' }, { feed: false });
  try {
    const certificate = await services.certificates.get(id);
    if (!certificate) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${id} in this log`);
    return certificate;
  } finally {
    await services.close();
  }
}

function parseAt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isFinite(seconds)) throw new EphemeraError('CLI_USAGE', '--at takes RFC 3339 or seconds since the epoch');
  return seconds;
}

function readCertificateFile(path: string): unknown {
  const bytes = readFileSync(path);
  if (bytes.length > MAX_CERTIFICATE_FILE_BYTES) throw new EphemeraError('VERIFY_INPUT_TOO_LARGE', `${path} is larger than ${MAX_CERTIFICATE_FILE_BYTES} bytes`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new EphemeraError('VERIFY_INPUT_MALFORMED', `${path} is not JSON`);
  }
}

export function formatVerdict(verdict: Verdict): string {
  const mark = { pass: 'ok  ', fail: 'FAIL', skipped: '--  ' } as const;
  const lines = [`certificate ${verdict.certificate_id ?? '(unknown)'}: ${verdict.valid ? 'VALID' : 'INVALID'}${verdict.tee ? ` (${verdict.tee} attestation${verdict.hardware_backed ? ', hardware-backed' : ''})` : ''}`];
  for (const check of verdict.checks) lines.push(`  ${mark[check.status]} ${check.name}${check.code ? `  ${check.code}` : ''}${check.field ? ` at ${check.field}` : ''}${check.detail && check.status !== 'fail' ? `  ${check.detail}` : ''}${check.status === 'fail' && check.detail ? `  — ${check.detail}` : ''}`);
  if (verdict.notice) lines.push(`  note: ${verdict.notice}`);
  return `${lines.join('\n')}\n`;
}
