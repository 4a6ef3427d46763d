/**
 * The `ephemera` command, on commander. Every command, its options and help
 * are declared here; what it does lives in src/cli/<name>.ts, imported only
 * when it runs, so `--help`, `verify` or `trust` never load the HTTP server,
 * ClickHouse, Kafka or the SDKs that other commands need. Parse errors
 * (unknown option, missing argument, a value out of range) are CLI_USAGE,
 * exit 2, reported like every other error (as JSON on stdout with --json).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ERROR_REGISTRY, EXIT } from './error-codes.js';
import { EphemeraError } from './errors.js';
import { addConfigOptions, DATASET_FORMATS, integer, jsonOption, packageVersion, reportError } from './cli/common.js';
import { trustFilePath, WELL_KNOWN_KEY_PATH } from './cli/trust-store.js';
import { DEFAULT_VERIFY_LIMITS } from './verify/limits.js';
import { EXECUTOR_PATTERN, isoOrThrow, MAX_PAGE, SORTS } from './projections/search/query.js';
// Types only (erased): the modules themselves load when their command runs.
import type { RunOptions } from './cli/run.js';
import type { WatchOptions } from './cli/watch.js';
import type { VerifyFlags } from './cli/verify.js';
import type { CertsOptions } from './cli/projections.js';
import type { SubmitOptions } from './cli/submit.js';
import type { OpenOptions } from './cli/open.js';
import type { HistoryFlags } from './cli/history.js';
import type { WitnessOptions } from './cli/witness.js';
import type { ProveOptions } from './cli/prove.js';
import type { VerifyRowsOptions } from './cli/verify-rows.js';
import type { BuildInfoOptions } from './cli/build-info.js';

type JsonFlag = { json?: boolean };

const EXIT_CODES = `
Exit codes:
  ${EXIT.ok}  success (run: certified and the computation exited 0; verify, history: valid and trusted)
  ${EXIT.internal}  internal error, no certificate (verify: the certificate is invalid; history: broken)
  ${EXIT.badInput}  bad input: unknown option or command, bad value, missing argument, missing or unreadable file,
     run: the certificate could not be written to --out (it is kept, the message says where)
  ${EXIT.computationFailed}  run: certified, but the computation failed
  ${EXIT.untrusted}  verify, history: valid, but signed by a key you do not trust
Every error code and its exit code: docs/errors.md.`;

function program(): Command {
  const root = new Command('ephemera')
    .description('Verifiable one-time computation over private data: load once, run once, delete, keep the proof.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpCommand('help [command]', 'help for a command')
    .showSuggestionAfterError()
    // Errors are ours to report (one format, one code); help and --version still print as usual.
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  addConfigOptions(root);
  declareRun(root);
  declareWatch(root);
  declareVerify(root);
  declareHistory(root);
  declareSealed(root);
  declareRowProofs(root);
  declareTrust(root);
  declareReadSide(root);
  declareBuildInfo(root);
  declareServe(root);
  declareWitness(root);
  root.addHelpText('after', EXIT_CODES);
  for (const command of allCommands(root))
    if (command !== root) command.addHelpText('after', `\nConfiguration flags (--data-dir, …): ephemera --help.\n${EXIT_CODES}`);
  return root;
}

function declareRun(program: Command): void {
  program
    .command('run')
    .description('run a sandbox once over a dataset, in this process, and issue its certificate')
    .requiredOption('--dataset <file>', 'the dataset (read into memory, never written anywhere)')
    .requiredOption('--sandbox <file>', 'the sandbox JSON (a script may be {"file": "path"}, relative to it)')
    .addOption(new Option('--format <format>', "the dataset's format (default: the file's extension)").choices(DATASET_FORMATS))
    .option('--out <file>', 'also write the certificate there (if that fails it is kept in the data directory)')
    .option('--allow-empty', 'run even when the dataset is empty (refused with DATASET_EMPTY otherwise)')
    .option('--rows <how>', 'how the records are committed for row proofs: input (default), none, or sorted:<key> (docs/row-proofs.md)', parseRows)
    .option('--row-secret <file>', "write the run's row secret there (mode 0600, never overwritten): ephemera prove needs it")
    .option('--quiet', 'no progress on stderr (by default each step is reported there as the log acknowledges it)')
    // Progress is the default now; --progress (which asked for it) is still accepted.
    .addOption(new Option('--progress').hideHelp())
    .addOption(jsonOption())
    .addHelpText('after', '\nExit: 0 completed, 3 certified but the computation failed, 2 bad input or --out unwritable, 1 internal error.')
    .action(async (options: RunOptions, command: Command) => {
      const { run } = await import('./cli/run.js');
      process.exitCode = await run(options, command);
    });
}

function declareWatch(program: Command): void {
  program
    .command('watch')
    .description('follow a run on a server as it happens (POST /execute with Prefer: respond-async gives its id), to its certificate')
    .argument('<execution-id>', 'the execution id (a ULID)')
    .option('--server <url>', "the server's base URL (default: the ephemera serve of the data directory)")
    .option('--quiet', 'no steps on stderr, only the outcome')
    .addOption(jsonOption())
    .addHelpText('after', "\nExit: 0 certified and completed, 3 certified but the computation failed, a refused or aborted run its code's exit, 1 abandoned.")
    .action(async (id: string, options: WatchOptions, command: Command) => {
      const { watch } = await import('./cli/watch.js');
      process.exitCode = await watch(id, options, command);
    });
}

function declareVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a certificate file offline, or a certificate of the log by id')
    .argument('<certificate>', 'CERT.json, or a certificate id (cert_…) read from the configured log')
    .option('--trust-key <key>', 'trust certificates signed by this key or fingerprint (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option(
      '--trusted-build <build>',
      'trust this build: a build-info file (ephemera build-info --json), or git:REV for a commit of this checkout; its sandbox tools must be the ones that ran (repeatable)',
      repeatable,
    )
    .option('--at <time>', "verification time for TDX collateral: seconds or RFC 3339 UTC (default: the certificate's sealing time)")
    .option('--max-events <n>', `refuse certificates with more events (default ${DEFAULT_VERIFY_LIMITS.maxEvents})`, integer(1, Number.MAX_SAFE_INTEGER))
    .option('--max-bytes <n>', `refuse certificate files larger than this (default ${DEFAULT_VERIFY_LIMITS.maxBytes})`, integer(1, Number.MAX_SAFE_INTEGER))
    .option('--require-log', 'fail a certificate that carries no inclusion proof in the transparency log')
    .option('--log-key <vkey>', 'trust checkpoints signed by this log key (origin+keyid+key) without its attestation (repeatable)', repeatable)
    .option('--witness <vkey>', "a witness's cosigner key whose cosignature the checkpoint must carry (repeatable)", repeatable)
    .option('--witnesses-required <k>', 'how many of the --witness keys must have cosigned (default: all)', integer(0, 1000))
    .option('--refresh', "fetch the log's latest checkpoint and check that it contains the certificate's (a split view fails loudly)")
    .option('--server <url>', 'the log for --refresh (default: the ephemera serve of the data directory)')
    .option('--evidence-dir <dir>', 'where --refresh keeps both checkpoints of a split view (default: the working directory)')
    .addOption(jsonOption())
    .addHelpText('after', '\nExit: 0 valid and trusted, 4 valid but not trusted, 1 invalid (or a split view), 2 unusable input.')
    .action(async (target: string, options: VerifyFlags, command: Command) => {
      const { verify } = await import('./cli/verify.js');
      process.exitCode = await verify(target, options, command);
    });
}

const repeatable = (v: string, all: string[] = []) => [...all, v];

/** A fingerprint's history in the transparency log (docs/transparency.md §14). */
function declareHistory(program: Command): void {
  program
    .command('history')
    .description("show and check a computation's history in the transparency log: every run of its fingerprint, chained, each proved")
    .argument('<fingerprint|certificate>', 'a fingerprint (sha256:…), or CERT.json: its fingerprint, and its own run must be in the history')
    .option('--server <url>', "the log's base URL (default: the ephemera serve of the data directory)")
    .option('--audit', 'also read every entry bundle of the log: each run names the last earlier run of its fingerprint (catches a sequencer that skipped one)')
    .option('--trust-key <key>', 'trust a log key attested by this simulated attestor key or fingerprint (repeatable; also the trust file)', repeatable)
    .option('--trust-compose-hash <hash>', 'trust a log key attested by a TDX server running this build (repeatable)', repeatable)
    .option('--log-key <vkey>', 'trust this log key (a note vkey, origin+keyid+key) without its attestation (repeatable)', repeatable)
    .option('--witness <vkey>', 'a witness whose cosignature counts (cosigner vkey; repeatable)', repeatable)
    .option('--witnesses-required <k>', 'how many of the --witness keys must have cosigned (default: all)', integer(0, 1000))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExit: 0 valid and trusted, 4 valid but the log key is not trusted (or too few witnesses), 1 broken (TLOG_HISTORY_BROKEN …), 2 unusable input.',
    )
    .action(async (target: string, options: HistoryFlags, command: Command) => {
      const { history } = await import('./cli/history.js');
      process.exitCode = await history(target, options, command);
    });
}

