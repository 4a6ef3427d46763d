/**
 * The certificate verifier (docs/verification.md). Trusts nothing in the
 * document but the events and the attestation: it reads the document
 * strictly, checks the hash chain and lifecycle, recomputes the Merkle root
 * and report data, checks the attestation, re-derives every other member from
 * the events and compares, then says whom the certificate comes from and
 * whether the reader trusts that. The first failure is named by code and
 * member; later checks are skipped.
 *
 * One pass over the events with constant work per event (the fold, the
 * stream checker and the compact range keep O(calls) and O(log n) state):
 * a document can be fed member by member and event by event, so a million
 * events never sit in memory at once (verifyCertificateChunks).
 * Pure and isomorphic (no Node-only API): bundled for the browser too.
 */
import { isErrorCode, type ErrorCode } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { StreamChecker, bytesToHex, hexToBytes, isPlainObject, isTimestamp, nobleSha256, type EventEnvelope, type Hash, type Sha256 } from '../events/index.js';
import {
  CompactRange,
  SIMULATED_NOTICE,
  leafHash,
  replayRtmr3,
  reportData,
  reportDataV1,
  verifySimulatedAttestation,
  type EventLogEntry,
} from '../attest/index.js';
import { CERTIFICATE_ID_PATTERN, CERTIFICATE_MEMBERS, CertificateFold, OPTIONAL_CERTIFICATE_MEMBERS, executionIdOf, type Certificate } from './certificate.js';
import { firstDifference, firstDifferenceInText } from './compare.js';
import { runtimeDifferences, type RecordedTools } from './build-info.js';
import { checkJsonValue } from './json-value.js';
import { CertificateReader, type ReaderItem, type Utf8Decode } from './reader.js';
import { DEFAULT_VERIFY_LIMITS, type VerifyLimits } from './limits.js';
import { keyFingerprint, keyIdentity, trustOfKey, type TrustBasis } from './trust.js';
import { MAX_TRANSPARENCY_BYTES, checkTransparency } from './transparency.js';

import { CHECK_ORDER, type CheckName, type Verdict, type VerifyCheck, type VerifyOptions } from './verdict.js';

const KNOWN_MEMBERS = new Set<string>([...CERTIFICATE_MEMBERS, ...OPTIONAL_CERTIFICATE_MEMBERS]);
/** JCS recursion stops at 256 levels (events/jcs.ts): no reader may admit deeper. */
const DEPTH_CEILING = 256;
/** How far a version-1 collateral fetch time may lie outside the run's events (it was fetched at sealing). */
const COLLATERAL_SKEW_MS = 15 * 60 * 1000;
/** The members of a version-1 attestation that its verification covers; any other is uncommitted. */
const V1_COVERED = new Map<string, Set<string>>([
  ['simulated', new Set(['type', 'public_key', 'signature'])],
  ['tdx', new Set(['type', 'quote', 'event_log', 'collateral'])],
]);

class StageError extends Error {
  constructor(
    readonly stage: CheckName,
    readonly error: EphemeraError,
  ) {
    super(error.message);
  }
}

const failWith = (stage: CheckName, code: ErrorCode, field: string, message: string): never => {
  throw new StageError(stage, new EphemeraError(code, message, { fields: { field } }));
};

/** Feeds a certificate in, member by member and event by event, then gives the verdict. */
export class CertificateVerifier {
  readonly limits: VerifyLimits;
  private readonly sha256: Sha256;
  /** Top-level members as values (a document that arrived as an object) or as their exact text (read from bytes). */
  private readonly members = new Map<string, { value: unknown } | { text: string }>();
  private readonly checker: StreamChecker;
  private readonly range: CompactRange;
  private readonly fold = new CertificateFold(false);
  private sealed: EventEnvelope<'certificate.sealed'> | null = null;
  /** The tools `sandbox.created` recorded (runtime.tools), for the build check. */
  private recordedTools: RecordedTools = {};
  private createdSeq: number | null = null;
  private createdVersion: number | null = null;
  private lastLeaf: EventEnvelope | null = null;
  private firstEvent: EventEnvelope | null = null;
  private count = 0;
  private failed: StageError | null = null;

