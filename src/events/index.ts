export { canonicalize } from './jcs.js';
export {
  HASH_PATTERN, isHash, sha256Bytes, toHash, hashBytes, hashUtf8, hashToBytes,
  bytesToHex, hexToBytes, utf8ToBytes, concatBytes, type Hash,
} from './hash.js';
export { s, isPlainObject, type Schema, type Infer } from './schema.js';
export {
  eventDataSchemas, sandboxSummarySchema, resultSchema, EVENT_TYPES, isEventType,
  type EventType, type EventData, type SandboxSummary, type RunResult,
} from './types.js';
export {
  EVENT_HASH_TAG, GENESIS_TAG, ENVELOPE_VERSION, EXECUTION_ID_PATTERN, genesisHash, computeEventHash, sealEnvelope, parseEnvelope, EventChain,
  type EventEnvelope, type UnhashedEnvelope,
} from './envelope.js';
export { evolve, initialLifecycle, type LifecycleState, type Phase } from './lifecycle.js';
export { verifyStream, MAX_STREAM_EVENTS, type VerifiedStream } from './chain.js';
export { assertContinues, type EventLog, type TailableEventLog, type PositionedEvent, type LogErrorCode } from './log.js';