/** Sealed submissions (docs/sealed.md): submit, keygen, open. */
function declareSealed(program: Command): void {
  program
    .command('submit')
    .description("seal a dataset (and API key) to a server's attested key, after verifying it, and run it there")
    .requiredOption('--server <url>', "the server's base URL")
    .requiredOption('--dataset <file>', 'the dataset (encrypted before it leaves this machine)')
    .requiredOption('--sandbox <file>', 'the sandbox JSON (a script may be {"file": "path"}, relative to it)')
    .addOption(new Option('--format <format>', "the dataset's format (default: the file's extension)").choices(DATASET_FORMATS))
    .option('--allow-empty', 'run even when the dataset is empty')
    .option('--rows <how>', 'how the records are committed for row proofs: input (default), none, or sorted:<key> (docs/row-proofs.md)', parseRows)
    .option('--row-secret <file>', "write the run's row secret there (mode 0600, never overwritten): ephemera prove needs it")
    .option('--out <file>', 'also write the certificate there')
    .option('--seal-sandbox', 'encrypt the sandbox description too (by default it is sent in the clear, authenticated)')
    .option(
      '--api-key-env <name>',
      'the environment variable holding the LLM API key, sealed with the dataset (default ANTHROPIC_API_KEY, when the sandbox has "llm")',
    )
    .option('--result-key <keyfile>', 'seal the result to this key file (ephemera keygen); open it with ephemera open')
    .option('--trust-key <key>', 'trust a server whose simulated attestor has this key or fingerprint (repeatable; also the trust file)', repeatable)
    .option('--trust-compose-hash <hash>', 'trust a TDX server running this build (repeatable; also EPHEMERA_TRUSTED_COMPOSE_HASHES)', repeatable)
    .option('--max-key-age <duration>', 'refuse a key issued longer ago than this (30m, 24h, 7d; default 24h)', (v: string) => parseDurationOption(v))
    .option('--quiet', 'no progress on stderr (what was verified is still printed)')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      "\nNothing is sent unless the key document verifies and you trust it. The execute token, if the server needs one: EPHEMERA_EXECUTE_TOKEN.\nExit: 0 completed, 3 certified but the computation failed, 4 the server's key is not one you trust (nothing was sent) or the certificate it returned is signed by a key you do not trust, otherwise its error code's exit (docs/errors.md).",
    )
    .action(async (options: SubmitOptions, command: Command) => {
      const { submit } = await import('./cli/submit.js');
      process.exitCode = await submit(options, command);
    });
  program
    .command('keygen')
    .description('make a result key file: results sealed to it (submit --result-key) open only with it (ephemera open)')
    .requiredOption('--out <keyfile>', 'where to write it (mode 0600; never overwritten)')
    .addOption(jsonOption())
    .action(async (options: JsonFlag & { out: string }) => (await import('./cli/keygen.js')).keygen(options));
  program
    .command('open')
    .description("verify a certificate, then decrypt its sealed result with your key file and check it against the certificate's commitment")
    .argument('<certificate>', 'CERT.json')
    .requiredOption('--key <keyfile>', 'the result key file (ephemera keygen)')
    .option('--trust-key <key>', 'trust certificates signed by this key or fingerprint (repeatable)', repeatable)
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExit: 0 opened and trusted, 4 opened but signed by a key you do not trust, 1 the certificate is invalid, 2 bad input or not your key.',
    )
    .action(async (target: string, options: OpenOptions, command: Command) => {
      const { open } = await import('./cli/open.js');
      process.exitCode = await open(target, options, command);
    });
}

