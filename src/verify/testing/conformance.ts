/**
 * The certificate conformance suite (test-vectors/certificates/): each case
 * is the exact bytes of a certificate file and the verdict every verifier
 * must give: valid and trusted, valid and untrusted, or the exact error code.
 * `npm run vectors` writes them; conformance.unit.test.ts checks that the
 * files are what this code produces and that Node gives each verdict, and
 * the browser test does the same in Chromium. How each class is made:
 * test-vectors/certificates/README.md. Test support only (Node).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventChain, canonicalize, genesisHash, hashUtf8, bytesToHex, hexToBytes, type EventEnvelope, type Hash } from '../../events/index.js';
import { SAMPLE_DESTROY_CHECKS, sampleSandboxCreated, sampleSummary, sampleTotals } from '../../events/testing/sample-data.js';
import { data } from '../../events/testing/stream.js';
import { replayRtmr3, runtimeEvent, trimQuote, withReport, reportData, leafHash, CompactRange, reportDataV1 } from '../../attest/index.js';
import { SIMULATED_COMPOSE_HASH, TDX_TESTDATA } from '../../attest/testing/dstack-standins.js';
import { keyFingerprint } from '../trust.js';
import { RESULT_KEY_FILE, RESULT_KEY_PUBLIC_HEX, sealResultFixed } from './sealed-fixture.js';
import { generateCosignerKey, leafOfCertificate, parseNote, signNote, parseNoteSignerKey, generateNoteKey } from '../../tlog/index.js';
import { fixtureLogSync, syntheticLeaf } from './log-fixture.js';
import type { Certificate } from '../certificate.js';
import type { VerifyLimits } from '../limits.js';
import {
  FORGER_PUBLIC_KEY,
  VECTOR_PUBLIC_KEY,
  ev,
  rechain,
  rederive,
  rehash,
  reseal,
  sealEvents,
  signReport,
  v1Event,
  type Doc,
  type Signer,
} from './forge.js';

export type CaseClass =
  | 'valid'
  | 'parse'
  | 'schema'
  | 'time'
  | 'chain'
  | 'lifecycle'
  | 'merkle'
  | 'signature'
  | 'trust'
  | 'fields'
  | 'version'
  | 'limits'
  | 'tdx'
  | 'sealed'
  | 'rows'
  | 'sql'
  | 'transparency';

export interface CaseOptions {
  /** Pinned Ed25519 keys or fingerprints (default: the vector key). */
  trusted_keys?: string[];
  limits?: Partial<VerifyLimits>;
  /** Log vkeys pinned (docs/transparency.md §9). */
  log_keys?: string[];
  /** Cosigner vkeys of the witnesses counted, and how many must have cosigned (default all). */
  witnesses?: string[];
  witnesses_required?: number;
  /** A certificate without a `transparency` member fails. */
  require_log?: boolean;
}

export interface ConformanceCase {
  name: string;
  class: CaseClass;
  description: string;
  options?: CaseOptions;
  expected: { valid: boolean; trusted: boolean; code: string | null };
  bytes: Uint8Array;
}

/** What every case is verified with unless it says otherwise. */
export const SUITE_DEFAULTS = {
  trusted_keys: [VECTOR_PUBLIC_KEY],
  /** The TDX policy and the time source: the sealing time the certificate commits to. */
  tdx: { trusted_compose_hashes: [SIMULATED_COMPOSE_HASH], allowed_tcb_statuses: [] as string[] },
};

export const EXECUTION_ID = '01JD7ZX3Q4M5N6P7R8S9T0VWXY';
export const OTHER_ID = '01JD7ZX3Q4M5N6P7R8S9T0VWXZ';
const h = (s: string) => hashUtf8(s);

