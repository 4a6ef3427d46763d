/**
 * A certificate verified as `ephemera verify` verifies it (the same trust: policy.ts), for the commands
 * that then rely on what it commits (`prove`, `verify-rows`): a file, bounded before it is read, or a
 * certificate id read from the configured log. The document itself comes back only when it is valid.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { EphemeraError } from '../errors.js';
import { parseStrictJson } from '../events/index.js';
import { DEFAULT_VERIFY_LIMITS, verifyCertificate, verifyCertificateText, type Certificate, type Verdict } from '../verify/index.js';
import { configOf } from './common.js';
import { readInput } from './files.js';
import { readerVerifyOptions, type TrustFlags } from './policy.js';
import { fromLog } from './verify.js';

const CERTIFICATE_ID = /^cert_[0-9A-HJKMNP-TV-Z]{26}$/;

export async function verifiedCertificate(target: string, flags: TrustFlags, command: Command): Promise<{ verdict: Verdict; certificate: Certificate | null }> {
  const config = configOf(command);
  if (!existsSync(target) && CERTIFICATE_ID.test(target)) {
    const certificate = (await fromLog(target, config)) as Certificate;
    const verdict = await verifyCertificate(certificate, readerVerifyOptions(command, config, flags, { fromOwnLog: true }));
    return { verdict, certificate: verdict.valid ? certificate : null };
  }
  if (existsSync(target) && statSync(target).isFile() && statSync(target).size > DEFAULT_VERIFY_LIMITS.maxBytes)
    throw new EphemeraError('VERIFY_TOO_LARGE', `${target} is larger than ${DEFAULT_VERIFY_LIMITS.maxBytes} bytes (the limit)`);
  const bytes = readInput(target, 'certificate');
  const verdict = await verifyCertificateText(bytes, readerVerifyOptions(command, config, flags));
  return { verdict, certificate: verdict.valid ? (parseStrictJson(bytes.toString('utf8')) as Certificate) : null };
}