/** --rows: input, none or sorted:<key> (docs/row-proofs.md §6). */
function parseRows(value: string): 'input' | 'none' | { sorted_by: string } {
  if (value === 'input' || value === 'none') return value;
  const sorted = /^sorted:(.{1,256})$/s.exec(value);
  if (!sorted) throw new InvalidArgumentError('expected input, none or sorted:<key> (a csv header field or a json member name).');
  return { sorted_by: sorted[1]! };
}

/** Row proofs (docs/row-proofs.md §9): prove records of a run's input, check such a proof. */
function declareRowProofs(program: Command): void {
  const trust = (command: Command) =>
    command
      .option('--trust-key <key>', 'trust certificates signed by this key or fingerprint (repeatable; also the trust file)', repeatable)
      .option('--trust-compose-hash <hash>', 'trust a TDX certificate of this build (repeatable)', repeatable)
      .option('--require-log', 'fail a certificate that carries no inclusion proof in the transparency log')
      .option('--log-key <vkey>', 'trust checkpoints signed by this log key (origin+keyid+key) without its attestation (repeatable)', repeatable)
      .option('--witness <vkey>', "a witness's cosigner key whose cosignature the checkpoint must carry (repeatable)", repeatable)
      .option('--witnesses-required <k>', 'how many of the --witness keys must have cosigned (default: all)', integer(0, 1000))
      .option('--server <url>', 'fetch the certificate by its id from this server (verified here like a file)');
  trust(
    program
      .command('prove')
      .description("write a proof that records of a run's input were part of it, disclosing those records and nothing else of the dataset")
      .requiredOption('--certificate <certificate>', 'CERT.json, or a certificate id (cert_…) read from the configured log (or --server)')
      .requiredOption('--dataset <file>', "the dataset the run committed (its hash must be the certificate's)")
      .requiredOption('--secret <file>', 'the file holding the row secret the run returned (64 hex), or - for stdin; never the secret itself')
      .option('--rows <indexes>', 'the records to disclose, by index from 0 (the CSV header is 0): 17,42 or 100-120', rowIndexes)
      .option('--absent <key>', 'prove no record has this key (a commitment sorted by a key: run --rows sorted:<key>; repeatable)', repeatable)
      .option('--key <key>', 'disclose every record with this key (a commitment sorted by a key; repeatable)', repeatable),
  )
    .option('--out <file>', 'write the proof there (mode 0600) instead of stdout')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      "\nExit: 0 written, 1 the certificate is invalid or commits no rows, or a key given to --absent is present (ROWS_KEY_PRESENT), 2 the dataset or secret is not the certificate's (ROWS_DATASET_MISMATCH) or other bad input.",
    )
    .action(async (options: ProveOptions, command: Command) => {
      const { prove } = await import('./cli/prove.js');
      process.exitCode = await prove(options, command);
    });
  trust(
    program
      .command('verify-rows')
      .description('verify a certificate, then a row proof against its row commitment, and print the proven records (nothing else of the dataset)')
      .argument('<certificate>', 'CERT.json, or a certificate id (cert_…) read from the configured log (or --server)')
      .argument('<proof>', 'the proof file (ephemera prove)'),
  )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      "\nExit: 0 proven and trusted, 4 proven but the certificate's signer is not trusted, 1 the certificate or the proof is invalid, 2 unusable input.",
    )
    .action(async (target: string, proof: string, options: VerifyRowsOptions, command: Command) => {
      const { verifyRows } = await import('./cli/verify-rows.js');
      process.exitCode = await verifyRows(target, proof, options, command);
    });
}

