/**
 * Preflight and runtime identity. The service never runs unsandboxed: if
 * bubblewrap is missing or cannot create namespaces here, it refuses.
 * The identity (versions and SHA-256 of the tools inside, kernel release) is
 * recorded in sandbox.created.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { release } from 'node:os';
import { EphemeraError } from '../errors.js';
import { BARE_BWRAP_ARGS, SETPRIV_PATH, dropTo } from './argv.js';
import type { RuntimeIdentity } from './types.js';

export const BWRAP_PATH = '/usr/bin/bwrap';
/** The uid inside every sandbox. */
export const SANDBOX_UID = 65534;
/** A service running as root drops the sandbox to this host uid: inside or escaped, it is never host root. */
export const HOST_UID = process.getuid?.() === 0 ? SANDBOX_UID : undefined;
const TOOLS: Record<string, { path: string; version: string[] }> = {
  python3: { path: '/usr/bin/python3', version: ['--version'] },
  bash: { path: '/bin/bash', version: ['--version'] },
  grep: { path: '/bin/grep', version: ['--version'] },
  bwrap: { path: BWRAP_PATH, version: ['--version'] },
  strace: { path: '/usr/bin/strace', version: ['-V'] },
};

/**
 * The dynamic loader's index of the host's libraries (names and paths only), bound read-only when it is a
 * regular file. Without it every process the sandbox starts probes some twenty directories for its first
 * library: each probe a traced open, about a fifth of a Python start's opens (docs/performance.md).
 */
export const LIBRARY_CACHE = ((path: string) => {
  try {
    return lstatSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
})('/etc/ld.so.cache');

let identity: RuntimeIdentity | null = null;
let checked = false;

export function runtimeIdentity(): RuntimeIdentity {
  if (identity) return identity;
  const tools: RuntimeIdentity['tools'] = {};
  for (const [name, tool] of Object.entries(TOOLS)) {
    const real = realpathSync(tool.path);
    const version = execFileSync(tool.path, tool.version, { encoding: 'utf8' }).split('\n')[0]!.trim();
    tools[name] = { path: tool.path, version, sha256: `sha256:${createHash('sha256').update(readFileSync(real)).digest('hex')}` };
  }
  identity = { kernel: release(), tools };
  return identity;
}

/** Throws SANDBOX_BWRAP_MISSING / SANDBOX_NAMESPACES_UNAVAILABLE unless a real sandbox can start here. Cached once it passed. */
export function assertSandboxSupported(bwrapPath = BWRAP_PATH): void {
  if (checked && bwrapPath === BWRAP_PATH) return;
  if (!existsSync(bwrapPath))
    throw new EphemeraError('SANDBOX_BWRAP_MISSING', `bubblewrap is not installed at ${bwrapPath}: refusing to run unsandboxed (apt-get install bubblewrap)`);
  for (const path of [...['python3', 'bash', 'grep', 'strace'].map((tool) => TOOLS[tool]!.path), SETPRIV_PATH]) {
    if (!existsSync(path)) throw new EphemeraError('SANDBOX_BWRAP_MISSING', `${path} is missing: the sandbox needs it`);
  }
  // As the sandbox will run: under the host uid it drops to, when there is one.
  const [command, ...prefix] = HOST_UID === undefined ? [BWRAP_PATH] : [SETPRIV_PATH, ...dropTo(HOST_UID), BWRAP_PATH];
  try {
    execFileSync(command!, [...prefix, ...BARE_BWRAP_ARGS], { stdio: 'ignore', timeout: 10_000 });
  } catch (cause) {
    throw new EphemeraError('SANDBOX_NAMESPACES_UNAVAILABLE', 'bubblewrap cannot create namespaces here: refusing to run unsandboxed', { cause });
  }
  checked = true;
}
