// Isomorphic parts of attest/ (the verifier imports these in the browser).
export {
  LEAF_PREFIX, NODE_PREFIX, MERKLE_ALGORITHM, leafHash, nodeHash, rootFromLeafHashes, CompactRange, verifyInclusion, verifyConsistency,
  type MerkleErrorCode,
} from './merkle.js';
export { REPORT_TAG, reportData, reportDataHex } from './report-data.js';
export { SIMULATED_NOTICE, type Attestor, type SimulatedAttestation, type AttestErrorCode } from './attestor.js';
export { verifySimulatedAttestation } from './verify-simulated.js';
export { parseTdxQuote, isDebugTd, withReport, TEE_TYPE_TDX, type TdxQuoteFields } from './tdx-quote.js';
export { replayRtmr3, runtimeEventDigest, runtimeEvent, DSTACK_RUNTIME_EVENT_TYPE, type EventLogEntry, type Rtmr3Replay } from './rtmr.js';