  constructor(private readonly options: VerifyOptions = {}) {
    const limits = { ...DEFAULT_VERIFY_LIMITS, ...options.limits };
    this.limits = { ...limits, maxDepth: Math.min(limits.maxDepth, DEPTH_CEILING) };
    this.sha256 = options.sha256 ?? nobleSha256;
    this.checker = new StreamChecker({ sha256: this.sha256, maxEvents: this.limits.maxEvents });
    this.range = new CompactRange(this.sha256);
  }

  get failure(): StageError | null {
    return this.failed;
  }

  /** Runs a reading step; the first error becomes the verdict's failure and stops the reading. */
  read(step: () => void): boolean {
    if (this.failed) return false;
    try {
      step();
      return true;
    } catch (error) {
      this.failed = asStageError(error, 'document');
      return false;
    }
  }

  /** A top-level member's name, before its value is read. */
  name(name: string): void {
    if (!KNOWN_MEMBERS.has(name)) failWith('document', 'VERIFY_UNKNOWN_MEMBER', name, `${name}: not a member of a certificate`);
  }

  /** A top-level member other than `events`, as a value. */
  member(name: string, value: unknown): void {
    this.name(name);
    if (name === 'events') failWith('document', 'VERIFY_MALFORMED', 'events', 'events: expected an array');
    this.members.set(name, { value });
  }

  /** A top-level member other than `events`, as its exact (already validated) text: compared at the end without being built. */
  memberText(name: string, text: string): void {
    // The only member not compared with the events is bounded here, before it is parsed again.
    if (name === 'transparency' && text.length > MAX_TRANSPARENCY_BYTES)
      failWith('document', 'TLOG_TRANSPARENCY_MALFORMED', name, `transparency: larger than ${MAX_TRANSPARENCY_BYTES} bytes`);
    this.members.set(name, { text });
  }

  /** Before event `index` is read: refused past the limit, before any work on it. */
  eventStarting(index: number): void {
    if (index >= this.limits.maxEvents)
      failWith('document', 'VERIFY_TOO_MANY_EVENTS', 'events', `events: more than ${this.limits.maxEvents} events (the limit)`);
  }

  /** The next event of `events`. `hash`: its content's hash as a reader recomputed it (reader.ts); `leaf`: that hash's Merkle leaf. */
  event(value: unknown, hash?: Hash, leaf?: Uint8Array): void {
    this.eventStarting(this.count);
    this.count += 1;
    let event: EventEnvelope;
    try {
      event = this.checker.push(value, hash);
    } catch (error) {
      throw asStageError(error, 'events');
    }
    this.firstEvent ??= event;
    if (event.type === 'sandbox.created') {
      this.recordedTools = recordedToolsOf(event.data);
      this.createdSeq = event.seq;
      this.createdVersion = event.v;
    }
    if (event.type === 'certificate.sealed') this.sealed = event;
    else {
      // A leaf from the reader is of the hash just checked to be this event's own.
      this.range.appendLeaf(leaf ?? leafHash(this.checker.lastDigest, this.sha256));
      this.lastLeaf = event;
    }
    this.fold.apply(event);
  }

  /** One item from a CertificateReader, in this thread or a worker's, in document order. */
  apply(item: ReaderItem): void {
    switch (item.kind) {
      case 'name':
        return this.name(item.name);
      case 'member':
        return this.memberText(item.name, item.text);
      case 'open':
        return this.eventsPresent();
      case 'event':
        return this.event(item.value !== undefined ? item.value : JSON.parse(item.text), item.hash, hexToBytes(item.leaf));
      case 'error':
        throw new StageError(
          'document',
          new EphemeraError(isErrorCode(item.code) ? item.code : 'VERIFY_INTERNAL', item.message, { fields: item.field === null ? {} : { field: item.field } }),
        );
      case 'end':
        return;
    }
  }