/** --rows: indexes and ranges (17,42,100-120), each once, at most MAX_PROOF_ROWS (10,000) in all. */
/** --rows 17,42 or 100-120; repeated, the lists add up. */
function rowIndexes(value: string, previous: number[] = []): number[] {
  const indexes: number[] = [...previous];
  for (const part of value.split(',')) {
    const match = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(part.trim());
    const from = Number(match?.[1]);
    const to = match?.[2] === undefined ? from : Number(match[2]);
    if (!match || to < from) throw new InvalidArgumentError('expected record indexes from 0 and ranges, like 17,42 or 100-120.');
    if (indexes.length + (to - from) >= 10_000) throw new InvalidArgumentError('a proof discloses at most 10000 records.');
    for (let i = from; i <= to; i++) indexes.push(i);
  }
  if (new Set(indexes).size !== indexes.length) throw new InvalidArgumentError('an index is given twice.');
  return indexes;
}

/** --max-key-age: 90s, 30m, 24h, 7d, in ms. */
function parseDurationOption(value: string): number {
  const match = /^([1-9]\d{0,6})(s|m|h|d)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected a duration above zero like 30m, 24h or 7d (a server makes a new key every hour by default).');
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

function declareTrust(program: Command): void {
  const trust = program.command('trust').description('manage the keys whose simulated certificates `verify` calls trusted');
  trust.addHelpText('after', `\nThe trust file: ${trustFilePath()} (one key or fingerprint a line, # comments).`);
  trust
    .command('ls', { isDefault: true })
    .description('list the pinned keys')
    .addOption(jsonOption())
    .action(async (options: JsonFlag) => (await import('./cli/trust.js')).trustLs(options));
  trust
    .command('add')
    .description('pin a key (64 hex) or its fingerprint (sha256:<64 hex>)')
    .argument('<key>', 'an Ed25519 public key or its fingerprint')
    .option('--note <text>', 'why you trust it')
    .addOption(jsonOption())
    .action(async (target: string, options: JsonFlag & { note?: string }) => (await import('./cli/trust.js')).trustAdd(target, options));
  trust
    .command('rm')
    .description('unpin a key, by the key or its fingerprint (either removes both pins)')
    .argument('<key>', 'an Ed25519 public key or its fingerprint')
    .addOption(jsonOption())
    .action(async (target: string, options: JsonFlag) => (await import('./cli/trust.js')).trustRm(target, options));
  trust
    .command('pin')
    .description(`fetch a server's key from ${WELL_KNOWN_KEY_PATH} and pin it`)
    .argument('<url>', "the server's base URL")
    .option('--expect-fingerprint <fingerprint>', 'refuse unless the key has this fingerprint (obtained out of band)')
    .addOption(jsonOption())
    .action(async (target: string, options: JsonFlag & { expectFingerprint?: string }) => (await import('./cli/trust.js')).trustPin(target, options));
}

const rfc3339 = (field: string) => (value: string) => {
  try {
    return isoOrThrow(value, field);
  } catch {
    throw new InvalidArgumentError('expected an RFC 3339 time (2026-01-31 or 2026-01-31T12:00:00Z).');
  }
};
const hash = (value: string) => {
  if (!/^sha256:[0-9a-f]{64}$/.test(value)) throw new InvalidArgumentError('expected sha256:<64 lowercase hex>.');
  return value;
};

function executorValue(value: string): string {
  if (!EXECUTOR_PATTERN.test(value)) throw new InvalidArgumentError('expected sha256:<64 hex>, compose:<hex> or mrtd:<hex>');
  return value;
}

/** The read side (src/cli/projections.ts): migrate, projections rebuild, certs, stats, replay. */
function declareReadSide(program: Command): void {
  program
    .command('migrate')
    .description('apply the ClickHouse migrations (and create the Kafka topic when the log is Kafka)')
    .addOption(jsonOption())
    .action(async (options: JsonFlag, command: Command) => (await import('./cli/projections.js')).migrateCommand(options, command));

  const projections = program.command('projections').description('maintain the ClickHouse projections');
  projections
    .command('rebuild')
    .description(
      "truncate the projections and replay the log from the beginning: SQLite from position 0, Kafka from offset 0 (this node's consumer group reset); with serve stopped",
    )
    .addOption(jsonOption())
    .action(async (options: JsonFlag, command: Command) => (await import('./cli/projections.js')).rebuildProjections(options, command));
  projections
    .command('digest')
    .description(
      "one hash of this node's read model (events, certificates, tool and model uses): equal on nodes that projected the same log; with serve stopped",
    )
    .addOption(jsonOption())
    .action(async (options: JsonFlag, command: Command) => (await import('./cli/projections.js')).digestProjections(options, command));

  const tlog = program.command('tlog').description('the transparency log (docs/transparency.md)');
  tlog
    .command('check')
    .description("re-derive every leaf of the log from the event log's certificates and compare: the same entries, the same root")
    .addOption(jsonOption())
    .action(async (options: JsonFlag, command: Command) => (await import('./cli/tlog.js')).checkTlog(options, command));

  const certs = program.command('certs').description('search and browse the certificates (through ephemera serve when it runs)');
  for (const name of ['ls', 'search']) {
    certs
      .command(name)
      .description(name === 'ls' ? 'list certificates, newest first' : 'search certificates (ls with filters; the same options)')
      .addOption(
        new Option('--status <status>', 'completed, failed, aborted, running, or abandoned (open, its executor silent past the lease)').choices([
          'completed',
          'failed',
          'aborted',
          'running',
          'abandoned',
        ]),
      )
      .option('--executor <executor>', 'runs of this executor: its key fingerprint (sha256:…), or compose:…/mrtd:… under dstack', executorValue)
      .addOption(new Option('--input <how>', 'how the input arrived: sealed (ephemera submit) or plain').choices(['plain', 'sealed']))
      .addOption(new Option('--result <how>', 'results sealed to their owner, or in the clear').choices(['clear', 'sealed']))
      .option('--model <model>', 'runs that called this model')
      .option('--tool <tool>', 'runs that used this tool')
      .option('--dataset-hash <hash>', 'runs over this dataset (sha256:…)', hash)
      .option('--sandbox-hash <hash>', 'runs of this sandbox (sha256:…)', hash)
      .option('--fingerprint <hash>', 'runs with this fingerprint (sha256:…)', hash)
      .option('--from <time>', 'requested at or after (RFC 3339, inclusive)', rfc3339('from'))
      .option('--to <time>', 'requested before (RFC 3339, exclusive)', rfc3339('to'))
      .option('--q <text>', 'text in the result preview')
      .addOption(new Option('--sort <column>', 'sort column').choices(Object.keys(SORTS)))
      .addOption(new Option('--order <order>', 'sort order').choices(['asc', 'desc']))
      .option('--limit <n>', `page size, 1…${MAX_PAGE} (default 20)`, integer(1, MAX_PAGE))
      .option('--cursor <cursor>', 'the next page, from the previous page')
      .addOption(jsonOption())
      .addHelpText('after', '\n--json prints {"items": [...], "next_cursor": string|null}; the items have the fields of GET /certificates.')
      .action(async (options: CertsOptions, command: Command) => (await import('./cli/projections.js')).listCertificates(options, command));
  }

  program
    .command('stats')
    .description('figures over every certificate (through ephemera serve when it runs)')
    .option('--from <time>', 'runs requested at or after (RFC 3339, inclusive)', rfc3339('from'))
    .option('--to <time>', 'runs requested before (RFC 3339, exclusive)', rfc3339('to'))
    .addOption(jsonOption())
    .addHelpText('after', '\n--json prints {"executions_per_day", "durations", "tokens_by_model", "tool_usage", "failures"}, as the GET /analytics/* routes.')
    .action(async (options: JsonFlag & { from?: string; to?: string }, command: Command) => (await import('./cli/projections.js')).stats(options, command));

  program
    .command('replay')
    .description('re-derive a certificate from the log, verify it, and diff it against the projection')
    .argument('<certificate-id>', 'cert_…')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExit: 0 verified and the projection matches (or could not be compared: --json says projection_checked), 1 otherwise, 2 no such certificate.',
    )
    .action(async (id: string, options: JsonFlag, command: Command) => {
      const { replay } = await import('./cli/projections.js');
      process.exitCode = await replay(id, options, command);
    });
}

