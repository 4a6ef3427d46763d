/**
 * The TDX verifier for the browser (DCAP with @phala/dcap-qvl, RTMR3 replay,
 * report data, compose hash): the same module the Node verifier uses, bundled
 * apart and loaded only when a certificate carries a `tdx` attestation, since
 * it weighs five times the rest of the page.
 */
export { tdxVerifier } from '../../src/attest/verify-tdx.js';
