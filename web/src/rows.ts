/**
 * "Check row proof" (/rows; docs/row-proofs.md §9, docs/web.md): a certificate (a file, or an id this
 * server serves) and a row proof (a file) are checked here, in this browser: the certificate by the
 * project's own verifier, the proof against the row commitment of the verdict. Nothing is sent anywhere
 * but the fetch of a certificate by id. SECURITY: records are untrusted bytes: shown as text nodes, one
 * line each, every control character escaped (src/rows/display.ts).
 */
import { ERROR_REGISTRY } from '../../src/error-codes.js';
import { EphemeraError, isEphemeraError } from '../../src/errors.js';
import { MAX_PROOF_BYTES, checkProofForCertificate, parseRowProof, recordText, type ProvenRows } from '../../src/rows/index.js';
import { CERTIFICATE_ID_PATTERN, type Verdict } from '../../src/verify/index.js';
import { getBytes, h, mount, table } from './dom.js';
import { verifyHere } from './checks.js';

/** This page's bound on a proof file, checked before it is read (as `ephemera verify-rows` does). */

export function rowsPage(): void {
  const certificateFile = h('input', { type: 'file', accept: 'application/json,.json', 'data-testid': 'certificate-file', 'aria-label': 'certificate file' });
  const certificateId = h('input', {
    type: 'text',
    'data-testid': 'certificate-id',
    'aria-label': 'or a certificate id served here',
    placeholder: 'cert_…',
    spellcheck: 'false',
    size: '34',
  });
  certificateId.value = new URLSearchParams(location.search).get('certificate') ?? '';
  const proofFile = h('input', { type: 'file', accept: 'application/json,.json', 'data-testid': 'proof-file', 'aria-label': 'row proof file' });
  const check = h('button', { type: 'button', 'data-testid': 'check-rows' }, 'Check');
  const verification = h('div', { 'data-testid': 'verification' });
  const result = h('div', { 'data-testid': 'rows-result', 'aria-live': 'polite' });
  const drop = h('div', { class: 'drop' }, 'Drop the certificate and the proof here (either order), or choose them below.');
  const dropped: { certificate?: File; proof?: File } = {};
  drop.addEventListener('dragover', (e) => e.preventDefault());
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    // Which file is which: a row proof says so in its first bytes ("type": "ephemera.row-proof"); anything else is taken as the certificate.
    void Promise.all(
      [...(e.dataTransfer?.files ?? [])].map(async (f) =>
        (await f.slice(0, 4096).text()).includes('"ephemera.row-proof"') ? (dropped.proof = f) : (dropped.certificate = f),
      ),
    ).then(() => {
      drop.textContent = `Dropped: ${[dropped.certificate && 'a certificate', dropped.proof && 'a proof'].filter(Boolean).join(' and ')}.`;
      if (dropped.certificate && dropped.proof) run();
    });
  });
  const run = () =>
    void checkRows(
      { file: certificateFile.files?.[0] ?? dropped.certificate, id: certificateId.value.trim() },
      proofFile.files?.[0] ?? dropped.proof,
      verification,
      result,
    );
  check.addEventListener('click', run);
  mount(
    h('h1', {}, 'Check a row proof'),
    h(
      'p',
      {},
      "A row proof shows that some records were part of a run's input, and nothing else of it. Both files stay in this page: the certificate is verified here, then the proof is checked against the row commitment it carries. Nothing is sent to any server, except fetching a certificate by its id from this one.",
    ),
    drop,
    h('p', {}, h('label', {}, 'Certificate: ', certificateFile), ' or its id: ', certificateId),
    h('p', {}, h('label', {}, 'Row proof: ', proofFile)),
    h('p', {}, check),
    verification,
    result,
  );
}

