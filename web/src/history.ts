/**
 * A computation's history (docs/transparency.md §14): every run of one
 * fingerprint in the transparency log, newest first, checked here with the
 * same code as `ephemera history` (src/verify/history.ts): the checkpoint's
 * log key trusted under this reader's pins and policy, each run proved into
 * it, each run naming the one before, and whether the results agree.
 */
import { CERTIFICATE_ID_PATTERN, verifyHistory, type HeldRun, type HistoryVerdict } from '../../src/verify/index.js';
import { facts, h, mount, table } from './dom.js';
import { browserOptions } from './checks.js';

/** A page of `GET /tlog/history/:fingerprint` as bytes, for the strict reader; an error answer throws its code. */
async function readPage(fingerprint: string, before: number | null): Promise<Uint8Array> {
  const response = await fetch(`/tlog/history/${fingerprint}${before === null ? '' : `?before=${before}`}`, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(((await response.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code ?? `HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const TITLES: Record<HistoryVerdict['status'], string> = {
  trusted: '✔ History complete · log key trusted',
  untrusted: '⚠ History complete · log key not trusted',
  invalid: '✘ History broken',
};
const TONES: Record<HistoryVerdict['status'], string> = { trusted: 'ok', untrusted: 'warn', invalid: 'bad' };

function resultsText(verdict: HistoryVerdict): string {
  const { results } = verdict;
  const sealed = results.sealed > 0 ? ` ${results.sealed} sealed result(s) are salted commitments and never compare.` : '';
  if (results.verdict === 'agree') return `All ${results.compared} clear results agree.${sealed}`;
  if (results.verdict === 'differ')
    return `The results differ: ${results.groups.map((g) => `${g.result_hash} (runs ${g.leaf_indexes.join(', ')})`).join('; ')}.${sealed}`;
  return `Fewer than two clear results to compare.${sealed}`;
}

/**
 * The run the reader came from (`?leaf=<index>&certificate=<id>`, the certificate page's link): it must be in
 * the history. Taken from the URL, it can only make the check stricter.
 */
function heldRun(search: URLSearchParams): HeldRun[] {
  const leaf = search.get('leaf');
  const certificate = search.get('certificate');
  if (leaf === null || certificate === null || !/^(0|[1-9][0-9]{0,15})$/.test(leaf) || !CERTIFICATE_ID_PATTERN.test(certificate)) return [];
  const index = Number(leaf);
  return Number.isSafeInteger(index) ? [{ leaf_index: index, certificate_id: certificate }] : [];
}

export async function historyPage(fingerprint: string, search = new URLSearchParams(location.search)): Promise<void> {
  mount(h('h1', {}, 'History'), h('p', {}, 'Loading and checking…'));
  let verdict: HistoryVerdict;
  try {
    verdict = await verifyHistory(fingerprint, (before) => readPage(fingerprint, before), browserOptions(), { held: heldRun(search) });
  } catch (error) {
    mount(h('h1', {}, 'History'), h('p', { class: 'fail' }, `Could not load the history of ${fingerprint} (${(error as Error).message}).`));
    return;
  }
  const cp = verdict.checkpoint;
  mount(
    h('h1', {}, 'History of a computation'),
    h('p', {}, h('code', { 'data-testid': 'history-fingerprint' }, fingerprint)),
    h(
      'div',
      { class: `banner banner-${TONES[verdict.status]}`, 'data-testid': 'history-verdict', 'data-status': verdict.status },
      h('p', { class: 'banner-title', 'data-testid': 'history-title' }, TITLES[verdict.status]),
      verdict.error ? h('p', { 'data-testid': 'history-error' }, `${verdict.error.code}: ${verdict.error.message}`) : null,
      verdict.status === 'invalid' ? null : h('p', { 'data-testid': 'history-results', 'data-results': verdict.results.verdict }, resultsText(verdict)),
    ),
    facts([
      ['checkpoint', cp ? `${cp.origin}, ${cp.size} leaves` : '—'],
      ['root', cp ? h('code', {}, cp.root_hash) : '—'],
      ['log key', verdict.log_key_trust ?? 'not trusted by this browser (pin the attestor key on /verify)'],
      ['cosigned by', verdict.cosigned_by.join(', ') || '—'],
    ]),
    table(
      ['leaf', 'certificate', 'status', 'sealed at', 'result', 'proof'],
      verdict.runs.map((r) => [
        r.held ? `${r.leaf_index} (yours)` : String(r.leaf_index),
        h('a', { href: `/c/${r.certificate_id}`, class: 'mono' }, r.certificate_id),
        r.status,
        r.sealed_at,
        r.result_sealed ? 'sealed' : r.result_hash === null ? '—' : h('code', {}, r.result_hash),
        r.proof,
      ]),
    ),
    h(
      'p',
      { 'data-testid': 'history-meaning' },
      "Checked in this browser: each run shown is in the log's checkpoint (its inclusion proof), and names the run before it, back to the first, so no run the log chained was left out. " +
        "Not proved here: runs logged after this checkpoint; that each run's certificate verifies (open it); that the log chained every run (ephemera history --audit reads the whole log).",
    ),
  );
}
