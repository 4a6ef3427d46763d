/**
 * Runs the project's own verifier in this browser and shows each check turn
 * green or red, then whom the certificate comes from and whether this reader
 * trusts that (docs/verification.md §8): a simulated certificate is trusted
 * only for a key the reader pinned here; a TDX one when it verifies under the
 * reader's policy.
 */
import { transparencyBox } from './transparency.js';
import { buildBox } from './build.js';
import {
  keyFingerprint,
  parseBuildInfos,
  verifyCertificate,
  verifyCertificateChunks,
  type BuildInfo,
  type Verdict,
  type VerifyCheck,
  type VerifyOptions,
} from '../../src/verify/index.js';
import type { TdxPolicy } from '../../src/attest/verify-tdx.js';
import { h } from './dom.js';
import { plainCheckName } from './check-names.js';
import { describeOutcome, readOutcome, type RunOutcome } from './outcome.js';

/** The reader's own policy for hardware attestations, kept in this browser only; `builds`: build-info documents, as pasted. */
export type BrowserPolicy = Pick<TdxPolicy, 'trustedComposeHashes' | 'allowedTcbStatuses'> & { builds?: string };
const POLICY_KEY = 'ephemera.tdx-policy';
const PINS_KEY = 'ephemera.trusted-keys';
const PIN = /^(?:[0-9a-f]{64}|sha256:[0-9a-f]{64})$/;

export function readPolicy(): BrowserPolicy {
  try {
    const stored = JSON.parse(localStorage.getItem(POLICY_KEY) ?? '{}') as Partial<BrowserPolicy>;
    return {
      trustedComposeHashes: stored.trustedComposeHashes ?? [],
      allowedTcbStatuses: stored.allowedTcbStatuses ?? [],
      builds: typeof stored.builds === 'string' ? stored.builds : '',
    };
  } catch {
    return { trustedComposeHashes: [], allowedTcbStatuses: [] };
  }
}

/** Keys (or fingerprints) this reader pinned, in this browser only. */
export function readPins(): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(PINS_KEY) ?? '[]') as unknown;
    return Array.isArray(stored) ? stored.filter((p): p is string => typeof p === 'string' && PIN.test(p)) : [];
  } catch {
    return [];
  }
}

export function pinKey(pin: string): void {
  if (!PIN.test(pin)) return;
  localStorage.setItem(PINS_KEY, JSON.stringify([...new Set([...readPins(), pin])]));
}

type TdxModule = typeof import('./tdx.js');
let tdxModule: Promise<TdxModule> | null = null;

/** The TDX verifier bundle (/assets/tdx.js), fetched once, from this server like the page itself. */
export function loadTdx(): Promise<TdxModule> {
  const url: string = '/assets/tdx.js'; // a variable: esbuild leaves the import to the browser
  tdxModule ??= (import(url) as Promise<TdxModule>).catch((error: unknown) => {
    tdxModule = null;
    throw error;
  });
  return tdxModule;
}

/** The verifier's options as this page runs it: the reader's pins, `tdx` under the reader's policy. */
export function browserOptions(policy: BrowserPolicy = readPolicy(), pins: readonly string[] = readPins()): VerifyOptions {
  let builds: BuildInfo[] = [];
  try {
    builds = parseBuildInfos(policy.builds ?? '');
  } catch {} // the editor refuses to keep a document that does not parse; an edited store counts as none
  // A trusted build-info trusts its compose hash too: the reader gives the build, not the raw hash.
  const tdxPolicy = { ...policy, trustedComposeHashes: [...policy.trustedComposeHashes, ...builds.flatMap((b) => (b.compose_hash ? [b.compose_hash] : []))] };
  return {
    trustedKeys: pins,
    ...(builds.length > 0 ? { builds } : {}),
    attestationVerifiers: { tdx: async (attestation, reportData, context) => (await loadTdx()).tdxVerifier(tdxPolicy)(attestation, reportData, context) },
  };
}

