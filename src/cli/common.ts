/**
 * Shared CLI plumbing: configuration flags (each docs/design.md §10 variable
 * has one), option parsers that refuse bad values, exit codes, and output
 * discipline: with --json, stdout carries one JSON document; progress and
 * diagnostics go to stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { errorInfo } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../config.js';

/** Exit codes of every command (README "CLI"): `verify` uses invalid (1) and untrusted (4); `run` uses computationFailed (3); an error, its code's (error-codes.ts). */
export { EXIT } from '../error-codes.js';

/** The dataset formats `run --format` takes (and tells from a file's extension). */
export const DATASET_FORMATS = ['csv', 'json', 'txt'] as const;

/** JSON Lines files are `json` (an array or one value per line, docs/row-proofs.md §1). */
const FORMAT_BY_EXTENSION: Readonly<Record<string, (typeof DATASET_FORMATS)[number]>> = {
  '.csv': 'csv',
  '.json': 'json',
  '.jsonl': 'json',
  '.ndjson': 'json',
  '.txt': 'txt',
};

/** `--format`, else the format the dataset file's extension names (CLI_USAGE when it names none). */
export function datasetFormatOf(path: string, given: string | undefined): (typeof DATASET_FORMATS)[number] {
  const format = given ?? FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (format === undefined || !(DATASET_FORMATS as readonly string[]).includes(format))
    throw new EphemeraError('CLI_USAGE', `cannot tell the format of ${path} from its name: give --format ${DATASET_FORMATS.join('|')}`);
  return format as (typeof DATASET_FORMATS)[number];
}

/** This build's version, from package.json (what --version and build-info print). */
export function packageVersion(): string {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version as string;
}

/** Config fields that get no flag: secrets end up in shell history and `ps`. */
const SECRETS: readonly (keyof Config)[] = ['anthropicApiKey', 'executeToken'];
const CONFIG_KEYS = (Object.keys(CONFIG_VARIABLES) as (keyof Config)[]).filter((key) => !SECRETS.includes(key));

/** Every non-secret Config field as a global kebab-case flag (dataDir → --data-dir); commander camel-cases it back. */
export function addConfigOptions(program: Command): void {
  for (const key of CONFIG_KEYS) {
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    program.addOption(new Option(`--${flag} <value>`, `overrides ${CONFIG_VARIABLES[key]}`).helpGroup('Configuration (each flag overrides its variable):'));
  }
}

/** The configuration: the environment, overridden by the flags given anywhere on the command line. */
export function configOf(command: Command): Config {
  const options = command.optsWithGlobals() as Record<string, unknown>;
  const overrides: Partial<Record<keyof Config, string>> = {};
  for (const key of CONFIG_KEYS) if (typeof options[key] === 'string') overrides[key] = options[key] as string;
  return loadConfig(process.env, overrides);
}

/** Whether a configuration flag was given (not just set in the environment). */
export const flagGiven = (command: Command, key: keyof Config) => (command.optsWithGlobals() as Record<string, unknown>)[key] !== undefined;

/** An option parser for integers in [min, max]: digits only, so "1e3", "-1" and "2.5" are refused, not coerced. */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  };
}

export const jsonOption = () => new Option('--json', 'print one JSON document on stdout (diagnostics stay on stderr)');

/** Diagnostics that are not results (hints, warnings): always stderr. */
export const note = (message: string) => process.stderr.write(`${message}\n`);

/** Progress of long work: on stderr (never stdout, so --json stays one document), unless --quiet. */
/** The http(s) URL given as --server (CLI_USAGE otherwise). */
export function serverUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EphemeraError('CLI_USAGE', `--server ${text} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EphemeraError('CLI_USAGE', '--server takes an http(s) URL');
  return url;
}

export function progressReporter(quiet: boolean | undefined): (message: string) => void {
  return quiet === true ? () => undefined : (message) => process.stderr.write(`… ${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Text a sandboxed script wrote, made safe for a terminal: control characters
 * other than newline and tab (escape sequences could rewrite the screen or
 * the verdict printed beside it) are shown as \\xNN.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A plain table (no colours: the output is often piped) with a header row. */
export function printTable(head: readonly string[], rows: readonly (readonly unknown[])[], alignRight: readonly number[] = []): void {
  // Required here, not imported above: only the commands that print a table pay for loading it.
  const Table = createRequire(import.meta.url)('cli-table3') as typeof import('cli-table3');
  const table = new Table({
    head: [...head],
    style: { head: [], border: [] },
    colAligns: head.map((_, i) => (alignRight.includes(i) ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
  process.stdout.write(`${table.toString()}\n`);
}

/** A read command's data directory: it must exist (reading never creates one, nor a signing key in it). */
export function existingDataDir(config: Config): string {
  if (!existsSync(config.dataDir))
    throw new EphemeraError('CLI_DATA_DIR_NOT_FOUND', `no data directory at ${config.dataDir}: nothing has run there (give --data-dir or EPHEMERA_DATA_DIR)`);
  return config.dataDir;
}

/** Reports an error on stderr (or as JSON on stdout with --json) and returns its exit code. */
export function reportError(error: unknown, json: boolean): number {
  const e = isEphemeraError(error) ? error : null;
  const code = e?.code ?? 'INTERNAL';
  const message = e ? e.message : 'internal error';
  // REQUEST_INVALID lists every problem of a sandbox file: one line each, path first.
  const problems = (e?.fields.problems ?? []) as { path: string; message: string; code: string }[];
  if (json) printJson({ error: { code, message, ...(problems.length > 0 ? { problems } : {}) } });
  else if (problems.length > 1)
    note(terminalSafe(`error ${code}: ${problems.length} problems\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`));
  else note(terminalSafe(`error ${code}: ${message}`));
  return errorInfo(code).exit;
}
