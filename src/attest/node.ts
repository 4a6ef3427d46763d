// Node-only parts of attest/.
export { EventMerkleTree } from './merkle-tree.js';
export { SimulatedAttestor, SIMULATED_KEY_FILE } from './simulated.js';
