/**
 * ephemera verify CERT.json|CERT_ID [--trust-key K]… [--trusted-build FILE|git:REV]… [--at TIME] [--max-events N] [--max-bytes N]
 *                 [--trusted-compose-hashes H,…] [--allowed-tcb-statuses S,…] [--json]
 *                 [--require-log] [--log-key VKEY]… [--witness VKEY]… [--witnesses-required K]
 *                 [--refresh [--server URL] [--evidence-dir DIR]]
 * A file is verified offline, read as a stream (no log, no network); an id
 * is read from the configured log first. A simulated certificate is trusted
 * only for a key pinned with --trust-key, EPHEMERA_TRUSTED_KEYS or the trust
 * file (`ephemera trust`), or the key of this machine's own data directory
 * (for a file: only a directory named with --data-dir or EPHEMERA_DATA_DIR),
 * which the output names as such. --at fixes the verification time for TDX
 * collateral (RFC 3339 or seconds); default: the sealing time the
 * certificate commits to.
 * A certificate's `transparency` member is checked under the log policy
 * (docs/transparency.md §12); --refresh then compares its checkpoint with the
 * log's latest (verify-refresh.ts).
 * Exit: 0 valid and trusted, 4 valid but untrusted, 1 invalid (or a split view), 2 unusable input.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { isTimestamp } from '../events/index.js';
import { join } from 'node:path';
import { SIMULATED_KEY_FILE, readSimulatedPublicKey } from '../attest/simulated.js';
import { readerVerifyOptions, trustedBuilds, type TrustFlags } from './policy.js';
import { findServer } from './discovery.js';
import { verifyOptionsFor } from '../verify-options.js';
import { DEFAULT_VERIFY_LIMITS, verifyCertificate, type Verdict, type VerifyOptions } from '../verify/index.js';
import { verifyCertificateFile } from '../verify/node.js';
import { configOf, EXIT, existingDataDir, note, printJson, terminalSafe } from './common.js';
import { rowsLine } from './summary.js';

export interface VerifyFlags extends TrustFlags {
  trustKey?: string[];
  at?: string;
  maxEvents?: number;
  maxBytes?: number;
  json?: boolean;
  refresh?: boolean;
  server?: string;
  evidenceDir?: string;
}

/** The `verify` command (declared in cli.ts); its exit code. */
export async function verify(target: string, options: VerifyFlags, command: Command): Promise<number> {
  const config = configOf(command);
  const atSeconds = parseAt(options.at);
  const limits = { maxEvents: options.maxEvents ?? DEFAULT_VERIFY_LIMITS.maxEvents, maxBytes: options.maxBytes ?? DEFAULT_VERIFY_LIMITS.maxBytes };
  const file = isFile(target);
  const builds = await trustedBuilds(options.trustedBuild ?? []);
  const verifyOptions: VerifyOptions = { ...readerVerifyOptions(command, config, options, { fromOwnLog: !file, atSeconds, builds }), limits };
  const verdict = file ? await verifyCertificateFile(target, verifyOptions) : await verifyCertificate(await fromLog(target, config), verifyOptions);
  if (options.refresh) await refresh(verdict, options, config);
  if (options.json) printJson(verdict);
  else process.stdout.write(formatVerdict(verdict, verdict.trust.basis === 'local-key' ? join(config.dataDir, SIMULATED_KEY_FILE) : undefined));
  return exitCodeOf(verdict);
}

/**
 * --refresh: once the certificate and its log entry hold, the log's latest checkpoint must contain them. A split view
 * or a rewritten history (two notes the log key signed) makes the verdict invalid (exit 1) and says so loudly on
 * stderr; any other failure to refresh fails the command with its code and leaves the certificate's verdict unsaid.
 */
