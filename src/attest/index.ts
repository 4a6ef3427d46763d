// Isomorphic parts of attest/ (the verifier imports these in the browser).
export {
  LEAF_PREFIX, NODE_PREFIX, MERKLE_ALGORITHM, leafHash, nodeHash, rootFromLeafHashes, CompactRange, verifyInclusion, verifyConsistency,
  type MerkleErrorCode,
} from './merkle.js';
export { REPORT_TAG, reportData, reportDataHex } from './report-data.js';
export { SIMULATED_NOTICE, type Attestor, type SimulatedAttestation, type AttestErrorCode } from './attestor.js';
export { verifySimulatedAttestation } from './verify-simulated.js';
