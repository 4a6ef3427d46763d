// Node-only parts of events/ (kept out of index.ts so the verifier bundle stays isomorphic).
export { SqliteEventLog } from './sqlite.js';