function declareBuildInfo(program: Command): void {
  program
    .command('build-info')
    .description("print what this commit's build measures to: bundle hash, image digest, dstack compose hash, sandbox runtime")
    .option('--bundle <tar>', 'the bundle `npm run bundle` built (its hash and manifest)')
    .option('--commit <rev>', "another commit's build-info, from git (default: the checkout's)")
    .option('--compose <file>', 'the app compose (default: deploy/dstack/app-compose.json)')
    .option('--runtime', "print this machine's runtime manifest (what deploy/image/runtime.json holds)")
    .option('--check-runtime', "fail unless this machine's sandbox tools are the ones deploy/image/runtime.json declares")
    .addOption(jsonOption())
    .addHelpText('after', '\n--json prints the build-info document that `ephemera verify --trusted-build FILE` reads (docs/reproducible-builds.md).')
    .action(async (options: BuildInfoOptions) => (await import('./cli/build-info.js')).buildInfo(options));
}

function declareServe(program: Command): void {
  program
    .command('serve')
    .description('serve the API and the web pages (read commands on the same data directory then go through it)')
    .addHelpText('after', '\nListen address: --port and --host (PORT, EPHEMERA_HOST). Writes serve.json in the data directory while it runs.')
    .action(async (_options: unknown, command: Command) => (await import('./cli/serve.js')).serve(command));
}