/** An object (from our API), or a file read as a stream so a large certificate never sits in memory whole. */
export function verifyInBrowser(certificate: unknown, options: VerifyOptions = browserOptions()): Promise<Verdict> {
  if (certificate instanceof Blob) return verifyCertificateChunks(streamChunks(certificate.stream()), options, { declaredBytes: certificate.size });
  return verifyCertificate(certificate, options);
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Where the reader lists the builds (dstack compose hashes) they trust, and any TCB status they accept besides UpToDate. */
export function policyEditor(): HTMLElement {
  const policy = readPolicy();
  const builds = h('textarea', { rows: '3', 'data-testid': 'trusted-builds', 'aria-label': 'trusted compose hashes, one per line', spellcheck: 'false' });
  builds.value = policy.trustedComposeHashes.join('\n');
  const statuses = h('input', {
    type: 'text',
    'data-testid': 'allowed-tcb',
    'aria-label': 'TCB statuses accepted besides UpToDate',
    placeholder: 'e.g. SWHardeningNeeded',
    spellcheck: 'false',
  });
  statuses.value = policy.allowedTcbStatuses.join(' ');
  const buildInfos = h('textarea', { rows: '4', 'data-testid': 'trusted-build-infos', 'aria-label': 'trusted build-info documents', spellcheck: 'false' });
  buildInfos.value = policy.builds ?? '';
  const buildError = h('p', { class: 'error', 'data-testid': 'build-info-error', role: 'alert' });
  const save = () => {
    let kept = buildInfos.value;
    try {
      parseBuildInfos(kept);
      buildError.textContent = '';
    } catch (error) {
      buildError.textContent = `Not kept: ${(error as Error).message}`;
      kept = readPolicy().builds ?? '';
    }
    localStorage.setItem(
      POLICY_KEY,
      JSON.stringify({
        trustedComposeHashes: builds.value
          .split(/\s+/)
          .map((x) => x.trim().toLowerCase())
          .filter(Boolean),
        allowedTcbStatuses: statuses.value
          .split(/[\s,]+/)
          .map((x) => x.trim())
          .filter(Boolean),
        builds: kept,
      } satisfies BrowserPolicy),
    );
  };
  builds.addEventListener('change', save);
  statuses.addEventListener('change', save);
  buildInfos.addEventListener('change', save);
  return h(
    'details',
    { class: 'policy' },
    h('summary', {}, 'Your policy for TDX certificates'),
    h('p', {}, 'Builds you trust (dstack compose hashes, one per line). Kept in this browser; a TDX certificate from any other build fails.'),
    builds,
    h('p', {}, 'TCB status UpToDate passes; any other fails unless you accept it here (space-separated):'),
    statuses,
    h(
      'p',
      {},
      "Builds you trust by their build-info (what ephemera build-info --json prints at a commit; several as a JSON array): its compose hash is trusted, and a certificate of it must show the build's sandbox tools.",
    ),
    buildInfos,
    buildError,
  );
}

/** How the verdict reads: green only for a trusted certificate of a run that completed. */
type Tone = 'ok' | 'warn' | 'bad';

/**
 * The verdict's banner, in three parts a reader can tell apart: whether the
 * certificate holds, how the run went (a valid certificate of a failed run is
 * not a success), and whether the signer is trusted.
 */
function headline(verdict: Verdict, outcome: RunOutcome | null): HTMLElement {
  if (!verdict.valid)
    return banner(
      'bad',
      `✘ Certificate invalid — first failure: ${verdict.failure?.code}${verdict.failure?.field ? ` at ${verdict.failure.field}` : ''}`,
      'Nothing this certificate says can be relied on, how the run went included.',
    );
  const completed = outcome?.status === 'completed';
  const run = outcome ? `run ${outcome.status}` : 'run outcome unknown';
  const signer = verdict.trusted ? 'signer trusted' : 'signer not trusted';
  const tone: Tone = completed && verdict.trusted ? 'ok' : 'warn';
  const mark = tone === 'ok' ? '✔' : '⚠';
  const why = verdict.trusted
    ? `Every check passed in this browser; signed ${verdict.trust.basis === 'hardware-policy' ? 'by hardware attestation under your policy' : verdict.trust.basis === 'local-key' ? "by this machine's own key" : 'by a key you pinned'}.`
    : 'Every check passed in this browser, but nothing tells you who holds the signing key.';
  const runLine = !outcome
    ? 'This page could not read how the run went.'
    : completed
      ? `The run completed (${outcome.exitCode === null ? 'no exit code' : `exit code ${outcome.exitCode}`}).`
      : `The run ${describeOutcome(outcome)}. The certificate is a faithful record of that failure; its result is not a successful answer.`;
  return banner(tone, `${mark} Certificate valid · ${run} · ${signer}`, `${why} ${runLine}`);
}

function banner(tone: Tone, title: string, detail: string): HTMLElement {
  return h(
    'div',
    { class: `banner banner-${tone}`, 'data-testid': 'verdict', 'data-tone': tone, role: 'status' },
    h('p', { class: 'banner-title', 'data-testid': 'verdict-title' }, title),
    h('p', {}, detail),
  );
}

/** How to pin a simulated key: the CLI command, and this browser's own list. */
export function pinHint(fingerprint: string, testId = 'pin-hint'): HTMLElement {
  return h(
    'p',
    { 'data-testid': testId },
    'To trust certificates signed by this key, pin its fingerprint only if you learned the same one from someone you trust (the operator, or ',
    h('code', {}, '/.well-known/ephemera-key.json'),
    ' over a channel you trust). On the command line: ',
    h('code', { class: 'command' }, `ephemera trust add ${fingerprint}`),
    '. In this browser: verify the certificate, then choose “Trust this key in this browser”; the pin is kept in this browser only.',
  );
}

/** Who signed, and how this reader can pin the key. */
function trustBox(verdict: Verdict, onPinned: () => void): HTMLElement | null {
  if (!verdict.valid) return null;
  const box = h('div', { class: 'trust', 'data-testid': 'trust' }, h('p', {}, verdict.trust.reason));
  if (verdict.key) {
    box.append(h('p', {}, 'Key fingerprint: ', h('code', { 'data-testid': 'key-fingerprint' }, verdict.key.fingerprint)));
    if (!verdict.trusted) {
      const pin = h('button', { type: 'button', 'data-testid': 'pin-key' }, 'Trust this key in this browser');
      pin.addEventListener('click', () => {
        pinKey(verdict.key!.fingerprint);
        onPinned();
      });
      box.append(pinHint(verdict.key.fingerprint, 'trust-pin-hint'), h('p', {}, pin));
    }
  }
  return box;
}

/** One check: its plain name first; the technical id, code and detail in a disclosure (keyboard reachable, open when it failed). */
function checkItem(check: VerifyCheck): HTMLElement {
  const mark = check.status === 'pass' ? '✔' : check.status === 'fail' ? '✘' : '–';
  const state = check.status === 'pass' ? 'passed' : check.status === 'fail' ? 'failed' : 'not run';
  const details = h(
    'details',
    check.status === 'fail' ? { open: '' } : {},
    h(
      'summary',
      { title: `check ${check.name}` },
      h('span', { 'aria-hidden': 'true' }, `${mark} `),
      h('span', { class: 'visually-hidden' }, `${state}: `),
      plainCheckName(check.name),
      check.code ? ` — ${check.code}` : '',
    ),
    h(
      'p',
      { class: 'technical' },
      'check ',
      h('code', { 'data-testid': 'check-id' }, check.name),
      ` ${state}`,
      check.field ? h('span', {}, ' at ', h('code', {}, check.field)) : '',
      check.detail ? `: ${check.detail}` : '',
    ),
  );
  return h('li', { class: check.status, 'data-check': check.name, 'data-status': check.status }, details);
}

/**
 * Verifies here and shows the verdict. `outcome`: how the run went, when the
 * caller already read it (the certificate page); a file's is read from the file once it verified.
 */
export async function verifyHere(certificate: unknown, into: HTMLElement, outcome?: RunOutcome | null): Promise<Verdict> {
  into.replaceChildren(h('p', {}, 'Verifying in this browser…'));
  const verdict = await verifyInBrowser(certificate);
  const run = outcome !== undefined ? outcome : verdict.valid && certificate instanceof Blob ? await readOutcome(certificate) : null;
  const list = h('ul', { class: 'checks', 'data-testid': 'checks' });
  into.replaceChildren(
    headline(verdict, run),
    list,
    ...[
      trustBox(verdict, () => void verifyHere(certificate, into, outcome)),
      transparencyBox(verdict),
      buildBox(verdict),
      verdict.notice ? h('p', { class: 'notice' }, verdict.notice) : null,
    ].filter((x): x is HTMLElement => x !== null),
  );
  for (const check of verdict.checks) {
    await new Promise((resolve) => setTimeout(resolve, 30)); // one by one, so a reader sees them turn
    list.append(checkItem(check));
  }
  return verdict;
}

export { keyFingerprint };
