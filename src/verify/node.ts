// Node-only parts of verify/ (kept out of index.ts so the browser bundle stays isomorphic).
export { verifyCertificateFile, WORKER_THRESHOLD_BYTES, type FileOptions } from './file.js';
