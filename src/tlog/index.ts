/**
 * Transparency-log formats (docs/transparency.md), isomorphic: C2SP signed
 * notes, checkpoints, cosignatures and the witness protocol's messages; C2SP
 * tiles, entry bundles, and proofs read from tiles. The log itself (a
 * projection of the ledger) and its routes build on these.
 */

// ---- notes, checkpoints, cosignatures, witness messages (helper `notes`)
export {
  NOTE_MAX_BYTES,
  NOTE_MAX_SIGNATURES,
  SIGNATURE_TYPE,
  noteKeyId,
  parseNote,
  openNote,
  signNote,
  parseNoteVerifierKey,
  parseNoteSignerKey,
  noteSignerFromSeed,
  formatVerifierKey,
  generateNoteKey,
  type Note,
  type NoteSignature,
  type NoteVerifier,
  type NoteSigner,
  type OpenedNote,
  type NoteLimits,
  type Ed25519NoteVerifier,
  type NoteErrorCode,
} from './note.js';
export { CHECKPOINT_MAX_BYTES, parseCheckpoint, formatCheckpoint, openCheckpoint, type Checkpoint, type CheckpointErrorCode } from './checkpoint.js';
export {
  cosignatureMessage,
  parseCosignature,
  cosignatureTimestamp,
  parseCosignerVerifierKey,
  parseCosignerSignerKey,
  generateCosignerKey,
  cosignerVerifierKey,
  type CosignerVerifier,
  type Cosigner,
  type CosignatureErrorCode,
} from './cosignature.js';
export {
  WITNESS_HTTP_STATUS,
  TREE_SIZE_CONTENT_TYPE,
  MAX_PROOF_LINES,
  ADD_CHECKPOINT_MAX_BYTES,
  parseAddCheckpointRequest,
  formatAddCheckpointRequest,
  checkAddCheckpoint,
  parseAddCheckpointResponse,
  formatAddCheckpointResponse,
  appendCosignatures,
  formatTreeSizeBody,
  parseTreeSizeBody,
  type AddCheckpointRequest,
  type WitnessErrorCode,
} from './witness-messages.js';

// ---- tiles, entry bundles, proofs from tiles (helper `tiles`)
export {
  TILE_WIDTH,
  HASH_SIZE,
  formatTilePath,
  formatEntryBundlePath,
  parseTilePath,
  tileWidth,
  assertTileInTree,
  newTiles,
  type TileId,
  type TilePath,
  type TilePathErrorCode,
} from './tile-path.js';
export {
  TileBuilder,
  rootFromRightEdge,
  encodeEntryBundle,
  parseEntryBundle,
  checkEntryBundle,
  MAX_ENTRY_SIZE,
  type Tile,
  type TilesErrorCode,
} from './tiles.js';
export { TiledTree, type TileReader, type TileProofErrorCode } from './tile-proofs.js';

// ---- the log (docs/transparency.md §8–)
export { LEAF_TYPE, LEAF_MAX_BYTES, leafOfCertificate, encodeLeaf, parseLeaf, type LogLeaf, type LoggableCertificate, type LeafErrorCode } from './leaf.js';
export {
  LOG_KEY_STATEMENT_TAG,
  LOG_KEY_DOCUMENT_PATH,
  logKeyStatementHash,
  logKeyReportData,
  type LogKeyStatement,
  type LogKeyDocument,
} from './log-key.js';
export type { CertificateTransparency, HistoryAnswer } from './transparency.js';
export {
  checkHistoryPage,
  auditLog,
  historyBroken,
  leafHashOf,
  type HistoryPage,
  type HistoryBreak,
  type AuditResult,
  type BundleReader,
  type HistoryErrorCode,
} from './history.js';
export {
  TLOG_BATCH_TYPE,
  TLOG_COSIGNATURES_TYPE,
  TLOG_RECORD_MAX_BYTES,
  encodeTlogRecord,
  parseTlogRecord,
  batchRecord,
  batchEntries,
  type TlogRecord,
  type TlogBatchRecord,
  type TlogCosignaturesRecord,
  type RecordErrorCode,
} from './records.js';