/** A run with every kind of activity, so every summary row exists. Names can be swapped for hostile ones. */
export function richEvents(
  id = EXECUTION_ID,
  start = '2026-02-01T13:15:00.000Z',
  names = { model: 'claude-sonnet-4-5', tool: 'bash', host: 'api.anthropic.com', path: '/work/out/report.json' },
): EventEnvelope[] {
  let tick = 0;
  const base = Date.parse(start);
  const chain = new EventChain(id, () => new Date(base + 7 * tick++));
  const output = '{"rows": 200, "share": 0.25, "note": "✓ 😀"}\n';
  return [
    chain.next(
      'execution.requested',
      data.requested({
        sandbox: sampleSummary({
          tools: ['bash', 'python'],
          llm: { provider: 'anthropic', model: names.model, prompt_hash: h('prompt'), max_turns: 8, max_output_tokens: 4096 },
        }),
      }),
    ),
    chain.next('dataset.loaded', { dataset_hash: h('dataset'), bytes: 1234, medium: 'tmpfs' }),
    chain.next('sandbox.created', sampleSandboxCreated(VECTOR_PUBLIC_KEY)),
    chain.next('tool.invoked', { call_id: 'call_1', tool: 'scan.py', args_hash: h('args 1'), caller: 'script' }),
    chain.next('file.accessed', { call_id: 'call_1', op: 'read', path: '/data/dataset.csv', count: 1 }),
    chain.next('file.accessed', { call_id: 'call_1', op: 'write', path: names.path, count: 2 }),
    chain.next('tool.completed', {
      call_id: 'call_1',
      exit_code: 0,
      duration_ms: 31,
      cpu_ms: 20,
      max_rss_kb: 9000,
      stdout_bytes: 20,
      stderr_bytes: 0,
      output_hash: h('out 1'),
      killed_by: null,
      truncated: false,
    }),
    chain.next('llm.called', {
      provider: 'anthropic',
      host: names.host,
      model: names.model,
      turn: 1,
      prompt_hash: h('req 1'),
      response_hash: h('res 1'),
      input_tokens: 900,
      output_tokens: 40,
      stop_reason: 'tool_use',
      latency_ms: 800,
      error_code: null,
    }),
    chain.next('tool.invoked', { call_id: 'call_2', tool: names.tool, args_hash: h('args 2'), caller: 'llm' }),
    chain.next('network.requested', { call_id: 'call_2', host: 'example.org', port: 443, allowed: false, bytes_out: 0, bytes_in: 0 }),
    chain.next('tool.completed', {
      call_id: 'call_2',
      exit_code: 1,
      duration_ms: 12,
      cpu_ms: 3,
      max_rss_kb: 4000,
      stdout_bytes: 0,
      stderr_bytes: 30,
      output_hash: h('out 2'),
      killed_by: null,
      truncated: false,
    }),
    chain.next('llm.called', {
      provider: 'anthropic',
      host: names.host,
      model: names.model,
      turn: 2,
      prompt_hash: h('req 2'),
      response_hash: h('res 2'),
      input_tokens: 1000,
      output_tokens: 60,
      stop_reason: 'end_turn',
      latency_ms: 900,
      error_code: null,
    }),
    chain.next('execution.completed', {
      exit_code: 0,
      result_hash: h('result'),
      result: { output, bytes: new TextEncoder().encode(output).length, truncated: false, json: JSON.parse(output) },
      duration_ms: 2100,
      totals: sampleTotals({ tool_calls: 2, cpu_ms: 23, llm_calls: 2, input_tokens: 1900, output_tokens: 100 }),
    }),
    chain.next('dataset.deleted', { bytes_zeroed: 1234, tmpfs_released: true }),
    chain.next('sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: SAMPLE_DESTROY_CHECKS }),
  ];
}

/** A run that failed before any sandbox existed: requested → failed → deleted → destroyed → sealed. */
function failedEarlyEvents(): EventEnvelope[] {
  let tick = 0;
  const chain = new EventChain(EXECUTION_ID, () => new Date(Date.parse('2026-02-01T13:15:00.000Z') + 5 * tick++));
  const [requested] = richEvents();
  return [
    chain.next('execution.requested', requested!.data as never),
    chain.next('execution.failed', {
      error_code: 'SANDBOX_START_FAILED',
      exit_code: null,
      killed_by: null,
      result_hash: h('empty'),
      result: { output: '', bytes: 0, truncated: false, json: null },
      duration_ms: 3,
      totals: sampleTotals({ tool_calls: 0, cpu_ms: 0, max_rss_kb: 0 }),
    }),
    chain.next('dataset.deleted', { bytes_zeroed: 1234, tmpfs_released: true }),
    chain.next('sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: { sandbox_started: false } }),
  ];
}

/** The submission of a sealed run (docs/sealed.md §4): dataset and API key sealed, the sandbox in the clear. */
const SEALED_SUBMISSION = {
  mode: 'sealed',
  suite: 'x25519-aes256gcm',
  key_statement_hash: hashUtf8('a key statement'),
  sealed: ['dataset', 'api_key'],
} as const;
const EMPTY_RESULT = { output: '', bytes: 0, truncated: false, json: null };
const SEALED_TRACEBACK = { text: "Traceback (most recent call last):\nKeyError: 'secret column'\n", bytes: 61, truncated: false };
/** The rich run's result, and a failed script's with its stderr tail, sealed to the vector recipient (fixed encapsulations and salts). */
const SEALED_RICH = await sealResultFixed(
  RESULT_KEY_PUBLIC_HEX,
  EXECUTION_ID,
  { result: (richEvents()[12] as EventEnvelope<'execution.completed'>).data.result, stderr_tail: null },
  '01'.repeat(32),
  'a5'.repeat(32),
);
const SEALED_FAILED = await sealResultFixed(
  RESULT_KEY_PUBLIC_HEX,
  EXECUTION_ID,
  { result: { output: 'partial\n', bytes: 8, truncated: false, json: null }, stderr_tail: SEALED_TRACEBACK },
  '02'.repeat(32),
  '5a'.repeat(32),
);

const text = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
const utf8 = (s: string) => new TextEncoder().encode(s);
const clone = <T>(v: T): T => structuredClone(v);

/** Replaces the first occurrence of `find` (which must occur) in `source`. */
function once(source: string, find: string, replacement: string): string {
  const at = source.indexOf(find);
  if (at < 0) throw new Error(`conformance: ${JSON.stringify(find)} not in the certificate text`);
  return source.slice(0, at) + replacement + source.slice(at + find.length);
}

function flipHex(hex: string, bit: number): string {
  const body = hex.startsWith('sha256:') ? hex.slice(7) : hex;
  const i = Math.floor(bit / 8);
  const byte = (parseInt(body.slice(i * 2, i * 2 + 2), 16) ^ (1 << (bit % 8))).toString(16).padStart(2, '0');
  const flipped = body.slice(0, i * 2) + byte + body.slice(i * 2 + 2);
  return hex.startsWith('sha256:') ? `sha256:${flipped}` : flipped;
}

/** A version-1 certificate, as issued before version 2: open blocks, a notice in the attestation, report data without the sealing time. */
function versionOneCertificate(names?: Parameters<typeof richEvents>[2]): Doc {
  const v2 = richEvents(EXECUTION_ID, undefined, names);
  let prev: Hash = genesisHash(EXECUTION_ID);
  const events: EventEnvelope[] = v2.map((e, seq) => {
    const data = e.type === 'sandbox.created' ? { isolation: { tool: 'bubblewrap' }, limits: {}, network: { mode: 'none' }, runtime: {} } : e.data;
    const event = v1Event(EXECUTION_ID, seq, prev, e.type, e.at, data);
    prev = event.hash;
    return event;
  });
  const range = new CompactRange();
  for (const e of events) range.appendLeaf(leafHash(hexToBytes(e.hash.slice(7))));
  const report = reportDataV1(range.root(), EXECUTION_ID, events.length);
  const at = new Date(Date.parse(events.at(-1)!.at) + 5).toISOString();
  const sealed = v1Event(EXECUTION_ID, events.length, prev, 'certificate.sealed', at, {
    tree_size: events.length,
    merkle_root: `sha256:${bytesToHex(range.root())}`,
    report_data: bytesToHex(report),
    attestation: {
      type: 'simulated',
      ...signReport(report),
      notice: 'SIMULATED TEE: signed by a software key, not hardware-backed. It proves integrity of the event stream, not confidentiality.',
    },
  });
  const doc: Doc = { events: [...events, sealed] };
  rederive(doc);
  const { events: all, ...members } = doc;
  return { ...members, events: all };
}

/** A tdx certificate sealed through the dstack stand-in at a time the archived collateral covers: Intel's signature is necessarily broken. */
function tdxCertificate(options: { patchReport?: boolean; padding?: boolean } = {}): Doc {
  const eventLog = [
    runtimeEvent('app-id', 'ab'.repeat(20)),
    runtimeEvent('compose-hash', SIMULATED_COMPOSE_HASH),
    runtimeEvent('instance-id', 'cd'.repeat(20)),
  ];
  const padded = new Uint8Array(readFileSync(join(TDX_TESTDATA, 'tdx_quote')));
  const collateral = JSON.parse(readFileSync(join(TDX_TESTDATA, 'tdx_quote_collateral.json'), 'utf8')) as Record<string, string>;
  const events = richEvents(EXECUTION_ID, '2025-06-20T10:00:00.000Z');
  const cert = sealEvents(events) as unknown as Doc;
  const sealed = ev(cert, -1);
  const report = reportData(hexToBytes(sealed.data.merkle_root.slice(7)), EXECUTION_ID, events.length, sealed.at);
  const quote = options.patchReport === false ? padded : withReport(padded, report, replayRtmr3(eventLog).rtmr3);
  sealed.data.attestation = { type: 'tdx', quote: bytesToHex(options.padding ? quote : trimQuote(quote)), event_log: eventLog, collateral };
  rehash(sealed);
  rederive(cert);
  return cert;
}

/** The manifest as written to test-vectors/certificates/manifest.json (the case files sit beside it under cases/). */
export function conformanceManifest(cases: readonly ConformanceCase[]) {
  return {
    format: 'ephemera-certificate-conformance/1',
    about: 'Each case: a certificate file and the verdict a verifier must give. See README.md.',
    defaults: SUITE_DEFAULTS,
    /** The key file (`ephemera keygen`'s format) of the recipient the sealed-result cases are sealed to. */
    result_key: RESULT_KEY_FILE,
    cases: cases.map((c) => ({
      name: c.name,
      class: c.class,
      description: c.description,
      file: `cases/${c.name}.json`,
      ...(c.options ? { options: c.options } : {}),
      expected: c.expected,
    })),
  };
}

export function conformanceCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const base = sealEvents(richEvents()) as unknown as Doc;
  const other = sealEvents(richEvents(OTHER_ID, '2026-03-01T09:00:00.000Z')) as unknown as Doc;
  const baseText = text(base);
  const invalid = (code: string) => ({ valid: false, trusted: false, code });
  const TRUSTED = { valid: true, trusted: true, code: null };
  const UNTRUSTED = { valid: true, trusted: false, code: null };
  const add = (
    name: string,
    cls: CaseClass,
    description: string,
    expected: ConformanceCase['expected'],
    content: string | Uint8Array | Doc,
    options?: CaseOptions,
  ) => {
    if (cases.some((c) => c.name === name)) throw new Error(`conformance: two cases named ${name}`);
    const bytes = typeof content === 'string' ? utf8(content) : content instanceof Uint8Array ? content : utf8(text(content));
    cases.push({ name, class: cls, description, ...(options ? { options } : {}), expected, bytes });
  };
  /** A copy of the base certificate, edited by `edit`. */
  const edited = (edit: (doc: Doc) => void, from: Doc = base) => {
    const doc = clone(from);
    edit(doc);
    return doc;
  };
  /** Edited, then re-sealed with the vector key and re-derived: only the rule the edit breaks can fail. */
  const forged = (edit: (doc: Doc) => void, signer: Signer = 'vector', from: Doc = base) =>
    edited((doc) => {
      edit(doc);
      reseal(doc, signer);
    }, from);
  const bytesWith = (find: string, raw: number[]) => {
    const at = baseText.indexOf(find) + find.length;
    const b = utf8(baseText);
    return new Uint8Array([...b.subarray(0, at), ...raw, ...b.subarray(at)]);
  };

  // ---------------------------------------------------------------- valid
  add(
    'valid',
    'valid',
    "a certificate as the executor issues it (simulated attestation, the vector key pinned); its result's own JSON holds a fraction, 0.25, which is allowed outside integer members",
    TRUSTED,
    base,
  );
  add('valid-compact', 'valid', 'the same certificate without whitespace: layout is not content', TRUSTED, `${JSON.stringify(base)}`);
  add(
    'valid-members-reordered',
    'valid',
    "every object's members in reverse order, at every depth: order is not content (RFC 8785 sorts before hashing)",
    TRUSTED,
    JSON.stringify(reverseKeys(base), null, 1),
  );
  add(
    'valid-escaped-spelling',
    'valid',
    'strings spelled with \\u escapes (the emoji as a surrogate pair, "/" as \\/): the same values',
    TRUSTED,
    baseText.replaceAll('😀', '\\ud83d\\ude00').replace('"/data/dataset.csv"', '"\\/data\\/dataset.csv"'),
  );
  add(
    'valid-failed-run',
    'valid',
    'a run that ended in execution.failed: a valid certificate that it failed',
    TRUSTED,
    forged((d) => {
      const completed = ev(d, 12);
      completed.type = 'execution.failed';
      completed.data = { error_code: 'EXECUTION_NONZERO_EXIT', killed_by: null, ...completed.data, exit_code: 1 };
    }),
  );
  // A failed entry script's stderr tail (execution.failed.stderr_tail, optional in version 2).
  const TRACEBACK = 'Traceback (most recent call last):\n  File "/work/scan.py", line 3, in <module>\nKeyError: \'größe\'\n';
  const withTail = (tail: unknown) => (d: Doc) => {
    const outcome = ev(d, 12);
    outcome.type = 'execution.failed';
    outcome.data = {
      error_code: 'EXECUTION_NONZERO_EXIT',
      killed_by: null,
      ...outcome.data,
      exit_code: 1,
      ...(tail === undefined ? {} : { stderr_tail: tail }),
    };
  };
  const TAIL = { text: TRACEBACK, bytes: 5000, truncated: true };
  const failedWithTail = forged(withTail(TAIL));
  add(
    'valid-failed-stderr-tail',
    'valid',
    "a failed entry script's last stderr (a traceback, cut to its tail) in execution.failed and in result.stderr_tail",
    TRUSTED,
    failedWithTail,
  );
  add(
    'valid-failed-run-no-stderr-tail',
    'valid',
    'a failed run without stderr_tail (as issued before it existed): absent is allowed, and the summary has none either',
    TRUSTED,
    forged(withTail(undefined)),
  );
  add(
    'stderr-tail-null',
    'schema',
    'stderr_tail written null: absent is the only spelling of "none"',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged(withTail(null)),
  );
  add(
    'stderr-tail-too-long',
    'schema',
    'a stderr tail of 4097 characters (at most 4096)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged(withTail({ ...TAIL, text: 'x'.repeat(4097) })),
  );
  add('stderr-tail-unknown-member', 'schema', 'a member in the stderr tail', invalid('EVENTS_UNKNOWN_MEMBER'), forged(withTail({ ...TAIL, stdout: 'x' })));
  add(
    'stderr-tail-on-completed',
    'schema',
    'a stderr tail in execution.completed (only a failed run has one)',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 12).data.stderr_tail = TAIL)),
  );
  add(
    'stderr-tail-edited-all-rehashed',
    'chain',
    'the stderr tail forged in its event and every link recomputed: the signed root no longer matches',
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      ev(d, 12).data.stderr_tail.text = 'all good\n';
      rechain(d);
    }, failedWithTail),
  );
  add(
    'field-result-stderr-tail',
    'fields',
    'result.stderr_tail.text edited in the summary: not what the events say',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void (d.result.stderr_tail.text = 'all good\n'), failedWithTail),
  );
  add(
    'field-result-stderr-tail-added',
    'fields',
    'a result.stderr_tail in the summary that no event holds',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.result.stderr_tail = TAIL)),
  );
  add(
    'field-result-stderr-tail-removed',
    'fields',
    'result.stderr_tail left out of the summary while execution.failed holds one',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void delete d.result.stderr_tail, failedWithTail),
  );
  add(
    'valid-failed-before-sandbox',
    'valid',
    'a run refused before any sandbox existed (requested, failed, deleted, destroyed, sealed)',
    TRUSTED,
    sealEvents(failedEarlyEvents()) as unknown as Doc,
  );
  add(
    'valid-hostile-names',
    'valid',
    'model "__proto__", tool "constructor", host "toString", path "/work/__proto__/hasOwnProperty": names are data, never keys of plain objects',
    TRUSTED,
    sealEvents(
      richEvents(EXECUTION_ID, undefined, { model: '__proto__', tool: 'constructor', host: 'toString', path: '/work/__proto__/hasOwnProperty' }),
    ) as unknown as Doc,
  );
  add('valid-untrusted-no-pins', 'trust', 'valid, but the reader pinned no key: "signed by key K" and nothing more', UNTRUSTED, base, { trusted_keys: [] });
  add('valid-pinned-by-fingerprint', 'trust', 'the vector key pinned by its fingerprint, sha256 of the raw key', TRUSTED, base, {
    trusted_keys: [keyFingerprint(VECTOR_PUBLIC_KEY)],
  });
  add(
    'valid-forger-key-unpinned',
    'trust',
    'everything re-signed with a self-made key: valid signature, untrusted signer',
    UNTRUSTED,
    forged(() => undefined, 'forger'),
  );
  add(
    'valid-forger-key-pinned',
    'trust',
    'the same, verified by a reader who pinned that key',
    TRUSTED,
    forged(() => undefined, 'forger'),
    { trusted_keys: [keyFingerprint(FORGER_PUBLIC_KEY)] },
  );
  add('untrusted-other-key-pinned', 'trust', 'the reader pinned a different key than the one that signed', UNTRUSTED, base, {
    trusted_keys: [FORGER_PUBLIC_KEY],
  });
  add(
    'valid-depth-at-bound',
    'limits',
    'nesting exactly at the bound (64, the document counting as 1)',
    TRUSTED,
    forged((d) => void (ev(d, 12).data.result.json = nested(59))),
  );

  // ---------------------------------------------------------------- parse: duplicate members
  add(
    'duplicate-member-root',
    'parse',
    '"status" twice at the top: JSON.parse keeps the last, so what is shown and what is checked could differ',
    invalid('JSON_DUPLICATE_MEMBER'),
    once(baseText, '{\n  "certificate_id"', '{\n  "status": "failed",\n  "certificate_id"'),
  );
  add(
    'duplicate-member-result',
    'parse',
    'result.exit_code twice',
    invalid('JSON_DUPLICATE_MEMBER'),
    once(baseText, '"exit_code": 0,', '"exit_code": 1,\n    "exit_code": 0,'),
  );
  add(
    'duplicate-member-event-data',
    'parse',
    "an event's data.bytes twice: one value hashed by a lax reader, another shown",
    invalid('JSON_DUPLICATE_MEMBER'),
    once(baseText, '"medium": "tmpfs"', '"bytes": 1, "medium": "tmpfs"'),
  );
  add(
    'duplicate-member-escaped-name',
    'parse',
    '"bytes" and "\\u0062ytes" are the same name once escapes are decoded',
    invalid('JSON_DUPLICATE_MEMBER'),
    once(baseText, '"medium": "tmpfs"', '"\\u0062ytes": 1, "medium": "tmpfs"'),
  );
  add(
    'duplicate-member-events',
    'parse',
    'a second "events" member at the end',
    invalid('JSON_DUPLICATE_MEMBER'),
    `${baseText.trimEnd().slice(0, -1)},\n  "events": []\n}\n`,
  );
  add(
    'duplicate-member-attestation',
    'parse',
    'the signature twice in the attestation',
    invalid('JSON_DUPLICATE_MEMBER'),
    once(baseText, '"signature": "', `"signature": "${'00'.repeat(64)}",\n            "signature": "`),
  );
  add(
    'duplicate-member-user-json',
    'parse',
    "a duplicate inside the result's own JSON",
    invalid('JSON_DUPLICATE_MEMBER'),
    once(baseText, '"rows": 200,', '"rows": 1,\n      "rows": 200,'),
  );
  add(
    'duplicate-member-proto',
    'parse',
    '"__proto__" twice in execution_trace',
    invalid('JSON_DUPLICATE_MEMBER'),
    once(baseText, '"execution_trace": {', '"execution_trace": {\n    "__proto__": {},\n    "__proto__": {},'),
  );

  // ---------------------------------------------------------------- parse: strings and UTF-8
  const outputAt = '"output": "';
  add(
    'unpaired-high-surrogate',
    'parse',
    'an escaped high surrogate with no low half (result.output)',
    invalid('JSON_UNPAIRED_SURROGATE'),
    once(baseText, outputAt, `${outputAt}\\ud800`),
  );
  add(
    'unpaired-low-surrogate',
    'parse',
    'an escaped low surrogate with no high half',
    invalid('JSON_UNPAIRED_SURROGATE'),
    once(baseText, outputAt, `${outputAt}\\udc00`),
  );
  add(
    'reversed-surrogate-pair',
    'parse',
    'low half before high half',
    invalid('JSON_UNPAIRED_SURROGATE'),
    once(baseText, outputAt, `${outputAt}\\ude00\\ud83d`),
  );
  add(
    'high-surrogate-then-escape',
    'parse',
    'a high surrogate followed by an ordinary escaped character',
    invalid('JSON_UNPAIRED_SURROGATE'),
    once(baseText, outputAt, `${outputAt}\\ud800\\u0041`),
  );
  add(
    'high-surrogate-at-string-end',
    'parse',
    'a high surrogate as the last character of a string',
    invalid('JSON_UNPAIRED_SURROGATE'),
    once(baseText, '"status": "completed"', '"status": "completed\\ud83d"'),
  );
  add(
    'unpaired-surrogate-in-member-name',
    'parse',
    'a member name holding an unpaired surrogate',
    invalid('JSON_UNPAIRED_SURROGATE'),
    once(baseText, '{\n  "certificate_id"', '{\n  "x\\udbff": 1,\n  "certificate_id"'),
  );
  const idAt = '"cert_';
  add('utf8-lone-continuation-byte', 'parse', 'a byte 0x80 with no lead byte', invalid('JSON_INVALID_UTF8'), bytesWith(idAt, [0x80]));
  add('utf8-overlong', 'parse', '"/" encoded in two bytes (C0 AF)', invalid('JSON_INVALID_UTF8'), bytesWith(idAt, [0xc0, 0xaf]));
  add(
    'utf8-encoded-surrogate',
    'parse',
    'a surrogate encoded as UTF-8 (ED A0 80), which UTF-8 forbids',
    invalid('JSON_INVALID_UTF8'),
    bytesWith(idAt, [0xed, 0xa0, 0x80]),
  );
  add('utf8-byte-ff', 'parse', 'the byte 0xFF', invalid('JSON_INVALID_UTF8'), bytesWith(idAt, [0xff]));
  add(
    'utf8-truncated-at-end',
    'parse',
    'the text ends inside a three-byte sequence',
    invalid('JSON_INVALID_UTF8'),
    new Uint8Array([...utf8(baseText), 0xe2, 0x82]),
  );
  add('byte-order-mark', 'parse', 'a UTF-8 byte-order mark before the document', invalid('JSON_SYNTAX'), new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(baseText)]));
  add(
    'control-character-in-string',
    'parse',
    'a raw tab inside a string',
    invalid('JSON_SYNTAX'),
    once(baseText, '"status": "completed"', '"status": "comp\tleted"'),
  );
  add(
    'unknown-escape',
    'parse',
    'an escape JSON does not have (\\x41)',
    invalid('JSON_SYNTAX'),
    once(baseText, '"status": "completed"', '"status": "\\x41completed"'),
  );

  // ---------------------------------------------------------------- parse: numbers
  add(
    'number-fraction-for-integer',
    'parse',
    'seq written 1.0: the same value, another spelling',
    invalid('JSON_NUMBER_NOT_CANONICAL'),
    once(baseText, '"seq": 1,', '"seq": 1.0,'),
  );
  add('number-exponent', 'parse', 'dataset bytes written 1.234e3', invalid('JSON_NUMBER_NOT_CANONICAL'), once(baseText, '"bytes": 1234,', '"bytes": 1.234e3,'));
  add('number-negative-zero', 'parse', 'an exit code written -0', invalid('JSON_NUMBER_NOT_CANONICAL'), once(baseText, '"exit_code": 0,', '"exit_code": -0,'));
  add(
    'number-uppercase-exponent-user-json',
    'parse',
    "2E2 in the result's own JSON: fractions are allowed there, non-canonical spellings are not",
    invalid('JSON_NUMBER_NOT_CANONICAL'),
    once(baseText, '"rows": 200,', '"rows": 2E2,'),
  );
  add(
    'number-beyond-double',
    'parse',
    '9007199254740993 cannot be held exactly: a reader would see 9007199254740992',
    invalid('JSON_NUMBER_NOT_CANONICAL'),
    once(baseText, '"bytes": 1234,', '"bytes": 9007199254740993,'),
  );
  add('number-overflow', 'parse', '1e400 is Infinity to a double', invalid('JSON_NUMBER_NOT_CANONICAL'), once(baseText, '"rows": 200,', '"rows": 1e400,'));
  add('number-leading-zero', 'parse', 'a number with a leading zero (0123)', invalid('JSON_SYNTAX'), once(baseText, '"bytes": 1234,', '"bytes": 01234,'));
  add('number-plus-sign', 'parse', 'a number with a plus sign', invalid('JSON_SYNTAX'), once(baseText, '"bytes": 1234,', '"bytes": +1234,'));
  add('number-bare-fraction', 'parse', '.5 without a leading digit', invalid('JSON_SYNTAX'), once(baseText, '"share": 0.25,', '"share": .25,'));
  add('number-nan', 'parse', 'NaN is not JSON', invalid('JSON_SYNTAX'), once(baseText, '"share": 0.25,', '"share": NaN,'));
  add('number-infinity', 'parse', 'Infinity is not JSON', invalid('JSON_SYNTAX'), once(baseText, '"share": 0.25,', '"share": Infinity,'));

  // ---------------------------------------------------------------- parse: structure
  add('trailing-comma', 'parse', 'a comma before a closing brace', invalid('JSON_SYNTAX'), once(baseText, '"status": "completed",', '"status": "completed",,'));
  add('comment', 'parse', 'a // comment', invalid('JSON_SYNTAX'), once(baseText, '{\n  "certificate_id"', '{\n  // issued by ephemera\n  "certificate_id"'));
  add('single-quotes', 'parse', 'a string in single quotes', invalid('JSON_SYNTAX'), once(baseText, '"status": "completed"', '"status": \'completed\''));
  add('trailing-text', 'parse', 'text after the document', invalid('JSON_SYNTAX'), `${baseText}verified: yes\n`);
  add('two-documents', 'parse', 'two certificates one after the other', invalid('JSON_SYNTAX'), baseText + baseText);
  add('empty-file', 'parse', 'nothing at all', invalid('JSON_SYNTAX'), '');
  add('top-level-array', 'parse', 'an array holding the certificate', invalid('JSON_SYNTAX'), `[${baseText}]`);
  add('truncated', 'parse', 'the file cut in the middle of the events', invalid('JSON_SYNTAX'), baseText.slice(0, Math.floor(baseText.length * 0.7)));
  add(
    'events-not-an-array',
    'parse',
    '"events" is an object holding the array',
    invalid('JSON_SYNTAX'),
    once(baseText, '"events": [', '"events": {"list": [').replace(/\]\n\}\n$/, ']}\n}\n'),
  );
  add(
    'too-deep',
    'limits',
    "the result's own JSON nested past the bound of 64",
    invalid('JSON_TOO_DEEP'),
    forged((d) => void (ev(d, 12).data.result.json = nested(60))),
  );

  // ---------------------------------------------------------------- schema
  add(
    'unknown-member-root',
    'schema',
    'a member no certificate has ("verified_by")',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.verified_by = 'ephemera')),
  );
  add(
    'unknown-member-root-proto',
    'schema',
    '"__proto__" at the top: an ordinary, unknown name',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    once(baseText, '{\n  "certificate_id"', '{\n  "__proto__": {"valid": true},\n  "certificate_id"'),
  );
  add(
    'unknown-member-root-constructor',
    'schema',
    '"constructor" at the top',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    once(baseText, '{\n  "certificate_id"', '{\n  "constructor": "x",\n  "certificate_id"'),
  );
  add(
    'unknown-member-envelope',
    'schema',
    'a member beside seq and type in an event (re-sealed)',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 2).note = 'x')),
  );
  add(
    'unknown-member-data',
    'schema',
    "a member in an event's data (re-sealed)",
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 1).data.extra = 1)),
  );
  add(
    'unknown-member-data-tostring',
    'schema',
    '"toString" in an event\'s data (re-sealed)',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 1).data.toString = 'x')),
  );
  add(
    'unknown-member-data-proto',
    'schema',
    '"__proto__" in an event\'s data, written into the text and re-sealed',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    protoInData(base),
  );
  add(
    'unknown-member-isolation',
    'schema',
    "a member in sandbox.created's isolation block (version 2 closes it)",
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 2).data.isolation.privileged = true)),
  );
  add(
    'unknown-member-limit',
    'schema',
    "a member in one limit's entry",
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 2).data.limits.wall_ms.note = 'x')),
  );
  add(
    'unknown-member-runtime-tool',
    'schema',
    "a member in a runtime tool's identity",
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 2).data.runtime.tools.python3.signed = true)),
  );
  add(
    'unknown-member-tee',
    'schema',
    'a member in the runtime TEE description',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 2).data.runtime.tee.audited = true)),
  );
  add(
    'unknown-member-result',
    'schema',
    'a member in the recorded result',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 12).data.result.stderr = 'x')),
  );
  add(
    'unknown-member-totals',
    'schema',
    'a member in the totals',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 12).data.totals.cost = 1)),
  );
  add(
    'unknown-member-destroy-checks',
    'schema',
    'a member in the destruction checks',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 14).data.checks.note = 'x')),
  );
  add(
    'unknown-member-attestation-notice',
    'schema',
    'a notice beside the signature: version 1 let it ride unsigned; version 2 rejects it',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, -1).data.attestation.notice = 'hardware-backed')),
  );
  add(
    'unknown-member-summary',
    'schema',
    'a member in execution_trace the events do not imply',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.execution_trace.verified = true)),
  );
  add(
    'unknown-member-summary-proto',
    'schema',
    '"__proto__" inside execution_trace',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    once(baseText, '"execution_trace": {', '"execution_trace": {\n    "__proto__": {"count": 0},'),
  );
  add(
    'unknown-member-lifecycle',
    'schema',
    'a member in lifecycle',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.lifecycle.audited = '2026-02-01T13:15:00.000Z')),
  );
  add(
    'unknown-member-tool-use',
    'schema',
    'a member in a tool_uses row',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.execution_trace.tool_uses[0].safe = true)),
  );
  add(
    'unknown-member-proof',
    'schema',
    'a member in proof',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.proof.hardware_backed = true)),
  );
  add(
    'unknown-member-merkle',
    'schema',
    'a member in merkle',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.merkle.audited = true)),
  );
  add(
    'missing-member-root',
    'schema',
    'no "status"',
    invalid('VERIFY_MISSING_MEMBER'),
    edited((d) => void delete d.status),
  );
  add(
    'missing-member-events',
    'schema',
    'no "events"',
    invalid('VERIFY_MISSING_MEMBER'),
    edited((d) => void delete d.events),
  );
  add(
    'missing-member-summary',
    'schema',
    'no result.json in the summary',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void delete d.result.json),
  );
  add(
    'missing-member-data',
    'schema',
    'an event without data.call_id (re-sealed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void delete ev(d, 3).data.call_id),
  );
  add(
    'missing-member-result-json',
    'schema',
    'a version-2 result without "json" (absent is written null)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void delete ev(d, 12).data.result.json),
  );
  add(
    'missing-member-envelope',
    'schema',
    'an event without "at"',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void delete ev(d, 4).at),
  );
  add(
    'wrong-type-seq',
    'schema',
    'seq as a string',
    invalid('EVENTS_INVALID_ENVELOPE'),
    edited((d) => void (ev(d, 1).seq = '1')),
  );
  add(
    'wrong-type-exit-code',
    'schema',
    'exit_code as a string (re-sealed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 6).data.exit_code = '0')),
  );
  add(
    'wrong-enum-caller',
    'schema',
    'caller "human" (re-sealed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 3).data.caller = 'human')),
  );
  add(
    'wrong-enum-tool',
    'schema',
    'a sandbox tool the format does not know ("curl") (re-sealed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void ev(d, 0).data.sandbox.tools.push('curl')),
  );
  add(
    'hash-uppercase',
    'schema',
    'prev in uppercase hex: one spelling per hash',
    invalid('EVENTS_INVALID_ENVELOPE'),
    edited((d) => void (ev(d, 3).prev = `sha256:${ev(d, 3).prev.slice(7).toUpperCase()}`)),
  );
  add(
    'signature-uppercase',
    'schema',
    'the signature in uppercase hex',
    invalid('EVENTS_INVALID_ENVELOPE'),
    edited((d) => {
      ev(d, -1).data.attestation.signature = ev(d, -1).data.attestation.signature.toUpperCase();
      rehash(ev(d, -1));
    }),
  );
  add(
    'public-key-short',
    'schema',
    'a public key of 31 bytes',
    invalid('EVENTS_INVALID_ENVELOPE'),
    edited((d) => {
      ev(d, -1).data.attestation.public_key = ev(d, -1).data.attestation.public_key.slice(2);
      rehash(ev(d, -1));
    }),
  );
  add(
    'negative-count',
    'schema',
    'a negative byte count (re-sealed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 1).data.bytes = -1)),
  );
  add(
    'unsafe-integer',
    'schema',
    'dataset_bytes 9007199254740992, canonical but beyond 2^53 - 1 (re-sealed)',
    invalid('EVENTS_NOT_SAFE_INTEGER'),
    forged((d) => void (ev(d, 0).data.dataset_bytes = 2 ** 53)),
  );
  add(
    'fraction-for-integer',
    'schema',
    'a count of 1.5 (re-sealed)',
    invalid('EVENTS_NOT_SAFE_INTEGER'),
    forged((d) => void (ev(d, 4).data.count = 1.5)),
  );
  add(
    'unsupported-version',
    'schema',
    'an event of envelope version 3',
    invalid('EVENTS_UNSUPPORTED_VERSION'),
    edited((d) => {
      ev(d, 0).v = 3;
      rehash(ev(d, 0));
    }),
  );
  add(
    'mixed-versions',
    'schema',
    'one event of version 1 in a version-2 stream (re-sealed)',
    invalid('EVENTS_VERSION_MISMATCH'),
    forged((d) => void (ev(d, 3).v = 1)),
  );
  add(
    'attestation-type-unknown',
    'schema',
    'an attestation of type "sgx" (re-hashed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    edited((d) => {
      ev(d, -1).data.attestation.type = 'sgx';
      rehash(ev(d, -1));
    }),
  );
  add(
    'attestation-type-relabelled',
    'schema',
    'a simulated attestation relabelled "tdx"',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    edited((d) => {
      ev(d, -1).data.attestation.type = 'tdx';
      rehash(ev(d, -1));
    }),
  );

  // ---------------------------------------------------------------- time
  const at = (value: string) => (d: Doc) => void (ev(d, 4).at = value);
  add('time-without-milliseconds', 'time', '2026-02-01T13:15:00Z (re-sealed)', invalid('EVENTS_BAD_TIMESTAMP'), forged(at('2026-02-01T13:15:00Z')));
  add('time-with-offset', 'time', 'a +00:00 offset instead of Z (re-sealed)', invalid('EVENTS_BAD_TIMESTAMP'), forged(at('2026-02-01T13:15:00.028+00:00')));
  add('time-lowercase', 'time', 'lowercase t and z (re-sealed)', invalid('EVENTS_BAD_TIMESTAMP'), forged(at('2026-02-01t13:15:00.028z')));
  add(
    'time-february-30',
    'time',
    'February 30th, which Date.parse rolls into March (re-sealed)',
    invalid('EVENTS_BAD_TIMESTAMP'),
    forged(at('2026-02-30T13:15:00.028Z')),
  );
  add('time-month-13', 'time', 'month 13 (re-sealed)', invalid('EVENTS_BAD_TIMESTAMP'), forged(at('2026-13-01T13:15:00.028Z')));
  add('time-hour-24', 'time', '24:00:00 (re-sealed)', invalid('EVENTS_BAD_TIMESTAMP'), forged(at('2026-02-01T24:00:00.000Z')));
  add(
    'time-leap-second',
    'time',
    'a leap second, 23:59:60, which the profile cannot hold (re-sealed)',
    invalid('EVENTS_BAD_TIMESTAMP'),
    forged(at('2026-02-01T23:59:60.000Z')),
  );
  add(
    'time-decreases',
    'time',
    'an event earlier than the one before it (re-sealed)',
    invalid('EVENTS_TIME_DECREASES'),
    forged(at('2026-02-01T13:14:00.000Z')),
  );
  add(
    'time-seal-before-last-event',
    'time',
    "the seal dated before the stream's last event (re-sealed)",
    invalid('EVENTS_TIME_DECREASES'),
    forged((d) => void (ev(d, -1).at = '2026-02-01T13:15:00.000Z')),
  );
  add(
    'time-seal-edited',
    'time',
    'the issue time moved a day later, the seal re-hashed but not re-signed: version 2 commits it in the report data',
    invalid('ATTEST_REPORT_DATA_MISMATCH'),
    edited((d) => {
      ev(d, -1).at = '2026-02-02T13:15:00.000Z';
      rehash(ev(d, -1));
      rederive(d);
    }),
  );

  // ---------------------------------------------------------------- chain
  add(
    'event-data-edited',
    'chain',
    "an event's data edited, its hash left",
    invalid('EVENTS_HASH_MISMATCH'),
    edited((d) => void (ev(d, 1).data.bytes = 1)),
  );
  add(
    'event-data-edited-rehashed',
    'chain',
    'the same with its hash recomputed: the next link breaks',
    invalid('EVENTS_CHAIN_BROKEN'),
    edited((d) => {
      ev(d, 1).data.bytes = 1;
      rehash(ev(d, 1));
    }),
  );
  add(
    'event-data-edited-all-rehashed',
    'chain',
    'the result forged and every link recomputed: the signed root no longer matches',
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      ev(d, 12).data.result.output = 'forged';
      rechain(d);
    }),
  );
  add(
    'event-hash-bit-flipped',
    'chain',
    "one bit of an event's hash",
    invalid('EVENTS_HASH_MISMATCH'),
    edited((d) => void (ev(d, 5).hash = flipHex(ev(d, 5).hash, 3))),
  );
  add(
    'event-prev-bit-flipped',
    'chain',
    'one bit of a prev link',
    invalid('EVENTS_HASH_MISMATCH'),
    edited((d) => void (ev(d, 5).prev = flipHex(ev(d, 5).prev, 200))),
  );
  add(
    'genesis-prev-edited',
    'chain',
    'the first event linked to something other than the genesis hash (re-hashed)',
    invalid('EVENTS_CHAIN_BROKEN'),
    edited((d) => {
      ev(d, 0).prev = `sha256:${'00'.repeat(32)}`;
      rehash(ev(d, 0));
    }),
  );
  add(
    'event-dropped',
    'chain',
    'one event removed',
    invalid('EVENTS_SEQ_GAP'),
    edited((d) => void d.events.splice(5, 1)),
  );
  add(
    'event-dropped-rechained',
    'chain',
    'one event removed and the chain relinked',
    invalid('VERIFY_TREE_SIZE_MISMATCH'),
    edited((d) => {
      d.events.splice(5, 1);
      rechain(d);
    }),
  );
  add(
    'event-duplicated',
    'chain',
    'one event twice',
    invalid('EVENTS_SEQ_GAP'),
    edited((d) => void d.events.splice(4, 0, clone(d.events[4]))),
  );
  add(
    'events-reordered',
    'chain',
    'two events swapped',
    invalid('EVENTS_SEQ_GAP'),
    edited((d) => void ([d.events[4], d.events[5]] = [d.events[5], d.events[4]])),
  );
  add(
    'event-from-other-execution',
    'chain',
    'an event spliced in from another run',
    invalid('EVENTS_WRONG_EXECUTION'),
    edited((d) => void (d.events[2] = clone(other.events[2]))),
  );
  add(
    'certificate-id-of-other-execution',
    'chain',
    'certificate_id names another run',
    invalid('EVENTS_WRONG_EXECUTION'),
    edited((d) => void (d.certificate_id = other.certificate_id)),
  );
  add(
    'events-empty',
    'chain',
    'no events at all',
    invalid('EVENTS_EMPTY_STREAM'),
    edited((d) => void (d.events = [])),
  );
  add(
    'not-sealed',
    'chain',
    'the sealing event removed',
    invalid('VERIFY_NOT_SEALED'),
    edited((d) => void d.events.pop()),
  );

  // ---------------------------------------------------------------- lifecycle (each re-sealed: only the order is wrong)
  add(
    'event-duplicated-rechained',
    'lifecycle',
    'a tool completion recorded twice',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void d.events.splice(6, 0, clone(d.events[6]))),
  );
  add(
    'events-reordered-rechained',
    'lifecycle',
    'a completion before its invocation',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void ([d.events[3], d.events[6]] = [d.events[6], d.events[3]])),
  );
  add(
    'completed-without-sandbox',
    'lifecycle',
    'completed with no sandbox created',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void d.events.splice(1, 11)),
  );
  add(
    'unknown-call-completed',
    'lifecycle',
    'a completion for a call never invoked',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void (ev(d, 6).data.call_id = 'call_9')),
  );
  add(
    'unknown-call-file-activity',
    'lifecycle',
    'file activity of a call never invoked',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void (ev(d, 4).data.call_id = 'call_9')),
  );
  add(
    'call-id-reused',
    'lifecycle',
    'a second invocation reusing call_1',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void (ev(d, 8).data.call_id = 'call_1')),
  );
  add(
    'call-left-open',
    'lifecycle',
    'completed while a tool call is still open',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void d.events.splice(10, 1)),
  );
  add(
    'second-request',
    'lifecycle',
    'a second execution.requested mid-run',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void d.events.splice(5, 0, { ...clone(d.events[0]), at: d.events[4].at })),
  );
  add(
    'event-after-seal',
    'lifecycle',
    'an event appended after the seal',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    edited((d) => {
      d.events.push({ ...clone(d.events[13]), at: ev(d, -1).at });
      rechain(d);
    }),
  );
  add(
    'deleted-before-finished',
    'lifecycle',
    'dataset.deleted before the run finished',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged((d) => void d.events.splice(5, 0, d.events.splice(13, 1)[0])),
  );
  add(
    'aborted-not-sealed',
    'lifecycle',
    'an aborted stream with a seal added after it',
    invalid('EVENTS_LIFECYCLE_VIOLATION'),
    forged(
      (d) =>
        void d.events.splice(13, 2, {
          ...clone(d.events[13]),
          type: 'execution.aborted',
          data: { reason: 'executor_restarted', last_seq: 12, error_code: null },
        }),
    ),
  );

  // ---------------------------------------------------------------- Merkle tree and report data
  add(
    'tree-size-changed',
    'merkle',
    'tree_size one less (re-hashed)',
    invalid('VERIFY_TREE_SIZE_MISMATCH'),
    edited((d) => {
      ev(d, -1).data.tree_size -= 1;
      rehash(ev(d, -1));
    }),
  );
  add(
    'tree-size-extended',
    'merkle',
    'tree_size one more (re-hashed)',
    invalid('VERIFY_TREE_SIZE_MISMATCH'),
    edited((d) => {
      ev(d, -1).data.tree_size += 1;
      rehash(ev(d, -1));
    }),
  );
  add(
    'merkle-root-bit-flipped',
    'merkle',
    'one bit of the root (re-hashed)',
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      ev(d, -1).data.merkle_root = flipHex(ev(d, -1).data.merkle_root, 10);
      rehash(ev(d, -1));
    }),
  );
  add(
    'merkle-root-of-other-run',
    'merkle',
    "another run's root (re-hashed)",
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      ev(d, -1).data.merkle_root = ev(other, -1).data.merkle_root;
      rehash(ev(d, -1));
    }),
  );
  for (const bit of [0, 255, 256, 511]) {
    add(
      `report-data-bit-${bit}-flipped`,
      'merkle',
      `bit ${bit} of report_data (re-hashed): ${bit < 256 ? 'the root half' : 'the binding half'}`,
      invalid('ATTEST_REPORT_DATA_MISMATCH'),
      edited((d) => {
        ev(d, -1).data.report_data = flipHex(ev(d, -1).data.report_data, bit);
        rehash(ev(d, -1));
      }),
    );
  }
  add(
    'report-data-of-other-run',
    'merkle',
    "another run's report data and attestation",
    invalid('ATTEST_REPORT_DATA_MISMATCH'),
    edited((d) => {
      const o = ev(other, -1).data;
      ev(d, -1).data.attestation = clone(o.attestation);
      ev(d, -1).data.report_data = o.report_data;
      rehash(ev(d, -1));
      rederive(d);
    }),
  );

  // ---------------------------------------------------------------- signatures
  // Bit 255 is R's sign bit (-R, still a point); bit 511 makes S ≥ 2^255 > L.
  for (const bit of [255, 256, 300, 511]) {
    add(
      `signature-bit-${bit}-flipped`,
      'signature',
      `bit ${bit} of the signature (${bit < 256 ? 'R' : 'S'})`,
      invalid(bit === 511 ? 'ATTEST_SIGNATURE_NONCANONICAL' : 'ATTEST_SIGNATURE_INVALID'),
      edited((d) => {
        ev(d, -1).data.attestation.signature = flipHex(ev(d, -1).data.attestation.signature, bit);
        rehash(ev(d, -1));
        rederive(d);
      }),
    );
  }
  add(
    'signature-of-other-run',
    'signature',
    "another run's attestation (key and signature)",
    invalid('ATTEST_SIGNATURE_INVALID'),
    edited((d) => {
      ev(d, -1).data.attestation = clone(ev(other, -1).data.attestation);
      rehash(ev(d, -1));
      rederive(d);
    }),
  );
  add(
    'public-key-swapped',
    'signature',
    'a self-made public key beside the original signature',
    invalid('ATTEST_SIGNATURE_INVALID'),
    edited((d) => {
      ev(d, -1).data.attestation.public_key = FORGER_PUBLIC_KEY;
      rehash(ev(d, -1));
      rederive(d);
    }),
  );
  add(
    'forged-identity-key',
    'signature',
    'no key at all: the identity point as public key, R = identity, S = 0 "signs" every message under ZIP-215',
    invalid('ATTEST_KEY_SMALL_ORDER'),
    forged((d) => void (ev(d, 12).data.result.output = 'forged'), 'identity-key'),
  );
  add(
    'forged-identity-key-noncanonical',
    'signature',
    'the same with the identity written y = p + 1',
    invalid('ATTEST_KEY_NONCANONICAL'),
    forged((d) => void (ev(d, 12).data.result.output = 'forged'), 'identity-key-noncanonical'),
  );
  add(
    'forged-small-order-r',
    'signature',
    'R of order 8: passes cofactored verification, not the exact equation',
    invalid('ATTEST_SIGNATURE_SMALL_ORDER'),
    forged(() => undefined, 'small-order-r'),
  );
  add(
    'forged-noncanonical-r',
    'signature',
    'R (the identity) written with y ≥ p',
    invalid('ATTEST_SIGNATURE_NONCANONICAL'),
    forged(() => undefined, 'noncanonical-r'),
  );
  add(
    'forged-noncanonical-s',
    'signature',
    'S + L for a valid S: the same point, another signature',
    invalid('ATTEST_SIGNATURE_NONCANONICAL'),
    forged(() => undefined, 'noncanonical-s'),
  );
  add(
    'forged-mixed-order-key',
    'signature',
    'the key plus a point of order 8, the nonce ground until the equation holds',
    invalid('ATTEST_KEY_NOT_PRIME_ORDER'),
    forged(() => undefined, 'mixed-order-key'),
  );

  // ---------------------------------------------------------------- summary members (each edited in the document only)
  const field = (name: string, description: string, edit: (d: Doc) => void, code = 'VERIFY_FIELD_MISMATCH') =>
    add(`field-${name}`, 'fields', description, invalid(code), edited(edit));
  field('status', 'status "failed"', (d) => void (d.status = 'failed'));
  field('result-output', 'result.output', (d) => void (d.result.output = '{"rows": 0}\n'));
  field('result-exit-code', 'result.exit_code', (d) => void (d.result.exit_code = 1));
  field('result-error-code', 'result.error_code set', (d) => void (d.result.error_code = 'EXECUTION_TIMEOUT'));
  field('result-json', 'a value inside result.json', (d) => void (d.result.json.rows = 1));
  field('result-hash', 'result.result_hash', (d) => void (d.result.result_hash = d.dataset_hash));
  field('result-truncated', 'result.truncated', (d) => void (d.result.truncated = true));
  field('dataset-hash', 'dataset_hash', (d) => void (d.dataset_hash = d.sandbox_hash));
  field('sandbox-hash', 'sandbox_hash', (d) => void (d.sandbox_hash = d.dataset_hash));
  field('fingerprint', 'fingerprint', (d) => void (d.fingerprint = d.dataset_hash));
  field('dataset-bytes', 'dataset.bytes', (d) => void (d.dataset.bytes = 1));
  field('dataset-source', 'dataset.source', (d) => void (d.dataset.source = 'url'));
  field('sandbox-tools', 'sandbox.tools', (d) => void d.sandbox.tools.pop());
  field('sandbox-model', 'sandbox.llm.model', (d) => void (d.sandbox.llm.model = 'another-model'));
  field('isolation-seccomp', 'isolation.seccomp false', (d) => void (d.isolation.seccomp = false));
  field('tool-count', 'a tool_uses count', (d) => void (d.execution_trace.tool_uses[0].count = 2));
  field('tool-uses-reordered', 'tool_uses rows swapped', (d) => void d.execution_trace.tool_uses.reverse());
  field('tool-args-hash-dropped', 'an args hash removed', (d) => void d.execution_trace.tool_uses[0].args_hashes.pop());
  field('tool-failures', 'a failure hidden', (d) => void (d.execution_trace.tool_uses[1].failures = 0));
  field('llm-count', 'llm_calls.count', (d) => void (d.execution_trace.llm_calls.count = 1));
  field('llm-tokens', 'tokens halved', (d) => void (d.execution_trace.llm_calls.input_tokens = 950));
  field('by-model-calls', "a by_model row's calls", (d) => void (d.execution_trace.llm_calls.by_model[0].calls = 1));
  field(
    'by-model-as-object',
    'by_model in the version-1 shape (an object keyed by model)',
    (d) => void (d.execution_trace.llm_calls.by_model = { 'claude-sonnet-4-5': { calls: 2, input_tokens: 1900, output_tokens: 100 } }),
  );
  field('provider-hosts-hidden', 'the provider that received data hidden', (d) => void (d.execution_trace.llm_calls.provider_hosts = []));
  field('file-activity-hidden', 'file activity hidden', (d) => void (d.execution_trace.file_activity = []));
  field('file-path', 'a file path changed', (d) => void (d.execution_trace.file_activity[1].path = '/work/out/other.json'));
  field('network-allowed', 'a refused connection shown as allowed', (d) => void (d.execution_trace.network_activity[0].allowed = true));
  field('resources-killed-by', 'resources.killed_by set', (d) => void (d.execution_trace.resources.killed_by = 'memory'));
  field('lifecycle-dataset-deleted', 'lifecycle.dataset_deleted', (d) => void (d.lifecycle.dataset_deleted = '2026-02-01T13:16:00.000Z'));
  field('lifecycle-sealed', 'lifecycle.sealed', (d) => void (d.lifecycle.sealed = '2026-02-01T13:16:00.000Z'));
  field('lifecycle-execution-time', 'lifecycle.execution_time_ms', (d) => void (d.lifecycle.execution_time_ms = 1));
  field('merkle-tree-size', 'merkle.tree_size', (d) => void (d.merkle.tree_size = 3));
  field('merkle-algorithm', 'merkle.algorithm', (d) => void (d.merkle.algorithm = 'sha256'));
  field('proof-tee', 'proof.tee "tdx"', (d) => void (d.proof.tee = 'tdx'));
  field('proof-attestation', 'proof.attestation of another run', (d) => void (d.proof = clone(other.proof)));
  field('version-downgrade', 'version 1 on a version-2 certificate (the events say 2)', (d) => void (d.version = 1));
  field('execution-id', 'execution_id of another run', (d) => void (d.execution_id = other.execution_id));
  field('certificate-id-bare', 'certificate_id without its cert_ prefix', (d) => void (d.certificate_id = d.execution_id), 'VERIFY_MALFORMED');
  field('certificate-id-malformed', 'certificate_id that is no ULID', (d) => void (d.certificate_id = 'cert_01jd7zx3q4m5n6p7r8s9t0vwxy'), 'VERIFY_MALFORMED');
  field('events-summary-null', 'sandbox set to null', (d) => void (d.sandbox = null));

  // ---------------------------------------------------------------- version 1
  const v1 = versionOneCertificate();
  add('v1-valid', 'version', 'a version-1 certificate: accepted, with the members nothing commits named in the verdict', TRUSTED, v1);
  add(
    'v1-notice-edited',
    'version',
    "version 1: the attestation's notice rewritten, re-hashed: still valid, and listed as uncommitted",
    TRUSTED,
    edited((d) => {
      ev(d, -1).data.attestation.notice = 'HARDWARE-BACKED';
      rehash(ev(d, -1));
      rederive(d);
    }, v1),
  );
  add(
    'v1-seal-time-edited',
    'version',
    'version 1: the sealing time moved, re-hashed: valid, listed as uncommitted',
    TRUSTED,
    edited((d) => {
      ev(d, -1).at = '2026-02-02T00:00:00.000Z';
      rehash(ev(d, -1));
      rederive(d);
    }, v1),
  );
  add(
    'v1-hostile-names',
    'version',
    'version 1 keyed by_model by name: "__proto__" as a model is an ordinary key',
    TRUSTED,
    versionOneCertificate({ model: '__proto__', tool: 'constructor', host: 'toString', path: '/x' }),
  );
  add(
    'v1-relabelled-2',
    'version',
    'a version-1 certificate labelled version 2',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void (d.version = 2), v1),
  );
  add(
    'v2-events-relabelled-1',
    'version',
    'a version-2 stream relabelled version 1 event by event: the signed root changes',
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      for (const e of d.events) e.v = 1;
      rechain(d);
    }),
  );
  add(
    'v1-forged-identity-key',
    'version',
    'version 1 is verified as strictly: the keyless forgery fails',
    invalid('ATTEST_KEY_SMALL_ORDER'),
    forged(() => undefined, 'identity-key', v1),
  );

  // ---------------------------------------------------------------- limits (options set small bounds)
  add('limit-events', 'limits', "more events than the reader's limit (10)", invalid('VERIFY_TOO_MANY_EVENTS'), base, { limits: { maxEvents: 10 } });
  add('limit-bytes', 'limits', "a larger file than the reader's limit (4096 bytes)", invalid('VERIFY_TOO_LARGE'), base, { limits: { maxBytes: 4096 } });
  add('limit-string-length', 'limits', "a string longer than the reader's limit (64 characters)", invalid('JSON_STRING_TOO_LONG'), base, {
    limits: { maxStringLength: 64 },
  });
  add('limit-depth', 'limits', "nesting deeper than the reader's limit (4)", invalid('JSON_TOO_DEEP'), base, { limits: { maxDepth: 4 } });
  add(
    'limit-values-per-event',
    'limits',
    'an event holding 300,000 values (a result JSON of zeros): refused while read, before it is built',
    invalid('JSON_TOO_MANY_VALUES'),
    forged((d) => void (ev(d, 12).data.result.json = { zeros: new Array(300_000).fill(0) })),
  );
  add(
    'limit-user-json-budget',
    'limits',
    "a result JSON of 150,000 values: readable, but over the format's budget for the user's own data (re-sealed)",
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 12).data.result.json = { zeros: new Array(150_000).fill(0) })),
  );
  add(
    'limit-long-string-committed',
    'limits',
    "an 8 KiB file path (re-sealed): within the reader's string bound, over the format's 4096 for a path",
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 5).data.path = `/work/${'x'.repeat(8192)}`)),
  );

  // ---------------------------------------------------------------- tdx (through the dstack stand-in; Intel's signature cannot hold without hardware)
  const tdx = tdxCertificate();
  add(
    'tdx-simulated-quote',
    'tdx',
    "a quote with this run's report data patched into a real Intel quote: binding and build hold, Intel's signature does not",
    invalid('ATTEST_QUOTE_SIGNATURE_INVALID'),
    tdx,
  );
  add(
    'tdx-real-quote-reused',
    'tdx',
    "a real, untouched Intel quote of another run: its report data is not this run's",
    invalid('ATTEST_REPORT_DATA_MISMATCH'),
    tdxCertificate({ patchReport: false }),
  );
  add('tdx-quote-padded', 'tdx', "the quote with the hardware's zero padding kept", invalid('ATTEST_QUOTE_MALFORMED'), tdxCertificate({ padding: true }));
  add(
    'tdx-app-info-member',
    'tdx',
    'a version-1 style app_info beside the quote (re-hashed)',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    edited((d) => {
      ev(d, -1).data.attestation.app_info = { compose_hash: 'ff'.repeat(32) };
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  add(
    'tdx-collateral-time-member',
    'tdx',
    'a collateral_fetched_at member (re-hashed)',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    edited((d) => {
      ev(d, -1).data.attestation.collateral_fetched_at = '2025-06-20T10:00:00.000Z';
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  add(
    'tdx-event-log-boot-event',
    'tdx',
    'an event-log entry of RTMR 0, whose fields no verifier can recompute (re-hashed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    edited((d) => {
      ev(d, -1).data.attestation.event_log[0].imr = 0;
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  add(
    'tdx-collateral-extra-member',
    'tdx',
    'a pck_certificate_chain in the collateral (re-hashed)',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    edited((d) => {
      ev(d, -1).data.attestation.collateral.pck_certificate_chain = 'x';
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  add(
    'tdx-collateral-crl-edited',
    'tdx',
    'a byte of the PCK CRL flipped, which dcap-qvl alone would not notice (re-hashed)',
    invalid('ATTEST_COLLATERAL_INVALID'),
    edited((d) => {
      const c = ev(d, -1).data.attestation.collateral;
      c.pck_crl = flipHex(c.pck_crl, 1600);
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  add(
    'tdx-collateral-chain-text',
    'tdx',
    'words between the certificates of a collateral chain (re-hashed)',
    invalid('ATTEST_COLLATERAL_INVALID'),
    edited((d) => {
      const c = ev(d, -1).data.attestation.collateral;
      c.tcb_info_issuer_chain = c.tcb_info_issuer_chain.replace('-----END CERTIFICATE-----\n', '-----END CERTIFICATE-----\naudited\n');
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  add(
    'tdx-collateral-crl-forged',
    'tdx',
    'a made-up PCK CRL revoking a 16 KiB serial number (re-hashed): refused before the DCAP library, whose bignum parsing of it would take seconds, ever sees it',
    invalid('ATTEST_COLLATERAL_INVALID'),
    edited((d) => {
      ev(d, -1).data.attestation.collateral.pck_crl = bytesToHex(crlWithSerial(16 * 1024));
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  add(
    'tdx-quote-uppercase',
    'tdx',
    'the quote in uppercase hex (re-hashed)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    edited((d) => {
      ev(d, -1).data.attestation.quote = ev(d, -1).data.attestation.quote.toUpperCase();
      rehash(ev(d, -1));
      rederive(d);
    }, tdx),
  );
  // ---------------------------------------------------------------- sealed submissions and sealed results (docs/sealed.md §4–5)
  const sealedInput = forged((d) => void (ev(d, 0).data.submission = clone(SEALED_SUBMISSION)));
  /** The outcome event of `from` made a sealed one: the empty result beside the ciphertext, result_hash the salted commitment. */
  const sealOutcome = (sealed: typeof SEALED_RICH, from: Doc = sealedInput, edit: (outcome: Doc) => void = () => undefined) =>
    forged(
      (d) => {
        const outcome = ev(d, 12);
        outcome.data.result = clone(EMPTY_RESULT);
        outcome.data.result_hash = sealed.resultHash;
        outcome.data.sealed_result = clone(sealed.sealed);
        edit(outcome);
      },
      'vector',
      from,
    );
  const sealedBoth = sealOutcome(SEALED_RICH);
  const failedSealed = sealOutcome(SEALED_FAILED, sealedInput, (outcome) => {
    outcome.type = 'execution.failed';
    outcome.data = { error_code: 'EXECUTION_NONZERO_EXIT', killed_by: null, ...outcome.data, exit_code: 1 };
  });
  add(
    'valid-sealed-input',
    'sealed',
    'the dataset and API key arrived sealed to a key statement: execution.requested.submission and dataset.submission name it',
    TRUSTED,
    sealedInput,
  );
  add(
    'valid-sealed-input-and-result',
    'sealed',
    `sealed input, and the result sealed to the vector recipient (manifest result_key): the result is empty, result_hash commits to the salted plaintext ${SEALED_RICH.plaintext.length} bytes long, result.sealed carries the ciphertext`,
    TRUSTED,
    sealedBoth,
  );
  add(
    'valid-sealed-result-failed-run',
    'sealed',
    "a failed script's sealed result: its stderr tail is inside the ciphertext, none beside it",
    TRUSTED,
    failedSealed,
  );
  add(
    'valid-sealed-all-parts',
    'sealed',
    'dataset, API key and sandbox all sealed: the one order the format allows',
    TRUSTED,
    forged((d) => void (ev(d, 0).data.submission.sealed = ['dataset', 'api_key', 'sandbox']), 'vector', sealedInput),
  );
  add(
    'valid-sealed-dataset-only',
    'sealed',
    'only the dataset sealed (no API key sent, the sandbox in the clear)',
    TRUSTED,
    forged((d) => void (ev(d, 0).data.submission.sealed = ['dataset']), 'vector', sealedInput),
  );
  const sealedList = (name: string, list: string[], why: string) =>
    add(
      `submission-${name}`,
      'sealed',
      `submission.sealed ${JSON.stringify(list)}: ${why}`,
      invalid('EVENTS_SUBMISSION_INVALID'),
      forged((d) => void (ev(d, 0).data.submission.sealed = list), 'vector', sealedInput),
    );
  sealedList('without-dataset', ['api_key'], 'sealed input always seals the dataset');
  sealedList('empty', [], 'nothing sealed is not a sealed submission');
  sealedList('out-of-order', ['dataset', 'sandbox', 'api_key'], 'the order is dataset, api_key, sandbox');
  sealedList('dataset-not-first', ['api_key', 'dataset'], 'the dataset comes first');
  sealedList('repeated', ['dataset', 'api_key', 'api_key'], 'each part once');
  add(
    'submission-unknown-part',
    'sealed',
    'submission.sealed names a part that does not exist',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 0).data.submission.sealed = ['dataset', 'prompt']), 'vector', sealedInput),
  );
  add(
    'submission-plain-mode',
    'sealed',
    'submission.mode "plain": plain input has no submission member at all (one spelling per value)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 0).data.submission.mode = 'plain'), 'vector', sealedInput),
  );
  add(
    'submission-null',
    'sealed',
    'submission written null: absent is the only spelling of plain',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 0).data.submission = null)),
  );
  add(
    'submission-unknown-member',
    'sealed',
    'a member in the submission its closed schema lacks',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 0).data.submission.key = '00'.repeat(32)), 'vector', sealedInput),
  );
  add(
    'submission-key-statement-edited',
    'sealed',
    "the key statement's hash edited in its event, hash not recomputed",
    invalid('EVENTS_HASH_MISMATCH'),
    edited((d) => void (ev(d, 0).data.submission.key_statement_hash = hashUtf8('another statement')), sealedInput),
  );
  add(
    'submission-key-statement-edited-all-rehashed',
    'sealed',
    "the key statement's hash edited and every link recomputed: the signed root no longer matches",
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      ev(d, 0).data.submission.key_statement_hash = hashUtf8('another statement');
      rechain(d);
      rederive(d);
    }, sealedInput),
  );
  add(
    'submission-removed-all-rehashed',
    'sealed',
    'the submission removed (a sealed run passed off as plain) and every link recomputed: the signed root no longer matches',
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      delete ev(d, 0).data.submission;
      rechain(d);
      rederive(d);
    }, sealedInput),
  );
  add(
    'sealed-result-with-output',
    'sealed',
    'a sealed result beside the output in the clear: the result must be the empty one',
    invalid('EVENTS_SEALED_RESULT_NOT_EMPTY'),
    forged((d) => void (ev(d, 12).data.result = clone(ev(base, 12).data.result)), 'vector', sealedBoth),
  );
  add(
    'sealed-result-with-bytes',
    'sealed',
    'a sealed result beside result.bytes 1 (the output empty): every member of the result is the empty one',
    invalid('EVENTS_SEALED_RESULT_NOT_EMPTY'),
    forged((d) => void (ev(d, 12).data.result.bytes = 1), 'vector', sealedBoth),
  );
  add(
    'sealed-result-with-json',
    'sealed',
    'a sealed result beside result.json {}',
    invalid('EVENTS_SEALED_RESULT_NOT_EMPTY'),
    forged((d) => void (ev(d, 12).data.result.json = {}), 'vector', sealedBoth),
  );
  add(
    'sealed-result-with-stderr-tail',
    'sealed',
    'a sealed result beside a stderr tail in the clear: the tail belongs inside the ciphertext',
    invalid('EVENTS_SEALED_RESULT_NOT_EMPTY'),
    forged((d) => void (ev(d, 12).data.stderr_tail = clone(SEALED_TRACEBACK)), 'vector', failedSealed),
  );
  add(
    'sealed-result-xwing',
    'sealed',
    'a sealed result of suite xwing-aes256gcm: results are sealed with x25519-aes256gcm only',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 12).data.sealed_result.suite = 'xwing-aes256gcm'), 'vector', sealedBoth),
  );
  add(
    'sealed-result-short-enc',
    'sealed',
    'an encapsulated key of 31 bytes (X25519: 32)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 12).data.sealed_result.enc = ev(d, 12).data.sealed_result.enc.slice(2)), 'vector', sealedBoth),
  );
  add(
    'sealed-result-unknown-member',
    'sealed',
    'a member in sealed_result its closed schema lacks',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 12).data.sealed_result.key = RESULT_KEY_FILE.private_key), 'vector', sealedBoth),
  );
  add(
    'sealed-result-ciphertext-edited-all-rehashed',
    'sealed',
    'a ciphertext bit flipped and every link recomputed: the signed root no longer matches',
    invalid('VERIFY_MERKLE_ROOT_MISMATCH'),
    edited((d) => {
      ev(d, 12).data.sealed_result.ciphertext = flipHex(ev(d, 12).data.sealed_result.ciphertext, 3);
      rechain(d);
      rederive(d);
    }, sealedBoth),
  );
  add(
    'field-dataset-submission-removed',
    'fields',
    'dataset.submission left out of the summary while the events say the input was sealed',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void delete d.dataset.submission, sealedInput),
  );
  add(
    'field-dataset-submission-added',
    'fields',
    'a dataset.submission in the summary of a plain run: the events say nothing was sealed',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (d.dataset.submission = clone(SEALED_SUBMISSION))),
  );
  add(
    'field-dataset-submission-edited',
    'fields',
    "dataset.submission names another key statement than the event's",
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void (d.dataset.submission.key_statement_hash = hashUtf8('another statement')), sealedInput),
  );
  add(
    'field-result-sealed-removed',
    'fields',
    'result.sealed left out of the summary: it would read as an empty result in the clear',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void delete d.result.sealed, sealedBoth),
  );
  add(
    'field-result-sealed-recipient',
    'fields',
    'result.sealed names another recipient in the summary only',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void (d.result.sealed.recipient = '00'.repeat(32)), sealedBoth),
  );
  add(
    'field-result-output-beside-sealed',
    'fields',
    'the plaintext output written into the summary beside result.sealed: not what the events say',
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void (d.result.output = ev(base, 12).data.result.output), sealedBoth),
  );
  add(
    'v1-submission',
    'version',
    'a version-1 execution.requested with a submission: version 1 has none (closed schema), sealing is version 2 only',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged((d) => void (ev(d, 0).data.submission = clone(SEALED_SUBMISSION)), 'vector', v1),
  );
  add(
    'v1-sealed-result',
    'version',
    'a version-1 execution.completed with a sealed_result: version 1 has none',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    forged(
      (d) => {
        ev(d, 12).data.result = clone(EMPTY_RESULT);
        ev(d, 12).data.sealed_result = clone(SEALED_RICH.sealed);
      },
      'vector',
      v1,
    ),
  );
  transparencyCases(base, add, { TRUSTED, UNTRUSTED, invalid });
  rowsCases(forged, add, { TRUSTED, invalid });
  sqlCases({ forged, edited, add }, { TRUSTED, invalid });
  return cases;
}

