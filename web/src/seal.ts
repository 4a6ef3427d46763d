/**
 * Opening a sealed result in the browser (src/seal: HPKE over WebCrypto):
 * bundled apart and loaded only when a reader picks a key file, since HPKE
 * and its suites weigh about as much as the rest of the page.
 */
export { openSealedResult, parseResultKeyFile } from '../../src/seal/index.js';