async function checkRows(certificate: { file?: File; id: string }, proofFile: File | undefined, verification: HTMLElement, result: HTMLElement): Promise<void> {
  verification.replaceChildren();
  result.replaceChildren(h('p', {}, 'Checking…'));
  const refuse = (code: string, message: string) => result.replaceChildren(refusal(code, message));
  const ask = (what: string) => result.replaceChildren(h('p', { class: 'fail', 'data-testid': 'rows-missing' }, what));
  if (!certificate.file && !certificate.id) return void ask('Choose a certificate file, or give its id.');
  if (!proofFile) return void ask('Choose the row proof file.');
  let blob: Blob;
  if (certificate.file) blob = certificate.file;
  else {
    if (!CERTIFICATE_ID_PATTERN.test(certificate.id)) return void ask('A certificate id is cert_ followed by 26 characters.');
    try {
      blob = await getBytes(`/certificate/${encodeURIComponent(certificate.id)}`);
    } catch (error) {
      return void refuse((error as Error).message, `This server could not give certificate ${certificate.id}.`);
    }
  }
  result.replaceChildren(h('p', {}, 'Verifying the certificate in this browser…'));
  const verdict = await verifyHere(blob, verification);
  if (!verdict.valid || verdict.certificate_id === null)
    return void result.replaceChildren(
      banner(
        'bad',
        'certificate-invalid',
        `✘ Proof not checked — the certificate is invalid (${verdict.failure?.code ?? 'unknown'})`,
        'Its row commitment commits to nothing.',
      ),
    );
  try {
    if (proofFile.size > MAX_PROOF_BYTES)
      throw new EphemeraError('ROWS_PROOF_MALFORMED', `the proof file is larger than ${MAX_PROOF_BYTES} bytes, this page's bound`);
    const proof = parseRowProof(new Uint8Array(await proofFile.arrayBuffer()));
    result.replaceChildren(proven(checkProofForCertificate(proof, verdict.certificate_id, verdict.rows), verdict));
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    refuse(error.code, error.message);
  }
}

/** The refusal, by its code and what the code means (our own words, never the proof's). */
function refusal(code: string, message: string): HTMLElement {
  const meaning = Object.hasOwn(ERROR_REGISTRY, code) ? ERROR_REGISTRY[code as keyof typeof ERROR_REGISTRY].message : null;
  return banner('bad', code, `✘ Proof refused — ${code}`, `${message}${meaning ? ` (${meaning})` : ''}`);
}

function proven({ rows, absent }: ProvenRows, verdict: Verdict): HTMLElement {
  const n = `${rows.length} record${rows.length === 1 ? '' : 's'} proven part of the run's input${absent.length === 0 ? '' : `, ${absent.length} key${absent.length === 1 ? '' : 's'} proven absent`}`;
  const box = verdict.trusted
    ? banner('ok', 'proven', `✔ ${n}`, 'The certificate verified in this browser and its signer is trusted.')
    : banner(
        'warn',
        'proven',
        `⚠ ${n} · signer not trusted`,
        "The proof holds against the certificate, but nothing tells you who holds the certificate's signing key.",
      );
  const committed = verdict.rows?.committed ? verdict.rows : null;
  const column = committed?.sorted_by == null ? null : recordText(new TextEncoder().encode(committed.sorted_by));
  const commitment = committed
    ? h(
        'p',
        { 'data-testid': 'rows-commitment' },
        `Against the certificate's commitment: ${committed.count} ${committed.format} records, ${column === null ? 'in input order' : `sorted by “${column}”`}, root `,
        h('code', {}, committed.root),
      )
    : null;
  const shown =
    rows.length === 0
      ? null
      : table(
          ['Index', 'Record (control characters shown escaped)'],
          rows.map(({ index, record }) => [
            index,
            h('code', { class: 'record', 'data-testid': 'proven-record', 'data-index': String(index) }, recordText(record)),
          ]),
        );
  // Absence is of exactly these key bytes in that one column, as the executor split and sorted the input (§8).
  const keys =
    absent.length === 0
      ? null
      : table(
          [`Key proven absent: no record has exactly it as its “${column}”`],
          absent.map((key) => [
            h('code', { class: 'record', 'data-testid': 'absent-key' }, key === '' ? '(the empty key)' : recordText(new TextEncoder().encode(key))),
          ]),
        );
  return h('div', {}, box, commitment, shown, keys);
}

function banner(tone: 'ok' | 'warn' | 'bad', outcome: string, title: string, detail: string): HTMLElement {
  return h(
    'div',
    { class: `banner banner-${tone}`, 'data-testid': 'rows-verdict', 'data-tone': tone, 'data-outcome': outcome, role: 'status' },
    h('p', { class: 'banner-title', 'data-testid': 'rows-title' }, title),
    h('p', {}, detail),
  );
}
