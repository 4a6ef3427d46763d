/**
 * ephemera submit --server URL --dataset FILE --sandbox FILE [--format F] [--allow-empty] [--out CERT.json]
 *                 [--rows input|none|sorted:KEY] [--row-secret FILE]
 *                 [--seal-sandbox] [--api-key-env NAME] [--result-key KEYFILE] [--trust-key K]…
 *                 [--trust-compose-hash H]… [--max-key-age 24h] [--json] [--quiet]
 * A sealed submission (docs/sealed.md): fetch the server's key document,
 * check its attestation against the reader's trust (as `verify` builds it)
 * and its age, and only then encrypt the dataset, the API key and
 * (--seal-sandbox) the sandbox to that key and send them. What was verified
 * is printed on stderr before anything is sent; when anything fails, nothing
 * is sent and the reason is printed. The answer's certificate is then fetched
 * and verified like `verify` would, and must name the key statement sealed to.
 * Secrets: the API key comes from an environment variable (never a flag: shell
 * history, `ps`), and so does the execute token (EPHEMERA_EXECUTE_TOKEN).
 * Exit as `run`: 0 certified and completed, 3 certified but failed, 4 the
 * certificate's signer is not trusted, 1 invalid, an error its code's exit.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { errorInfo, isErrorCode } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { parseStrictJson } from '../events/index.js';
import { keyFingerprint, verifyCertificateText, DEFAULT_VERIFY_LIMITS, type Certificate, type Verdict } from '../verify/index.js';
import { type KeyPolicy, submitSealed, type VerifiedKey } from '../seal/index.js';
import { nodeSealCrypto } from '../seal/node-aead.js';
import { configOf, datasetFormatOf, EXIT, note, printJson, progressReporter } from './common.js';
import { keepCertificate, readBoundedBody, readInput } from './files.js';
import { readResultKeyFile } from './result-key-file.js';
import { readerVerifyOptions, type TrustFlags } from './policy.js';
import { printCertificateSummary, readSandbox } from './summary.js';
import { reserveRowSecret, type RowSecretFile } from './row-secret.js';
import type { RowsRequest } from '../seal/index.js';

export interface SubmitOptions extends TrustFlags {
  server: string;
  dataset: string;
  sandbox: string;
  format?: string;
  allowEmpty?: boolean;
  rows?: RowsRequest;
  rowSecret?: string;
  out?: string;
  sealSandbox?: boolean;
  apiKeyEnv?: string;
  resultKey?: string;
  maxKeyAge?: number;
  quiet?: boolean;
  json?: boolean;
}

const DEFAULT_API_KEY_ENV = 'ANTHROPIC_API_KEY';
const CERTIFICATE_TIMEOUT_MS = 30_000;
/** A certificate not projected yet where we ask (a proxy in front of several nodes): asked again, this often. */
const CERTIFICATE_ATTEMPTS = 5;

/** The `submit` command (declared in cli.ts); its exit code. */
export async function submit(options: SubmitOptions, command: Command): Promise<number> {
  const server = serverUrl(options.server);
  checkOut(options.out);
  const secretFile = reserveRowSecret(options.rowSecret, options.rows, options.out);
  try {
    return await submitTo(server, options, command, secretFile);
  } finally {
    secretFile.release();
  }
}

