/**
 * Configuration: one schema, parsed once from the environment (and CLI flags
 * mapped onto the same names), frozen, passed down. docs/design.md §10.
 * SECURITY: anthropicApiKey and executeToken are secrets; `describeConfig` never prints them.
 */
import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { EphemeraError } from './errors.js';
import { parseAllowList } from './net/address-policy.js';
import { NODE_ID_PATTERN } from './node-identity.js';
import { DEFAULT_LEASE_MS } from './events/stream-state.js';

export interface Config {
  /** Where the SQLite log, the simulated TEE key and embedded ClickHouse live. */
  readonly dataDir: string;
  /** Event log backend. */
  readonly log: 'sqlite' | 'kafka';
  /** Kafka bootstrap servers (log=kafka). */
  readonly kafkaBrokers: readonly string[];
  /** Kafka topic for events. */
  readonly kafkaTopic: string;
  /** Partitions of the events topic when Ephemera creates it. */
  readonly kafkaPartitions: number;
  /** Replication factor of the events topic when Ephemera creates it (production: 3, with min.insync.replicas=2). */
  readonly kafkaReplicationFactor: number;
  /** ClickHouse server URL; unset = embedded chDB under dataDir. */
  readonly clickhouseUrl: string | null;
  /** Attestor: auto (dstack when its socket exists), dstack or simulated. */
  readonly tee: 'auto' | 'dstack' | 'simulated';
  /** dstack guest agent endpoint (socket path or simulator URL); unset: the SDK's socket search. */
  readonly dstackEndpoint: string | null;
  /** PCCS the dstack attestor fetches quote collateral from. */
  readonly pccsUrl: string;
  /** Compose hashes (hex) of the builds the verifier trusts, comma-separated. */
  readonly trustedComposeHashes: readonly string[];
  /** TCB statuses the verifier accepts besides UpToDate, comma-separated. */
  readonly allowedTcbStatuses: readonly string[];
  /** Ed25519 keys (64 hex) or fingerprints (sha256:<64 hex>) whose simulated certificates the verifier trusts, comma-separated. */
  readonly trustedKeys: readonly string[];
  /** Default Anthropic API key when a request brings none. Secret. */
  readonly anthropicApiKey: string | null;
  /** When set, POST /execute needs `Authorization: Bearer <token>`; reading certificates stays public. */
  readonly executeToken: string | null;
  /** Messages API base URL (for proxies and local test servers). */
  readonly anthropicBaseUrl: string | null;
  /** Timeout of one Messages API request, ms (the SDK retries on top). */
  readonly llmTimeoutMs: number;
  /** Retries the Anthropic SDK makes on 408/409/429/5xx and connection errors. */
  readonly llmMaxRetries: number;
  /** HTTP port for `ephemera serve`. */
  readonly port: number;
  /** HTTP listen address. */
  readonly host: string;
  /** Largest accepted request body, bytes (checked before buffering). */
  readonly bodyLimitBytes: number;
  /** Largest dataset, bytes (inline after base64 decoding, or fetched by URL). */
  readonly maxDatasetBytes: number;
  /** Dataset URLs: hosts (`name`, `name:port`, IP literals) and CIDR ranges fetched even though they are not public (on-prem sources). */
  readonly datasetUrlAllow: readonly string[];
  /** Dataset URLs may be plain http (default: https only). */
  readonly datasetUrlAllowHttp: boolean;
  /** Dataset URL fetch: the whole transfer, redirects included, ms. */
  readonly datasetFetchTimeoutMs: number;
  /** Dataset URL fetch: connecting, waiting for headers, any pause in the body, ms. */
  readonly datasetFetchIdleTimeoutMs: number;
  /** Dataset URL fetch: redirects followed (each re-checked). */
  readonly datasetMaxRedirects: number;
  /** This node's name among nodes sharing one Kafka log (unset: a random id kept in dataDir, node-identity.ts). */
  readonly nodeId: string | null;
  /** How long past a run's deadline (or last event) its executor may be silent before the projections call the run abandoned, ms. */
  readonly executionLeaseMs: number;
  /** Async runs (Prefer: respond-async) this node follows at once, finished ones included until they expire. */
  readonly asyncRunsMax: number;
  /** How long a finished async run stays in memory (then GET /executions reads its stored stream), seconds. */
  readonly asyncRetentionSeconds: number;
  /** Open event streams (GET /executions/:id/events) at once, over every client. */
  readonly eventStreamsMax: number;
  /** One event stream's longest life, seconds (its client then resumes with Last-Event-ID). */
  readonly eventStreamMaxSeconds: number;
  /** What enforces the sandbox's memory, process and CPU limits: auto (per limit: cgroup v2, else v1, else rlimits) or only the one named. */
  readonly limits: 'auto' | 'cgroup2' | 'cgroup1' | 'rlimit';
  /** Runs this executor holds at once (admission.ts). */
  readonly maxRuns: number;
  /** Memory the runs' declared limits may claim together, MiB (admission.ts: dataset + max_memory_mb + working space + overhead). */
  readonly memoryBudgetMb: number;
  /** Requests that may wait for a free slot; beyond it, CAPACITY_EXHAUSTED at once. */
  readonly queueMax: number;
  /** How long a request waits in the queue before CAPACITY_QUEUE_TIMEOUT, ms. */
  readonly queueTimeoutMs: number;
  /** On SIGTERM/SIGINT, how long in-flight runs may go on before they are stopped (EXECUTOR_DRAINING), ms. */
  readonly drainTimeoutMs: number;
  /** On SIGTERM/SIGINT, how long the listener stays open at least (answering /ready 503) so a load balancer notices first, ms. */
  readonly drainGraceMs: number;
  /** The KEM of the sealing key (docs/sealed.md §1): x25519, or x-wing (post-quantum hybrid). */
  readonly sealKem: 'x25519' | 'x-wing';
  /** A fresh sealing key every so many seconds (and at start). */
  readonly sealKeyRotateSeconds: number;
  /** How long past its rotation a sealing key is still accepted (requests under way), seconds. */
  readonly sealKeyGraceSeconds: number;
  /** Refuse plain POST /execute requests that carry a dataset or an API key (SEALED_REQUIRED). */
  readonly requireSealed: boolean;
  /** The transparency log's role on this node (docs/transparency.md §10); default sequencer on the embedded log, follower on Kafka. */
  readonly tlog: 'sequencer' | 'follower' | 'off';
  /** How often the sequencer integrates a batch (and a follower reads the ledger), ms. */
  readonly tlogIntervalMs: number;
  /** Leaves in one batch at most. */
  readonly tlogBatchMax: number;
  /** The log's origin (checkpoints' first line); unset: ephemera.log/<16 hex of SHA-256(log public key)>. */
  readonly tlogOrigin: string | null;
  /** Witnesses, `<cosigner vkey>@<url>` comma-separated (parsed by the witness client). */
  readonly tlogWitnesses: string | null;
}

