/**
 * Every error code of Ephemera, once: the stage it belongs to, the HTTP
 * status when the API answers with it (null: it is only ever reported inside
 * something else, a verdict or a certified failure), the exit code of the
 * CLI command that fails with it, and what it means in plain words.
 * `ErrorCode` is derived from it, so a code that is not here does not type
 * check; error-codes.unit.test.ts pins the table (docs/errors.md is generated
 * from it: `npm run errors-doc`) and finds every code the sources raise.
 *
 * A leaf like errors.ts: it imports nothing, so every layer (and the browser
 * bundle) may use it.
 */

export type ErrorStage =
  | 'request'
  | 'dataset'
  | 'sandbox'
  | 'execution'
  | 'llm'
  | 'log'
  | 'events'
  | 'json'
  | 'merkle'
  | 'attestation'
  | 'verify'
  | 'trust'
  | 'seal'
  | 'tlog'
  | 'rows'
  | 'sql'
  | 'projections'
  | 'capacity'
  | 'cli'
  | 'config'
  | 'internal';

export interface ErrorInfo {
  stage: ErrorStage;
  http: number | null;
  exit: number;
  message: string;
}

/** CLI exit codes (README "CLI"). */
export const EXIT = { ok: 0, internal: 1, invalid: 1, badInput: 2, computationFailed: 3, untrusted: 4 } as const;

const request = (http: number, message: string): ErrorInfo => ({ stage: 'request', http, exit: EXIT.badInput, message });
/** A problem listed inside REQUEST_INVALID (`problems[].code`), never an answer's own code. */
const problem = (message: string): ErrorInfo => ({ stage: 'request', http: null, exit: EXIT.badInput, message });
const dataset = (http: number, message: string): ErrorInfo => ({ stage: 'dataset', http, exit: EXIT.badInput, message });
const unavailable = (stage: ErrorStage, message: string): ErrorInfo => ({ stage, http: 503, exit: EXIT.internal, message });
const internal = (stage: ErrorStage, message: string): ErrorInfo => ({ stage, http: null, exit: EXIT.internal, message });
/** A run's certified failure (execution.failed.error_code): the run ends, its certificate says why. */
const failed = (stage: 'execution' | 'llm', message: string): ErrorInfo => ({ stage, http: null, exit: EXIT.computationFailed, message });
/** The sql tool's refusal of one query (docs/sql-tool.md §2): answered to the caller, the run goes on. */
const sqlTool = (message: string): ErrorInfo => ({ stage: 'sql', http: null, exit: EXIT.badInput, message });
/** A verdict's failure: the certificate (or stream) is invalid. */
const invalid = (stage: ErrorStage, message: string): ErrorInfo => ({ stage, http: null, exit: EXIT.invalid, message });
/** A sealed request the server refuses (docs/sealed.md §3). */
const sealedRequest = (http: number, message: string): ErrorInfo => ({ stage: 'seal', http, exit: EXIT.badInput, message });
/** A client-side refusal around sealed submissions: nothing was sent, or what came back does not hold. */
const sealClient = (exit: number, message: string): ErrorInfo => ({ stage: 'seal', http: null, exit, message });