async function refresh(verdict: Verdict, options: VerifyFlags, config: Config): Promise<void> {
  const logged = verdict.transparency;
  if (!verdict.valid) return;
  if (!logged) {
    note(
      `--refresh: the certificate carries no transparency member (the file was written before the log took it in): nothing to compare with the log; ` +
        `its server's GET /certificate/${verdict.certificate_id ?? '<id>'} serves it with the member once the log has integrated it`,
    );
    return;
  }
  const server = options.server ?? (await findServer(config.dataDir)).url;
  if (!server) throw new EphemeraError('CLI_SERVER_NOT_FOUND', `--refresh: no ephemera serve answers for ${config.dataDir}: give --server URL`);
  const { refreshFromLog } = await import('./verify-refresh.js');
  try {
    const { fresh } = await refreshFromLog(logged, server, options.evidenceDir ?? process.cwd());
    verdict.checks.push({
      name: 'transparency.refresh',
      status: 'pass',
      detail:
        fresh.relation === 'same'
          ? `the log's latest checkpoint is this one (${fresh.fresh.size} leaves)`
          : `the log's latest checkpoint (${fresh.fresh.size} leaves) contains this one (${fresh.old.size})`,
    });
  } catch (error) {
    // Only two checkpoints both signed by the log key (a split view, a rewritten history: kept as evidence) speak
    // against the certificate. Anything else (no answer, a checkpoint the log did not sign, tiles that do not hash to
    // it) is what the server answered, which anyone on the path may forge: the command failed, not the certificate.
    const evidence = isEphemeraError(error) && Array.isArray(error.fields.evidence) ? (error.fields.evidence as string[]) : [];
    if (!isEphemeraError(error) || evidence.length === 0) throw error;
    verdict.checks.push({ name: 'transparency.refresh', status: 'fail', code: error.code, field: 'transparency.checkpoint', detail: error.message });
    Object.assign(verdict, {
      valid: false,
      trusted: false,
      status: 'invalid',
      trust: { basis: null, reason: 'the certificate is not valid' },
      failure: { code: error.code, field: 'transparency.checkpoint', message: error.message },
    });
    if (evidence.length > 0) {
      note(
        `\n!!! ${error.code === 'TLOG_SPLIT_VIEW' ? 'SPLIT VIEW' : 'LOG INCONSISTENCY'}: ${error.message}.\n` +
          `!!! The log ${logged.origin} signed both checkpoints with its key; both are kept as evidence:\n${evidence.map((f) => `!!!   ${f}`).join('\n')}\n` +
          '!!! Do not rely on this log; report the evidence to its witnesses and operator.\n',
      );
    }
  }
}

export function exitCodeOf(verdict: Verdict): number {
  return verdict.status === 'trusted' ? EXIT.ok : verdict.status === 'untrusted' ? EXIT.untrusted : EXIT.invalid;
}

function isFile(target: string): boolean {
  let regular: boolean;
  try {
    regular = statSync(target).isFile();
  } catch {
    if (/[/\\]|\.json$/.test(target)) throw new EphemeraError('CLI_FILE_NOT_FOUND', `${target}: no such file`);
    return false;
  }
  if (statSync(target).isDirectory()) throw new EphemeraError('CLI_FILE_UNREADABLE', `${target} is a directory, not a certificate file`);
  if (!regular) return false;
  try {
    accessSync(target, constants.R_OK);
  } catch {
    throw new EphemeraError('CLI_FILE_UNREADABLE', `${target}: cannot be read (permissions)`);
  }
  return true;
}

/**
 * A certificate re-derived from this data directory's log, verified here under
 * the local settings and this directory's own key: what `replay` reports when
 * it reads through a running serve, whose own verdict it does not take.
 */
export async function verifyFromLog(id: string, config: Config): Promise<{ verdict: Verdict; events: number }> {
  const certificate = (await fromLog(id, config)) as { events: unknown[] };
  const localKey = readSimulatedPublicKey(config.dataDir);
  return { verdict: await verifyCertificate(certificate, verifyOptionsFor(config, {}, localKey ? [localKey] : [])), events: certificate.events.length };
}

export async function fromLog(id: string, config: Config): Promise<unknown> {
  if (config.log === 'sqlite') existingDataDir(config);
  // The log's stores (SQLite, Kafka, ClickHouse) only for an id: a file is verified without them.
  const { createServices } = await import('../services.js');
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
  if (/^\d{1,12}$/.test(value)) return Number(value);
  if (isTimestamp(value)) return Date.parse(value) / 1000;
  throw new EphemeraError('CLI_USAGE', '--at takes seconds since the epoch or an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SS.mmmZ)');
}

/** "plain", or "sealed to key statement sha256:… (dataset, api_key)": what was inside the ciphertext. */
function inputLine(input: NonNullable<Verdict['input']>): string {
  return input.mode === 'plain' ? 'plain' : `sealed to key statement ${input.key_statement_hash} (${input.sealed.join(', ')})`;
}