type Env = Record<string, string | undefined>;

/**
 * Two runs per core: a run spends much of its time waiting (sandbox start, acknowledged appends, model calls),
 * so one per core leaves cores idle, while CPU-bound scripts at two per core still each get half a core.
 */
const DEFAULT_MAX_RUNS = () => 2 * availableParallelism();
/**
 * Half the machine's memory: a run's cost counts its caps (max_memory_mb, the tmpfs sizes), which it rarely fills;
 * the other half is the host's, this process's (request bodies, event batches, the embedded ClickHouse) and the page cache's.
 */
const DEFAULT_MEMORY_BUDGET_MB = () => Math.floor(totalmem() / 2 / 2 ** 20);

/** A pinned key: the raw Ed25519 public key in hex, or its fingerprint (docs/verification.md §8). */
export const KEY_PIN = /^(?:[0-9a-f]{64}|sha256:[0-9a-f]{64})$/;

const VARIABLES = {
  dataDir: 'EPHEMERA_DATA_DIR',
  log: 'EPHEMERA_LOG',
  kafkaBrokers: 'KAFKA_BROKERS',
  kafkaTopic: 'EPHEMERA_KAFKA_TOPIC',
  kafkaPartitions: 'EPHEMERA_KAFKA_PARTITIONS',
  kafkaReplicationFactor: 'EPHEMERA_KAFKA_REPLICATION_FACTOR',
  clickhouseUrl: 'CLICKHOUSE_URL',
  tee: 'EPHEMERA_TEE',
  dstackEndpoint: 'DSTACK_SIMULATOR_ENDPOINT',
  pccsUrl: 'EPHEMERA_PCCS_URL',
  trustedComposeHashes: 'EPHEMERA_TRUSTED_COMPOSE_HASHES',
  allowedTcbStatuses: 'EPHEMERA_ALLOWED_TCB_STATUSES',
  trustedKeys: 'EPHEMERA_TRUSTED_KEYS',
  anthropicApiKey: 'ANTHROPIC_API_KEY',
  executeToken: 'EPHEMERA_EXECUTE_TOKEN',
  anthropicBaseUrl: 'ANTHROPIC_BASE_URL',
  llmTimeoutMs: 'EPHEMERA_LLM_TIMEOUT_MS',
  llmMaxRetries: 'EPHEMERA_LLM_MAX_RETRIES',
  port: 'PORT',
  host: 'EPHEMERA_HOST',
  bodyLimitBytes: 'EPHEMERA_BODY_LIMIT_BYTES',
  maxDatasetBytes: 'EPHEMERA_MAX_DATASET_BYTES',
  datasetUrlAllow: 'EPHEMERA_DATASET_URL_ALLOW',
  datasetUrlAllowHttp: 'EPHEMERA_DATASET_URL_ALLOW_HTTP',
  datasetFetchTimeoutMs: 'EPHEMERA_DATASET_FETCH_TIMEOUT_MS',
  datasetFetchIdleTimeoutMs: 'EPHEMERA_DATASET_FETCH_IDLE_TIMEOUT_MS',
  datasetMaxRedirects: 'EPHEMERA_DATASET_MAX_REDIRECTS',
  limits: 'EPHEMERA_LIMITS',
  nodeId: 'EPHEMERA_NODE_ID',
  maxRuns: 'EPHEMERA_MAX_RUNS',
  memoryBudgetMb: 'EPHEMERA_MEMORY_BUDGET_MB',
  queueMax: 'EPHEMERA_QUEUE_MAX',
  queueTimeoutMs: 'EPHEMERA_QUEUE_TIMEOUT_MS',
  drainTimeoutMs: 'EPHEMERA_DRAIN_TIMEOUT_MS',
  drainGraceMs: 'EPHEMERA_DRAIN_GRACE_MS',
  executionLeaseMs: 'EPHEMERA_EXECUTION_LEASE_MS',
  asyncRunsMax: 'EPHEMERA_ASYNC_RUNS_MAX',
  asyncRetentionSeconds: 'EPHEMERA_ASYNC_RETENTION_SECONDS',
  eventStreamsMax: 'EPHEMERA_EVENT_STREAMS_MAX',
  eventStreamMaxSeconds: 'EPHEMERA_EVENT_STREAM_MAX_SECONDS',
  sealKem: 'EPHEMERA_SEAL_KEM',
  sealKeyRotateSeconds: 'EPHEMERA_SEAL_KEY_ROTATE_S',
  sealKeyGraceSeconds: 'EPHEMERA_SEAL_KEY_GRACE_S',
  requireSealed: 'EPHEMERA_REQUIRE_SEALED',
  tlog: 'EPHEMERA_TLOG',
  tlogIntervalMs: 'EPHEMERA_TLOG_INTERVAL_MS',
  tlogBatchMax: 'EPHEMERA_TLOG_BATCH_MAX',
  tlogOrigin: 'EPHEMERA_TLOG_ORIGIN',
  tlogWitnesses: 'EPHEMERA_TLOG_WITNESSES',
} as const satisfies Record<keyof Config, string>;

