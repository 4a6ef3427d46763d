// Isomorphic parts of attest/ (the verifier imports these in the browser).
export {
  LEAF_PREFIX,
  NODE_PREFIX,
  MERKLE_ALGORITHM,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  CompactRange,
  verifyInclusion,
  verifyConsistency,
  type MerkleErrorCode,
} from './merkle.js';
export { REPORT_TAG, REPORT_TAG_V1, reportData, reportDataV1, reportDataHex } from './report-data.js';
export { SIMULATED_NOTICE, type Attestor, type SimulatedAttestation, type AttestErrorCode } from './attestor.js';
export { verifySimulatedAttestation } from './verify-simulated.js';
export { verifyEd25519Strict, ED25519_L, type Ed25519ErrorCode } from './ed25519.js';
export { parseTdxQuote, isDebugTd, withReport, trimQuote, TEE_TYPE_TDX, type TdxQuoteFields } from './tdx-quote.js';
export { replayRtmr3, runtimeEventDigest, runtimeEvent, type EventLogEntry, type Rtmr3Replay } from './rtmr.js';
