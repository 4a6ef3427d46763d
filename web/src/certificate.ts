/** One certificate: what ran, on what, with what result and proof; verify it here. */
import { sqlAnswersText, type Certificate, type ExecutionTrace } from '../../src/verify/index.js';
import { decodeUtf8Strict, HASH_PATTERN, parseStrictJson, RUN_ID_PATTERN, type StderrTail } from '../../src/events/index.js';
import { facts, getBytes, getJson, h, mount, table } from './dom.js';
import { keyFingerprint, pinHint, policyEditor, verifyHere } from './checks.js';
import { inclusionProofHex } from './proof.js';
import { describeOutcome, outcomeOf, type RunOutcome } from './outcome.js';
import { inputText, sealedResultBox } from './sealed.js';

/** How the run went, as the certificate states it, before anyone verified it; a failure stands out, it is not a success. */
function runBanner(outcome: RunOutcome): HTMLElement {
  const completed = outcome.status === 'completed';
  return h(
    'div',
    { class: `banner banner-${completed ? 'neutral' : 'warn'}`, 'data-testid': 'run-outcome', 'data-run-status': outcome.status },
    h('p', { class: 'banner-title' }, completed ? 'Run completed' : `Run ${outcome.status}`),
    h('p', {}, `The certificate states: ${describeOutcome(outcome)}. Verify it below before relying on it.`),
  );
}

/** A failed entry script's last stderr (usually its traceback), as text: certificate bytes never become markup. */
function stderrTail(tail: StderrTail): HTMLElement {
  const shown = new TextEncoder().encode(tail.text).length;
  const size = tail.truncated ? `last ${shown} of ${tail.bytes} bytes` : `${tail.bytes} bytes`;
  return h(
    'div',
    { 'data-testid': 'stderr' },
    h('h3', {}, 'stderr (last lines) ', h('small', { 'data-testid': 'stderr-size' }, `(${size})`)),
    tail.text ? h('pre', { class: 'stderr', 'data-testid': 'stderr-tail' }, tail.text) : h('p', {}, 'The entry script wrote nothing to stderr.'),
  );
}

/** The tool_uses rows; an "SQL answers" column when a row has SQL answers (docs/sql-tool.md §8): rows, bytes, how many were cut. */
function toolTable(uses: ExecutionTrace['tool_uses']): HTMLElement {
  if (uses.length === 0) return h('p', {}, 'No tool calls.');
  const answers = (u: (typeof uses)[number]) => (typeof u.sql === 'object' && u.sql !== null ? u.sql : null);
  const withSql = uses.some((u) => answers(u) !== null);
  return table(
    ['Tool', 'Caller', 'Calls', 'Failures', 'Duration', ...(withSql ? ['SQL answers'] : [])],
    uses.map((u) => {
      const sql = answers(u);
      const cells = [u.tool, u.caller, u.count, u.failures, `${u.duration_ms} ms`];
      return withSql ? [...cells, h('span', { 'data-testid': 'sql-answers' }, sql ? sqlAnswersText(sql) : '—')] : cells;
    }),
  );
}

/** Whether the run of `id` is still going (queued or running), as GET /executions says. */
async function stillGoing(id: string): Promise<boolean> {
  const executionId = id.slice('cert_'.length);
  if (!id.startsWith('cert_') || !RUN_ID_PATTERN.test(executionId)) return false;
  try {
    const state = ((await getJson(`/executions/${executionId}`)) as { state?: unknown }).state;
    return state === 'running' || state === 'queued';
  } catch {
    return false;
  }
}

/** Its fingerprint's history page; once logged, naming its own run, which that page then requires to be there. */
function historyHref(c: Certificate): string {
  const index = (c as { transparency?: { leaf_index?: unknown } }).transparency?.leaf_index;
  const held =
    typeof index === 'number' && Number.isSafeInteger(index) && index >= 0 ? `?leaf=${index}&certificate=${encodeURIComponent(c.certificate_id)}` : '';
  return `/history/${c.fingerprint}${held}`;
}

