/**
 * A certificate verified as `ephemera verify` verifies it (the same trust: policy.ts), for the commands
 * that then rely on what it commits (`prove`, `verify-rows`): a file, bounded before it is read; a
 * certificate id read from the configured log; or, with --server, an id fetched from that server
 * (bounded in size and time, and verified like a file: the server is not trusted for it). The document
 * itself comes back only when it is valid.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { EphemeraError } from '../errors.js';
import { parseStrictJson } from '../events/index.js';
import { CERTIFICATE_ID_PATTERN, DEFAULT_VERIFY_LIMITS, verifyCertificate, verifyCertificateText, type Certificate, type Verdict } from '../verify/index.js';
import { configOf, serverUrl, terminalSafe } from './common.js';
import { readBoundedBody, readInput } from './files.js';
import { readerVerifyOptions, type TrustFlags } from './policy.js';
import { fromLog } from './verify.js';

const FETCH_TIMEOUT_MS = 30_000;

export async function verifiedCertificate(
  target: string,
  flags: TrustFlags & { server?: string },
  command: Command,
): Promise<{ verdict: Verdict; certificate: Certificate | null }> {
  const config = configOf(command);
  if (flags.server !== undefined) {
    if (!CERTIFICATE_ID_PATTERN.test(target)) throw new EphemeraError('CLI_USAGE', `with --server, the certificate is its id (cert_…), not ${target}`);
    const bytes = await fetchCertificate(serverUrl(flags.server), target);
    const verdict = await verifyCertificateText(bytes, readerVerifyOptions(command, config, flags));
    return { verdict, certificate: verdict.valid ? (parseStrictJson(Buffer.from(bytes).toString('utf8')) as Certificate) : null };
  }
  if (!existsSync(target) && CERTIFICATE_ID_PATTERN.test(target)) {
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

/** GET /certificate/:id, at most the verifier's byte limit, in bounded time; a coded error answer keeps its code. */
async function fetchCertificate(server: URL, id: string): Promise<Uint8Array> {
  const url = new URL(`/certificate/${id}`, server);
  const unavailable = (why: string, cause?: unknown) =>
    new EphemeraError('CLI_CERTIFICATE_UNAVAILABLE', `${url.href}: ${why}`, cause === undefined ? {} : { cause });
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
  } catch (cause) {
    throw unavailable('no answer', cause);
  }
  let body: Buffer;
  try {
    body = Buffer.from(
      await readBoundedBody(response, DEFAULT_VERIFY_LIMITS.maxBytes, () => {
        throw unavailable(`answered more than ${DEFAULT_VERIFY_LIMITS.maxBytes} bytes (the verifier's limit)`);
      }),
    );
  } catch (cause) {
    throw cause instanceof EphemeraError ? cause : unavailable('the answer was cut', cause);
  }
  if (response.status === 404) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `${url.href}: no such certificate there`);
  if (!response.ok) throw unavailable(`HTTP ${response.status}${errorCodeOf(body)}`);
  return new Uint8Array(body);
}

function errorCodeOf(body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? ` ${terminalSafe(code.slice(0, 64))}` : '';
  } catch {
    return '';
  }
}
