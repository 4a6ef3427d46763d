export {
  verifyCertificate, CHECK_ORDER, DEFAULT_MAX_EVENTS,
  type Verdict, type VerifyCheck, type VerifyOptions, type AttestationVerifier, type CheckName, type VerifyErrorCode,
} from './verify.js';
export {
  deriveCertificate, certificateIdOf, executionIdOf, CERTIFICATE_VERSION, CERTIFICATE_ID_PREFIX,
  type Certificate, type ExecutionTrace, type ToolUse,
} from './certificate.js';
export { firstDifference } from './diff.js';
