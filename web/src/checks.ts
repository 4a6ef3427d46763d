/** Runs the project's own verifier in this browser and shows each check turn green or red. */
import { verifyCertificate, type Verdict } from '../../src/verify/index.js';
import type { TdxPolicy } from '../../src/attest/verify-tdx.js';
import { h } from './dom.js';

/** The reader's own policy for hardware attestations, kept in this browser only. */
export type BrowserPolicy = Pick<TdxPolicy, 'trustedComposeHashes' | 'allowedTcbStatuses'>;
const POLICY_KEY = 'ephemera.tdx-policy';

export function readPolicy(): BrowserPolicy {
  try {
    const stored = JSON.parse(localStorage.getItem(POLICY_KEY) ?? '{}') as Partial<BrowserPolicy>;
    return { trustedComposeHashes: stored.trustedComposeHashes ?? [], allowedTcbStatuses: stored.allowedTcbStatuses ?? [] };
  } catch {
    return { trustedComposeHashes: [], allowedTcbStatuses: [] };
  }
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

/** The verifier as the page runs it: simulated attestations built in, `tdx` under the reader's policy. */
export function verifyInBrowser(certificate: unknown, policy: BrowserPolicy = readPolicy()): Promise<Verdict> {
  return verifyCertificate(certificate, {
    attestationVerifiers: { tdx: async (attestation, reportData) => (await loadTdx()).tdxVerifier(policy)(attestation, reportData) },
  });
}

/** Where the reader lists the builds (dstack compose hashes) they trust, and any TCB status they accept besides UpToDate. */
export function policyEditor(): HTMLElement {
  const policy = readPolicy();
  const builds = h('textarea', { rows: '3', 'data-testid': 'trusted-builds', 'aria-label': 'trusted compose hashes, one per line', spellcheck: 'false' });
  builds.value = policy.trustedComposeHashes.join('\n');
  const statuses = h('input', { type: 'text', 'data-testid': 'allowed-tcb', 'aria-label': 'TCB statuses accepted besides UpToDate', placeholder: 'e.g. SWHardeningNeeded', spellcheck: 'false' });
  statuses.value = policy.allowedTcbStatuses.join(' ');
  const save = () => localStorage.setItem(POLICY_KEY, JSON.stringify({
    trustedComposeHashes: builds.value.split(/\s+/).map((x) => x.trim().toLowerCase()).filter(Boolean),
    allowedTcbStatuses: statuses.value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean),
  } satisfies BrowserPolicy));
  builds.addEventListener('change', save);
  statuses.addEventListener('change', save);
  return h('details', { class: 'policy' }, h('summary', {}, 'Your policy for TDX certificates'),
    h('p', {}, 'Builds you trust (dstack compose hashes, one per line). Kept in this browser; a TDX certificate from any other build fails.'), builds,
    h('p', {}, 'TCB status UpToDate passes; any other fails unless you accept it here (space-separated):'), statuses);
}

export async function verifyHere(certificate: unknown, into: HTMLElement): Promise<Verdict> {
  into.replaceChildren(h('p', {}, 'Verifying in this browser…'));
  const verdict = await verifyInBrowser(certificate);
  const list = h('ul', { class: 'checks', 'data-testid': 'checks' });
  into.replaceChildren(
    h('p', { class: verdict.valid ? 'pass' : 'fail', 'data-testid': 'verdict' }, verdict.valid ? '✔ Valid — every check passed in this browser' : `✘ Invalid — first failure: ${verdict.failure?.code}${verdict.failure?.field ? ` at ${verdict.failure.field}` : ''}`),
    list,
    ...(verdict.notice ? [h('p', { class: 'notice' }, verdict.notice)] : []),
  );
  for (const check of verdict.checks) {
    await new Promise((resolve) => setTimeout(resolve, 30)); // one by one, so a reader sees them turn
    const mark = check.status === 'pass' ? '✔' : check.status === 'fail' ? '✘' : '–';
    list.append(h('li', { class: check.status, 'data-check': check.name, 'data-status': check.status }, `${mark} ${check.name}`, check.code ? ` — ${check.code}` : '', check.field ? ` at ${check.field}` : '', check.detail ? `: ${check.detail}` : ''));
  }
  return verdict;
}
