export { verifyCertificate, verifyCertificateText, verifyCertificateChunks, CertificateVerifier } from './verify.js';
export {
  CHECK_ORDER,
  type Verdict,
  type VerifyCheck,
  type VerifyOptions,
  type AttestationVerifier,
  type AttestationCheck,
  type AttestationContext,
  type CheckName,
  type VerifyErrorCode,
  type BuildVerdict,
} from './verdict.js';
export {
  parseBuildInfo,
  buildEnvSchema,
  parseBuildInfos,
  MAX_BUILD_INFOS,
  parseRuntimeManifest,
  runtimeDifferences,
  BUILD_INFO_FORMAT,
  RUNTIME_FORMAT,
  MAX_BUILD_INFO_BYTES,
  type BuildInfo,
  type RuntimeManifest,
} from './build-info.js';
export {
  deriveCertificate,
  certificateJson,
  CertificateFold,
  modelUses,
  certificateIdOf,
  executionIdOf,
  CERTIFICATE_ID_PATTERN,
  CERTIFICATE_ID_PARAM,
  CERTIFICATE_VERSION,
  CERTIFICATE_ID_PREFIX,
  CERTIFICATE_MEMBERS,
  OPTIONAL_CERTIFICATE_MEMBERS,
  type Certificate,
  type ExecutionTrace,
  type ToolUse,
  type ModelUse,
} from './certificate.js';
export { firstDifference, type Difference } from './compare.js';
export { sqlAnswersText, toolUseText } from './tool-use-text.js';
export { checkJsonValue } from './json-value.js';
export { DEFAULT_VERIFY_LIMITS, type VerifyLimits } from './limits.js';
export { keyFingerprint, keyIdentity, trustOfKey, type TrustOptions, type TrustBasis, type KeyIdentity, type TrustVerdict } from './trust.js';
export { checkLogCheckpoint, trustLogKey, parseLogKeyDocument, checkLogKeyDocumentShape, type LogPolicy, type TrustedCheckpoint } from './log-checkpoint.js';
export {
  verifyHistory,
  parseHistoryAnswer,
  agreementOf,
  HISTORY_MAX_LEAVES,
  type HistoryVerdict,
  type HistoryRun,
  type HeldRun,
  type ResultAgreement,
  type HistoryPageReader,
} from './history.js';
export { checkTransparency, checkTransparencyShape, MAX_TRANSPARENCY_BYTES, type TransparencyVerdict } from './transparency.js';
export { checkFreshCheckpoint, LogEvidenceError, type FreshCheckpoint } from './consistency.js';