  /** Marks `events` as present when it arrives as an (empty or streamed) array. */
  eventsPresent(): void {
    this.members.set('events', { value: null });
  }

  /** A small member's value, whichever way it arrived. */
  private valueOf(name: string): unknown {
    const member = this.members.get(name);
    if (!member) return undefined;
    return 'value' in member ? member.value : JSON.parse(member.text);
  }

  async finish(): Promise<Verdict> {
    const checks: VerifyCheck[] = [];
    const verdict: Verdict = {
      valid: false,
      trusted: false,
      status: 'invalid',
      certificate_id: null,
      format_version: this.firstEvent?.v ?? null,
      tee: null,
      hardware_backed: false,
      key: null,
      trust: { basis: null, reason: 'the certificate is not valid' },
      checks,
      failure: null,
      notice: null,
      uncommitted: [],
      input: null,
      sealed_result: null,
      rows: null,
      transparency: null,
      build: null,
    };
    const id = this.valueOf('certificate_id');
    verdict.certificate_id = typeof id === 'string' ? id : null;
    let failure = this.failed;
    let trust: { trusted: boolean; basis: TrustBasis | null; reason: string } = { trusted: false, basis: null, reason: 'the certificate is not valid' };
    let expectedReport: Uint8Array = new Uint8Array(0);

    const steps: Record<(typeof CHECK_ORDER)[number], () => Promise<VerifyCheck[] | void>> = {
      document: async () => {
        for (const name of CERTIFICATE_MEMBERS) {
          if (!this.members.has(name)) failWith('document', 'VERIFY_MISSING_MEMBER', name, `${name}: missing member`);
        }
        if (typeof id !== 'string' || !CERTIFICATE_ID_PATTERN.test(id))
          failWith('document', 'VERIFY_MALFORMED', 'certificate_id', 'certificate_id must be cert_<ULID>');
      },
      events: async () => {
        if (!this.firstEvent) failWith('events', 'EVENTS_EMPTY_STREAM', 'events', 'events: the stream has no events');
        if (this.firstEvent!.execution_id !== executionIdOf(id as string))
          failWith('events', 'EVENTS_WRONG_EXECUTION', 'events[0].execution_id', 'the events belong to another execution than certificate_id names');
        if (!this.sealed)
          failWith('events', 'VERIFY_NOT_SEALED', `events[${this.count - 1}].type`, 'the stream is not sealed: no certificate.sealed event ends it');
      },
      merkle: async () => {
        const sealed = this.sealed!;
        const leaves = this.range.size;
        if (sealed.data.tree_size !== leaves)
          failWith(
            'merkle',
            'VERIFY_TREE_SIZE_MISMATCH',
            `events[${sealed.seq}].data.tree_size`,
            `tree_size ${sealed.data.tree_size} but ${leaves} events precede the seal`,
          );
        const root = this.range.root();
        if (`sha256:${bytesToHex(root)}` !== sealed.data.merkle_root)
          failWith('merkle', 'VERIFY_MERKLE_ROOT_MISMATCH', `events[${sealed.seq}].data.merkle_root`, 'the events do not reproduce the Merkle root');
        expectedReport = sealed.v === 2 ? reportData(root, sealed.execution_id, leaves, sealed.at) : reportDataV1(root, sealed.execution_id, leaves);
      },
      report_data: async () => {
        const sealed = this.sealed!;
        if (bytesToHex(expectedReport) !== sealed.data.report_data) {
          failWith(
            'report_data',
            'ATTEST_REPORT_DATA_MISMATCH',
            `events[${sealed.seq}].data.report_data`,
            sealed.v === 2 ? 'report_data is not the one these events and the sealing time imply' : 'report_data is not the one these events imply',
          );
        }
      },
      attestation: async () => {
        const sealed = this.sealed!;
        const attestation = sealed.data.attestation as Record<string, unknown>;
        const type = typeof attestation.type === 'string' ? attestation.type : '';
        verdict.tee = type;
        if (sealed.v === 1) verdict.uncommitted = this.uncommittedV1(sealed, type);
        if (type === 'simulated') {
          verdict.notice = SIMULATED_NOTICE;
          try {
            verifySimulatedAttestation(attestation, expectedReport);
          } catch (error) {
            throw asStageError(error, 'attestation', `events[${sealed.seq}].data.attestation`);
          }
          verdict.key = keyIdentity(attestation.public_key as string);
          trust = trustOfKey(verdict.key, this.options);
          return;
        }
        const defaultAtSeconds = Date.parse(sealed.v === 2 ? sealed.at : this.collateralTimeV1(sealed, attestation)) / 1000;
        const verifiers = new Map(Object.entries(this.options.attestationVerifiers ?? {}));
        const verifier = verifiers.get(type);
        if (!verifier)
          failWith('attestation', 'ATTEST_UNKNOWN_TYPE', `events[${sealed.seq}].data.attestation.type`, `no verifier for attestation type "${type}" here`);
        const sub = await verifier!(attestation, expectedReport, { defaultAtSeconds, version: sealed.v });
        verdict.hardware_backed = sub.length > 0 && sub.every((c) => c.status === 'pass');
        trust = verdict.hardware_backed
          ? { trusted: true, basis: 'hardware-policy', reason: 'a hardware attestation that verifies under your policy (trusted builds, TCB statuses)' }
          : { trusted: false, basis: null, reason: 'the hardware attestation does not verify under your policy' };
        return sub.map((c) => ({ ...c, name: `attestation.${c.name}` as const }));
      },
      fields: async () => {
        const derived = this.fold.result() as unknown as Record<string, unknown>;
        for (const name of CERTIFICATE_MEMBERS) {
          if (name === 'events') continue;
          const member = this.members.get(name)!;
          const difference = 'value' in member ? firstDifference(derived[name], member.value, name) : firstDifferenceInText(derived[name], member.text, name);
          if (difference) {
            const code = difference.kind === 'unknown_member' ? 'VERIFY_UNKNOWN_MEMBER' : 'VERIFY_FIELD_MISMATCH';
            failWith(
              'fields',
              code,
              difference.path,
              difference.kind === 'unknown_member' ? `${difference.path}: not a member the events imply` : `${difference.path}: not what the events say`,
            );
          }
        }
      },
    };

    for (const name of CHECK_ORDER) {
      if (failure) {
        if (failure.stage === name) checks.push(failCheck(name, failure.error));
        else if (failure === this.failed && CHECK_ORDER.indexOf(name) < CHECK_ORDER.indexOf(failure.stage as (typeof CHECK_ORDER)[number])) {
          // Reading stopped at a later stage: this check passes only if it can still be completed.
          checks.push(
            await steps[name]().then(
              () => ({ name, status: 'pass' as const }),
              () => ({ name, status: 'skipped' as const }),
            ),
          );
        } else checks.push({ name, status: 'skipped' });
        continue;
      }
      try {
        const sub = (await steps[name]()) ?? [];
        checks.push(...sub);
        const failed = sub.find((c) => c.status === 'fail');
        if (failed) {
          failure = new StageError(
            name,
            new EphemeraError(failed.code && isErrorCode(failed.code) ? failed.code : 'ATTEST_FAILED', failed.detail ?? `${failed.name} failed`, {
              fields: { field: failed.field ?? `events[${this.sealed!.seq}].data.attestation` },
            }),
          );
          checks.push(failCheck(name, failure.error));
        } else checks.push({ name, status: 'pass' });
      } catch (error) {
        failure = asStageError(error, name);
        checks.push(failCheck(name, failure.error));
      }
    }
    const logged = this.members.has('transparency');
    if (logged || this.options.requireLog) {
      if (failure) checks.push({ name: 'transparency', status: 'skipped' });
      else {
        try {
          if (!logged)
            failWith(
              'transparency',
              'TLOG_NOT_LOGGED',
              'transparency',
              'the certificate carries no inclusion proof in a transparency log, and you required one',
            );
          verdict.transparency = await checkTransparency({ ...this.fold.result(), events: [this.sealed!] }, this.valueOf('transparency'), this.options);
          checks.push({ name: 'transparency', status: 'pass', detail: transparencyDetail(verdict.transparency) });
          // The log's trust counts only for a reader who asked for it (--require-log, log keys or witnesses): for
          // anyone else an untrusted log key is shown in the transparency verdict, and the certificate stands alone.
          const { requireLog, logKeys, witnesses } = this.options;
          const asked = requireLog === true || (logKeys?.length ?? 0) > 0 || (witnesses?.length ?? 0) > 0;
          if (!verdict.transparency.trusted && asked)
            trust = { trusted: false, basis: null, reason: `${trust.reason}; but the log: ${verdict.transparency.trust}` };
        } catch (error) {
          failure = asStageError(error, 'transparency');
          checks.push(failCheck('transparency', failure.error));
        }
      }
    }
    if ((this.options.builds?.length ?? 0) > 0) {
      if (failure) checks.push({ name: 'build', status: 'skipped' });
      else {
        const check = this.checkBuild(verdict);
        checks.push(check);
        if (check.status === 'fail')
          failure = new StageError('build', new EphemeraError('VERIFY_BUILD_RUNTIME_MISMATCH', check.detail!, { fields: { field: check.field! } }));
      }
    }
    if (failure) {
      const field = failure.error.fields.field;
      verdict.failure = { code: failure.error.code, field: typeof field === 'string' ? field : null, message: failure.error.message };
    } else {
      verdict.valid = true;
      verdict.trusted = trust.trusted;
      verdict.status = trust.trusted ? 'trusted' : 'untrusted';
      verdict.trust = { basis: trust.basis, reason: trust.reason };
      Object.assign(verdict, sealingOf(this.fold.result()), { rows: rowsOf(this.fold.result()) });
      if (verdict.uncommitted.length > 0) {
        verdict.notice = `${verdict.notice ? `${verdict.notice} ` : ''}Format version 1: ${verdict.uncommitted.join(', ')} are not covered by the Merkle root or the attestation; anyone could have edited them.`;
      }
    }
    return verdict;
  }

