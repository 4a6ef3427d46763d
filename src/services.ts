/**
 * Composes the services from the configuration: the event log, the attestor,
 * the sandbox factory, the certificate reader and the verifier's options.
 * One instance per process; `close` awaits every pending write.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import type { EventLog } from './events/index.js';
// The Kafka client (kafkajs, the feed) loads only for a Kafka log: ~25 ms of every start with the embedded one.
import { SqliteEventLog } from './events/sqlite.js';
import type { Attestor } from './attest/index.js';
import { DstackAttestor, SimulatedAttestor, dstackSocketPresent, tdxVerifier } from './attest/node.js';
import { nodeSha256 } from './events/node-hash.js';
import { createSandbox } from './sandbox/index.js';
import type { Sandbox, SandboxSpec } from './sandbox/types.js';
import { certificatesFromLog, EventMirror, type CertificateReader } from './projections/certificates/index.js';
import type { KafkaFeed } from './projections/feed/kafka-feed.js';
import type { VerifyOptions } from './verify/index.js';
import { ReadModel } from './projections/read-model.js';
import { verifyOptionsFor } from './verify-options.js';
import { nodeIdOf, projectionGroupOf } from './node-identity.js';
import { Admission, admissionLimitsOf } from './commands/execute/admission.js';
import { journalDirOf, RunJournal } from './commands/execute/journal.js';
import { KeyRing } from './commands/keys/key-ring.js';
import { nodeSealCrypto } from './seal/node-aead.js';
import { WitnessClient, parseWitnessList } from './commands/tlog/witness-client.js';
import { SqliteTlogLedger } from './events/tlog-ledger-sqlite.js';
import type { TlogLedger } from './events/tlog-ledger.js';
import { openTransparencyLog, type TransparencyLog } from './transparency.js';

/** Hears how long one append to the event log took (the metrics' histogram). */
export type AppendListener = (kind: EventLog['kind'], seconds: number) => void;

export interface Services {
  config: Config;
  log: EventLog;
  attestor: Attestor;
  createSandbox: (spec: SandboxSpec) => Promise<Sandbox>;
  certificates: CertificateReader;
  /** How this service verifies certificates for its readers: its own simulated key counts as local, plus EPHEMERA_TRUSTED_KEYS. */
  verifyOptions: VerifyOptions;
  /** How the executor verifies its own certificate before issuing it (commands/execute/seal.ts). */
  selfCheck: VerifyOptions;
  /** The projection consumer, when the log is Kafka. */
  feed: KafkaFeed | null;
  /** This node's name among nodes sharing the log (node-identity.ts). */
  nodeId: string;
  /** This node's own unfinished runs (the only streams it may close after a crash). */
  journal: RunJournal;
  /** ClickHouse projections for search, analytics and replay diffs (opened on first use). */
  readModel: ReadModel;
  /** This executor's capacity: what runs at once, what waits (commands/execute/admission.ts). */
  admission: Admission;
  /** The executor's sealing keys (commands/keys/key-ring.ts): made when the app starts (`start`), in memory only. */
  keyRing: KeyRing;
  /** The transparency log on this node (docs/transparency.md), null when EPHEMERA_TLOG=off; started with the app. */
  tlog: TransparencyLog | null;
  /** Registers a listener for every append's latency; returns the way to stop. */
  onAppend(listener: AppendListener): () => void;
  close(): Promise<void>;
}

export async function createServices(config: Config, options: { feed?: boolean } = {}): Promise<Services> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const nodeId = nodeIdOf(config);
  const attestor = await openAttestor(config);
  const closers: (() => Promise<void> | void)[] = [];
  let log: EventLog;
  let certificates: CertificateReader;
  let feed: KafkaFeed | null = null;
  let readModel: ReadModel;
  let ledger: TlogLedger | null = null;
  if (config.log === 'kafka') {
    const { KafkaEventLog } = await import('./events/kafka.js');
    const kafkaLog = await KafkaEventLog.open({
      brokers: config.kafkaBrokers,
      topic: config.kafkaTopic,
      partitions: config.kafkaPartitions,
      replicationFactor: config.kafkaReplicationFactor,
    });
    log = kafkaLog;
    readModel = new ReadModel(config, log);
    if (config.tlog !== 'off') {
      const { KafkaTlogLedger, tlogTopicOf } = await import('./events/tlog-ledger-kafka.js');
      ledger = await KafkaTlogLedger.open(kafkaLog.kafka, tlogTopicOf(config.kafkaTopic), config.kafkaReplicationFactor);
    }
    if (options.feed === false) {
      certificates = certificatesFromLog(kafkaLog);
    } else {
      const mirror = new EventMirror(mirrorPathOf(config.dataDir));
      const { startKafkaFeed } = await import('./projections/feed/kafka-feed.js');
      feed = await startKafkaFeed(kafkaLog.kafka, config.kafkaTopic, projectionGroupOf(nodeId), async (events) => {
        mirror.insert(events);
        await readModel.projectBatch(events);
      });
      certificates = certificatesFromLog(mirror);
      closers.push(
        () => feed!.stop(),
        () => mirror.close(),
      );
    }
  } else {
    log = new SqliteEventLog(join(config.dataDir, 'events.sqlite'));
    certificates = certificatesFromLog(log);
    readModel = new ReadModel(config, log);
    if (config.tlog !== 'off') ledger = new SqliteTlogLedger(join(config.dataDir, 'events.sqlite'));
  }
  // Witnesses (EPHEMERA_TLOG_WITNESSES): the witness branch's WitnessClient plugs in here.
  const tlog = ledger && (await openTransparencyLog(config, { attestor, ledger, readModel, certificates, witnesses: witnessClientOf(config) }));
  const appendListeners = new Set<AppendListener>();
  timeAppends(log, appendListeners);
  const keyRing = keyRingOf(config, attestor, nodeId);
  return {
    config,
    log,
    attestor,
    createSandbox: (spec) => createSandbox({ ...spec, limitsMode: config.limits }),
    certificates,
    verifyOptions: verifyOptionsFor(config, {}, localKeysOf(attestor)),
    selfCheck: await selfCheckOptions(config, attestor),
    feed,
    nodeId,
    journal: new RunJournal(journalDirOf(config.dataDir)),
    readModel,
    admission: new Admission(admissionLimitsOf(config)),
    keyRing,
    tlog,
    onAppend(listener) {
      appendListeners.add(listener);
      return () => appendListeners.delete(listener);
    },
    async close() {
      keyRing.close();
      await tlog?.close();
      for (const close of closers) await close();
      await readModel.close();
      await log.close();
    },
  };
}

