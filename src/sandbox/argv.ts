/**
 * Pure: a validated sandbox profile → the bubblewrap argv. Tested without
 * spawning anything.
 *
 * SECURITY: boundaries set here
 * - every namespace unshared (user, pid, net, ipc, uts, mount, cgroup); no network device but a down loopback;
 * - --new-session (no TIOCSTI into our terminal), --die-with-parent, all capabilities dropped;
 * - --as-pid-1: the supervisor is the sandbox's init, so no bwrap process inside holds the executor's channel
 *   (a tool could take its fds), a tool cannot signal it, and when it exits the kernel kills every process left;
 * - when the service runs as root, everything from the tracer down runs as an unprivileged host uid (setpriv),
 *   so the sandbox's uid maps to that uid on the host, never to root;
 * - only /usr (and its /bin, /lib, /lib64, /sbin links) and the loader's index of its libraries (/etc/ld.so.cache)
 *   are visible from the host, read-only; the supervisor is
 *   fed through a pipe like the dataset (no host path of ours is bound, none needs to be readable by that uid);
 * - /data is a tmpfs holding the dataset, fed from a pipe (never a file on disk), then remounted read-only;
 * - /work, /out, /tmp are size-capped tmpfs; /proc shows only this sandbox's processes, /proc/sys is empty and read-only; no /sys;
 * - the environment is cleared and only an allow-list set (no key, broker, database or socket path).
 * - no further user namespaces (--disable-userns); the network proxy socket is bound only when hosts are allowed.
 * - the `sql` command (and the sql engine, when the run offers sql) are fed through pipes into read-only files on
 *   the root, which is remounted read-only after them: no tool can change, rename or shadow them.
 * - every tool process runs under a seccomp filter the supervisor installs before exec (supervisor.py: ptrace,
 *   process_vm_*, bpf, io_uring, mounts and namespaces, keyring, modules are EPERM; another ABI is killed).
 *   bwrap's own --seccomp would also bind the tracee's startup, which must stay traceable; hence the filter sits below it.
 * - with file tracing, one strace runs outside the sandbox around bwrap for the sandbox's life: every process
 *   of every call is traced from its first syscall; the tracer is not in the sandbox's pid namespace and
 *   writes to a FIFO on the host (file-trace.ts), so sandboxed code can neither signal it nor touch its output.
 *   bwrap is --die-with-parent, its parent is the tracer: if the tracer dies, so does the sandbox (fail closed).
 */
import { dirname } from 'node:path/posix';
import { PROTOCOL } from './protocol.js';

export interface BwrapProfile {
  bwrapPath: string;
  /** File descriptor (in bwrap's process) supervisor.py is read from, into a read-only file. */
  supervisorFd: number;
  /** Host uid (and gid) to drop to before anything else runs; absent: stay the service's own. */
  hostUid?: number;
  /** File descriptor (in bwrap's process) the dataset is read from. */
  datasetFd: number;
  datasetFile: string;
  workBytes: number;
  outBytes: number;
  tmpBytes: number;
  uid: number;
  gid: number;
  env: Readonly<Record<string, string>>;
  /** Host path of the loader's library index, bound read-only at /etc/ld.so.cache; absent: none (runtime.ts). */
  libraryCache?: string;
  /** Host path of the network proxy's unix socket, when the request allows hosts; absent: no way out at all. */
  proxySocketPath?: string;
  /** Host path one strace around bwrap writes to for the sandbox's life (see TRACED_SYSCALLS); absent: untraced. */
  traceOutput?: string;
  /** File descriptor (in bwrap's process) the `sql` command is read from: in every sandbox, so that it can say when a run offers no sql. */
  sqlClientFd: number;
  /** File descriptor the sql engine is read from, when the run offers sql; absent: no engine. */
  sqlEngineFd?: number;
}

export const SUPERVISOR_PATH_INSIDE = PROTOCOL.supervisor_path;
export const PROXY_SOCKET_INSIDE = PROTOCOL.proxy_socket;

/**
 * The syscalls the supervisor turns into file activity (open, exec, delete, rename, create); stat, access and
 * readlink are left untraced, which halves the stops on an interpreter's start-up. `?`: absent on this arch.
 */
export const TRACED_SYSCALLS = [
  'open',
  'openat',
  'openat2',
  'creat',
  'execve',
  'execveat',
  'unlink',
  'unlinkat',
  'rmdir',
  'rename',
  'renameat',
  'renameat2',
  'mkdir',
  'mkdirat',
  'symlink',
  'symlinkat',
  'link',
  'linkat',
  'truncate',
]
  .map((name) => `?${name}`)
  .join(',');

export const SETPRIV_PATH = '/usr/bin/setpriv';

