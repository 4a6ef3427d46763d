/**
 * Sealed submissions (docs/sealed.md): HPKE suites, the key statement and its
 * document, the sealed request's framing, sealed results, and the client
 * that verifies a key document before it encrypts. Isomorphic: the CLI, the
 * server and the browser bundle use the same code (the server and CLI plug
 * node:crypto's AES-256-GCM in through `SealCrypto`, from ./node-aead.js,
 * which this index does not re-export so that the browser never loads it).
 */
export {
  SEALED_REQUEST_CONTENT_TYPE,
  KEY_DOCUMENT_PATH,
  DEFAULT_CHUNK_BYTES,
  type SealCrypto,
  type KeyStatement,
  type KeyDocument,
  type KeyPolicy,
  type VerifiedKey,
  type SealedRequestHeader,
  type SealRequestInput,
  type RowsRequest,
  type OpenedRequest,
  type ResultKeyFile,
  type SealedCertificate,
  type Submission,
  type SealedResult,
  type RunResult,
  type StderrTail,
} from './types.js';
export { generateSealKeyPair, isSealSuite, SUITE_SIZES } from './suites.js';
export { keyStatementHash, keyReportData, KEY_STATEMENT_TAG } from './key-statement.js';
export { parseKeyDocument, checkKeyDocument, MAX_KEY_DOCUMENT_BYTES, DEFAULT_MAX_KEY_AGE_MS } from './key-document.js';
export {
  sealRequest,
  readSealedHeader,
  openSealedRequest,
  openSealedRequestInto,
  MAX_HEADER_BYTES,
  MIN_CHUNK_BYTES,
  MAX_CHUNK_BYTES,
} from './sealed-request.js';
export { sealResult, openSealedResult } from './sealed-result.js';
export { generateResultKey, parseResultKeyFile } from './result-key.js';
export { fetchKeyDocument, submitSealed, type SubmitSealedOptions } from './client.js';
