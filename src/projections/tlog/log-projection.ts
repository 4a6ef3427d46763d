/**
 * The transparency log as a projection of the tlog ledger (docs/transparency.md
 * §10–11): every node applies the records in ledger order into its tile store
 * (tiles and entry bundles first, `checkpoint` last) and an in-memory index
 * (certificate → leaf, fingerprint → leaves). A batch is applied only when it
 * continues this tree exactly: first_index at the current size, leaves that
 * parse, name certificates not yet logged and chain `prev` to the last leaf of
 * their fingerprint, and a checkpoint of this origin over the grown tree (signed
 * by the log key when this node knows it). Anything else is ignored, and stays
 * in the ledger as evidence (`ignored` lists its positions). Restart: every
 * record is read again; tiles are rewritten only past the stored checkpoint.
 */
import { leafHash } from '../../attest/index.js';
import { bytesToHex, type Sha256 } from '../../events/index.js';
import { nodeSha256 } from '../../events/node-hash.js';
import type { TlogLedger } from '../../events/tlog-ledger.js';
import { EphemeraError } from '../../errors.js';
import {
  TILE_WIDTH,
  TLOG_BATCH_TYPE,
  TiledTree,
  TileBuilder,
  batchEntries,
  encodeLeaf,
  encodeEntryBundle,
  formatEntryBundlePath,
  formatTilePath,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseEntryBundle,
  parseLeaf,
  parseNote,
  parseTlogRecord,
  tileWidth,
  type CertificateTransparency,
  type HistoryAnswer,
  type LogKeyDocument,
  type LogLeaf,
  type NoteVerifier,
  type TlogBatchRecord,
  type TlogCosignaturesRecord,
} from '../../tlog/index.js';
import { CHECKPOINT_FILE, type TileStore } from './tile-store.js';

/** What a history answer holds at most; `?before=` pages back. */
export const HISTORY_PAGE = 1000;
const READ_CHUNK = 64;
const MAX_IGNORED_LISTED = 10_000;

/** A published checkpoint: the log-signed note, and the cosignature lines collected for it. */
interface Published {
  size: number;
  root: Uint8Array;
  note: string;
  cosignatures: string;
}

/** Rows for the ClickHouse index (best effort: the in-memory index is the authority). */
export interface LeafIndexRow {
  leaf_index: number;
  certificate_id: string;
  fingerprint: string;
  prev: number | null;
  entry: string;
}

export interface TlogProjectionOptions {
  store: TileStore;
  origin: string;
  /** The log key, when this node knows it: a batch whose checkpoint it does not sign is ignored. */
  verifier?: NoteVerifier;
  /** Prove certificates to the latest cosigned checkpoint that holds them (witnesses configured). */
  preferCosigned?: boolean;
  /** The configured witnesses' cosigner keys (EPHEMERA_TLOG_WITNESSES): a cosignature line is served only when one of them verifies it. */
  witnesses?: readonly NoteVerifier[];
  /** Hears every applied batch's leaves (the ClickHouse index); awaited, and must not throw. */
  onLeaves?: (rows: LeafIndexRow[]) => Promise<void>;
  hash?: Sha256;
}

export class TlogProjection {
  private builder: TileBuilder;
  /** The entries of the right edge's partial bundle (fewer than 256). */
  private edgeEntries: Uint8Array[] = [];
  private readonly byCertificate = new Map<string, number>();
  private readonly byFingerprint = new Map<string, number[]>();
  /** The right edge's partial tiles at the current size, by level (what `fork` resumes from). */
  private readonly edge = new Map<number, Uint8Array>();
  private latestPublished: Published | null = null;
  private latestCosigned: Published | null = null;
  private position = -1;
  /** Ledger positions of records not applied (evidence of a stray sequencer or a forged record), the first MAX_IGNORED_LISTED. */
  readonly ignored: number[] = [];
  /** How many records were not applied, all of them. */
  ignoredCount = 0;
  /** The size whose tiles the store already holds (its checkpoint's): no rewrite up to it, once the ledger gives its root. */
  private storedSize = 0;
  /** The stored checkpoint's root (hex): the replay must reach it at storedSize, else the store is another ledger's. */
  private storedRoot = '';
  private storedConfirmed = false;
  private started = false;
  private applying: Promise<unknown> = Promise.resolve();
  private readonly hash: Sha256;
  private readonly trees = new Map<number, TiledTree>();

  constructor(private readonly options: TlogProjectionOptions) {
    this.hash = options.hash ?? nodeSha256;
    this.builder = new TileBuilder(this.hash);
  }

  get size(): number {
    return this.builder.size;
  }

