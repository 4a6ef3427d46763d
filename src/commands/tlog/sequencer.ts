/**
 * The sequencer (docs/transparency.md §10): every interval it takes the sealed
 * certificates not yet logged, oldest sealed_at first (then certificate id),
 * builds their leaves (`prev` from the log's fingerprint index), signs the
 * checkpoint of the grown tree and appends one batch record to the tlog
 * ledger. Only once that is durable does the projection apply it (tiles,
 * checkpoint), so nothing published was not acknowledged, and a certificate
 * whose batch never committed is simply taken again. After each batch the
 * latest checkpoint goes to the witnesses in the background (again each
 * round until one cosigns it: after a restart, or a witness that was down);
 * their cosignatures are appended as a record too.
 */
import { leafHash } from '../../attest/index.js';
import { nodeSha256 } from '../../events/node-hash.js';
import type { TlogLedger } from '../../events/tlog-ledger.js';
import { isEphemeraError } from '../../errors.js';
import {
  TLOG_RECORD_MAX_BYTES,
  batchRecord,
  encodeLeaf,
  encodeTlogRecord,
  formatCheckpoint,
  leafOfCertificate,
  parseLeaf,
  signNote,
  type LoggableCertificate,
  type NoteSigner,
  type TileBuilder,
} from '../../tlog/index.js';

/** What the sequencer reads of the log it extends (the tlog projection). */
export interface SequencedLog {
  readonly size: number;
  /** The latest log-signed checkpoint note (without cosignatures). */
  readonly latestNote: { size: number; note: string } | null;
  isLogged(certificateId: string): boolean;
  lastIndexOf(fingerprint: string): number | null;
  fork(): TileBuilder;
  catchUp(ledger: TlogLedger): Promise<number>;
  consistencyProof(oldSize: number, size: number): Promise<Uint8Array[]>;
}

/** Sealed certificates not yet logged, oldest first (at most `limit`; some may be logged already: they are skipped). */
export type CandidateSource = (limit: number) => Promise<LoggableCertificate[]>;

/** The witness helper's client (src/commands/tlog/witness-client.ts): never throws; the verified cosignature lines. */
export interface WitnessSubmitter {
  submit(s: { origin: string; checkpoint: string; size: number; consistencyProof(oldSize: number): Promise<Uint8Array[]> }): Promise<string[]>;
}

export interface SequencerOptions {
  ledger: TlogLedger;
  log: SequencedLog;
  candidates: CandidateSource;
  key: { origin: string; signer: NoteSigner };
  batchMax: number;
  intervalMs: number;
  witnesses?: WitnessSubmitter | null;
  /** Hears a failed tick (it is tried again next interval). */
  onError?: (error: unknown) => void;
}

/** Room in a record for its members and checkpoint beside the entries. */
const RECORD_OVERHEAD = 16 * 1024;

export class Sequencer {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<number> | null = null;
  private witnessing: Promise<void> | null = null;
  private witnessAgain = false;
  /** The size of the latest checkpoint a witness cosigned in this process (0: none yet). */
  private witnessedSize = 0;

  constructor(private readonly options: SequencerOptions) {}

  start(): void {
    if (this.timer) return;
    const loop = (delayMs: number) => {
      this.timer = setTimeout(async () => {
        const appended = await this.tick().catch((error: unknown) => (this.options.onError?.(error), 0));
        // A full round leaves a backlog: the next one starts at once, so a burst is taken at the rate of the work.
        if (this.timer) loop(appended >= this.options.batchMax ? 0 : this.options.intervalMs);
      }, delayMs);
      this.timer.unref();
    };
    loop(this.options.intervalMs);
  }