/** A C2SP tlog-witness (docs/transparency.md §13): `witness` serves (the default), `witness key` prints its key. */
function declareWitness(program: Command): void {
  const witness = program.command('witness').description('cosign the checkpoints of transparency logs that stay consistent (C2SP tlog-witness)');
  witness
    .command('serve', { isDefault: true })
    .description(
      'serve POST /add-checkpoint for the logs given, keeping state and key in --state (the default: `ephemera witness --origin …` runs it; its options: ephemera witness serve --help)',
    )
    .requiredOption('--origin <origin>', "a followed log's origin (repeat with --log-key for each log)", repeatable)
    .requiredOption('--log-key <vkey>', "that log's Ed25519 note vkey (paired with --origin in order)", repeatable)
    .requiredOption('--state <dir>', 'state.json, evidence/ and witness.key (created 0600 on first start)')
    .requiredOption('--listen <host:port>', 'the address to listen on (port 0: any free port)')
    .option('--name <name>', 'the name of a new witness key (default ephemera.witness/<16 hex of its public key hash>)')
    .addOption(jsonOption())
    .addHelpText('after', '\nPrints the cosigner vkey on start (with --json: {"url", "vkey", "origins"} on stdout). Stops on SIGINT/SIGTERM.')
    .action(async (options: WitnessOptions) => (await import('./cli/witness.js')).witness(options));
  witness
    .command('key')
    .description("print the witness's cosigner vkey (cosignature/v1)")
    .requiredOption('--state <dir>', "the witness's state directory")
    .addOption(jsonOption())
    .action(async (options: JsonFlag & { state: string }) => (await import('./cli/witness.js')).witnessKey(options));
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  process.exitCode = undefined;
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error, json);
    return reportError(error, json);
  }
}

/** --help and --version end with 0; a bare `ephemera` or `ephemera certs` printed its help as a usage error; anything else is CLI_USAGE. */
function commanderExit(error: CommanderError, json: boolean): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
  if (error.code === 'commander.help') return ERROR_REGISTRY.CLI_USAGE.exit;
  return reportError(new EphemeraError('CLI_USAGE', `${error.message.replace(/^error: /, '')} (see --help)`), json);
}

// Output piped into a reader that has had enough (`| head`): stop quietly, as Unix tools do, with what was printed standing.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
    throw error;
  });

process.exitCode = await main(process.argv.slice(2));