  /**
   * The certificate against the reader's builds (docs/reproducible-builds.md §5): a TDX certificate's build is the
   * one whose compose hash the quote's event log names (replayed to RTMR3 by the attestation check); any other
   * certificate is measured by nothing, so each build is a candidate. The build holds when the sandbox recorded
   * exactly its tools.
   */
  private checkBuild(verdict: Verdict): VerifyCheck {
    if (this.createdSeq === null || this.createdVersion !== 2)
      return {
        name: 'build',
        status: 'skipped',
        detail: this.createdSeq === null ? 'no sandbox was created: there are no tools to compare' : 'format version 1 records no tools in a fixed shape',
      };
    const composeHash = verdict.tee === 'tdx' ? composeHashOf(this.sealed!.data.attestation) : null;
    const candidates = (this.options.builds ?? []).filter((b) => verdict.tee !== 'tdx' || (composeHash !== null && b.compose_hash === composeHash));
    if (candidates.length === 0)
      return {
        name: 'build',
        status: 'skipped',
        detail: `none of your build-info documents names this certificate's build (compose hash ${composeHash ?? 'none'})`,
      };
    const compared = candidates.map((build) => ({ build, differences: runtimeDifferences(build.runtime, this.recordedTools) }));
    const { build, differences } = compared.find((c) => c.differences.length === 0) ?? compared[0]!;
    verdict.build = {
      commit: build.commit,
      version: build.version,
      reproducible: build.bundle !== null,
      bundle_sha256: build.bundle?.sha256 ?? null,
      measured: composeHash !== null,
      compose_hash: build.compose_hash,
      runtime_matches: differences.length === 0,
      differences,
    };
    const what = `${build.commit ? `build ${build.commit.slice(0, 12)}` : 'the build of no known commit'} (${composeHash ? 'measured by the quote' : 'not measured: no TDX quote'})`;
    if (differences.length > 0) {
      const others = compared.length > 1 ? ` (none of your ${compared.length} builds for it matches; the first's differences)` : '';
      return {
        name: 'build',
        status: 'fail',
        code: 'VERIFY_BUILD_RUNTIME_MISMATCH',
        field: `events[${this.createdSeq}].data.runtime.tools`,
        detail: `the sandbox's tools are not those of ${what}${others}: ${differences.slice(0, 3).join('; ')}`,
      };
    }
    return { name: 'build', status: 'pass', detail: `the sandbox's tools are those of ${what}` };
  }