/**
 * Class `sql` (docs/sql-tool.md §8): SQL calls made by a script's processes (nested: `parent_call_id`) and by the
 * model, each answer in `tool.completed.sql` and summed in its tool_uses row. Each case re-sealed (only the rule it
 * breaks can fail) but the `field-sql-*` ones, which edit the document only.
 */
function sqlCases(
  make: {
    forged: (edit: (doc: Doc) => void, signer?: Signer, from?: Doc) => Doc;
    edited: (edit: (doc: Doc) => void, from?: Doc) => Doc;
    add: (name: string, cls: CaseClass, description: string, expected: ConformanceCase['expected'], content: Doc) => void;
  },
  outcomes: { TRUSTED: ConformanceCase['expected']; invalid: (code: string) => ConformanceCase['expected'] },
): void {
  const { forged, edited, add } = make;
  const { TRUSTED, invalid } = outcomes;
  const S = 'sql';
  const LIFECYCLE = invalid('EVENTS_LIFECYCLE_VIOLATION');
  const answer = (rows: number, bytes: number, truncated: boolean, error_code: string | null) => ({ rows, bytes, truncated, error_code });
  /** An event like `d`'s call_1 invocation (version, execution id), at the time of event `after`: reseal renumbers and relinks it. */
  const event = (d: Doc, after: number, type: string, data: Doc): Doc => ({ ...clone(ev(d, 3)), type, at: ev(d, after).at, data });
  const invoked = (call_id: string, caller: 'llm' | 'script', query: string, parent?: string) => ({
    call_id,
    tool: 'sql',
    // docs/sql-tool.md §8: SHA-256 over JCS {tool, input: {query}}, the LLM's form, for every sql call.
    args_hash: hashUtf8(canonicalize({ tool: 'sql', input: { query } })),
    caller,
    ...(parent === undefined ? {} : { parent_call_id: parent }),
  });
  const completed = (call_id: string, exit_code: number | null, sql?: Doc) => ({
    call_id,
    exit_code,
    duration_ms: 40,
    cpu_ms: 30,
    max_rss_kb: 12_000,
    stdout_bytes: 200,
    stderr_bytes: 0,
    output_hash: hashUtf8(`out ${call_id}`),
    killed_by: exit_code === null ? 'timeout' : null,
    truncated: false,
    ...(sql === undefined ? {} : { sql }),
  });
  /** Moves event `from` to index `to` (of the stream without it), taking the time of the event it then follows. */
  const move = (d: Doc, from: number, to: number) => {
    const [moved] = d.events.splice(from, 1);
    moved.at = d.events[to - 1].at;
    d.events.splice(to, 0, moved);
  };

  // The rich run with SQL: scan.py (call_1) runs `sql` twice from its processes (call_3: 1,000 rows, cut by the cap;
  // call_4: refused), and the model calls sql once (call_5). Indices: 6-9 the nested calls, 10 call_1 completes,
  // 12-14 the model's bash call, 15-16 its sql call, 18 the outcome.
  const sqlRun = forged((d) => {
    ev(d, 0).data.sandbox.tools = ['bash', 'python', 'sql'];
    d.events.splice(
      11,
      0,
      event(d, 10, 'tool.invoked', invoked('call_5', 'llm', 'SELECT k, count(*) FROM dataset GROUP BY k')),
      event(d, 10, 'tool.completed', completed('call_5', 0, answer(3, 52, false, null))),
    );
    d.events.splice(
      6,
      0,
      event(d, 5, 'tool.invoked', invoked('call_3', 'script', 'SELECT * FROM dataset', 'call_1')),
      event(d, 5, 'tool.completed', completed('call_3', 0, answer(1000, 65_519, true, null))),
      event(d, 5, 'tool.invoked', invoked('call_4', 'script', "SELECT readfile('/etc/passwd')", 'call_1')),
      event(d, 5, 'tool.completed', completed('call_4', 2, answer(0, 0, false, 'SQL_QUERY_REFUSED'))),
    );
    ev(d, 18).data.totals.tool_calls = 5;
  });
  const fromSql = (edit: (d: Doc) => void) => forged(edit, 'vector', sqlRun);
  /** The model's `SELECT 1` (call_6) inserted at `at`, within `parent`. */
  const nestModelQuery = (d: Doc, at: number, parent: string) =>
    void d.events.splice(
      at,
      0,
      event(d, at - 1, 'tool.invoked', invoked('call_6', 'llm', 'SELECT 1', parent)),
      event(d, at - 1, 'tool.completed', completed('call_6', 0, answer(1, 5, false, null))),
    );

  add(
    'sql-calls',
    S,
    'a script running the sql command twice (calls within call_1: one answer cut by the row cap, one refused) and the model calling sql once; tool_uses sums their rows, bytes and truncated answers per caller',
    TRUSTED,
    sqlRun,
  );
  add(
    'sql-call-killed',
    S,
    "the model's sql call killed before the engine answered: no sql member in its tool.completed, none in its tool_uses row",
    TRUSTED,
    fromSql((d) => void Object.assign(ev(d, 16).data, { exit_code: null, killed_by: 'timeout', sql: undefined })),
  );
  add(
    'sql-runner-failed',
    S,
    'an engine that failed (SQL_RUNNER_FAILED) exits 1: an error code with a non-zero exit is consistent',
    TRUSTED,
    fromSql((d) => void Object.assign(ev(d, 9).data, { exit_code: 1, sql: answer(0, 0, false, 'SQL_RUNNER_FAILED') })),
  );
  add(
    'sql-nested-in-model-bash',
    S,
    "the model's bash call (call_2) running the sql command: a call within call_2, caller llm (its outermost parent's)",
    TRUSTED,
    fromSql((d) => nestModelQuery(d, 13, 'call_2')),
  );
  add(
    'sql-parent-not-open',
    S,
    'a call within call_9, which was never invoked',
    LIFECYCLE,
    fromSql((d) => void (ev(d, 6).data.parent_call_id = 'call_9')),
  );
  add(
    'sql-parent-already-completed',
    S,
    'call_1 completes before the calls naming it as their parent are invoked',
    LIFECYCLE,
    fromSql((d) => move(d, 10, 6)),
  );
  add(
    'sql-parent-completed-first',
    S,
    'call_1 completes while call_4, a call within it, is still open',
    LIFECYCLE,
    fromSql((d) => move(d, 10, 9)),
  );
  add(
    'sql-nested-other-tool',
    S,
    'a call within call_1 of tool bash: only the sql command makes a call within another',
    LIFECYCLE,
    fromSql((d) => void (ev(d, 6).data.tool = 'bash')),
  );
  add(
    'sql-nested-two-deep',
    S,
    'a call within call_3, itself a call within call_1: the sql command nests one level only',
    LIFECYCLE,
    fromSql((d) => {
      ev(d, 8).data.parent_call_id = 'call_3';
      move(d, 7, 9); // call_3 completes after call_4, its child here
    }),
  );
  add(
    'sql-nested-in-sql',
    S,
    "a call within the model's sql call (call_5): a query runs no process that could make one",
    LIFECYCLE,
    fromSql((d) => nestModelQuery(d, 16, 'call_5')),
  );
  add(
    'sql-nested-other-caller',
    S,
    "a call within the script's call_1 with caller llm: a call within another is of its parent's caller",
    LIFECYCLE,
    fromSql((d) => void (ev(d, 6).data.caller = 'llm')),
  );
  add(
    'sql-on-bash-call',
    S,
    "an SQL answer in the completion of the model's bash call: only a call of tool sql has one",
    LIFECYCLE,
    fromSql((d) => void (ev(d, 14).data.sql = answer(0, 0, false, 'SQL_QUERY_INVALID'))),
  );
  add(
    'sql-error-code-exit-0',
    S,
    'an SQL error code on a call that exited 0 (the engine exits 0 only answering)',
    LIFECYCLE,
    fromSql((d) => void (ev(d, 9).data.exit_code = 0)),
  );
  add(
    'sql-no-error-code-exit-2',
    S,
    'an answered query (error_code null) on a call that exited 2',
    LIFECYCLE,
    fromSql((d) => void (ev(d, 7).data.exit_code = 2)),
  );
  add(
    'sql-answer-without-exit-code',
    S,
    'an SQL error code on a call killed without an exit code: a call that carries an answer exited',
    LIFECYCLE,
    fromSql((d) => void Object.assign(ev(d, 16).data, { exit_code: null, killed_by: 'timeout', sql: answer(0, 0, false, 'SQL_QUERY_TIMEOUT') })),
  );
  add(
    'sql-unknown-member',
    S,
    'an SQL answer with a member the closed schema lacks',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    fromSql((d) => void (ev(d, 16).data.sql.query = 'SELECT 1')),
  );
  add(
    'sql-null',
    S,
    'sql written null: absent is the only spelling of "no answer"',
    invalid('EVENTS_INVALID_ENVELOPE'),
    fromSql((d) => void (ev(d, 16).data.sql = null)),
  );
  add(
    'sql-truncated-number',
    S,
    'sql.truncated written 1, not a boolean',
    invalid('EVENTS_INVALID_ENVELOPE'),
    fromSql((d) => void (ev(d, 7).data.sql.truncated = 1)),
  );
  add(
    'parent-call-id-null',
    S,
    'parent_call_id written null: absent is the only spelling of "not within another call"',
    invalid('EVENTS_INVALID_ENVELOPE'),
    fromSql((d) => void (ev(d, 15).data.parent_call_id = null)),
  );
  add(
    'tools-unknown-name',
    S,
    'sandbox.tools naming a tool that is not bash, python, grep or sql',
    invalid('EVENTS_INVALID_ENVELOPE'),
    fromSql((d) => void (ev(d, 0).data.sandbox.tools = ['bash', 'python', 'mysql'])),
  );
  const row = (d: Doc, tool: string, caller: string) => d.execution_trace.tool_uses.find((u: Doc) => u.tool === tool && u.caller === caller);
  add(
    'field-sql-rows',
    S,
    "the script's sql row claims one row more than its answers returned",
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void (row(d, 'sql', 'script').sql.rows += 1), sqlRun),
  );
  add(
    'field-sql-dropped',
    S,
    "the model's sql row without its sql member",
    invalid('VERIFY_FIELD_MISMATCH'),
    edited((d) => void delete row(d, 'sql', 'llm').sql, sqlRun),
  );
  add(
    'field-sql-on-bash',
    S,
    'an sql member added to the bash row, which no SQL answer backs',
    invalid('VERIFY_UNKNOWN_MEMBER'),
    edited((d) => void (row(d, 'bash', 'llm').sql = { rows: 0, bytes: 0, truncated: 0 }), sqlRun),
  );
  // Version 1 has neither member: its tool.invoked and tool.completed are closed as they were.
  const v1 = versionOneCertificate();
  const nestedV1 = (invocation: Doc, sql?: Doc) =>
    forged(
      (d) => void d.events.splice(6, 0, event(d, 5, 'tool.invoked', invocation), event(d, 5, 'tool.completed', completed('call_3', 0, sql))),
      'vector',
      v1,
    );
  add(
    'v1-parent-call-id',
    S,
    'a version-1 tool.invoked with parent_call_id: version 1 has none',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    nestedV1(invoked('call_3', 'script', 'SELECT 1', 'call_1')),
  );
  add(
    'v1-sql-answer',
    S,
    'a version-1 tool.completed with sql: version 1 has none',
    invalid('EVENTS_UNKNOWN_MEMBER'),
    nestedV1(invoked('call_3', 'script', 'SELECT 1'), answer(1, 5, false, null)),
  );
}

