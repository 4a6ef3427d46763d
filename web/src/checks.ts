/**
 * Runs the project's own verifier in this browser and shows each check turn
 * green or red, then whom the certificate comes from and whether this reader
 * trusts that (docs/verification.md §8): a simulated certificate is trusted
 * only for a key the reader pinned here; a TDX one when it verifies under the
 * reader's policy.
 */
import { keyFingerprint, verifyCertificate, verifyCertificateChunks, type Verdict, type VerifyOptions } from '../../src/verify/index.js';
import type { TdxPolicy } from '../../src/attest/verify-tdx.js';
import { h } from './dom.js';

/** The reader's own policy for hardware attestations, kept in this browser only. */
export type BrowserPolicy = Pick<TdxPolicy, 'trustedComposeHashes' | 'allowedTcbStatuses'>;
const POLICY_KEY = 'ephemera.tdx-policy';
const PINS_KEY = 'ephemera.trusted-keys';
const PIN = /^(?:[0-9a-f]{64}|sha256:[0-9a-f]{64})$/;

export function readPolicy(): BrowserPolicy {
  try {
    const stored = JSON.parse(localStorage.getItem(POLICY_KEY) ?? '{}') as Partial<BrowserPolicy>;
    return { trustedComposeHashes: stored.trustedComposeHashes ?? [], allowedTcbStatuses: stored.allowedTcbStatuses ?? [] };
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
  return {
    trustedKeys: pins,
    attestationVerifiers: { tdx: async (attestation, reportData, context) => (await loadTdx()).tdxVerifier(policy)(attestation, reportData, context) },
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
  const save = () =>
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
      } satisfies BrowserPolicy),
    );
  builds.addEventListener('change', save);
  statuses.addEventListener('change', save);
  return h(
    'details',
    { class: 'policy' },
    h('summary', {}, 'Your policy for TDX certificates'),
    h('p', {}, 'Builds you trust (dstack compose hashes, one per line). Kept in this browser; a TDX certificate from any other build fails.'),
    builds,
    h('p', {}, 'TCB status UpToDate passes; any other fails unless you accept it here (space-separated):'),
    statuses,
  );
}

function headline(verdict: Verdict): HTMLElement {
  if (verdict.status === 'trusted')
    return h(
      'p',
      { class: 'pass', 'data-testid': 'verdict' },
      `✔ Valid and trusted — every check passed in this browser (${verdict.trust.basis === 'hardware-policy' ? 'hardware attestation under your policy' : 'a key you pinned'})`,
    );
  if (verdict.status === 'untrusted')
    return h(
      'p',
      { class: 'untrusted', 'data-testid': 'verdict' },
      '✔ Valid signature · signer not trusted — every check passed, but nothing tells you who holds the key',
    );
  return h(
    'p',
    { class: 'fail', 'data-testid': 'verdict' },
    `✘ Invalid — first failure: ${verdict.failure?.code}${verdict.failure?.field ? ` at ${verdict.failure.field}` : ''}`,
  );
}

/** Who signed, and how this reader can pin the key (only with a fingerprint learned elsewhere, say, from the operator). */
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
      box.append(
        h(
          'p',
          {},
          'Pin it only if you learned this fingerprint from someone you trust (the operator, ',
          h('code', {}, '/.well-known/ephemera-key.json'),
          ' over a channel you trust). ',
          pin,
        ),
      );
    }
  }
  return box;
}

export async function verifyHere(certificate: unknown, into: HTMLElement): Promise<Verdict> {
  into.replaceChildren(h('p', {}, 'Verifying in this browser…'));
  const verdict = await verifyInBrowser(certificate);
  const list = h('ul', { class: 'checks', 'data-testid': 'checks' });
  into.replaceChildren(
    headline(verdict),
    list,
    ...[trustBox(verdict, () => void verifyHere(certificate, into)), verdict.notice ? h('p', { class: 'notice' }, verdict.notice) : null].filter(
      (x): x is HTMLElement => x !== null,
    ),
  );
  for (const check of verdict.checks) {
    await new Promise((resolve) => setTimeout(resolve, 30)); // one by one, so a reader sees them turn
    const mark = check.status === 'pass' ? '✔' : check.status === 'fail' ? '✘' : '–';
    list.append(
      h(
        'li',
        { class: check.status, 'data-check': check.name, 'data-status': check.status },
        `${mark} ${check.name}`,
        check.code ? ` — ${check.code}` : '',
        check.field ? ` at ${check.field}` : '',
        check.detail ? `: ${check.detail}` : '',
      ),
    );
  }
  return verdict;
}

export { keyFingerprint };