/** The row commitment (docs/row-proofs.md §3), with a link to check a proof against it; or why there is none. */
function rowsFact(c: Certificate): HTMLElement {
  const rows = c.dataset.rows;
  if (rows && typeof rows === 'object')
    return h(
      'span',
      { 'data-testid': 'rows' },
      `${rows.count} ${rows.format} record${rows.count === 1 ? '' : 's'} committed${rows.sorted_by === null ? '' : ` (sorted by ${rows.sorted_by})`} · `,
      // Our own path; the id goes in the query, encoded.
      h('a', { href: `/rows?certificate=${encodeURIComponent(c.certificate_id)}`, 'data-testid': 'rows-link' }, 'check a row proof'),
    );
  const reason = c.dataset.rows_absent?.reason;
  return h('span', { 'data-testid': 'rows' }, reason ? `not committed (${reason})` : 'not committed (an executor from before row commitments)');
}

export async function certificatePage(id: string): Promise<void> {
  mount(h('p', {}, 'Loading…'));
  // The page shows and verifies the same bytes, read strictly (docs/verification.md §2): a lax parse
  // would show the last of two duplicate members while the strict verifier refused the document.
  let bytes: Blob;
  let c: Certificate;
  try {
    bytes = await getBytes(`/certificate/${encodeURIComponent(id)}`);
    c = parseStrictJson(decodeUtf8Strict(new Uint8Array(await bytes.arrayBuffer()))) as Certificate;
  } catch (error) {
    // No certificate yet because the run is still going: its live view (which links back here once it is sealed).
    if (await stillGoing(id)) return location.replace(`/e/${id.slice('cert_'.length)}`);
    mount(h('h1', {}, 'Certificate'), h('p', { class: 'fail' }, `Could not load ${id} (${(error as { code?: string }).code ?? (error as Error).message}).`));
    return;
  }
  const t = c.execution_trace;
  const outcome = outcomeOf(c);
  const verdictBox = h('div', { 'data-testid': 'verification' });
  const verifyButton = h('button', { type: 'button', 'data-testid': 'verify' }, 'Verify in this browser');
  const att = c.proof?.attestation ?? {};
  // Known only once Intel's signature chain is checked here: the certificate's own word is not taken.
  const tcbStatus = h('span', { 'data-testid': 'tcb-status' }, att.type === 'tdx' ? 'verify to check' : 'none (not hardware)');
  verifyButton.addEventListener(
    'click',
    () =>
      void verifyHere(bytes, verdictBox, outcome).then((verdict) => {
        const tcb = verdict.checks.find((check) => check.name === 'attestation.tcb_status');
        if (tcb) tcbStatus.textContent = `${tcb.detail ?? ''} (${tcb.status === 'pass' ? 'accepted' : 'not accepted'} by your policy)`;
        else if (att.type === 'tdx') tcbStatus.textContent = "unknown: Intel's signature chain did not verify";
      }),
  );
  // The compose hash a tdx certificate names: from its RTMR3 event log, which verification replays against the quote.
  const composeHash =
    att.type === 'tdx' && Array.isArray(att.event_log)
      ? (att.event_log as { event?: unknown; event_payload?: unknown }[]).find((e) => e.event === 'compose-hash')?.event_payload
      : undefined;
  const key = att.type === 'simulated' && typeof att.public_key === 'string' && /^[0-9a-f]{64}$/.test(att.public_key) ? keyFingerprint(att.public_key) : null;
  mount(
    h('h1', { class: 'mono', 'data-testid': 'certificate-id' }, c.certificate_id),
    h(
      'p',
      {},
      h('span', { class: `status-${c.status}`, 'data-testid': 'status' }, c.status),
      ' · ',
      h('a', { href: `/certificate/${c.certificate_id}` }, 'JSON'),
      ' · ',
      h('a', { href: `/certificate/${c.certificate_id}/events` }, 'events with proofs'),
    ),
    runBanner(outcome),
    h('section', {}, verifyButton, ...(att.type === 'tdx' ? [policyEditor()] : []), verdictBox),
    h(
      'section',
      {},
      h('h2', {}, 'Result'),
      facts([
        ['exit code', String(c.result.exit_code)],
        ['error', c.result.error_code ?? '—'],
        ['truncated', String(c.result.truncated)],
      ]),
      c.result.sealed ? sealedResultBox(c, stderrTail) : h('pre', { 'data-testid': 'result' }, c.result.output),
      c.result.stderr_tail ? stderrTail(c.result.stderr_tail) : null,
    ),
    h(
      'section',
      {},
      h('h2', {}, 'What ran, on what'),
      facts([
        ['dataset hash', h('code', { 'data-testid': 'dataset-hash' }, c.dataset_hash)],
        ['dataset', `${c.dataset.bytes} bytes, ${c.dataset.format}, ${c.dataset.source}`],
        ['input', h('span', { 'data-testid': 'input' }, inputText(c.dataset))],
        ['rows', rowsFact(c)],
        ['sandbox hash', h('code', {}, c.sandbox_hash)],
        [
          'fingerprint',
          // Linked only when it is a hash: the certificate is not verified yet, and a link goes to our own paths only.
          h(
            'span',
            {},
            h('code', {}, c.fingerprint),
            ...(HASH_PATTERN.test(c.fingerprint) ? [' · ', h('a', { href: historyHref(c), 'data-testid': 'history-link' }, 'its history')] : []),
          ),
        ],
        ['tools', c.sandbox?.tools.join(', ') || '—'],
        ['scripts', c.sandbox?.scripts.map((s) => s.name).join(', ') || '—'],
        ['model', c.sandbox?.llm?.model ?? '—'],
      ]),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Lifecycle'),
      h(
        'ol',
        { class: 'timeline' },
        ...Object.entries(c.lifecycle)
          .filter(([k]) => k !== 'execution_time_ms')
          .map(([k, v]) => h('li', {}, `${k.replaceAll('_', ' ')}: ${v ?? '—'}`)),
      ),
      h('p', {}, `Execution time: ${c.lifecycle.execution_time_ms ?? '—'} ms`),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'LLM and tool calls'),
      facts([
        ['LLM calls', `${t.llm_calls.count} (${t.llm_calls.input_tokens} in / ${t.llm_calls.output_tokens} out tokens)`],
        ['providers that received data', t.llm_calls.provider_hosts.join(', ') || 'none'],
      ]),
      toolTable(t.tool_uses),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'File and network activity'),
      t.file_activity.length
        ? table(
            ['Op', 'Path', 'Count'],
            t.file_activity.map((f) => [f.op, h('code', {}, f.path), f.count]),
          )
        : h('p', {}, 'No file activity recorded.'),
      t.network_activity.length
        ? table(
            ['Host', 'Port', 'Allowed', 'Attempts', 'Out', 'In'],
            t.network_activity.map((n) => [n.host, n.port, String(n.allowed), n.attempts, n.bytes_out, n.bytes_in]),
          )
        : h('p', {}, 'No network activity.'),
    ),
    h('section', {}, h('h2', {}, 'Resources'), facts(Object.entries(t.resources).map(([k, v]) => [k.replaceAll('_', ' '), String(v ?? '—')]))),
    h(
      'section',
      {},
      h('h2', {}, 'Attestation'),
      facts([
        ['type', h('span', { 'data-testid': 'tee' }, c.proof?.tee ?? '—')],
        ['report data', h('code', {}, c.proof?.report_data ?? '—')],
        ['Merkle root', h('code', {}, c.merkle?.root ?? '—')],
        ['TCB status', tcbStatus],
        ['compose hash', h('code', { 'data-testid': 'compose-hash' }, String(composeHash ?? '—'))],
        ['signing key', key ? h('code', { 'data-testid': 'signing-key' }, key) : '— (hardware attestation)'],
        ['sealed', c.lifecycle.sealed ?? '—'],
        ['format', `version ${c.version}`],
      ]),
      att.type === 'simulated'
        ? h(
            'div',
            { class: 'notice', 'data-testid': 'simulated-notice' },
            h('p', {}, 'Simulated TEE: signed by a software key, not hardware-backed. Verify, then trust the key only if you pinned its fingerprint.'),
            key ? pinHint(key) : null,
          )
        : null,
    ),
    h(
      'section',
      {},
      h('h2', {}, `Events (${c.events.length})`),
      table(
        ['Seq', 'Type', 'At', 'Hash', 'Proof'],
        c.events.map((e, i) => {
          const cell = h('span', {});
          if (e.type !== 'certificate.sealed') {
            const button = h('button', { type: 'button' }, 'show');
            button.addEventListener('click', () =>
              cell.replaceChildren(h('code', {}, inclusionProofHex(c.events, i).join(' ') || '(single leaf: no siblings)')),
            );
            cell.append(button);
          }
          return [e.seq, e.type, e.at, h('code', {}, `${e.hash.slice(7, 23)}…`), cell];
        }),
      ),
    ),
  );
  // The traceback's last line is the one that says what went wrong: show the end of the box first.
  const stderrBox = document.querySelector<HTMLElement>('[data-testid="stderr-tail"]');
  if (stderrBox) stderrBox.scrollTop = stderrBox.scrollHeight;
}
