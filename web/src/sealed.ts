/**
 * How a certificate's input arrived and its sealed result (docs/sealed.md
 * §4–5). A sealed result is opened here, in this page, with the reader's key
 * file (`ephemera keygen`): the file is read by the browser and never sent
 * anywhere; the opened result is checked against the certificate's
 * commitment (result_hash) before it is shown. The HPKE code is its own
 * bundle, fetched only when a key file is picked.
 */
import type { Certificate } from '../../src/verify/index.js';
import type { StderrTail } from '../../src/events/index.js';
import { keyFingerprint } from './checks.js';
import { h } from './dom.js';

type SealModule = typeof import('./seal.js');
let sealModule: Promise<SealModule> | null = null;

/** The HPKE bundle (/assets/seal.js), fetched once from this server, only when a reader opens a result. */
function loadSeal(): Promise<SealModule> {
  const url: string = '/assets/seal.js'; // a variable: esbuild leaves the import to the browser
  sealModule ??= (import(url) as Promise<SealModule>).catch((error: unknown) => {
    sealModule = null;
    throw error;
  });
  return sealModule;
}

const PART_NAMES: Readonly<Record<string, string>> = { dataset: 'dataset', api_key: 'API key', sandbox: 'sandbox' };

/** "sealed to key statement sha256:… (dataset, API key)" or "plain", as the certificate states it. */
export function inputText(dataset: Certificate['dataset']): string {
  const submission = dataset.submission;
  if (!submission) return 'plain';
  const parts = submission.sealed.map((part) => (Object.hasOwn(PART_NAMES, part) ? PART_NAMES[part] : part)).join(', ');
  return `sealed to key statement ${submission.key_statement_hash} (${parts})`;
}

/** A sealed result: no output to show; whose key opens it, and a control to open it locally. */
export function sealedResultBox(c: Certificate, stderrTail: (tail: StderrTail) => HTMLElement): HTMLElement {
  const sealed = c.result.sealed!;
  const status = h('p', { 'data-testid': 'open-status', role: 'status' });
  const opened = h('div', { 'data-testid': 'opened-result' });
  const input = h('input', { type: 'file', accept: 'application/json,.json', 'data-testid': 'result-key-file', id: 'result-key-file' });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (file) void open(file);
  });
  const open = async (file: File) => {
    opened.replaceChildren();
    status.className = '';
    status.textContent = 'Opening…';
    try {
      const { openSealedResult, parseResultKeyFile } = await loadSeal();
      const result = await openSealedResult(c, parseResultKeyFile(await file.text()));
      status.className = 'pass';
      status.textContent = `✔ Opened in this browser; it matches the certificate's commitment (result_hash ${c.result.result_hash}).`;
      opened.replaceChildren(h('pre', { 'data-testid': 'opened-output' }, result.result.output));
      if (result.stderr_tail) opened.append(stderrTail(result.stderr_tail));
    } catch (error) {
      status.className = 'fail';
      status.textContent = `✘ ${(error as { code?: string }).code ?? 'SEALED_RESULT_KEY_MISMATCH'}: ${(error as Error).message}`;
    }
  };
  return h(
    'div',
    { class: 'notice', 'data-testid': 'sealed-result' },
    h('p', { class: 'banner-title' }, 'Sealed result'),
    h(
      'p',
      {},
      'The output is encrypted to the key ',
      h('code', { 'data-testid': 'result-recipient' }, keyFingerprint(sealed.recipient)),
      '; this certificate shows none of it, and commits to it by result_hash. Its owner can open it here: the key file stays in this browser.',
    ),
    h('label', { for: 'result-key-file' }, 'Open with your key file (from ephemera keygen): '),
    input,
    status,
    opened,
  );
}
