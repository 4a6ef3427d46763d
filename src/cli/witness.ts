/**
 * `ephemera witness` (declared in cli.ts): a C2SP tlog-witness for the logs
 * given by --origin/--log-key pairs, its state and key in --state
 * (docs/transparency.md §13); listens until SIGINT/SIGTERM. `ephemera witness
 * key` prints the cosigner vkey that logs and verifiers configure.
 */
import { mkdir } from 'node:fs/promises';
import { EphemeraError } from '../errors.js';
import { type NoteVerifier, parseNoteVerifierKey } from '../tlog/note.js';
import { loadWitnessKey, lockStateDir } from '../witness/key.js';
import { buildWitnessApp } from '../witness/server.js';
import { WitnessState } from '../witness/state.js';
import { Witness } from '../witness/witness.js';
import { note, printJson, terminalSafe } from './common.js';

export interface WitnessOptions {
  origin?: string[];
  logKey?: string[];
  state: string;
  listen: string;
  name?: string;
  json?: boolean;
}

/** host:port or [v6]:port; port 0 takes a free one (the address printed is the real one). */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new EphemeraError('CLI_USAGE', `--listen ${JSON.stringify(value)}: expected host:port (or [ipv6]:port), port 0…65535`);
  return { host: (match[1] ?? match[2])!, port };
}

/** The --origin/--log-key pairs, in order; one origin may come with several keys. */
function followedLogs(options: WitnessOptions): Map<string, NoteVerifier[]> {
  const origins = options.origin ?? [];
  const keys = options.logKey ?? [];
  if (origins.length === 0 || origins.length !== keys.length)
    throw new EphemeraError('CLI_USAGE', 'give each log as a pair: --origin <origin> --log-key <vkey> (repeat the pair for more logs)');
  const logs = new Map<string, NoteVerifier[]>();
  origins.forEach((origin, i) => {
    const verifier = parseNoteVerifierKey(keys[i]!);
    const known = logs.get(origin) ?? [];
    if (known.some((k) => k.name === verifier.name && k.keyId === verifier.keyId))
      throw new EphemeraError('CLI_USAGE', `--log-key ${verifier.name} is given twice for ${JSON.stringify(origin)}`);
    logs.set(origin, [...known, verifier]);
  });
  return logs;
}

export async function witness(options: WitnessOptions): Promise<never> {
  const logs = followedLogs(options);
  const { host, port } = parseListen(options.listen);
  await mkdir(options.state, { recursive: true, mode: 0o700 });
  const release = await lockStateDir(options.state);
  process.once('exit', () => void release());
  const cosigner = await loadWitnessKey(options.state, { create: true, ...(options.name ? { name: options.name } : {}) });
  const state = await WitnessState.open(options.state);
  const core = new Witness({
    logs,
    state,
    cosigner,
    onEvent: (event) => {
      if (event.code === 'COSIGNED') return;
      // The origin is the request's (any client's) text: escaped and cut short.
      const where = `${terminalSafe(JSON.stringify(event.origin?.slice(0, 120) ?? null))} size ${event.size ?? '?'}`;
      note(`ephemera witness: refused ${event.code} (${where})${event.evidence ? `; evidence kept in ${event.evidence}` : ''}`);
    },
  });
  const app = buildWitnessApp(core);
  let url: string;
  try {
    url = await app.listen({ host, port });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw new EphemeraError('SERVE_ADDRESS_IN_USE', `cannot listen on ${options.listen} (${code})`, { cause });
    throw cause;
  }
  if (options.json) printJson({ url, vkey: cosigner.vkey, origins: [...logs.keys()] });
  else {
    note(`ephemera witness listening on ${url} for ${[...logs.keys()].map((o) => terminalSafe(JSON.stringify(o))).join(', ')}`);
    note(`cosigner key (give it to the log's EPHEMERA_TLOG_WITNESSES and to verifiers' --witness): ${cosigner.vkey}`);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(
      signal,
      () =>
        void app.close().then(async () => {
          await release();
          process.exit(0);
        }),
    );
  return new Promise<never>(() => undefined);
}

/** `ephemera witness key --state <dir>`: the cosigner vkey, on stdout. */
export async function witnessKey(options: { state: string; json?: boolean }): Promise<void> {
  const cosigner = await loadWitnessKey(options.state, { create: false });
  if (options.json) printJson({ vkey: cosigner.vkey });
  else process.stdout.write(`${cosigner.vkey}\n`);
}
