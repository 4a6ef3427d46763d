/**
 * ephemera verify CERT.json|CERT_ID [--json]
 * A file is verified offline; an id is read from the configured log first.
 * Exit 0 valid, 1 invalid, 2 unusable input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { EphemeraError } from '../errors.js';
import { createServices } from '../services.js';
import { verifyCertificate, type Verdict, type VerifyOptions } from '../verify/index.js';
import { EXIT, parse, printJson } from './common.js';

/** Largest certificate file read (THREATS E40: caps before expensive work). */
export const MAX_CERTIFICATE_FILE_BYTES = 512 * 1024 * 1024;

export async function verifyCommand(argv: string[]): Promise<number> {
  const args = parse(argv, {});
  const target = args.positionals[0];
  if (!target) throw new EphemeraError('CLI_USAGE', 'usage: ephemera verify CERT.json|CERT_ID [--json]');
  const services = await createServices(args.config());
  try {
    const certificate = existsSync(target) ? readCertificateFile(target) : await services.certificates.get(target);
    if (!certificate) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${target} in this log`);
    const verdict = await verifyCertificate(certificate, services.verifyOptions satisfies VerifyOptions);
    if (args.json) printJson(verdict);
    else process.stdout.write(formatVerdict(verdict));
    return verdict.valid ? EXIT.ok : EXIT.internal;
  } finally {
    await services.close();
  }
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
  const lines = [`certificate ${verdict.certificate_id ?? '(unknown)'}: ${verdict.valid ? 'VALID' : 'INVALID'}`];
  for (const check of verdict.checks) lines.push(`  ${mark[check.status]} ${check.name}${check.code ? `  ${check.code}` : ''}${check.field ? ` at ${check.field}` : ''}`);
  if (verdict.notice) lines.push(`  note: ${verdict.notice}`);
  return `${lines.join('\n')}\n`;
}