/** "leaf 5 of 8 in <origin>, cosigned by w1, w2; log key attested: …", or why the log is not trusted. */
function transparencyLine(t: NonNullable<Verdict['transparency']>): string {
  const cosigned = t.cosigned_by.length > 0 ? `cosigned by ${t.cosigned_by.join(', ')}` : 'no cosignature you required';
  const others = t.unverified_signers.length > 0 ? ` (also signed by ${t.unverified_signers.join(', ')}, not checked: name them with --witness)` : '';
  return `leaf ${t.leaf_index} of ${t.tree_size} in ${t.origin}, ${cosigned}${others}; ${t.trusted ? t.trust : `NOT TRUSTED: ${t.trust}`}`;
}

export function formatVerdict(verdict: Verdict, localKeyFile?: string): string {
  const mark = { pass: 'ok  ', fail: 'FAIL', skipped: '--  ' } as const;
  const headline = verdict.status === 'trusted' ? 'VALID, TRUSTED' : verdict.status === 'untrusted' ? 'VALID, NOT TRUSTED' : 'INVALID';
  const lines = [
    `certificate ${verdict.certificate_id ?? '(unknown)'}: ${headline}${verdict.tee ? ` (${verdict.tee} attestation${verdict.hardware_backed ? ', hardware-backed' : ''}, format v${verdict.format_version})` : ''}`,
  ];
  for (const check of verdict.checks) {
    const detail = check.status === 'fail' ? (check.detail ? `  — ${check.detail}` : '') : check.detail ? `  ${check.detail}` : '';
    lines.push(`  ${mark[check.status]} ${check.name}${check.code ? `  ${check.code}` : ''}${check.field ? ` at ${check.field}` : ''}${detail}`);
  }
  if (verdict.key) lines.push(`  key   ${verdict.key.fingerprint} (ed25519 ${verdict.key.public_key})`);
  if (verdict.valid) lines.push(`  trust ${verdict.trust.reason}${localKeyFile ? ` (${localKeyFile})` : ''}`);
  if (verdict.input) lines.push(`  input ${inputLine(verdict.input)}`);
  const rows = rowsLine(verdict.rows);
  if (rows) lines.push(`  rows  ${rows}`);
  if (verdict.sealed_result) lines.push(`  result sealed to ${verdict.sealed_result.fingerprint} (x25519 ${verdict.sealed_result.recipient})`);
  if (verdict.status === 'untrusted' && verdict.key)
    lines.push(`        to trust it: ephemera trust add ${verdict.key.fingerprint}   (or --trust-key ${verdict.key.fingerprint})`);
  if (verdict.transparency) lines.push(`  log   ${transparencyLine(verdict.transparency)}`);
  if (verdict.transparency?.trust.startsWith('TLOG_LOG_KEY_UNTRUSTED'))
    lines.push(`        to trust the log's key: ephemera trust add ${verdict.transparency.log_key}   (or --log-key ${verdict.transparency.log_key})`);
  if (verdict.build) lines.push(`  build ${buildLine(verdict.build)}${verdict.status === 'untrusted' ? ' (as recorded by a signer you do not trust)' : ''}`);
  if (verdict.notice) lines.push(`  note  ${verdict.notice}`);
  // Names and details come from the certificate (tool names, origins, …): no escape sequence reaches the terminal,
  // and no line break, which could print a line that looks like the verdict's own.
  return `${lines.map(oneLine).join('\n')}\n`;
}

/** One line of the verdict, terminal-safe, with any line break, tab, line or paragraph separator or bidi control escaped. */
function oneLine(line: string): string {
  return terminalSafe(line).replace(/[\n\t\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** "from commit X, reproducible: yes (bundle sha256:…), measured by the quote; sandbox tools: the build's" (docs/reproducible-builds.md §5). */
function buildLine(build: NonNullable<Verdict['build']>): string {
  const reproducible = build.reproducible ? `yes (bundle ${build.bundle_sha256})` : 'no bundle hash in the build-info';
  const measured = build.measured ? 'measured by the quote (compose hash)' : 'not measured (no TDX quote)';
  const tools = build.runtime_matches ? "the build's" : `NOT the build's: ${build.differences.join('; ')}`;
  return `${build.commit ? `from commit ${build.commit}` : 'of no known commit'}, reproducible: ${reproducible}, ${measured}; sandbox tools: ${tools}`;
}