/** Class `transparency` (docs/transparency.md §12): the base certificate logged at index 5 of 8 in a fixture log, cosigned by two witnesses. */
/** The row commitment in dataset.loaded (docs/row-proofs.md §3), each case re-sealed: only the rule it breaks can fail. */
function rowsCases(
  forged: (edit: (doc: Doc) => void, signer?: Signer, from?: Doc) => Doc,
  add: (name: string, cls: CaseClass, description: string, expected: ConformanceCase['expected'], content: Doc) => void,
  outcomes: { TRUSTED: ConformanceCase['expected']; invalid: (code: string) => ConformanceCase['expected'] },
): void {
  const { TRUSTED, invalid } = outcomes;
  const R = 'rows';
  const ROOT = hashUtf8('row tree').slice('sha256:'.length);
  const committed = (rows: Doc) => forged((d) => void (ev(d, 1).data.rows = rows));
  const csvRows = { format: 'csv', count: 10_000, root: ROOT, sorted_by: null };
  add('rows-committed', R, 'the records committed in input order: dataset.rows carries the commitment', TRUSTED, committed(csvRows));
  add('rows-sorted', R, 'the records committed sorted by the key column "patient_id"', TRUSTED, committed({ ...csvRows, sorted_by: 'patient_id' }));
  add(
    'rows-absent',
    R,
    'a dataset that could not be split: dataset.rows_absent says why, and the run is committed by its hash alone',
    TRUSTED,
    forged((d) => void (ev(d, 1).data.rows_absent = { reason: 'csv_quoting' })),
  );
  add(
    'rows-and-rows-absent',
    R,
    'both the commitment and a reason there is none: one spelling per fact',
    invalid('EVENTS_ROWS_INVALID'),
    forged((d) => Object.assign(ev(d, 1).data, { rows: csvRows, rows_absent: { reason: 'not_requested' } })),
  );
  add('rows-format-not-the-dataset', R, 'a json commitment of a csv dataset', invalid('EVENTS_ROWS_INVALID'), committed({ ...csvRows, format: 'json' }));
  add(
    'rows-txt-sorted',
    R,
    'a txt dataset committed "sorted by" a key it cannot have',
    invalid('EVENTS_ROWS_INVALID'),
    forged((d) => {
      ev(d, 0).data.dataset_format = 'txt';
      ev(d, 1).data.rows = { ...csvRows, format: 'txt', sorted_by: 'line' };
    }),
  );
  add(
    'rows-count-zero',
    R,
    'a commitment of no records (an empty dataset has rows_absent "empty")',
    invalid('EVENTS_INVALID_ENVELOPE'),
    committed({ ...csvRows, count: 0 }),
  );
  add('rows-root-short', R, 'a root that is not 64 hex', invalid('EVENTS_INVALID_ENVELOPE'), committed({ ...csvRows, root: ROOT.slice(2) }));
  add(
    'rows-root-uppercase',
    R,
    'a root in uppercase hex: one spelling',
    invalid('EVENTS_INVALID_ENVELOPE'),
    committed({ ...csvRows, root: ROOT.toUpperCase() }),
  );
  add(
    'rows-null',
    R,
    'rows written null: absent is the only spelling of "not committed"',
    invalid('EVENTS_INVALID_ENVELOPE'),
    committed(null as unknown as Doc),
  );
  add(
    'rows-sorted-by-missing',
    R,
    'a commitment without sorted_by (null is how input order is written)',
    invalid('EVENTS_INVALID_ENVELOPE'),
    committed({ format: 'csv', count: 3, root: ROOT }),
  );
  add('rows-unknown-member', R, 'a member the closed schema lacks', invalid('EVENTS_UNKNOWN_MEMBER'), committed({ ...csvRows, salt: ROOT }));
  add(
    'rows-absent-unknown-reason',
    R,
    'a reason that is not one of the listed ones',
    invalid('EVENTS_INVALID_ENVELOPE'),
    forged((d) => void (ev(d, 1).data.rows_absent = { reason: 'too_big' })),
  );
}