  get latest(): { size: number; checkpoint: string } | null {
    const p = this.latestPublished;
    return p && { size: p.size, checkpoint: p.note + p.cosignatures };
  }

  /** The latest log-signed note alone (what goes to the witnesses). */
  get latestNote(): { size: number; note: string } | null {
    const p = this.latestPublished;
    return p && { size: p.size, note: p.note };
  }

  /** RFC 6962 PROOF(oldSize, D[0:size]) from the tiles, `size` a published checkpoint's. */
  async consistencyProof(oldSize: number, size: number): Promise<Uint8Array[]> {
    const published = this.latestPublished;
    if (!published || published.size !== size) throw new EphemeraError('TLOG_UNAVAILABLE', 'not the latest checkpoint');
    return this.tree(published).consistencyProof(oldSize, size);
  }

  isLogged(certificateId: string): boolean {
    return this.byCertificate.has(certificateId);
  }

  lastIndexOf(fingerprint: string): number | null {
    return this.byFingerprint.get(fingerprint)?.at(-1) ?? null;
  }

  /** A builder continuing this tree (the sequencer signs the grown root with it); this one is not touched. */
  fork(): TileBuilder {
    return TileBuilder.resume(this.builder.size, (level) => this.edge.get(level)!, this.hash);
  }

  /** Applies every ledger record past the last one applied; resolves with how many were read. */
  catchUp(ledger: TlogLedger): Promise<number> {
    const run = this.applying.then(async () => {
      if (!this.started) await this.start();
      let read = 0;
      for (;;) {
        const records = await ledger.readFrom(this.position, READ_CHUNK);
        try {
          for (const { position, text } of records) {
            await this.applyRecord(text, position);
            this.position = position;
          }
        } catch (error) {
          if (!(error instanceof ForeignStore)) throw error;
          this.replayWritingAll();
          continue;
        }
        read += records.length;
        if (records.length < READ_CHUNK) {
          // The ledger ends short of the stored checkpoint: the files up to it are another tree's.
          if (!this.storedConfirmed && this.size < this.storedSize) {
            this.replayWritingAll();
            continue;
          }
          return read;
        }
      }
    });
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async start(): Promise<void> {
    const stored = await this.options.store.readCheckpoint();
    if (stored !== null) {
      try {
        const checkpoint = parseCheckpoint(parseNote(stored).text);
        this.storedSize = checkpoint.size;
        this.storedRoot = bytesToHex(checkpoint.rootHash);
      } catch {
        this.storedSize = 0; // unreadable: rewrite every tile
      }
    }
    this.started = true;
  }

  private async applyRecord(text: string, position: number): Promise<void> {
    let record: ReturnType<typeof parseTlogRecord>;
    try {
      record = parseTlogRecord(text);
    } catch {
      return this.ignore(position);
    }
    const applied = record.type === TLOG_BATCH_TYPE ? await this.applyBatch(record) : await this.applyCosignatures(record);
    if (!applied) this.ignore(position);
  }

  /** The tile store is not this ledger's: forget everything and read the ledger again, writing every file. */
  private replayWritingAll(): void {
    this.builder = new TileBuilder(this.hash);
    this.edgeEntries = [];
    this.byCertificate.clear();
    this.byFingerprint.clear();
    this.edge.clear();
    this.trees.clear();
    this.latestPublished = null;
    this.latestCosigned = null;
    this.position = -1;
    this.ignored.length = 0;
    this.ignoredCount = 0;
    this.storedSize = 0;
    this.storedConfirmed = true;
  }

  /** A shared topic anyone with write access can flood: the positions listed are bounded, the count is not. */
  private ignore(position: number): void {
    this.ignoredCount += 1;
    if (this.ignored.length < MAX_IGNORED_LISTED) this.ignored.push(position);
  }

  private async applyBatch(record: TlogBatchRecord): Promise<boolean> {
    if (record.origin !== this.options.origin || record.first_index !== this.size) return false;
    const checked = this.checkBatch(record);
    if (checked === null) return false;
    const { entries, leaves, builder, tiles, root } = checked;
    const end = builder.size;
    // Entry bundles of the batch's range, each at its width now (the edge's earlier entries held in memory).
    const edgeStart = Math.floor(record.first_index / TILE_WIDTH) * TILE_WIDTH;
    const span = [...this.edgeEntries, ...entries];
    const bundles: { path: string; bytes: Uint8Array }[] = [];
    for (let start = edgeStart; start < end; start += TILE_WIDTH) {
      const slice = span.slice(start - edgeStart, start - edgeStart + TILE_WIDTH);
      bundles.push({ path: formatEntryBundlePath({ index: start / TILE_WIDTH, width: slice.length }), bytes: encodeEntryBundle(slice) });
    }
    // SECURITY: files are skipped only up to the stored checkpoint, and only while the ledger leads to it: a store left
    // by another ledger (a new topic, a reset event log, the same key) would otherwise serve the old tree's tiles and
    // leaves under the new checkpoint.
    if (!this.storedConfirmed && this.storedSize > 0) {
      const reached = end === this.storedSize && bytesToHex(root) === this.storedRoot;
      if (reached) this.storedConfirmed = true;
      else if (end >= this.storedSize) throw new ForeignStore();
    }
    if (end > this.storedSize) {
      for (const tile of tiles) await this.options.store.write(formatTilePath(tile), tile.data);
      for (const bundle of bundles) await this.options.store.write(bundle.path, bundle.bytes);
      await this.options.store.write(CHECKPOINT_FILE, record.checkpoint);
    }
    // Commit in memory only once the files are there (a failed write leaves this tree as it was; the record is read again).
    this.builder = builder;
    for (const tile of tiles) if (tile.width < TILE_WIDTH) this.edge.set(tile.level, tile.data);
    for (const level of [...this.edge.keys()]) if (Math.floor(end / TILE_WIDTH ** level) % TILE_WIDTH === 0) this.edge.delete(level);
    this.edgeEntries = span.slice(Math.floor(end / TILE_WIDTH) * TILE_WIDTH - edgeStart);
    leaves.forEach((leaf, i) => {
      const index = record.first_index + i;
      this.byCertificate.set(leaf.certificate_id, index);
      const list = this.byFingerprint.get(leaf.fingerprint);
      if (list) list.push(index);
      else this.byFingerprint.set(leaf.fingerprint, [index]);
    });
    this.latestPublished = { size: end, root, note: record.checkpoint, cosignatures: '' };
    await this.options.onLeaves?.(
      leaves.map((leaf, i) => ({
        leaf_index: record.first_index + i,
        certificate_id: leaf.certificate_id,
        fingerprint: leaf.fingerprint,
        prev: leaf.prev,
        entry: new TextDecoder().decode(entries[i]),
      })),
    );
    return true;
  }

  /** The batch's leaves and grown tree, or null when it does not continue this log exactly. */
  private checkBatch(record: TlogBatchRecord) {
    try {
      const entries = batchEntries(record);
      const leaves = entries.map((entry) => parseLeaf(entry));
      const seen = new Map<string, number>();
      for (const [i, leaf] of leaves.entries()) {
        const index = record.first_index + i;
        if (this.byCertificate.has(leaf.certificate_id) || seen.has(leaf.certificate_id)) return null;
        seen.set(leaf.certificate_id, index);
        const last = lastIn(leaves, i, leaf.fingerprint, record.first_index) ?? this.lastIndexOf(leaf.fingerprint);
        if (leaf.prev !== last) return null;
      }
      const builder = this.fork();
      const tiles = builder.append(entries.map((entry) => leafHash(entry, this.hash)));
      const root = builder.root();
      const note = this.options.verifier
        ? openCheckpoint(record.checkpoint, [this.options.verifier]).checkpoint
        : parseCheckpoint(parseNote(record.checkpoint).text);
      if (note.origin !== record.origin || note.size !== builder.size || bytesToHex(note.rootHash) !== bytesToHex(root)) return null;
      return { entries, leaves, builder, tiles, root };
    } catch {
      return null;
    }
  }

  private async applyCosignatures(record: TlogCosignaturesRecord): Promise<boolean> {
    const published = this.latestPublished;
    if (record.origin !== this.options.origin || published === null || record.size !== published.size) return false;
    const lines = record.cosignatures.split(/(?<=\n)/).filter((line) => line.length > 0);
    if (lines.some((line) => !line.startsWith('— ') || !line.endsWith('\n'))) return false;
    // SECURITY: the ledger's records are not signed (on Kafka anyone who may write the topic adds one). A line kept
    // must verify under a configured witness's key over this note: a forged line under a witness's name would make
    // every reader who counts that witness refuse the checkpoint, and a stranger's would make it look cosigned.
    const witnesses = this.options.witnesses ?? [];
    const fresh = lines.filter(
      (line) => !published.note.includes(line) && !published.cosignatures.includes(line) && verifiesUnder(published.note + line, witnesses),
    );
    if (fresh.length === 0) return false;
    const cosignatures = published.cosignatures + fresh.join('');
    try {
      parseNote(published.note + cosignatures);
    } catch {
      return false;
    }
    published.cosignatures = cosignatures;
    this.latestCosigned = published;
    if (published.size > this.storedSize) await this.options.store.write(CHECKPOINT_FILE, published.note + cosignatures);
    return true;
  }

  // ---- reads (routes, the sequencer, `tlog check`)

  /** The certificate's leaf with its inclusion proof to the newest suitable checkpoint, or null when it is not logged. */
  async transparencyOf(certificateId: string, logKey: LogKeyDocument): Promise<CertificateTransparency | null> {
    const index = this.byCertificate.get(certificateId);
    if (index === undefined) return null;
    const published = this.checkpointFor(index)!;
    return {
      leaf_index: index,
      leaf: await this.leaf(index),
      checkpoint: published.note + published.cosignatures,
      inclusion_proof: await this.proof(published, index),
      log_key: logKey,
    };
  }

  /** A fingerprint's leaves, newest first, below `before` (at most HISTORY_PAGE), each proved to one checkpoint. */
  async history(fingerprint: string, logKey: LogKeyDocument, before?: number): Promise<HistoryAnswer> {
    const all = this.byFingerprint.get(fingerprint) ?? [];
    const below = before === undefined ? all : all.filter((index) => index < before);
    const page = below.slice(-HISTORY_PAGE).reverse();
    const published = (page.length > 0 ? this.checkpointFor(page[0]!) : this.latestPublished) ?? unavailable();
    const leaves = await Promise.all(
      page.map(async (index) => ({ leaf_index: index, leaf: await this.leaf(index), inclusion_proof: await this.proof(published, index) })),
    );
    return { fingerprint, checkpoint: published.note + published.cosignatures, log_key: logKey, leaves };
  }

  /** The index rows (as onLeaves heard them) of logged certificates; the others are left out. */
  async indexRowsOf(certificateIds: readonly string[]): Promise<LeafIndexRow[]> {
    const out: LeafIndexRow[] = [];
    for (const id of certificateIds) {
      const index = this.byCertificate.get(id);
      if (index === undefined) continue;
      const leaf = await this.leaf(index);
      out.push({ leaf_index: index, certificate_id: id, fingerprint: leaf.fingerprint, prev: leaf.prev, entry: new TextDecoder().decode(encodeLeaf(leaf)) });
    }
    return out;
  }

  /** The leaf at `index` (read from its entry bundle). */
  async leaf(index: number): Promise<LogLeaf> {
    const bundle = Math.floor(index / TILE_WIDTH);
    const width = tileWidth(this.size, 0, bundle);
    const bytes = await this.options.store.read(formatEntryBundlePath({ index: bundle, width }));
    if (bytes === null) throw new EphemeraError('TLOG_UNAVAILABLE', 'an entry bundle of the log is missing from the tile store');
    return parseLeaf(parseEntryBundle(bytes, width)[index % TILE_WIDTH]!);
  }

  /** The latest cosigned checkpoint holding the leaf (when preferred), else the latest. */
  private checkpointFor(index: number): Published | null {
    const cosigned = this.latestCosigned;
    if (this.options.preferCosigned && cosigned && cosigned.size > index) return cosigned;
    return this.latestPublished;
  }

  private async proof(published: Published, index: number): Promise<string[]> {
    return (await this.tree(published).inclusionProof(index)).map(bytesToHex);
  }

  private tree(published: Published): TiledTree {
    let tree = this.trees.get(published.size);
    if (!tree) {
      const store = this.options.store;
      tree = new TiledTree(
        { size: published.size, root: published.root },
        async (path) => (await store.read(path)) ?? Promise.reject(new Error(`no ${path}`)),
        this.hash,
      );
      // Two trees: the latest and the latest cosigned.
      if (this.trees.size >= 2) this.trees.delete(this.trees.keys().next().value!);
      this.trees.set(published.size, tree);
    }
    return tree;
  }
}

/** The index of the last leaf before position `i` of this batch with the fingerprint, if any. */
function lastIn(leaves: readonly LogLeaf[], i: number, fingerprint: string, firstIndex: number): number | null {
  for (let j = i - 1; j >= 0; j--) if (leaves[j]!.fingerprint === fingerprint) return firstIndex + j;
  return null;
}

/** Whether the note's one line past the log's verifies under one of the witnesses (openNote refuses a bad line of a known key). */
function verifiesUnder(note: string, witnesses: readonly NoteVerifier[]): boolean {
  if (witnesses.length === 0) return false;
  try {
    return openNote(note, witnesses).verified.length === 1;
  } catch {
    return false;
  }
}

/** Thrown inside catchUp when the replay leaves the stored checkpoint's tree (caught there). */
class ForeignStore extends Error {}

function unavailable(): never {
  throw new EphemeraError('TLOG_UNAVAILABLE', 'the log has no checkpoint yet');
}
