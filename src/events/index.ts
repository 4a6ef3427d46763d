export { canonicalize } from './jcs.js';
export {
  HASH_PATTERN,
  isHash,
  sha256Bytes,
  toHash,
  hashBytes,
  hashUtf8,
  hashUtf8With,
  hashToBytes,
  nobleSha256,
  bytesToHex,
  hexToBytes,
  utf8ToBytes,
  concatBytes,
  type Hash,
  type Sha256,
} from './hash.js';
export { s, isPlainObject, isTimestamp, type Schema, type Infer, type Problem, type ProblemKind } from './schema.js';
export {
  eventDataSchemas,
  eventDataSchemasV1,
  attestationSchemaV2,
  teeSchemaV2,
  runResultSchemaV2,
  stderrTailSchemaV2,
  EVENT_TYPES,
  DSTACK_RUNTIME_EVENT_TYPE,
  isEventType,
  type EventType,
  type EventData,
  type SandboxSummary,
  type RunResult,
  type StderrTail,
  type Totals,
  type Attestation,
  type SandboxCreated,
  SEAL_SUITES,
  type Submission,
  type SealedResult,
  type SealSuite,
  type RowsMember,
  type RowsAbsentReason,
  ROWS_ABSENT_REASONS,
} from './types.js';
export {
  EVENT_HASH_TAG,
  GENESIS_TAG,
  ENVELOPE_VERSION,
  SUPPORTED_VERSIONS,
  EXECUTION_ID_PATTERN,
  ULID,
  RUN_ID,
  RUN_ID_PATTERN,
  genesisHash,
  computeEventHash,
  eventDigest,
  eventDigestOfCanonicalText,
  eventHashOfCanonicalText,
  sealEnvelope,
  canonicalText,
  parseEventText,
  parseEnvelope,
  EventChain,
  type EventEnvelope,
  type UnhashedEnvelope,
  type EnvelopeErrorCode,
} from './envelope.js';
export { Lifecycle, type Phase } from './lifecycle.js';
export { StreamChecker, verifyStream, MAX_STREAM_EVENTS, type VerifiedStream, type ChainErrorCode } from './chain.js';
export { parseStrictJson, decodeUtf8Strict, DEFAULT_JSON_LIMITS, type JsonLimits, type JsonErrorCode } from './strict-json.js';
export { StrictObjectStream, type ObjectSink } from './strict-stream.js';
export { assertContinues, type EventLog, type TailableEventLog, type PositionedEvent, type LogErrorCode } from './log.js';
export { streamState, silentAfter, DEFAULT_LEASE_MS, type StreamState } from './stream-state.js';