async function submitTo(server: string, options: SubmitOptions, command: Command, secretFile: RowSecretFile): Promise<number> {
  const format = datasetFormatOf(options.dataset, options.format);
  const progress = progressReporter(options.quiet);
  const config = configOf(command);
  const verifyOptions = readerVerifyOptions(command, config, options);
  const policy: KeyPolicy = { ...verifyOptions, ...(options.maxKeyAge === undefined ? {} : { maxKeyAgeMs: options.maxKeyAge }) };
  const sandbox = readSandbox(options.sandbox);
  if (sandbox === null || typeof sandbox !== 'object' || Array.isArray(sandbox))
    throw new EphemeraError('REQUEST_INVALID', `${options.sandbox} is not a sandbox description (a JSON object)`);
  const apiKey = takeApiKey(sandbox as Record<string, unknown>, options.apiKeyEnv);
  const resultRecipient = options.resultKey === undefined ? null : readResultKeyFile(options.resultKey).public_key;
  const dataset = readInput(options.dataset, 'dataset');
  progress(`read the dataset (${dataset.length} bytes); fetching the key of ${server}`);

  let sent: Awaited<ReturnType<typeof submitSealed>>;
  try {
    sent = await submitSealed({
      server,
      token: config.executeToken ?? undefined,
      policy,
      input: {
        dataset,
        format,
        allowEmpty: options.allowEmpty === true,
        ...(options.rows === undefined ? {} : { rows: options.rows }),
        sandbox: sandbox as Record<string, unknown>,
        sealSandbox: options.sealSandbox === true,
        apiKey,
        resultRecipient,
      },
      crypto: nodeSealCrypto,
      // Printed before anything is sent: what the user is about to trust with their data.
      onVerified: (verified) => {
        if (!options.quiet) note(describeVerifiedKey(verified));
        progress(`sealing ${dataset.length} bytes${apiKey ? ', the API key' : ''}${options.sealSandbox ? ', the sandbox' : ''} to it and sending`);
      },
    });
  } catch (error) {
    if (isEphemeraError(error) && error.code === 'SEAL_KEY_UNTRUSTED')
      note(
        `nothing was sent. To trust this server, pin its attestor key with a fingerprint you got from its operator: ephemera trust pin ${server} --expect-fingerprint sha256:… (or --trust-key)`,
      );
    else if (isEphemeraError(error) && error.code.startsWith('SEAL_') && error.code !== 'SEAL_SUBMISSION_MISMATCH') note('nothing was sent.');
    throw error;
  } finally {
    dataset.fill(0);
  }
  if (sent.status !== 200) throw answerError(sent.status, sent.body, server);
  const answer = sent.body as { certificate_id?: unknown; certificate_json_url?: unknown };
  if (typeof answer?.certificate_json_url !== 'string' || !/^\/certificate\/[A-Za-z0-9_]+$/.test(answer.certificate_json_url))
    throw new EphemeraError('INTERNAL', `${server} answered 200 without a certificate link`);

  // A careful user verifies what came back rather than the server's word: the certificate itself, under their trust.
  progress(`fetching and verifying the certificate ${String(answer.certificate_id)}`);
  const bytes = await fetchCertificate(new URL(answer.certificate_json_url, server));
  const verdict = await verifyCertificateText(bytes, verifyOptions);
  if (!verdict.valid) {
    if (options.json) printJson({ ...answer, verification: verdictSummary(verdict) });
    note(`error ${verdict.failure?.code}: the certificate ${server} returned does not verify (at ${verdict.failure?.field}); nothing in it can be relied on`);
    return EXIT.invalid;
  }
  const certificate = parseStrictJson(new TextDecoder().decode(bytes)) as Certificate;
  const submission = certificate.dataset.submission;
  if (submission?.key_statement_hash !== sent.statementHash)
    throw new EphemeraError(
      'SEAL_SUBMISSION_MISMATCH',
      `the certificate does not say the input was sealed to key statement ${sent.statementHash} (it says ${submission?.key_statement_hash ?? 'plain input'})`,
    );
  // The secret was derived from this request's HPKE context (docs/row-proofs.md §7): only this process has it.
  if (certificate.dataset.rows) secretFile.write(Buffer.from(sent.rowSecret).toString('hex'));
  sent.rowSecret.fill(0);
  const kept = keepCertificate(new TextDecoder().decode(bytes), certificate.certificate_id, options.out, config.dataDir);
  if (options.json)
    printJson({
      ...answer,
      key: { statement_hash: sent.statementHash, node: sent.verified.document.statement.node, trust: sent.verified.trust },
      verification: verdictSummary(verdict),
      certificate_file: kept.path,
      ...(kept.error ? { out_error: { code: kept.error.code, message: kept.error.message } } : {}),
    });
  else {
    printCertificateSummary(certificate, verdict, kept.path, options.resultKey);
    process.stdout.write(`input       sealed to key statement ${sent.statementHash} (the certificate names it)\n`);
    process.stdout.write(`page        ${new URL(`/c/${certificate.certificate_id}`, server)}\n`);
  }
  if (kept.error) note(`error ${kept.error.code}: ${kept.error.message}`);
  if (kept.error) return errorInfo(kept.error.code).exit;
  if (verdict.status === 'untrusted') return EXIT.untrusted;
  return certificate.status === 'completed' ? EXIT.ok : EXIT.computationFailed;
}