  /**
   * A version-1 tdx attestation is checked at its collateral's fetch time, outside the root: it must lie
   * within the run. Without one, at the last committed event's time (never the seal's, which v1 does not commit).
   */
  private collateralTimeV1(sealed: EventEnvelope<'certificate.sealed'>, attestation: Record<string, unknown>): string {
    const at = attestation.collateral_fetched_at;
    if (typeof at !== 'string' || !isTimestamp(at)) return this.lastLeaf!.at;
    const fetched = Date.parse(at);
    const [first, last] = [this.firstEvent!.at, this.lastLeaf!.at];
    if (!(fetched >= Date.parse(first) - COLLATERAL_SKEW_MS && fetched <= Date.parse(last) + COLLATERAL_SKEW_MS)) {
      failWith(
        'attestation',
        'ATTEST_COLLATERAL_TIME_MISMATCH',
        `events[${sealed.seq}].data.attestation.collateral_fetched_at`,
        `collateral fetched at ${at}, not during the run (${first} to ${last}, give or take 15 minutes)`,
      );
    }
    return at;
  }

  private uncommittedV1(sealed: EventEnvelope<'certificate.sealed'>, type: string): string[] {
    const covered = V1_COVERED.get(type) ?? new Set<string>();
    const extra = Object.keys(sealed.data.attestation as object)
      .filter((key) => !covered.has(key))
      .map((key) => `events[${sealed.seq}].data.attestation.${key}`);
    return [`events[${sealed.seq}].at (lifecycle.sealed)`, ...extra];
  }
}

