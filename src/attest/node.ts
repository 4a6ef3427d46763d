// Node-only parts of attest/.
export { EventMerkleTree } from './merkle-tree.js';
export { SimulatedAttestor, SIMULATED_KEY_FILE, readSimulatedPublicKey } from './simulated.js';
export { DstackAttestor, dstackSocketPresent, DSTACK_SOCKETS, type DstackOptions } from './dstack.js';
export { verifyTdxAttestation, tdxVerifier, dcapErrorCode, type TdxPolicy, type TdxContext, type Check } from './verify-tdx.js';