export const ERROR_REGISTRY = {
  // The API's requests.
  REQUEST_INVALID: request(400, 'the request is not valid: `problems` lists each problem (at most 20) with its field path, in plain words'),
  REQUEST_ENTRYPOINT_NOT_A_SCRIPT: problem('sandbox.entrypoint names no script in sandbox.scripts'),
  REQUEST_INTERPRETER_NOT_A_TOOL: problem("the entry script's interpreter is not among sandbox.tools: a .py script needs python, a .sh script bash"),
  REQUEST_NOTHING_TO_RUN: problem('no entry script and no LLM step: nothing would run'),
  REQUEST_MALFORMED_JSON: request(400, 'the request body is not JSON'),
  REQUEST_FORBIDDEN_KEY: request(400, 'the request holds a key that is never accepted (__proto__, or constructor.prototype)'),
  REQUEST_TOO_DEEP: request(400, 'the request nests deeper than allowed'),
  REQUEST_UNSUPPORTED_MEDIA_TYPE: request(415, 'the request body is not application/json'),
  REQUEST_BODY_TOO_LARGE: request(413, 'the request body is larger than the server accepts'),
  AUTH_REQUIRED: request(401, 'this server runs executions only for holders of its execute token'),
  // Sealed requests the server refuses (docs/sealed.md §3); the client-side SEAL_* and the framing codes are core's.
  SEALED_KEY_UNKNOWN: request(
    421,
    'the sealed request names a key statement this server does not hold (another node, a restart, or retired): fetch its key document again',
  ),
  SEALED_KEY_EXPIRED: request(410, 'the sealed request names a key statement past its not_after: fetch the key document again'),
  SEALED_SUITE_MISMATCH: request(400, "the sealed request's suite is not its key statement's"),
  SEALED_REPLAY: request(409, 'this sealed request (its encapsulated key) was already submitted to this key'),
  SEALED_REQUIRED: request(403, 'this server requires sealed submissions: a plain request carrying a dataset or an API key is refused'),
  CERTIFICATE_ID_INVALID: request(400, 'not a certificate id (cert_ and a ULID)'),
  CERTIFICATE_NOT_FOUND: request(404, 'no certificate with this id'),
  NOT_FOUND: request(404, 'no such route'),
  // Async runs and their events (GET /executions/:id, …/events).
  EXECUTION_ID_INVALID: request(400, 'not an execution id (a ULID: 26 characters of Crockford base32)'),
  EXECUTION_NOT_FOUND: request(404, 'no execution with this id: not a run of this node, and not in the log'),
  REQUEST_LAST_EVENT_ID_INVALID: request(400, 'Last-Event-ID is not the id (seq) of an event'),
  EXECUTION_REGISTRY_FULL: unavailable('request', 'this node follows as many async runs as it keeps; try again after Retry-After'),
  EXECUTION_STREAMS_BUSY: unavailable('request', 'this node serves as many event streams as it allows at once; try again after Retry-After'),
  EXECUTION_ABORTED: { stage: 'execution', http: null, exit: EXIT.internal, message: 'the run was aborted: it ended without a certificate' },
  // The dataset.
  DATASET_TOO_LARGE: dataset(413, 'the dataset is larger than the server accepts'),
  DATASET_INVALID_BASE64: dataset(400, 'the inline dataset is not valid base64'),
  DATASET_FETCH_FAILED: dataset(422, 'the dataset URL could not be fetched'),
  DATASET_FETCH_TIMEOUT: dataset(422, 'the dataset URL did not answer within the time limit (total, or idle)'),
  DATASET_EMPTY: dataset(422, 'the dataset is empty (0 bytes); allow it with dataset.allow_empty (API) or --allow-empty (CLI)'),
  // Dataset URLs the server refuses to fetch (nothing is loaded; the error names the hop, never the URL).
  DATASET_URL_INVALID: dataset(400, 'the dataset URL, or a redirect location, is not a valid URL'),
  DATASET_URL_SCHEME_FORBIDDEN: dataset(422, 'the dataset URL must be https (plain http only where the server allows it)'),
  DATASET_URL_CREDENTIALS: dataset(422, 'the dataset URL carries user:password@; credentials in URLs are refused'),
  DATASET_URL_INSECURE_REDIRECT: dataset(422, 'the dataset URL redirects from https to plain http'),
  DATASET_URL_TOO_MANY_REDIRECTS: dataset(422, 'the dataset URL redirects more often than the server follows'),
  DATASET_URL_UNRESOLVABLE: dataset(422, "the dataset URL's host does not resolve"),
  DATASET_URL_LOOPBACK: dataset(422, 'the dataset URL leads to a loopback address (localhost, 127.0.0.0/8, ::1, in any spelling)'),
  DATASET_URL_PRIVATE_ADDRESS: dataset(422, 'the dataset URL leads to a private address (RFC 1918, unique-local, carrier-grade NAT)'),
  DATASET_URL_LINK_LOCAL: dataset(422, 'the dataset URL leads to a link-local address (169.254.0.0/16, fe80::/10)'),
  DATASET_URL_METADATA_ADDRESS: dataset(422, 'the dataset URL leads to a cloud instance-metadata address (169.254.169.254, fd00:ec2::254, …)'),
  DATASET_URL_RESERVED_ADDRESS: dataset(
    422,
    'the dataset URL leads to an address that is not public unicast (unspecified, multicast, broadcast, reserved, NAT64, 6to4, …)',
  ),
  // The sandbox, before and around a run.
  SANDBOX_BWRAP_MISSING: unavailable('sandbox', 'bubblewrap is not installed: the server never runs anything unsandboxed'),
  SANDBOX_NAMESPACES_UNAVAILABLE: unavailable('sandbox', 'this host does not let bubblewrap create the namespaces a sandbox needs'),
  SANDBOX_LIMIT_UNAVAILABLE: unavailable('sandbox', 'the cgroups that enforce the sandbox limits could not be set up here'),
  SANDBOX_LIMITS_MODE_UNAVAILABLE: unavailable('sandbox', 'EPHEMERA_LIMITS names a mechanism this host does not offer for every limit'),
  SANDBOX_START_FAILED: { stage: 'sandbox', http: null, exit: EXIT.computationFailed, message: 'the sandbox could not be started (its run fails, certified)' },
  SANDBOX_UNRESPONSIVE: internal('sandbox', 'the sandbox supervisor stopped answering'),
  SANDBOX_DESTROYED: internal('sandbox', 'the sandbox is destroyed, or its supervisor exited'),
  SANDBOX_DESTROY_FAILED: internal('sandbox', 'the sandbox could not be fully destroyed; no certificate is issued'),
  SANDBOX_BAD_CALL: internal('sandbox', 'a tool call the supervisor refused as malformed'),
  SANDBOX_FILE_UNREADABLE: internal('sandbox', 'a file in the sandbox is not a regular file that can be read'),
  // A run's outcome.
  EXECUTION_NONZERO_EXIT: failed('execution', 'the entry script exited with a non-zero status'),
  EXECUTION_TIMEOUT: failed('execution', 'the run passed its time limit'),
  EXECUTION_OUT_OF_MEMORY: failed('execution', 'the run passed its memory limit'),
  EXECUTION_PIDS_LIMIT: failed('execution', 'the run started more processes than allowed'),
  EXECUTION_CPU_LIMIT: failed('execution', 'the run used more CPU time than allowed'),
  EXECUTION_DISK_LIMIT: failed('execution', 'the run wrote more than its working space holds'),
  EXECUTION_OUTPUT_LIMIT: failed('execution', 'the run wrote more output than allowed'),
  EXECUTION_SANDBOX_LOST: failed('execution', 'the sandbox or its file tracer died during the run'),
  EXECUTOR_DRAINING: failed(
    'execution',
    'the executor was shutting down and its drain deadline passed: the run was stopped, its sandbox destroyed and its dataset deleted',
  ),
  // The model.
  LLM_API_KEY_REQUIRED: request(
    422,
    'the sandbox has an LLM step, but neither it (sandbox.llm.api_key) nor the server (ANTHROPIC_API_KEY) has an API key; refused before the dataset is loaded, nothing recorded',
  ),
  LLM_AUTH: failed('llm', 'the model provider refused the API key'),
  LLM_RATE_LIMITED: failed('llm', 'the model provider rate-limited the run'),
  LLM_UNAVAILABLE: failed('llm', 'the model provider could not be reached or failed'),
  LLM_TIMEOUT: failed('llm', 'the model provider did not answer in time'),
  LLM_BAD_REQUEST: failed('llm', 'the model provider refused the request (model name, parameters)'),
  LLM_BAD_RESPONSE: failed('llm', 'the model answered something that is not a Messages API response'),
  LLM_MAX_TURNS: failed('llm', 'the model did not finish within its turn limit'),
  LLM_TOKEN_BUDGET: failed('llm', 'the run spent its token budget'),
  // The event log.
  LOG_UNAVAILABLE: unavailable('log', 'the event log cannot be reached'),
  LOG_APPEND_FAILED: unavailable('log', 'an event was not acknowledged by the log; the run stops with no certificate'),
  LOG_READBACK_MISMATCH: internal('log', 'the log does not hold exactly the stream that was appended'),
  LOG_MISCONFIGURED: internal('log', 'the Kafka producer or topic is not configured for an append-only ledger'),
  // Event streams (the log's, or a certificate's).
  EVENTS_INVALID_ENVELOPE: invalid('events', 'an event does not have the envelope or data its type and version require'),
  EVENTS_UNKNOWN_MEMBER: invalid('events', 'an event holds a member its schema does not have'),
  EVENTS_NOT_SAFE_INTEGER: invalid('events', 'an integer member is not an exact safe integer'),
  EVENTS_BAD_TIMESTAMP: invalid('events', 'a time is not an RFC 3339 UTC time on a real calendar date'),
  EVENTS_UNSUPPORTED_VERSION: invalid('events', 'an event of a format version this verifier does not know'),
  EVENTS_VERSION_MISMATCH: invalid('events', 'the events of one stream are of different format versions'),
  EVENTS_NOT_CANONICALIZABLE: invalid('events', 'a value that has no canonical JSON form (RFC 8785)'),
  EVENTS_HASH_MISMATCH: invalid('events', "an event's hash is not the hash of its content"),
  EVENTS_CHAIN_BROKEN: invalid('events', "an event's prev is not the hash of the event before it"),
  EVENTS_SEQ_GAP: invalid('events', 'a sequence number is missing or out of order'),
  EVENTS_SEQ_CONFLICT: invalid('log', 'another event already holds this sequence number'),
  EVENTS_WRONG_EXECUTION: invalid('events', 'an event of another execution'),
  EVENTS_EMPTY_STREAM: invalid('events', 'the stream has no events'),
  EVENTS_STREAM_TOO_LONG: invalid('events', 'the stream has more events than allowed'),
  EVENTS_TIME_DECREASES: invalid('events', 'an event is earlier than the one before it'),
  EVENTS_LIFECYCLE_VIOLATION: invalid('events', 'the events are not in an order the lifecycle allows'),
  EVENTS_SEALED_RESULT_NOT_EMPTY: invalid('events', 'an outcome event with a sealed result also shows a result or a stderr tail in the clear'),
  EVENTS_SUBMISSION_INVALID: invalid(
    'events',
    "a sealed submission's `sealed` list does not start with dataset, repeats a part, or is out of order, or its dataset came from a URL",
  ),
  EVENTS_ROWS_INVALID: invalid(
    'events',
    "a dataset.loaded event both commits rows and says why not, a txt commitment claims a sort key, or the rows' format is not the request's dataset format",
  ),
  // Strict JSON reading.
  JSON_SYNTAX: invalid('json', 'not JSON'),
  JSON_INVALID_UTF8: invalid('json', 'the bytes are not valid UTF-8'),
  JSON_DUPLICATE_MEMBER: invalid('json', 'a member name appears twice in one object'),
  JSON_UNPAIRED_SURROGATE: invalid('json', 'a string holds half of a UTF-16 surrogate pair'),
  JSON_NUMBER_NOT_CANONICAL: invalid('json', 'a number not written in its canonical form'),
  JSON_TOO_DEEP: invalid('json', 'values nested deeper than allowed'),
  JSON_STRING_TOO_LONG: invalid('json', 'a string longer than allowed'),
  JSON_TOO_MANY_VALUES: invalid('json', 'an event holds more values than allowed'),
  // The Merkle tree.
  MERKLE_BAD_INPUT: invalid('merkle', 'a tree size, index or hash that is out of range or malformed'),
  MERKLE_PROOF_INVALID: invalid('merkle', 'an inclusion or consistency proof that does not prove what it claims'),
  MERKLE_ROOT_MISMATCH: invalid('merkle', 'the proof leads to another root'),
  // Attestations.
  ATTEST_UNAVAILABLE: unavailable('attestation', 'the TEE (dstack) cannot be reached to quote or sign'),
  ATTEST_FAILED: internal('attestation', 'the TEE did not produce a usable quote, or its collateral could not be fetched'),
  ATTEST_UNKNOWN_TYPE: invalid('attestation', 'an attestation type this verifier has no verifier for'),
  ATTEST_MALFORMED: invalid('attestation', 'the attestation does not have the members its type requires'),
  ATTEST_REPORT_DATA_MISMATCH: invalid('attestation', "the attestation does not commit to this certificate's root, id, size and sealing time"),
  ATTEST_SIGNATURE_INVALID: invalid('attestation', 'the signature does not verify under the key'),
  ATTEST_SIGNATURE_NONCANONICAL: invalid('attestation', 'the signature is not in canonical form (R not canonical, or s ≥ L)'),
  ATTEST_SIGNATURE_SMALL_ORDER: invalid('attestation', "the signature's R is a point of small order"),
  ATTEST_KEY_NONCANONICAL: invalid('attestation', 'the public key is not a canonical encoding of a curve point'),
  ATTEST_KEY_SMALL_ORDER: invalid('attestation', 'the public key is a point of small order'),
  ATTEST_KEY_NOT_PRIME_ORDER: invalid('attestation', 'the public key is not in the prime-order subgroup'),
  ATTEST_QUOTE_MALFORMED: invalid('attestation', 'the TDX quote is not a well-formed version 4 quote'),
  ATTEST_QUOTE_SIGNATURE_INVALID: invalid('attestation', "the TDX quote's signature chain does not verify"),
  ATTEST_COLLATERAL_MISSING: invalid('attestation', 'the attestation lacks the collateral its verification needs'),
  ATTEST_COLLATERAL_INVALID: invalid('attestation', "the collateral is not signed by Intel's root, or is malformed"),
  ATTEST_COLLATERAL_EXPIRED: invalid('attestation', 'the collateral was not valid at the time of verification'),
  ATTEST_COLLATERAL_TIME_MISMATCH: invalid('attestation', 'the collateral time lies outside the committed run'),
  ATTEST_REVOKED: invalid('attestation', "a certificate of the quote's chain is revoked"),
  ATTEST_DCAP_FAILED: invalid('attestation', 'Intel DCAP quote verification failed'),
  ATTEST_TCB_OUT_OF_DATE: invalid('attestation', "the platform's TCB status is not one the policy accepts"),
  ATTEST_DEBUG_TD: invalid('attestation', 'the quote comes from a debug TD, whose memory the host can read'),
  ATTEST_RTMR3_MISMATCH: invalid('attestation', "replaying the event log does not give the quote's RTMR3"),
  ATTEST_EVENT_LOG_INVALID: invalid('attestation', "the attestation's event log is malformed or names the app twice"),
  ATTEST_COMPOSE_HASH_UNTRUSTED: invalid('attestation', 'the measured build (compose hash) is not one the reader trusts'),
  // Certificates.
  VERIFY_MALFORMED: invalid('verify', 'the certificate is not an object of the expected shape'),
  VERIFY_TOO_LARGE: invalid('verify', "the certificate is larger than the verifier's limit"),
  VERIFY_TOO_MANY_EVENTS: invalid('verify', "the certificate has more events than the verifier's limit"),
  VERIFY_UNKNOWN_MEMBER: invalid('verify', 'the certificate holds a member nothing commits'),
  VERIFY_MISSING_MEMBER: invalid('verify', 'the certificate lacks a member'),
  VERIFY_NOT_SEALED: invalid('verify', 'the events do not end with a seal'),
  VERIFY_TREE_SIZE_MISMATCH: invalid('verify', "the seal's tree size is not the number of events before it"),
  VERIFY_MERKLE_ROOT_MISMATCH: invalid('verify', "the seal's Merkle root is not the root of the events"),
  VERIFY_FIELD_MISMATCH: invalid('verify', 'a member is not what the events say'),
  VERIFY_INTERNAL: internal('verify', 'the verifier failed on this input; please report it'),
  VERIFY_BUILD_RUNTIME_MISMATCH: invalid('verify', "the sandbox's tools are not the ones the build-info the reader trusts lists"),
  BUILD_INFO_MALFORMED: { stage: 'verify', http: null, exit: EXIT.badInput, message: 'a build-info document that is not one (size, JSON, shape)' },
  VERIFY_UNTRUSTED_SELF: internal('verify', "the executor's own certificate does not verify under its own key or build"),
  CERTIFICATE_REJECTED: {
    stage: 'verify',
    http: 500,
    exit: EXIT.internal,
    message: "the executor's own verification of the certificate it built failed: none was issued (the events say why)",
  },
  // Pinned keys.
  TRUST_KEY_UNAVAILABLE: internal('trust', "the server's key document could not be fetched"),
  TRUST_KEY_DOCUMENT_INVALID: { stage: 'trust', http: null, exit: EXIT.badInput, message: "the server's key document is not valid" },
  TRUST_FINGERPRINT_MISMATCH: { stage: 'trust', http: null, exit: EXIT.invalid, message: "the server's key does not have the fingerprint you expected" },
  // Sealed submissions (docs/sealed.md §7): the client's checks, then the server's refusals.
  SEAL_KEY_DOCUMENT_UNAVAILABLE: sealClient(EXIT.internal, "the server's key document could not be fetched (no answer in time, or not 200): nothing was sent"),
  SEAL_KEY_DOCUMENT_MALFORMED: sealClient(
    EXIT.invalid,
    'the key document is not one, or its hash, key id or report data do not match its statement: nothing was sent',
  ),
  SEAL_KEY_UNTRUSTED: sealClient(EXIT.untrusted, 'the attestation verifies but you do not trust its key or build: nothing was sent'),
  SEAL_KEY_STALE: sealClient(EXIT.invalid, 'the key is too old, expired, or from the future: nothing was sent'),
  SEAL_SUITE_UNSUPPORTED: sealClient(EXIT.invalid, 'the key statement names a suite this client does not have: nothing was sent'),
  SEAL_SUBMISSION_MISMATCH: sealClient(EXIT.invalid, 'the answer does not name the key statement the request was sealed to'),
  SEALED_REQUEST_MALFORMED: sealedRequest(400, "the sealed request's framing or header is not valid"),
  SEALED_DECRYPT_FAILED: sealedRequest(400, 'the sealed request does not open (ciphertext, encapsulated key, header, chunk order or length)'),
  SEALED_PAYLOAD_INVALID: sealedRequest(400, "the sealed request's opened inner part is not valid"),
  SEALED_RESULT_MISMATCH: sealClient(EXIT.invalid, 'the opened result does not hash to result_hash, or is not canonical, or the result is not sealed'),
  SEALED_RESULT_KEY_MISMATCH: sealClient(EXIT.badInput, "the key file is not the certificate's result recipient, or does not open its result"),
  SEALED_RESULT_KEY_INVALID: sealClient(EXIT.badInput, 'not a result key file (ephemera keygen), or its keys do not belong together'),
  // Projections.
  PROJECTIONS_UNAVAILABLE: unavailable('projections', 'ClickHouse (the read side) cannot be reached'),
  // Admission: what this executor can run at once (README "Capacity").
  CAPACITY_REQUEST_TOO_LARGE: {
    stage: 'capacity',
    http: 422,
    exit: EXIT.badInput,
    message: "the run's declared limits (dataset, memory, working space) exceed this executor's whole memory budget: it could never start here",
  },
  CAPACITY_EXHAUSTED: {
    stage: 'capacity',
    http: 503,
    exit: EXIT.internal,
    message: 'every run slot is taken and the queue is full: retry after Retry-After seconds',
  },
  CAPACITY_QUEUE_TIMEOUT: {
    stage: 'capacity',
    http: 503,
    exit: EXIT.internal,
    message: 'the request waited in the queue for its whole queue time without a free slot: retry after Retry-After seconds',
  },
  SERVER_DRAINING: {
    stage: 'capacity',
    http: 503,
    exit: EXIT.internal,
    message: 'this server is shutting down and admits no new runs: retry after Retry-After seconds (elsewhere)',
  },
  PROJECTIONS_GROUP_ACTIVE: {
    stage: 'projections',
    http: null,
    exit: EXIT.badInput,
    message: "a rebuild on Kafka needs this node's projection consumer group idle: stop ephemera serve on this node first",
  },
  // The CLI and configuration.
  CLI_USAGE: { stage: 'cli', http: null, exit: EXIT.badInput, message: 'an unknown option or a missing argument' },
  CLI_FILE_NOT_FOUND: { stage: 'cli', http: null, exit: EXIT.badInput, message: 'no such file' },
  BUNDLE_INVALID: { stage: 'cli', http: null, exit: EXIT.badInput, message: 'a bundle tar that is not one npm run bundle wrote, whole' },
  BUILD_RUNTIME_MISMATCH: internal('cli', "this machine's sandbox tools are not the ones the build declares (deploy/image/runtime.json)"),
  CLI_FILE_UNREADABLE: { stage: 'cli', http: null, exit: EXIT.badInput, message: 'an input file that cannot be read (permissions, or not a regular file)' },
  CLI_OUT_UNWRITABLE: {
    stage: 'cli',
    http: null,
    exit: EXIT.badInput,
    message: 'the certificate could not be written where --out says; it was kept elsewhere, and the message says where',
  },
  CLI_DATA_DIR_NOT_FOUND: {
    stage: 'cli',
    http: null,
    exit: EXIT.badInput,
    message: 'the data directory a read command was pointed at does not exist (nothing ran there); give --data-dir',
  },
  CLI_SERVER_NOT_FOUND: {
    stage: 'cli',
    http: null,
    exit: EXIT.badInput,
    message: 'no ephemera serve answers for this data directory; start one, or give --server URL',
  },
  CLI_WATCH_INTERRUPTED: {
    stage: 'cli',
    http: null,
    exit: EXIT.internal,
    message: "the server stopped sending the run's events before it ended, and reconnecting failed",
  },
  CLI_CERTIFICATE_UNAVAILABLE: {
    stage: 'cli',
    http: null,
    exit: EXIT.internal,
    message: 'the run was certified, but its certificate could not be fetched from the server (submit): fetch it later by its id',
  },
  SERVE_DATA_DIR_HELD: {
    stage: 'cli',
    http: null,
    exit: EXIT.badInput,
    message: 'another ephemera serve holds this data directory (its serve.json names a live process); stop it first',
  },
  SERVE_ADDRESS_IN_USE: { stage: 'cli', http: null, exit: EXIT.badInput, message: 'the address serve was asked to listen on is taken, or not this host' },
  CONFIG_INVALID: { stage: 'config', http: null, exit: EXIT.badInput, message: 'a configuration variable has a value that is not allowed' },
  INTERNAL: { stage: 'internal', http: 500, exit: EXIT.internal, message: 'an internal error' },
  // Transparency-log formats: signed notes, checkpoints, cosignatures, the witness protocol's messages (docs/transparency.md §1–4).
  TLOG_NOTE_MALFORMED: {
    stage: 'tlog',
    http: null,
    exit: EXIT.invalid,
    message: 'not a signed note (C2SP signed-note): not UTF-8, a control character, no blank line before the signatures, or a malformed signature line',
  },
  TLOG_NOTE_TOO_LARGE: { stage: 'tlog', http: null, exit: EXIT.invalid, message: 'the note is larger, or has more signature lines, than a reader accepts' },
  TLOG_NOTE_SIGNATURE_INVALID: {
    stage: 'tlog',
    http: null,
    exit: EXIT.invalid,
    message: 'a signature line names a known key (name and key ID) but its signature does not verify: the whole note is refused',
  },
  TLOG_NOTE_UNVERIFIED: { stage: 'tlog', http: null, exit: EXIT.untrusted, message: 'no signature of the note is from a key you trust' },
  TLOG_NOTE_KEY_INVALID: {
    stage: 'tlog',
    http: null,
    exit: EXIT.badInput,
    message: 'not a note key (name+keyid+base64 or PRIVATE+KEY+…), its key ID is not its hash, or its Ed25519 key is not a usable point',
  },
  TLOG_NOTE_KEY_UNSUPPORTED: { stage: 'tlog', http: null, exit: EXIT.badInput, message: 'the key is of a signature type this reader does not support here' },
  TLOG_NOTE_KEYS_AMBIGUOUS: { stage: 'tlog', http: null, exit: EXIT.badInput, message: 'two of the keys given share a name and a key ID' },
  TLOG_CHECKPOINT_MALFORMED: {
    stage: 'tlog',
    http: null,
    exit: EXIT.invalid,
    message: 'not a checkpoint body (C2SP tlog-checkpoint): origin, tree size, root hash and non-empty extension lines',
  },
  TLOG_COSIGNATURE_MALFORMED: {
    stage: 'tlog',
    http: null,
    exit: EXIT.invalid,
    message: 'not a cosignature/v1 (a timestamp of 8 bytes then an Ed25519 signature), or its timestamp is out of range',
  },
  TLOG_WITNESS_REQUEST_MALFORMED: {
    stage: 'tlog',
    http: 400,
    exit: EXIT.badInput,
    message:
      'not an add-checkpoint request (C2SP tlog-witness): old size line, at most 63 proof hashes, a blank line, a checkpoint; or old size above its size',
  },
  TLOG_WITNESS_ORIGIN_UNKNOWN: {
    stage: 'tlog',
    http: 404,
    exit: EXIT.badInput,
    message: "the witness knows no log of the checkpoint's origin (add-checkpoint: 404)",
  },
  TLOG_WITNESS_CHECKPOINT_UNVERIFIED: {
    stage: 'tlog',
    http: 403,
    exit: EXIT.untrusted,
    message: "no signature of the checkpoint verifies under the origin's log keys, or one of them fails (add-checkpoint: 403)",
  },
  TLOG_WITNESS_OLD_SIZE_MISMATCH: {
    stage: 'tlog',
    http: 409,
    exit: EXIT.badInput,
    message: 'the old size is not the size of the latest checkpoint the witness cosigned; the answer gives that size (add-checkpoint: 409)',
  },
  TLOG_WITNESS_INCONSISTENT: {
    stage: 'tlog',
    http: 422,
    exit: EXIT.invalid,
    message: 'the checkpoint is not consistent with the latest one the witness cosigned: empty-tree root, proof, or root (add-checkpoint: 422)',
  },
  TLOG_WITNESS_RESPONSE_MALFORMED: {
    stage: 'tlog',
    http: null,
    exit: EXIT.invalid,
    message: "not a witness's answer: signature lines for add-checkpoint, or a tree size line for a conflict",
  },
  // The witness server (ephemera witness) and the log's witness client (docs/transparency.md §13).
  TLOG_WITNESS_UNREACHABLE: {
    stage: 'tlog',
    http: null,
    exit: EXIT.internal,
    message: 'a witness gave no usable answer: unreachable, timed out, redirected, too large, or a status the protocol does not define',
  },
  TLOG_WITNESS_STATE_INVALID: {
    stage: 'tlog',
    http: null,
    exit: EXIT.internal,
    message: "the witness's state directory holds a state file or key it cannot read back: it refuses to start rather than forget what it cosigned",
  },
  TLOG_WITNESS_STATE_LOCKED: {
    stage: 'tlog',
    http: null,
    exit: EXIT.badInput,
    message: 'another ephemera witness (a live process) holds this state directory; two would each cosign without seeing the other',
  },
  // Transparency-log tiles, entry bundles and proofs read from tiles (docs/transparency.md §5–6); clients' refusals, no HTTP status.
  TLOG_TILE_PATH_INVALID: {
    stage: 'tlog',
    http: 400,
    exit: EXIT.invalid,
    message: 'not a C2SP tile or entry bundle path (tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]), or coordinates out of range',
  },
  TLOG_TILE_NOT_IN_TREE: invalid('tlog', 'a tile, width or entry bundle that a tree of this size does not have'),
  TLOG_TILE_BAD_INPUT: invalid('tlog', 'a hash that is not 32 bytes, or a tree size that is not a safe integer, given to the tile builder'),
  TLOG_TILE_SIZE_INVALID: invalid('tlog', 'a tile that is not exactly 32 bytes per hash of its width'),
  TLOG_TILE_MISMATCH: invalid('tlog', "a tile that does not hash to the checkpoint's root, or to its hash in the tile above"),
  TLOG_TILE_UNAVAILABLE: invalid('tlog', 'the tile reader failed to deliver a tile'),
  TLOG_PROOF_BAD_INPUT: invalid('tlog', 'an index or tree size outside the checkpointed tree, or a checkpoint root that is not 32 bytes'),
  TLOG_ENTRY_BUNDLE_MALFORMED: invalid('tlog', 'an entry bundle that is not exactly its width of u16be length-prefixed entries'),
  TLOG_ENTRY_BUNDLE_ENTRY_TOO_LARGE: invalid('tlog', 'an entry longer than 65535 bytes cannot go in an entry bundle'),
  TLOG_ENTRY_BUNDLE_MISMATCH: invalid('tlog', 'an entry of the bundle does not hash to its leaf hash in the level-0 tile'),
  TLOG_LEAF_MALFORMED: invalid('tlog', 'a log entry is not the canonical JSON of an Ephemera leaf'),
  TLOG_LEAF_UNSEALED: invalid('tlog', 'only a sealed certificate (completed or failed) is logged'),
  TLOG_LOG_KEY_DOCUMENT_MALFORMED: invalid('tlog', 'the log key document is not one: malformed, or its hashes, report data or origin do not match'),
  TLOG_LOG_KEY_UNTRUSTED: {
    stage: 'tlog',
    http: null,
    exit: EXIT.untrusted,
    message: 'the checkpoint is not signed by a log key you trust (pinned, or attested under your policy)',
  },
  TLOG_COSIGNATURES_INSUFFICIENT: {
    stage: 'tlog',
    http: null,
    exit: EXIT.untrusted,
    message: 'fewer of the witnesses you named cosigned the checkpoint than you require',
  },
  CLI_HISTORY_UNAVAILABLE: internal('cli', 'the log did not answer `ephemera history` (unreachable, an HTTP error, or an answer over its bound)'),
  TLOG_HISTORY_BROKEN: invalid(
    'tlog',
    "a fingerprint's history does not hold: a run left out of the chain, a leaf of another fingerprint, a proof that fails, or a prev that skips a run",
  ),
  TLOG_HISTORY_MALFORMED: invalid('tlog', 'the history answer is not one: not strict JSON, not its closed schema, or over its bounds'),
  // The log (docs/transparency.md §10–11, §15).
  TLOG_RECORD_MALFORMED: invalid('tlog', 'a tlog ledger record that is not the JCS of a batch or cosignatures record'),
  TLOG_BATCH_CONFLICT: internal('tlog', 'the ledger already holds a batch at this index: another sequencer committed first'),
  TLOG_NOT_LOGGED: { stage: 'tlog', http: 404, exit: EXIT.invalid, message: 'the certificate is not (yet) in the transparency log' },
  TLOG_TILE_NOT_FOUND: { stage: 'tlog', http: 404, exit: EXIT.invalid, message: 'no such tile or entry bundle in the log (not yet, or never)' },
  TLOG_UNAVAILABLE: unavailable('tlog', 'the transparency log is off on this server, or not yet built'),
  TLOG_CHECK_MISMATCH: invalid('tlog', "the log's entries are not the leaves the event log's certificates give"),
  // ---- a certificate's transparency member (docs/transparency.md §12, helper `verifier`)
  TLOG_TRANSPARENCY_MALFORMED: invalid('tlog', "the certificate's transparency member is not one: malformed, out of bounds, or with members it does not have"),
  TLOG_LEAF_MISMATCH: invalid('tlog', "the log's leaf is not the certificate's: a member differs"),
  TLOG_INCLUSION_INVALID: invalid('tlog', "the inclusion proof does not lead from the certificate's leaf to the checkpoint's root"),
  TLOG_CONSISTENCY_INVALID: invalid('tlog', "the log's latest checkpoint is not consistent with the certificate's: the log rewrote its history"),
  TLOG_SPLIT_VIEW: invalid('tlog', 'the log signed two different trees of the same size: a split view (both checkpoints kept as evidence)'),
  TLOG_CHECKPOINT_UNAVAILABLE: internal(
    'tlog',
    "the log's latest checkpoint could not be fetched (network, status, size or time bound), or the server answers for another log",
  ),
  // ---- row commitments and proofs (docs/row-proofs.md)
  ROWS_UNSPLITTABLE: invalid('rows', 'the dataset cannot be split into records of its format (malformed CSV quoting, invalid JSON, not UTF-8, empty)'),
  ROWS_BAD_INPUT: {
    stage: 'rows',
    http: null,
    exit: EXIT.badInput,
    message:
      'a row secret that is not 32 bytes, no records (or too many) asked for, keys asked absent from records not sorted, or bytes after a row commitment was finished',
  },
  ROWS_PROOF_MALFORMED: invalid('rows', 'the row proof is not one: not strict JSON, not its closed members, or past its bounds'),
  ROWS_PROOF_WRONG_CERTIFICATE: invalid('rows', "the row proof is for another certificate: its certificate, format, count or root is not the certificate's"),
  ROWS_PROOF_INDEX_INVALID: invalid('rows', 'a record index outside the dataset, or disclosed twice'),
  ROWS_PROOF_INVALID: invalid('rows', "a disclosed record, with its salt and index, does not prove into the certificate's row root"),
  ROWS_PROOF_RECORD_INVALID: invalid('rows', 'a disclosed record is not one record of its format'),
  ROWS_PROOF_ABSENCE_INVALID: invalid(
    'rows',
    'an absence proof does not hold: its neighbours are not adjacent, not at the edge, not around the key, or the csv header naming the key is not disclosed',
  ),
  ROWS_KEY_PRESENT: invalid('rows', 'the key asked to be proven absent is present: a record has it'),
  // ---- the row-proof tools (docs/row-proofs.md §9, helper `tools`)
  ROWS_NOT_COMMITTED: invalid('rows', 'the certificate commits no rows: its executor did not commit them, or says why not (rows_absent)'),
  ROWS_DATASET_MISMATCH: {
    stage: 'rows',
    http: null,
    exit: EXIT.badInput,
    message: "the dataset and secret given do not give the certificate's row commitment: wrong dataset, or wrong secret",
  },
  ROWS_PROOF_UNWRITABLE: { stage: 'rows', http: null, exit: EXIT.badInput, message: 'the row proof could not be written where --out says' },
  ROWS_SECRET_ON_COMMAND_LINE: {
    stage: 'rows',
    http: null,
    exit: EXIT.badInput,
    message: 'the row secret was given on the command line, where other users can read it: give a file (mode 0600) or - for stdin',
  },
  // ---- the sql tool's runner (docs/sql-tool.md §2): a tool's answer to a script or a model, never a run's failure
  SQL_DATASET_INVALID: sqlTool(
    'the dataset cannot be loaded as a table: malformed CSV, JSON or UTF-8, ragged records, or no columns (the message says where, never what)',
  ),
  SQL_QUERY_INVALID: sqlTool('the query does not parse, names what does not exist, is not one SELECT, WITH or VALUES statement, or is not UTF-8'),
  SQL_QUERY_REFUSED: sqlTool('the query would write, attach, load an extension, change a pragma, read beyond the dataset, or call a refused function'),
  SQL_QUERY_TOO_LARGE: sqlTool('the query text is over 64 KiB'),
  SQL_QUERY_TIMEOUT: sqlTool('the query ran longer than its time bound (--max-seconds)'),
  SQL_USAGE: sqlTool('the runner was called with an unknown format or flag, or a flag without a positive integer'),
  SQL_RUNNER_FAILED: {
    stage: 'sql',
    http: null,
    exit: EXIT.internal,
    message: 'the sql runner failed: out of memory, or a bug (the message names only its kind)',
  },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

/** A module's own list of codes, checked against the registry: `Registered<'LOG_UNAVAILABLE' | …>`. */
export type Registered<Codes extends ErrorCode> = Codes;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_REGISTRY, code);
}

/** The registry's entry, or INTERNAL's for a code that is not in it. */
export function errorInfo(code: string): ErrorInfo {
  return isErrorCode(code) ? ERROR_REGISTRY[code] : ERROR_REGISTRY.INTERNAL;
}