function transparencyCases(
  base: Doc,
  add: (name: string, cls: CaseClass, description: string, expected: ConformanceCase['expected'], content: Doc, options?: CaseOptions) => void,
  outcomes: { TRUSTED: ConformanceCase['expected']; UNTRUSTED: ConformanceCase['expected']; invalid: (code: string) => ConformanceCase['expected'] },
): void {
  const { TRUSTED, UNTRUSTED, invalid } = outcomes;
  const leaves = Array.from({ length: 5 }, (_, i) => syntheticLeaf(i, `other ${i % 3}`, i >= 3 ? i - 3 : null));
  leaves.push(leafOfCertificate(base as unknown as Certificate, null), syntheticLeaf(6, 'later', null), syntheticLeaf(7, 'later', 6));
  const log = fixtureLogSync(leaves, { witnesses: 2 });
  const forgerLog = fixtureLogSync(leaves, { attestedBy: 'forger' });
  const [w0, w1] = log.witnesses.map((w) => w.vkey) as [string, string];
  const stranger = generateCosignerKey('witness-x.example', new Uint8Array(32).fill(7)).vkey;
  const logged = (edit: (t: Doc) => void = () => undefined, from = log): Doc => {
    const doc = clone(base);
    doc.transparency = clone(from.transparencyNow(5));
    edit(doc.transparency);
    return doc;
  };
  const T = 'transparency';
  add(
    'logged',
    T,
    'the certificate with its transparency member: leaf 5 of 8, its inclusion proof, a checkpoint signed by the log key and cosigned by two witnesses, the log key attested by the vector key (pinned)',
    TRUSTED,
    logged(),
  );
  add('logged-witnesses', T, 'the same, both witnesses required', TRUSTED, logged(), { witnesses: [w0, w1] });
  add('logged-one-of-two-witnesses', T, 'one of the two named witnesses required: the other named one did not cosign', TRUSTED, logged(), {
    witnesses: [w0, stranger],
    witnesses_required: 1,
  });
  add('logged-witness-missing', T, 'two named witnesses required, one of them never cosigned: valid, not trusted', UNTRUSTED, logged(), {
    witnesses: [w0, stranger],
  });
  add(
    'logged-log-key-unpinned',
    T,
    "the log key's statement attested by the forger's key (not pinned), and the reader requires the log: valid, not trusted",
    UNTRUSTED,
    logged(undefined, forgerLog),
    { require_log: true },
  );
  add(
    'logged-log-key-unpinned-not-asked',
    T,
    "the same, for a reader who asked nothing of the log: the certificate's own trust stands, the log's is reported apart",
    TRUSTED,
    logged(undefined, forgerLog),
  );
  add('logged-log-key-pinned', T, 'the same, with the log vkey pinned', TRUSTED, logged(undefined, forgerLog), { log_keys: [forgerLog.vkey] });
  add('not-logged-required', T, 'no transparency member, and the reader requires one', invalid('TLOG_NOT_LOGGED'), clone(base), { require_log: true });
  add('not-logged', T, 'no transparency member, not required: verifies as before', TRUSTED, clone(base));
  add(
    'leaf-result-hash',
    T,
    "the leaf's result_hash is not the certificate's",
    invalid('TLOG_LEAF_MISMATCH'),
    logged((t) => void (t.leaf.result_hash = t.leaf.dataset_hash)),
  );
  add(
    'leaf-certificate-hash',
    T,
    "the leaf's certificate_hash is another event's hash",
    invalid('TLOG_LEAF_MISMATCH'),
    logged((t) => void (t.leaf.certificate_hash = ev(base, 0).hash)),
  );
  add(
    'leaf-certificate-id',
    T,
    "another certificate's leaf (leaf 4) with its own valid proof",
    invalid('TLOG_LEAF_MISMATCH'),
    logged((t) => Object.assign(t, log.transparencyNow(4))),
  );
  add(
    'leaf-prev',
    T,
    "the leaf's prev changed: the proof no longer covers it",
    invalid('TLOG_INCLUSION_INVALID'),
    logged((t) => void (t.leaf.prev = 3)),
  );
  add(
    'proof-flipped',
    T,
    'a bit of the first proof hash flipped',
    invalid('TLOG_INCLUSION_INVALID'),
    logged((t) => void (t.inclusion_proof[0] = flipFirstHex(t.inclusion_proof[0]))),
  );
  add(
    'proof-short',
    T,
    'the last proof hash dropped',
    invalid('TLOG_INCLUSION_INVALID'),
    logged((t) => void t.inclusion_proof.pop()),
  );
  add(
    'proof-index',
    T,
    'leaf_index 4 with the proof of 5',
    invalid('TLOG_INCLUSION_INVALID'),
    logged((t) => void (t.leaf_index = 4)),
  );
  add(
    'proof-index-past-tree',
    T,
    'leaf_index 8 in a tree of 8',
    invalid('TLOG_INCLUSION_INVALID'),
    logged((t) => void (t.leaf_index = 8)),
  );
  add(
    'proof-too-long',
    T,
    '64 proof hashes (the bound is 63)',
    invalid('TLOG_TRANSPARENCY_MALFORMED'),
    logged((t) => void (t.inclusion_proof = Array(64).fill('00'.repeat(32)))),
  );
  add(
    'proof-uppercase',
    T,
    'a proof hash in uppercase hex',
    invalid('TLOG_TRANSPARENCY_MALFORMED'),
    logged((t) => void (t.inclusion_proof[0] = t.inclusion_proof[0].toUpperCase())),
  );
  add(
    'member-unknown',
    T,
    'a member the transparency object does not have',
    invalid('TLOG_TRANSPARENCY_MALFORMED'),
    logged((t) => void (t.tree_size = 8)),
  );
  add('member-null', T, 'transparency: null', invalid('TLOG_TRANSPARENCY_MALFORMED'), { ...clone(base), transparency: null });
  add(
    'checkpoint-signature',
    T,
    "a bit of the log's signature flipped",
    invalid('TLOG_NOTE_SIGNATURE_INVALID'),
    logged((t) => void (t.checkpoint = flipSignature(t.checkpoint, 0))),
  );
  add(
    'checkpoint-cosignature',
    T,
    "a bit of a named witness's cosignature flipped",
    invalid('TLOG_NOTE_SIGNATURE_INVALID'),
    logged((t) => void (t.checkpoint = flipSignature(t.checkpoint, 2))),
    { witnesses: [w0, w1] },
  );
  add(
    'checkpoint-other-key',
    T,
    'the checkpoint signed by another key of the same name',
    invalid('TLOG_NOTE_UNVERIFIED'),
    logged((t) => void (t.checkpoint = resignNote(t.checkpoint))),
  );
  add(
    'log-key-statement-hash',
    T,
    "the log key document's statement_hash edited",
    invalid('TLOG_LOG_KEY_DOCUMENT_MALFORMED'),
    logged((t) => void (t.log_key.statement_hash = ev(base, 0).hash)),
  );
  add(
    'log-key-attestation',
    T,
    "a bit of the log key statement's attestation signature flipped",
    invalid('ATTEST_SIGNATURE_INVALID'),
    logged((t) => void (t.log_key.attestation.signature = flipFirstHex(t.log_key.attestation.signature))),
  );
}