/** The tools a `sandbox.created` event recorded (version 1's open data may hold none). */
function recordedToolsOf(data: unknown): RecordedTools {
  const tools = isPlainObject(data) && isPlainObject(data.runtime) ? data.runtime.tools : undefined;
  return isPlainObject(tools) ? (tools as RecordedTools) : {};
}

/** The compose hash the quote's event log names, as the attestation check replayed it (a TDX attestation that passed is well formed). */
function composeHashOf(attestation: unknown): string | null {
  const log = isPlainObject(attestation) ? attestation.event_log : undefined;
  return Array.isArray(log) ? replayRtmr3(log as EventLogEntry[]).composeHash : null;
}

/** What a valid certificate says about sealing: how its input arrived, and whose key its result is sealed to. */
function sealingOf(cert: Certificate): Pick<Verdict, 'input' | 'sealed_result'> {
  const submission = cert.dataset.submission;
  const sealed = cert.result.sealed;
  return {
    input: submission ? { ...submission, mode: 'sealed' } : { mode: 'plain' },
    sealed_result: sealed ? { recipient: sealed.recipient, fingerprint: keyFingerprint(sealed.recipient) } : null,
  };
}

/** The row commitment a valid certificate carries, or why it has none (docs/row-proofs.md §3); null when it says neither. */
function rowsOf(cert: Certificate): Verdict['rows'] {
  if (cert.dataset.rows) return { committed: true, ...cert.dataset.rows };
  if (cert.dataset.rows_absent) return { committed: false, reason: cert.dataset.rows_absent.reason };
  return null;
}

