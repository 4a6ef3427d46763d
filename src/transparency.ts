/**
 * Composes the transparency log of one node (docs/transparency.md §9–13): the
 * tlog ledger beside the event log, the log key from the attestor, the
 * projection into `<dataDir>/tlog/`, and the sequencer (EPHEMERA_TLOG=sequencer)
 * or a follower's ledger reader (follower). `transparencyOf` is what a served
 * certificate's `transparency` member comes from.
 */
import { join } from 'node:path';
import type { Attestor } from './attest/index.js';
import type { Config } from './config.js';
import type { TlogLedger } from './events/tlog-ledger.js';
import { openLogKey, type LogKey } from './commands/tlog/log-key.js';
import { Sequencer, type WitnessSubmitter } from './commands/tlog/sequencer.js';
import { parseWitnessList } from './commands/tlog/witness-client.js';
import type { CertificateReader } from './projections/certificates/index.js';
import type { ReadModel } from './projections/read-model.js';
import { leafIndexWriter, unloggedCertificates } from './projections/tlog/leaf-index.js';
import { TlogProjection } from './projections/tlog/log-projection.js';
import { TileStore } from './projections/tlog/tile-store.js';
import { EphemeraError } from './errors.js';
import { parseCosignerVerifierKey, parseNoteVerifierKey, type CertificateTransparency, type LogKeyDocument } from './tlog/index.js';

export interface TransparencyLog {
  readonly role: 'sequencer' | 'follower';
  /** This node's key is the log's (the sequencer; every node under dstack), so it checks the checkpoints' signatures. */
  readonly holdsKey: boolean;
  readonly ledger: TlogLedger;
  readonly key: LogKey;
  readonly projection: TlogProjection;
  readonly store: TileStore;
  readonly sequencer: Sequencer | null;
  /**
   * The log key document, when this node holds the log's key (the sequencer; every node under dstack). A follower
   * on a simulated TEE has a key of its own, which signs nothing of the log: it answers TLOG_UNAVAILABLE rather
   * than a document that would not verify the checkpoints (its checkpoint and tiles are still served).
   */
  logKeyDocument(): Promise<LogKeyDocument>;
  /** The certificate's leaf, proof, checkpoint and log key document, or null while it is not logged. */
  transparencyOf(certificateId: string): Promise<CertificateTransparency | null>;
  start(): void;
  close(): Promise<void>;
}

export const tileStoreDirOf = (dataDir: string) => join(dataDir, 'tlog');

/** The configured witnesses' cosigner keys: the cosignature lines a node serves must verify under one of them. */
export const witnessVerifiersOf = (config: Config) => parseWitnessList(config.tlogWitnesses ?? '').map((w) => parseCosignerVerifierKey(w.vkey));

export async function openTransparencyLog(
  config: Config,
  parts: {
    attestor: Attestor;
    ledger: TlogLedger;
    readModel: ReadModel;
    certificates: CertificateReader;
    witnesses?: WitnessSubmitter | null;
    onError?: (error: unknown) => void;
  },
): Promise<TransparencyLog | null> {
  if (config.tlog === 'off') return null;
  const onError = parts.onError ?? ((error: unknown) => process.stderr.write(`tlog: ${(error as Error).message}\n`));
  const key = await openLogKey(parts.attestor, config.tlogOrigin);
  const store = new TileStore(tileStoreDirOf(config.dataDir));
  const role = config.tlog;
  const holdsKey = role === 'sequencer' || parts.attestor.kind === 'dstack';
  const projection = new TlogProjection({
    store,
    origin: key.origin,
    // Under dstack every node derives the log's key, so a follower checks signatures too; a simulated TEE has a key
    // per node, so there a follower checks origin (EPHEMERA_TLOG_ORIGIN, set to the sequencer's), size and root only.
    verifier: holdsKey ? parseNoteVerifierKey(key.vkey) : undefined,
    preferCosigned: config.tlogWitnesses !== null,
    witnesses: witnessVerifiersOf(config),
    onLeaves: leafIndexWriter(parts.readModel, onError),
  });
  const sequencer =
    role === 'sequencer'
      ? new Sequencer({
          ledger: parts.ledger,
          log: projection,
          candidates: unloggedCertificates(parts.readModel, parts.certificates, projection, onError),
          key,
          batchMax: config.tlogBatchMax,
          intervalMs: config.tlogIntervalMs,
          witnesses: parts.witnesses ?? null,
          onError,
        })
      : null;
  let follower: NodeJS.Timeout | null = null;
  const logKeyDocument = () =>
    holdsKey
      ? key.document()
      : Promise.reject(new EphemeraError('TLOG_UNAVAILABLE', 'this follower does not hold the log key (a simulated TEE): ask the sequencer'));
  return {
    role,
    holdsKey,
    ledger: parts.ledger,
    key,
    projection,
    store,
    sequencer,
    logKeyDocument,
    async transparencyOf(certificateId) {
      if (!projection.isLogged(certificateId)) return null;
      return projection.transparencyOf(certificateId, await logKeyDocument());
    },
    start() {
      if (sequencer) return sequencer.start();
      follower ??= setInterval(() => projection.catchUp(parts.ledger).catch(onError), config.tlogIntervalMs);
      follower.unref();
    },
    async close() {
      if (follower) clearInterval(follower);
      await sequencer?.stop();
      await parts.ledger.close();
    },
  };
}
