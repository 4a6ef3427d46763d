/**
 * Shared CLI plumbing: flags → Config (each docs/design.md §10 variable has a flag),
 * exit codes, and output discipline: with --json, stdout carries only JSON;
 * progress and diagnostics go to stderr.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorInfo } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../config.js';

/** Exit codes of every command (README "CLI"): `verify` uses invalid (1) and untrusted (4); `run` uses computationFailed (3); an error, its code's (error-codes.ts). */
export { EXIT } from '../error-codes.js';

/** Every Config field as a kebab-case flag: dataDir → --data-dir. Secrets have none (flags end up in shell history and `ps`). */
const CONFIG_FLAGS = Object.fromEntries(
  (Object.keys(CONFIG_VARIABLES) as (keyof Config)[])
    .filter((key) => key !== 'anthropicApiKey' && key !== 'executeToken')
    .map((key) => [key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), { type: 'string' as const }]),
);

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  config: () => Config;
  json: boolean;
}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>): Parsed {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...CONFIG_FLAGS, ...options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new EphemeraError('CLI_USAGE', (cause as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const overrides: Partial<Record<keyof Config, string>> = {};
  for (const flag of Object.keys(CONFIG_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') overrides[flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Config] = value;
  }
  return { values, positionals: parsed.positionals, config: () => loadConfig(process.env, overrides), json: values.json === true };
}

export const progress = (message: string) => process.stderr.write(`${message}\n`);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reports an error on stderr (or as JSON on stdout with --json) and returns its exit code. */
export function reportError(error: unknown, json: boolean): number {
  const e = isEphemeraError(error) ? error : null;
  const code = e?.code ?? 'INTERNAL';
  const message = e ? e.message : 'internal error';
  if (json) printJson({ error: { code, message } });
  else progress(`error ${code}: ${message}`);
  return errorInfo(code).exit;
}