function transparencyDetail(t: NonNullable<Verdict['transparency']>): string {
  const cosigned = t.cosigned_by.length > 0 ? `, cosigned by ${t.cosigned_by.join(', ')}` : '';
  return `leaf ${t.leaf_index} of ${t.tree_size} in ${t.origin}${cosigned}${t.trusted ? '' : ' (log not trusted)'}`;
}

function failCheck(name: CheckName, error: EphemeraError): VerifyCheck {
  const field = error.fields.field;
  return { name, status: 'fail', code: error.code, ...(typeof field === 'string' ? { field } : {}), detail: error.message };
}

function asStageError(error: unknown, stage: CheckName, field?: string): StageError {
  if (error instanceof StageError) return error;
  if (isEphemeraError(error)) {
    const jsonStage = error.code.startsWith('JSON_') ? 'document' : stage;
    return new StageError(jsonStage, field && error.fields.field === undefined ? new EphemeraError(error.code, error.message, { fields: { field } }) : error);
  }
  // A bug, never the document's fault alone: reported without its message (it could quote the input).
  return new StageError(stage, new EphemeraError('VERIFY_INTERNAL', 'the verifier failed on this input; please report it'));
}

/** Verifies a certificate that is already a JavaScript value (parsed elsewhere, or built by the executor). */
export async function verifyCertificate(doc: unknown, options: VerifyOptions = {}): Promise<Verdict> {
  const verifier = new CertificateVerifier(options);
  verifier.read(() => {
    if (!isPlainObject(doc)) return failWith('document', 'VERIFY_MALFORMED', '(document)', 'a certificate must be a JSON object');
    const events = doc.events;
    if (Array.isArray(events) && events.length > verifier.limits.maxEvents)
      failWith('document', 'VERIFY_TOO_MANY_EVENTS', 'events', `events: ${events.length} events (at most ${verifier.limits.maxEvents})`);
    checkJsonValue(doc, verifier.limits);
    for (const name of Object.keys(doc)) if (name !== 'events') verifier.member(name, doc[name]);
    if (!Object.hasOwn(doc, 'events')) return;
    if (!Array.isArray(events)) return failWith('document', 'VERIFY_MALFORMED', 'events', 'events: expected an array');
    verifier.eventsPresent();
    for (const event of events) verifier.event(event);
  });
  return verifier.finish();
}

/** Verifies certificate text (a file's bytes or a string), read strictly. */
export async function verifyCertificateText(input: string | Uint8Array, options: VerifyOptions = {}): Promise<Verdict> {
  return verifyCertificateChunks([input], options);
}

/**
 * Verifies a certificate read in chunks (a file stream, a browser File's
 * stream): the size limit is checked as bytes arrive, each member is read
 * strictly, and each event is checked as soon as it is complete (reader.ts).
 */
export async function verifyCertificateChunks(
  chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  options: VerifyOptions = {},
  /** The size when known beforehand (a file's): over the limit, nothing is read. `decode`: a faster strict UTF-8 decoder where there is one (node-utf8.ts). */
  source: { declaredBytes?: number; decode?: Utf8Decode } = {},
): Promise<Verdict> {
  const verifier = new CertificateVerifier(options);
  const reader = new CertificateReader((item) => verifier.apply(item), verifier.limits, options.sha256 ?? nobleSha256, true, source.decode);
  if (!verifier.read(() => reader.declare(source.declaredBytes ?? 0))) return verifier.finish();
  for await (const chunk of chunks) if (!verifier.read(() => reader.push(chunk))) break;
  verifier.read(() => reader.end());
  return verifier.finish();
}