export const CONFIG_VARIABLES: Readonly<Record<keyof Config, string>> = VARIABLES;

export function loadConfig(env: Env = process.env, overrides: Partial<Record<keyof Config, string>> = {}): Config {
  const get = (key: keyof Config) => {
    const value = overrides[key] ?? env[VARIABLES[key]];
    return value === undefined || value === '' ? undefined : value;
  };
  const bad = (key: keyof Config, why: string): never => {
    throw new EphemeraError('CONFIG_INVALID', `${VARIABLES[key]}: ${why}`, { fields: { variable: VARIABLES[key] } });
  };
  const oneOf = <T extends string>(key: keyof Config, values: readonly T[], fallback: T): T => {
    const value = get(key) ?? fallback;
    return values.includes(value as T) ? (value as T) : bad(key, `expected one of ${values.join(', ')}`);
  };
  const integer = (key: keyof Config, fallback: number, min: number, max: number): number => {
    const raw = get(key);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    return Number.isSafeInteger(value) && value >= min && value <= max ? value : bad(key, `expected an integer in [${min}, ${max}]`);
  };
  const url = (key: keyof Config): string | null => {
    const raw = get(key);
    if (raw === undefined) return null;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') bad(key, 'expected an http(s) URL');
    } catch (cause) {
      if (cause instanceof EphemeraError) throw cause;
      bad(key, 'expected an http(s) URL');
    }
    return raw;
  };

  const secret = (key: keyof Config, minLength: number): string | null => {
    const value = get(key);
    return value === undefined || value.length >= minLength ? (value ?? null) : bad(key, `expected at least ${minLength} characters`);
  };
  const matching = (key: keyof Config, pattern: RegExp): string | null => {
    const value = get(key);
    return value === undefined || pattern.test(value) ? (value ?? null) : bad(key, `expected ${pattern.source}`);
  };
  const flag = (key: keyof Config): boolean => oneOf(key, ['true', 'false'] as const, 'false') === 'true';
  const allowList = (key: keyof Config): string[] => {
    const entries = list(key);
    try {
      parseAllowList(entries);
    } catch (cause) {
      bad(key, (cause as Error).message);
    }
    return entries;
  };
  const list = (key: keyof Config) =>
    (get(key) ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);

  const maxRuns = integer('maxRuns', DEFAULT_MAX_RUNS(), 1, 1024);
  const log = oneOf('log', ['sqlite', 'kafka'] as const, 'sqlite');
  const config: Config = {
    dataDir: resolve(get('dataDir') ?? './.ephemera'),
    log,
    kafkaBrokers: (get('kafkaBrokers') ?? 'localhost:9092')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    kafkaTopic: get('kafkaTopic') ?? 'ephemera.events',
    kafkaPartitions: integer('kafkaPartitions', 1, 1, 10_000),
    kafkaReplicationFactor: integer('kafkaReplicationFactor', 1, 1, 16),
    clickhouseUrl: url('clickhouseUrl'),
    tee: oneOf('tee', ['auto', 'dstack', 'simulated'] as const, 'auto'),
    dstackEndpoint: get('dstackEndpoint') ?? null,
    pccsUrl: url('pccsUrl') ?? 'https://pccs.phala.network',
    trustedComposeHashes: list('trustedComposeHashes').map((h) => h.toLowerCase().replace(/^0x/, '')),
    allowedTcbStatuses: list('allowedTcbStatuses'),
    trustedKeys: list('trustedKeys').map((k) =>
      KEY_PIN.test(k.toLowerCase()) ? k.toLowerCase() : bad('trustedKeys', 'expected Ed25519 public keys (64 hex) or fingerprints (sha256:<64 hex>)'),
    ),
    anthropicApiKey: get('anthropicApiKey') ?? null,
    executeToken: secret('executeToken', 16),
    anthropicBaseUrl: url('anthropicBaseUrl'),
    llmTimeoutMs: integer('llmTimeoutMs', 120_000, 100, 3_600_000),
    llmMaxRetries: integer('llmMaxRetries', 2, 0, 10),
    port: integer('port', 8080, 0, 65535),
    host: get('host') ?? '127.0.0.1',
    bodyLimitBytes: integer('bodyLimitBytes', 64 * 1024 * 1024, 1024, 2 ** 31),
    maxDatasetBytes: integer('maxDatasetBytes', 32 * 1024 * 1024, 1, 2 ** 31),
    datasetUrlAllow: allowList('datasetUrlAllow'),
    datasetUrlAllowHttp: flag('datasetUrlAllowHttp'),
    datasetFetchTimeoutMs: integer('datasetFetchTimeoutMs', 60_000, 100, 3_600_000),
    datasetFetchIdleTimeoutMs: integer('datasetFetchIdleTimeoutMs', 15_000, 100, 3_600_000),
    datasetMaxRedirects: integer('datasetMaxRedirects', 5, 0, 20),
    limits: oneOf('limits', ['auto', 'cgroup2', 'cgroup1', 'rlimit'] as const, 'auto'),
    nodeId: matching('nodeId', NODE_ID_PATTERN),
    maxRuns,
    memoryBudgetMb: integer('memoryBudgetMb', DEFAULT_MEMORY_BUDGET_MB(), 64, 2 ** 24),
    // Four waiting per slot: enough to ride out a burst; each waiting request holds its body in memory, so not unbounded.
    queueMax: integer('queueMax', 4 * maxRuns, 0, 100_000),
    queueTimeoutMs: integer('queueTimeoutMs', 30_000, 0, 3_600_000),
    drainTimeoutMs: integer('drainTimeoutMs', 20_000, 0, 3_600_000),
    drainGraceMs: integer('drainGraceMs', 0, 0, 600_000),
    executionLeaseMs: integer('executionLeaseMs', DEFAULT_LEASE_MS, 1000, 86_400_000),
    asyncRunsMax: integer('asyncRunsMax', 1000, 1, 1_000_000),
    asyncRetentionSeconds: integer('asyncRetentionSeconds', 600, 0, 86_400),
    eventStreamsMax: integer('eventStreamsMax', 100, 1, 100_000),
    eventStreamMaxSeconds: integer('eventStreamMaxSeconds', 3600, 1, 86_400),
    sealKem: oneOf('sealKem', ['x25519', 'x-wing'] as const, 'x25519'),
    sealKeyRotateSeconds: integer('sealKeyRotateSeconds', 3600, 10, 43_200),
    sealKeyGraceSeconds: integer('sealKeyGraceSeconds', 600, 0, 86_400),
    requireSealed: flag('requireSealed'),
    tlog: oneOf('tlog', ['sequencer', 'follower', 'off'] as const, log === 'sqlite' ? 'sequencer' : 'follower'),
    tlogIntervalMs: integer('tlogIntervalMs', 1000, 10, 3_600_000),
    tlogBatchMax: integer('tlogBatchMax', 4096, 1, 65_536),
    // A note key name: no space, no plus (C2SP signed-note); one line.
    tlogOrigin: matching('tlogOrigin', /^[^\s+]{1,200}$/),
    tlogWitnesses: get('tlogWitnesses') ?? null,
  };
  return Object.freeze(config);
}

/** The configuration as it may be printed or logged: secrets replaced by whether they are set. */
export function describeConfig(config: Config): Record<string, unknown> {
  return { ...config, anthropicApiKey: config.anthropicApiKey ? '[set]' : null, executeToken: config.executeToken ? '[set]' : null };
}