const flipFirstHex = (hex: string) => `${hex[0] === '0' ? '1' : '0'}${hex.slice(1)}`;

/** Flips a bit in the signature of signature line `line` (0: the log's). */
function flipSignature(note: string, line: number): string {
  const lines = note.split('\n');
  const i = lines.findIndex((l) => l.startsWith('\u2014 ')) + line;
  const at = lines[i]!.length - 5;
  lines[i] = `${lines[i]!.slice(0, at)}${lines[i]![at] === 'A' ? 'B' : 'A'}${lines[i]!.slice(at + 1)}`;
  return lines.join('\n');
}

function resignNote(note: string): string {
  const { text } = parseNote(note);
  return signNote({ text }, [parseNoteSignerKey(generateNoteKey(text.split('\n')[0]!, new Uint8Array(32).fill(9)).skey)]);
}

/** A DER CRL (unsigned, never Intel's) revoking one serial number of `serialBytes` bytes. */
function crlWithSerial(serialBytes: number): Uint8Array {
  const len = (n: number) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 255] : [0x83, n >> 16, (n >> 8) & 255, n & 255]);
  const tlv = (tag: number, body: number[]) => [tag, ...len(body.length), ...body];
  const seq = (...parts: number[][]) => tlv(0x30, parts.flat());
  const utc = (t: string) =>
    tlv(
      0x17,
      [...t].map((c) => c.charCodeAt(0)),
    );
  const ecdsaSha256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
  const serial = new Array<number>(serialBytes).fill(0xab);
  serial[0] = 0x7f;
  const tbs = seq([0x02, 0x01, 0x01], seq(ecdsaSha256), seq(), utc('250101000000Z'), utc('300101000000Z'), seq(seq(tlv(0x02, serial), utc('250101000000Z'))));
  return Uint8Array.from(seq(tbs, seq(ecdsaSha256), [0x03, 0x03, 0x00, 0x00, 0x00]));
}

/** `depth` objects nested inside each other (the value itself counts as 1). */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { d: value };
  return value;
}

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  return value;
}

/** An own `__proto__` member cannot be set by assignment; it is written into the event's JSON and the stream re-sealed. */
function protoInData(base: Doc): string {
  const doc = clone(base);
  const event = JSON.parse(JSON.stringify(ev(doc, 1)).replace('"medium":"tmpfs"', '"medium":"tmpfs","__proto__":{"admin":true}')) as Doc;
  doc.events[1] = event;
  reseal(doc);
  return text(doc);
}