/** The sealing keys: the suite EPHEMERA_SEAL_KEM names, rotated every EPHEMERA_SEAL_KEY_ROTATE_S, accepted for the grace after. */
function keyRingOf(config: Config, attestor: Attestor, node: string): KeyRing {
  return new KeyRing({
    attestor,
    node,
    suite: config.sealKem === 'x-wing' ? 'xwing-aes256gcm' : 'x25519-aes256gcm',
    rotateMs: config.sealKeyRotateSeconds * 1000,
    graceMs: config.sealKeyGraceSeconds * 1000,
    crypto: nodeSealCrypto,
  });
}

/** Wraps the log's append so every append, acknowledged or failed, reports its latency: one place for the runs, recovery and the CLI. */
function timeAppends(log: EventLog, listeners: Set<AppendListener>): void {
  const append = log.append.bind(log);
  log.append = async (events) => {
    const started = performance.now();
    try {
      return await append(events);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      for (const listener of listeners) listener(log.kind, seconds);
    }
  };
}

/** The local mirror of a Kafka log the certificate routes read (rebuilt with the projections). */
export const mirrorPathOf = (dataDir: string) => join(dataDir, 'kafka-mirror.sqlite');

/** auto: dstack when its guest agent is there (socket, or a simulator endpoint); dstack: required; simulated: never. */
async function openAttestor(config: Config): Promise<Attestor> {
  const dstackThere = config.dstackEndpoint !== null || dstackSocketPresent();
  if (config.tee === 'simulated' || (config.tee === 'auto' && !dstackThere)) return new SimulatedAttestor(config.dataDir);
  const attestor = new DstackAttestor({ endpoint: config.dstackEndpoint ?? undefined, pccsUrl: config.pccsUrl });
  await attestor.assertReachable();
  return attestor;
}

function localKeysOf(attestor: Attestor): string[] {
  return attestor instanceof SimulatedAttestor ? [attestor.publicKeyHex] : [];
}

/**
 * The executor checks its own certificate as a reader would, trusting only
 * itself: its own key, or its own build (compose hash) under the configured
 * TCB policy. Against a dstack simulator (an http endpoint) no quote carries
 * Intel's signature and the collateral is a fixture: those checks are left to
 * readers, and everything else (structure, report data, RTMR3, build) holds.
 */
async function selfCheckOptions(config: Config, attestor: Attestor): Promise<VerifyOptions> {
  if (attestor instanceof SimulatedAttestor) return { localKeys: [attestor.publicKeyHex], sha256: nodeSha256 };
  const own = await attestor.describe();
  const composeHash = own.type === 'dstack' ? own.compose_hash : null;
  const tdx = tdxVerifier({ trustedComposeHashes: composeHash ? [composeHash] : [], allowedTcbStatuses: config.allowedTcbStatuses });
  const simulator = /^https?:\/\//.test(config.dstackEndpoint ?? '');
  const INTEL_CHECKS = new Set(['collateral', 'dcap', 'tcb_status']);
  return {
    sha256: nodeSha256,
    attestationVerifiers: {
      tdx: simulator ? (attestation, report, context) => tdx(attestation, report, context).filter((check) => !INTEL_CHECKS.has(check.name)) : tdx,
    },
  };
}

/** The witnesses the sequencer asks to cosign (EPHEMERA_TLOG_WITNESSES), or none. */
function witnessClientOf(config: Config): WitnessClient | null {
  const endpoints = config.tlogWitnesses === null ? [] : parseWitnessList(config.tlogWitnesses);
  if (endpoints.length === 0) return null;
  // A witness that does not cosign is said on stderr (the certificates keep being proved to the latest cosigned checkpoint).
  return new WitnessClient(endpoints, {
    onReport: (report) => {
      if (!report.ok) process.stderr.write(`tlog: witness ${report.url} did not cosign size ${report.size}: ${report.code} ${report.message}\n`);
    },
  });
}
