/**
 * What the host (TypeScript) and the supervisor (supervisor.py) share, once:
 * the paths inside the sandbox, the proxy port, the environment name of the
 * dataset, the seccomp syscall lists, and the messages on the channel
 * between them (one JSON line each way; every request has an `op` and an
 * `id`, every reply the `id`, `ok` and, when not ok, `error`). The
 * supervisor gets this object as JSON, prepended to its source by
 * `supervisorSource()`: it has no other copy. protocol.unit.test.ts checks
 * that the two sides agree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROTOCOL = {
  run_dir: '/run/ephemera',
  supervisor_path: '/run/ephemera/supervisor.py',
  /** Never exists: a marker is an open that fails, seen only by the tracer (file-trace.ts). */
  mark_dir: '/run/ephemera/mark/',
  proxy_socket: '/run/ephemera/proxy.sock',
  /** Where the supervisor listens inside, forwarding to the host's proxy socket (network-proxy.ts). */
  proxy_port: 3128,
  dataset_env: 'DATASET_PATH',
  /** The end of a call's stderr the supervisor keeps besides the capped head: a failing script's last words. */
  stderr_tail_bytes: 4096,
  /** x86_64 numbers (asm/unistd_64.h); the filter is only installed there. */
  seccomp: {
    /** Refused with EPERM for every tool process. */
    blocked: {
      ptrace: 101,
      process_vm_readv: 310,
      process_vm_writev: 311, // no process reads or steers another
      bpf: 321,
      perf_event_open: 298,
      userfaultfd: 323, // kernel attack surface
      io_uring_setup: 425,
      io_uring_enter: 426,
      io_uring_register: 427, // file I/O the tracer would not see
      unshare: 272,
      setns: 308,
      mount: 165,
      umount2: 166,
      pivot_root: 155,
      open_tree: 428,
      move_mount: 429,
      fsopen: 430,
      fsconfig: 431,
      fsmount: 432,
      fspick: 433,
      mount_setattr: 442, // namespaces and mounts
      open_by_handle_at: 304,
      name_to_handle_at: 303,
      fanotify_init: 300,
      add_key: 248,
      request_key: 249,
      keyctl: 250, // the kernel keyring
      kexec_load: 246,
      kexec_file_load: 320,
      init_module: 175,
      finit_module: 313,
      delete_module: 176,
      pidfd_getfd: 438,
      process_madvise: 440,
      kcmp: 312, // no process takes or probes another's fds or memory
      pidfd_send_signal: 424, // it also takes a /proc/PID directory fd, which the pid check below cannot see
      memfd_create: 319,
      shmget: 29,
      msgget: 68, // memory outside every file system and, unmapped, outside RLIMIT_AS: unbounded under rlimits
    },
    /**
     * Refused when their first argument is pid 1, the supervisor: the kernel drops most signals to a
     * namespace's init, but not SIGSTOP while strace traces it, and that would freeze the run.
     */
    signalling: { kill: 62, tkill: 200, tgkill: 234, rt_sigqueueinfo: 129, rt_tgsigqueueinfo: 297, pidfd_open: 434 },
    /**
     * Refused unless their first argument is 0 (the caller itself): prlimit64 on another process of the sandbox (same
     * uid) would lower the supervisor's limits (losing the sandbox) or change the sql engine's.
     */
    own_only: { prlimit64: 302 },
  },
  /**
   * The sql tool (supervisor/45-sql.py, docs/sql-tool.md §7): the engine and the `sql` command are bound
   * read-only at these paths, on the read-only root (no tool can rename a directory over them); the command
   * reaches the supervisor on an abstract unix socket of that name (the sandbox's own network namespace: no
   * file to replace), told to tools by `socket_env`.
   */
  sql: {
    engine_path: '/opt/ephemera/lib/ephemera_sql.py',
    bin_dir: '/opt/ephemera/bin',
    client_path: '/opt/ephemera/bin/sql',
    socket: 'ephemera-sql',
    socket_env: 'EPHEMERA_SQL_SOCKET',
    /** `sql` commands waiting at once; more are turned away. */
    max_connections: 8,
    /** The caps a request may ask for (rows, and bytes of the rows' JSON); the request itself at most this. */
    max_rows: 1_000_000,
    max_bytes: 16 * 1024 * 1024,
    /** A query's own time cap, at most: past it the engine answers SQL_QUERY_TIMEOUT (the call's deadline still bounds it). */
    max_seconds: 3600,
    /** An answer's bytes besides its rows (max_bytes): the schema and the result's column names, each at most 64 KiB of JSON (ephemera_sql.py). */
    answer_overhead_bytes: 256 * 1024,
    max_request_bytes: 512 * 1024,
  },
  /** Each request's members besides op and id, and each reply's besides id and ok. */
  messages: {
    init: { request: ['scripts', 'sql'], reply: ['pid', 'seccomp'] },
    run: {
      request: ['call', 'limits', 'timeout_ms', 'mark'],
      reply: [
        'exit_code',
        'killed_by',
        'stdout',
        'stderr',
        'stderr_tail',
        'stdout_bytes',
        'stderr_bytes',
        'truncated',
        'duration_ms',
        'cpu_ms',
        'max_rss_kb',
        'sql',
      ],
    },
    list: { request: ['dir'], reply: ['entries'] },
    read: { request: ['path', 'max_bytes'], reply: ['content', 'truncated'] },
    exit: { request: [], reply: ['remaining'] },
  },
  /** Lines the supervisor writes unasked, during a run, each with `notice` naming its kind and these members. */
  notices: {
    /** A `sql` command's query, answered: a call of its own, within the running one. */
    sql: ['query', 'answer', 'exit_code', 'killed_by', 'duration_ms', 'cpu_ms', 'max_rss_kb', 'sql'],
  },
} as const;

export type SupervisorOp = keyof typeof PROTOCOL.messages;
export type RequestBody<Op extends SupervisorOp> = { [K in (typeof PROTOCOL.messages)[Op]['request'][number]]: unknown };

/** The line of the supervisor the host replaces with the protocol. */
export const PROTOCOL_PLACEHOLDER = 'PROTOCOL = None  # the host puts the protocol here (protocol.ts)\n';

/** The supervisor's parts, joined in name order (supervisor/10-base.py says why). */
export const SUPERVISOR_DIR = join(import.meta.dirname, 'supervisor');

/** supervisor.py as the sandbox runs it: its parts joined, with the protocol in place of the placeholder. */
export function supervisorSource(dir = SUPERVISOR_DIR): Buffer {
  const source = readdirSync(dir)
    .filter((name) => name.endsWith('.py'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n\n');
  if (!source.includes(PROTOCOL_PLACEHOLDER)) throw new Error('the supervisor has lost its protocol placeholder');
  // A JSON string is a Python string literal; json_loads (10-base.py) reads the protocol from it.
  return Buffer.from(source.replace(PROTOCOL_PLACEHOLDER, `PROTOCOL = json_loads(${JSON.stringify(JSON.stringify(PROTOCOL))})\n`));
}
