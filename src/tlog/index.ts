/**
 * Transparency-log formats (docs/transparency.md), isomorphic: C2SP signed
 * notes, checkpoints, cosignatures and the witness protocol's messages; C2SP
 * tiles, entry bundles, and proofs read from tiles. The log itself (a
 * projection of the ledger) and its routes build on these.
 */

// ---- notes, checkpoints, cosignatures, witness messages (helper `notes`)

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