/**
 * Sizes of the small writable tmpfs besides /tmp, /work and /out: every place
 * a run can write is sized (the root and /dev are read-only), so tmpfs pages,
 * which no rlimit counts, stay bounded under any limits mechanism.
 */
export const RUN_BYTES = 1024 * 1024;
export const DEV_SHM_BYTES = 8 * 1024 * 1024;

/** The least sandbox bubblewrap can run (/bin/true in fresh namespaces): the preflight's probe, and the bench's baseline. */
// biome-ignore format: flag-value groups
export const BARE_BWRAP_ARGS = [
  '--unshare-all', '--unshare-user', '--die-with-parent', '--new-session',
  '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64',
  '--', '/bin/true',
];

/** setpriv arguments that switch to a host uid (and gid, no supplementary groups); none without one. */
export const dropTo = (hostUid: number | undefined): string[] =>
  hostUid === undefined ? [] : ['--reuid', String(hostUid), '--regid', String(hostUid), '--clear-groups'];

/** strace: follow forks, filter in the kernel (seccomp-bpf), no signal or exit lines. */
const tracer = (output: string) => ['/usr/bin/strace', '-f', '--seccomp-bpf', '-qq', '-e', `trace=${TRACED_SYSCALLS}`, '-e', 'signal=none', '-o', output, '--'];

/** The sql tool's files, on the root (read-only once it is remounted): tools can neither change nor replace them. */
const sqlMounts = (client: number, engine: number | undefined) => [
  ...['--dir', PROTOCOL.sql.bin_dir, '--perms', '0555', '--ro-bind-data', String(client), PROTOCOL.sql.client_path],
  ...(engine === undefined ? [] : ['--dir', dirname(PROTOCOL.sql.engine_path), '--perms', '0444', '--ro-bind-data', String(engine), PROTOCOL.sql.engine_path]),
];

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function buildBwrapArgv(p: BwrapProfile): string[] {
  if (!FILE_NAME.test(p.datasetFile)) throw new TypeError('datasetFile must be a plain file name');
  for (const n of [p.workBytes, p.outBytes, p.tmpBytes, p.datasetFd, p.supervisorFd, p.uid, p.gid, p.hostUid ?? 0, p.sqlClientFd, p.sqlEngineFd ?? 0]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError('sizes, fds and ids must be non-negative integers');
  }
  const env = Object.entries(p.env).flatMap(([k, v]) => ['--setenv', k, v]);
  // biome-ignore format: bwrap's flags read as flag-value groups, one group a line
  return [
    // The first process dies with the executor (and bwrap, --die-with-parent, with it), as bwrap alone did.
    SETPRIV_PATH, '--pdeathsig', 'KILL', ...dropTo(p.hostUid),
    ...(p.traceOutput ? tracer(p.traceOutput) : []),
    p.bwrapPath,
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--uid', String(p.uid),
    '--gid', String(p.gid),
    '--hostname', 'sandbox',
    '--new-session',
    '--die-with-parent',
    '--as-pid-1',
    '--cap-drop', 'ALL',
    '--clearenv',
    ...env,
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/sbin', '/sbin',
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
    ...(p.libraryCache ? ['--ro-bind', p.libraryCache, '/etc/ld.so.cache'] : []),
    '--proc', '/proc',
    // /proc/sys: absent (an empty read-only tmpfs): no sysctl of the namespace is writable, none of the host's shown.
    '--tmpfs', '/proc/sys',
    '--remount-ro', '/proc/sys',
    '--dev', '/dev',
    '--size', String(DEV_SHM_BYTES), '--tmpfs', '/dev/shm',
    '--remount-ro', '/dev',
    '--size', String(RUN_BYTES), '--tmpfs', '/run',
    '--dir', PROTOCOL.run_dir,
    '--ro-bind-data', String(p.supervisorFd), SUPERVISOR_PATH_INSIDE,
    ...(p.proxySocketPath ? ['--ro-bind', p.proxySocketPath, PROXY_SOCKET_INSIDE] : []),
    ...sqlMounts(p.sqlClientFd, p.sqlEngineFd),
    '--size', String(p.tmpBytes), '--tmpfs', '/tmp',
    '--size', String(p.workBytes), '--tmpfs', '/work',
    '--size', String(p.outBytes), '--tmpfs', '/out',
    '--tmpfs', '/data',
    '--ro-bind-data', String(p.datasetFd), `/data/${p.datasetFile}`,
    '--remount-ro', '/data',
    // The root tmpfs holds only mount points: read-only, so nothing unsized is writable.
    '--remount-ro', '/',
    '--chdir', '/work',
    '--',
    '/usr/bin/python3', '-I', '-S', SUPERVISOR_PATH_INSIDE,
  ];
}
