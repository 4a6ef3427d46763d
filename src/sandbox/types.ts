/**
 * The sandbox's public contract. The sandbox knows nothing about events: it
 * reports what happened (ToolOutcome, observations, destruction report) and
 * the command handler turns that into events.
 */
import type { Registered } from '../error-codes.js';
import type { LimitsMode } from './limits/index.js';

export type ToolName = 'bash' | 'python' | 'grep' | 'sql';
export const TOOL_NAMES: readonly ToolName[] = ['bash', 'python', 'grep', 'sql'];

export interface SandboxLimits {
  /** Wall-clock limit for the whole execution. */
  timeoutMs: number;
  /** Memory cap for the sandboxed process tree. */
  memoryMb: number;
  /** Max processes/threads in the sandbox. */
  maxProcesses: number;
  /** CPU-time cap in seconds. */
  cpuSeconds: number;
  /** tmpfs size caps, bytes. */
  workBytes: number;
  outBytes: number;
  /** Per-stream capture cap (stdout, stderr) per tool call, bytes. */
  outputBytes: number;
  maxOpenFiles: number;
}

export interface SandboxSpec {
  executionId: string;
  /** The dataset, in memory. Written into the sandbox's tmpfs at /data/<datasetFile> through a pipe; never to disk. */
  dataset: Uint8Array;
  datasetFile: string;
  /** Scripts placed (read-only) under /work/scripts/<name> — also in cwd /work. */
  scripts: readonly { name: string; content: string }[];
  limits: SandboxLimits;
  /** Allowed "host:port" pairs; empty = no network at all. */
  networkAllow: readonly string[];
  /** What may enforce the memory, process and CPU limits (EPHEMERA_LIMITS); default auto, per limit the best the host offers. */
  limitsMode?: LimitsMode;
  /** Trace each call's file activity with strace (default true; off only to measure its cost). */
  fileTracing?: boolean;
  /** Offer the sql tool (docs/sql-tool.md §7): its engine loads the dataset as this format; absent: no sql. */
  sql?: { format: 'csv' | 'json' | 'txt'; maxSeconds: number };
}

/** One command to run inside the sandbox. */
export type ToolCall =
  | { kind: 'script'; name: string }
  | { kind: 'bash'; command: string }
  | { kind: 'python'; code: string }
  | { kind: 'grep'; args: string[] }
  /** One query to the run's SQL engine; the answer (JSON) is the call's stdout. */
  | { kind: 'sql'; query: string; max_rows: number; max_bytes: number; max_seconds: number };

export type KilledBy = 'timeout' | 'memory' | 'pids' | 'output_limit' | 'disk' | 'cpu' | 'sandbox_lost' | null;

export interface FileObservation {
  op: 'read' | 'write' | 'exec' | 'delete';
  path: string;
  count: number;
}

export interface NetworkObservation {
  host: string;
  port: number;
  allowed: boolean;
  bytes_out: number;
  bytes_in: number;
}

export interface ToolOutcome {
  exitCode: number | null;
  killedBy: KilledBy;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** The last PROTOCOL.stderr_tail_bytes the call wrote to stderr, whatever the capture cap kept of its head. */
  stderrTail: Uint8Array;
  /** True when stdout or stderr was cut at the cap. */
  truncated: boolean;
  stdoutBytes: number;
  stderrBytes: number;
  durationMs: number;
  cpuMs: number;
  maxRssKb: number;
  files: FileObservation[];
  network: NetworkObservation[];
  /** An sql call's answer, summarized; null for every other call, and for an sql call killed before it answered. */
  sql: SqlSummary | null;
}

/** What the events keep of an SQL answer (tool.completed.sql). */
export interface SqlSummary {
  rows: number;
  bytes: number;
  truncated: boolean;
  error_code: string | null;
}

/**
 * A query a process of a running call made with the `sql` command: the supervisor answered it and reported it
 * (a notice) before the call's own reply, so the executor records it as a call of its own within that one.
 */
export interface NestedSqlCall {
  query: string;
  answer: Uint8Array;
  exitCode: number | null;
  killedBy: KilledBy;
  durationMs: number;
  cpuMs: number;
  maxRssKb: number;
  sql: SqlSummary | null;
}

/** How the sandbox is isolated, as sandbox.created records it (a closed block of certificate version 2). */
export interface IsolationDescription {
  tool: 'bubblewrap';
  namespaces: string[];
  new_session: boolean;
  die_with_parent: boolean;
  init: string;
  capabilities: string;
  no_new_privileges: boolean;
  nested_user_namespaces: boolean;
  uid: number;
  host_uid: number | null;
  host_paths: string[];
  seccomp: false | { mechanism: string; errno_eperm: string[]; killed: string };
  file_tracing: string;
}

/** Versions and hashes of what runs inside, and the kernel. */
export interface RuntimeIdentity {
  kernel: string;
  tools: Record<string, { path: string; version: string; sha256: `sha256:${string}` }>;
}

/** What sandbox.created records: the isolation and limits really in force, each limit with what enforces it. */
export interface SandboxDescription {
  isolation: IsolationDescription;
  limits: Record<string, { value: number; mechanism: string }>;
  network: { mode: 'none' | 'allowlist'; mechanism: string; allow: string[] };
  runtime: RuntimeIdentity;
}

export interface DestructionReport {
  processesRemaining: number;
  workspaceReleased: boolean;
  datasetBytesZeroed: number;
  tmpfsReleased: boolean;
  checks: { cgroup_processes_remaining: number; namespace_holders: number; namespaces_checked: boolean };
}

export interface Sandbox {
  readonly description: SandboxDescription;
  /** Runs one call inside this sandbox (same namespaces and tmpfs for every call). Honours the remaining wall-time budget. */
  run(call: ToolCall, options?: { timeoutMs?: number; signal?: AbortSignal; onNestedSql?: (call: NestedSqlCall) => void }): Promise<ToolOutcome>;
  /** Lists/reads files inside the sandbox for the LLM's read-only helpers (size-capped, no-follow, regular files only). */
  listFiles(dir: string): Promise<{ path: string; bytes: number; type: 'file' | 'dir' }[]>;
  readFile(path: string, maxBytes: number): Promise<{ content: Uint8Array; truncated: boolean }>;
  /** Kills every process, releases every tmpfs, zeroes the dataset buffer, and checks nothing remains. Idempotent. */
  destroy(): Promise<DestructionReport>;
}

export type SandboxErrorCode = Registered<
  | 'SANDBOX_BWRAP_MISSING'
  | 'SANDBOX_NAMESPACES_UNAVAILABLE'
  | 'SANDBOX_LIMIT_UNAVAILABLE'
  | 'SANDBOX_LIMITS_MODE_UNAVAILABLE'
  | 'SANDBOX_START_FAILED'
  | 'SANDBOX_DESTROYED'
  | 'SANDBOX_BAD_CALL'
  | 'SANDBOX_FILE_UNREADABLE'
>;
