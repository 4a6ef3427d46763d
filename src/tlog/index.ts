/**
 * Transparency-log formats (docs/transparency.md), isomorphic: C2SP signed
 * notes, checkpoints, cosignatures and the witness protocol's messages; C2SP
 * tiles, entry bundles, and proofs read from tiles. The log itself (a
 * projection of the ledger) and its routes build on these.
 */

// ---- notes, checkpoints, cosignatures, witness messages (helper `notes`)

// ---- tiles, entry bundles, proofs from tiles (helper `tiles`)