/** What the client checked, in the words a user can compare with what they expect. */
export function describeVerifiedKey(verified: VerifiedKey): string {
  const { statement, statement_hash: hash } = verified.document;
  const tee = statement.tee;
  const basis =
    tee.type === 'simulated'
      ? `simulated key ${keyFingerprint(tee.public_key)} (${verified.trust.basis === 'pinned-key' ? 'pinned' : "this machine's own"}; not hardware-backed)`
      : `TDX, compose hash ${tee.compose_hash ?? 'unknown'}, under your policy`;
  return [
    `verified the server's key before sending anything:`,
    `  key statement ${hash}, node ${statement.node}, suite ${statement.suite}`,
    `  attested by ${basis}`,
    `  valid from ${statement.not_before} until ${statement.not_after}`,
  ].join('\n');
}

/** The API key is sealed, never sent in the clear: from the environment (or the sandbox file), and only for a sandbox that calls a model. */
function takeApiKey(sandbox: Record<string, unknown>, envName: string | undefined): string | null {
  const llm = sandbox.llm as Record<string, unknown> | undefined;
  if (llm === null || typeof llm !== 'object') {
    if (envName !== undefined) throw new EphemeraError('CLI_USAGE', '--api-key-env: the sandbox calls no model (it has no "llm"), so there is no key to send');
    return null;
  }
  // A key written into the sandbox file moves inside the ciphertext: the header (sent authenticated, not hidden) never holds one.
  const inFile = typeof llm.api_key === 'string' ? llm.api_key : null;
  delete llm.api_key;
  const name = envName ?? DEFAULT_API_KEY_ENV;
  const fromEnv = process.env[name];
  if (envName !== undefined && !fromEnv) throw new EphemeraError('CLI_USAGE', `--api-key-env ${name}: that variable is not set`);
  return fromEnv || inFile;
}

/** The server's origin; a path, query or fragment is refused rather than dropped (the routes live at its root). */
function serverUrl(value: string): string {
  const example = 'an http(s) URL such as http://127.0.0.1:8080';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EphemeraError('CLI_USAGE', `--server ${value} is not a URL: give ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EphemeraError('CLI_USAGE', `--server ${value}: give ${example}`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    throw new EphemeraError('CLI_USAGE', `--server ${value}: give the server's origin only (${url.origin}); its routes are at its root`);
  return url.origin;
}

/** --out is checked before anything is sent: the run happens once, so a certificate with nowhere to go is found out first. */
function checkOut(out: string | undefined): void {
  if (out === undefined) return;
  try {
    accessSync(dirname(resolve(out)), constants.W_OK);
  } catch (cause) {
    throw new EphemeraError('CLI_OUT_UNWRITABLE', `cannot write ${out} (${(cause as NodeJS.ErrnoException).code ?? 'error'}): nothing was sent`, { cause });
  }
}

function answerError(status: number, body: unknown, server: string): EphemeraError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === 'string' && isErrorCode(error.code) ? error.code : 'INTERNAL';
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  return new EphemeraError(code, `${message} (answered by ${server})`);
}

async function fetchCertificate(url: URL): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(CERTIFICATE_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
    } catch (cause) {
      throw new EphemeraError('CLI_CERTIFICATE_UNAVAILABLE', `could not fetch ${url}`, { cause });
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    if (response.status === 404 && Number.isFinite(retryAfter) && attempt < CERTIFICATE_ATTEMPTS) {
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(retryAfter, 0.2), 2) * 1000));
      continue;
    }
    if (!response.ok) throw new EphemeraError('CLI_CERTIFICATE_UNAVAILABLE', `${url} answered HTTP ${response.status}`);
    return readBoundedBody(response, DEFAULT_VERIFY_LIMITS.maxBytes, () => {
      throw new EphemeraError('CLI_CERTIFICATE_UNAVAILABLE', `${url} is larger than ${DEFAULT_VERIFY_LIMITS.maxBytes} bytes`);
    });
  }
}

function verdictSummary(verdict: Verdict) {
  return { valid: verdict.valid, trusted: verdict.trusted, status: verdict.status, key: verdict.key, failure: verdict.failure };
}
