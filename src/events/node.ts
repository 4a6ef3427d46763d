// Node-only parts of events/ (kept out of index.ts so the verifier bundle stays isomorphic).
export { SqliteEventLog } from './sqlite.js';
export { KafkaEventLog, type KafkaLogOptions } from './kafka.js';
export { assertProducerSettings, REQUIRED_PRODUCER_SETTINGS, type ProducerSettings } from './kafka-settings.js';
export { nodeSha256 } from './node-hash.js';