  /** Stops the timer and waits for the tick and the witness round in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking?.catch(() => undefined);
    await this.witnessing;
  }

  /** One round: catch up, sequence one batch (if any), apply it. Resolves with the number of leaves appended. */
  tick(): Promise<number> {
    this.ticking ??= this.sequence().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async sequence(): Promise<number> {
    const { ledger, log } = this.options;
    await log.catchUp(ledger);
    const certificates = orderOf((await this.options.candidates(this.options.batchMax)).filter((c) => !log.isLogged(c.certificate_id)));
    let appended = 0;
    // Up to batchMax leaves a round, in as many records as their size needs (a record stays under Kafka's message limit).
    while (appended < this.options.batchMax && certificates.length > 0) {
      const count = await this.appendBatch(certificates, this.options.batchMax - appended);
      if (count === 0) break;
      appended += count;
    }
    // A new checkpoint, or one no witness has cosigned yet (after a restart, a witness down or newly configured).
    if ((log.latestNote?.size ?? 0) > this.witnessedSize) this.witness();
    return appended;
  }

  /** Takes leaves off the front of `certificates` into one batch record, appends it, applies it; how many it logged. */
  private async appendBatch(certificates: LoggableCertificate[], most: number): Promise<number> {
    const { ledger, log, key } = this.options;
    const firstIndex = log.size;
    const entries: Uint8Array[] = [];
    const last = new Map<string, number>();
    let bytes = 0;
    const taken = new Set<string>();
    while (certificates.length > 0 && entries.length < most) {
      const certificate = certificates[0]!;
      // A batch the projection would ignore must never be appended: on SQLite its first_index stays taken, and every
      // later batch at that index fails to commit (the log stops). So no certificate twice, and only leaves that parse.
      if (log.isLogged(certificate.certificate_id) || taken.has(certificate.certificate_id)) {
        certificates.shift();
        continue;
      }
      const prev = last.get(certificate.fingerprint) ?? log.lastIndexOf(certificate.fingerprint);
      let entry: Uint8Array;
      try {
        entry = encodeLeaf(parseLeaf(encodeLeaf(leafOfCertificate(certificate, prev))));
      } catch (error) {
        certificates.shift();
        this.options.onError?.(error);
        continue;
      }
      bytes += Math.ceil(entry.length / 3) * 4 + 3;
      if (bytes > TLOG_RECORD_MAX_BYTES - RECORD_OVERHEAD) break;
      certificates.shift();
      taken.add(certificate.certificate_id);
      last.set(certificate.fingerprint, firstIndex + entries.length);
      entries.push(entry);
    }
    if (entries.length === 0) return 0;
    const builder = log.fork();
    builder.append(entries.map(leafHashOf));
    const text = formatCheckpoint({ origin: key.origin, size: builder.size, rootHash: builder.root(), extensions: [] });
    const record = batchRecord(key.origin, firstIndex, entries, signNote({ text }, [key.signer]));
    try {
      await ledger.append(encodeTlogRecord(record), firstIndex);
    } catch (error) {
      // Another sequencer committed this index first: its batch is the log; ours are taken again next round.
      if (isEphemeraError(error) && error.code === 'TLOG_BATCH_CONFLICT') {
        await log.catchUp(ledger);
        return 0;
      }
      throw error;
    }
    await log.catchUp(ledger);
    // Applied as written, or the log is not what this sequencer thought (a stray record between): stop this round.
    return log.size === builder.size ? entries.length : 0;
  }

  /** One witness round at a time, for the latest checkpoint only; a batch during a round asks for one more. */
  private witness(): void {
    const witnesses = this.options.witnesses;
    if (!witnesses) return;
    if (this.witnessing) {
      this.witnessAgain = true;
      return;
    }
    this.witnessing = (async () => {
      do {
        this.witnessAgain = false;
        const latest = this.options.log.latestNote;
        if (!latest) return;
        const lines = await witnesses.submit({
          origin: this.options.key.origin,
          checkpoint: latest.note,
          size: latest.size,
          consistencyProof: (oldSize) => this.options.log.consistencyProof(oldSize, latest.size),
        });
        if (lines.length > 0) this.witnessedSize = Math.max(this.witnessedSize, latest.size);
        if (lines.length > 0)
          await this.options.ledger
            .append(
              encodeTlogRecord({ type: 'ephemera.tlog-cosignatures', v: 1, origin: this.options.key.origin, size: latest.size, cosignatures: lines.join('') }),
              null,
            )
            .then(() => this.options.log.catchUp(this.options.ledger))
            .catch((error: unknown) => this.options.onError?.(error));
      } while (this.witnessAgain);
    })().finally(() => (this.witnessing = null));
  }
}

/** Oldest sealed_at first, then certificate id (the log's order for runs sealed together). */
function orderOf(certificates: LoggableCertificate[]): LoggableCertificate[] {
  const sealedAt = (c: LoggableCertificate) => Date.parse(c.events.at(-1)?.at ?? '');
  return [...certificates].sort(
    (a, b) => sealedAt(a) - sealedAt(b) || (a.certificate_id < b.certificate_id ? -1 : a.certificate_id > b.certificate_id ? 1 : 0),
  );
}

/** RFC 6962's leaf hash, SHA-256(0x00 ‖ entry), through node:crypto. */
const leafHashOf = (entry: Uint8Array): Uint8Array => leafHash(entry, nodeSha256);
