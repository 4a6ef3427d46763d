/**
 * /submit: a sealed submission from this browser (docs/sealed.md). The page
 * fetches the server's key document, checks its attestation against this
 * reader's trust (a simulated key pinned here, or TDX under the reader's
 * policy) and its age, shows what it verified, and only then encrypts the
 * dataset, the API key and optionally the sandbox here (WebCrypto) and
 * POSTs them. Nothing is sent when any check fails. Bundled apart
 * (/assets/submit.js): the HPKE code is loaded only by this page.
 */
import { bytesToHex } from '../../src/events/index.js';
import { parseResultKeyFile, submitSealed, type VerifiedKey } from '../../src/seal/index.js';
import { browserOptions, keyFingerprint, pinKey, readPins, readPolicy } from './checks.js';
import { h, mount } from './dom.js';

const FORMATS = ['csv', 'json', 'txt'] as const;
type Format = (typeof FORMATS)[number];
const RECIPIENT = /^[0-9a-f]{64}$/;

export function submitPage(): void {
  const dataset = h('input', { type: 'file', 'data-testid': 'dataset', 'aria-label': 'dataset file' });
  const format = h('select', { 'data-testid': 'format', 'aria-label': 'dataset format' }, ...FORMATS.map((f) => h('option', { value: f }, f)));
  dataset.addEventListener('change', () => {
    const ext = dataset.files?.[0]?.name.split('.').pop()?.toLowerCase();
    if (ext && (FORMATS as readonly string[]).includes(ext)) format.value = ext;
  });
  const sandbox = h('textarea', { rows: '10', 'data-testid': 'sandbox', 'aria-label': 'sandbox JSON', spellcheck: 'false' });
  const sandboxFile = h('input', { type: 'file', accept: 'application/json,.json', 'data-testid': 'sandbox-file', 'aria-label': 'sandbox JSON file' });
  sandboxFile.addEventListener('change', () => void sandboxFile.files?.[0]?.text().then((text) => (sandbox.value = text)));
  const sealSandbox = h('input', { type: 'checkbox', 'data-testid': 'seal-sandbox' });
  const apiKey = h('input', { type: 'password', autocomplete: 'off', 'data-testid': 'api-key', 'aria-label': 'LLM API key (sealed)' });
  const token = h('input', { type: 'password', autocomplete: 'off', 'data-testid': 'token', 'aria-label': 'execute token' });
  const recipient = h('input', { type: 'text', spellcheck: 'false', 'data-testid': 'result-key', placeholder: '64 hex, or pick your key file' });
  const recipientFile = h('input', { type: 'file', accept: 'application/json,.json', 'data-testid': 'result-key-file', 'aria-label': 'result key file' });
  // Only the public half is kept from a key file; the file never leaves this page.
  recipientFile.addEventListener(
    'change',
    () =>
      void recipientFile.files?.[0]?.text().then((text) => {
        try {
          recipient.value = parseResultKeyFile(text).public_key;
        } catch (error) {
          recipient.value = '';
          status.replaceChildren(failure(error));
        }
      }),
  );
  const pins = h('textarea', { rows: '2', 'data-testid': 'server-keys', 'aria-label': 'pinned server keys, one per line', spellcheck: 'false' });
  pins.value = readPins().join('\n');
  pins.addEventListener('change', () => {
    for (const pin of pins.value.split(/\s+/).map((x) => x.trim().toLowerCase())) pinKey(pin);
  });
  const send = h('button', { type: 'button', 'data-testid': 'send' }, 'Verify the server’s key, then seal and send');
  const verification = h('div', { 'data-testid': 'key-verification' });
  const status = h('div', { 'data-testid': 'submit-status', role: 'status' });

  send.addEventListener('click', async () => {
    send.disabled = true;
    verification.replaceChildren();
    status.replaceChildren(h('p', {}, 'Fetching the server’s key document…'));
    try {
      await sendSealed({
        file: dataset.files?.[0] ?? null,
        format: format.value as Format,
        sandboxText: sandbox.value,
        sealSandbox: sealSandbox.checked,
        apiKey: apiKey.value,
        token: token.value,
        recipient: recipient.value.trim().toLowerCase(),
        pins: pins.value.split(/\s+/).filter(Boolean),
        verification,
        status,
      });
    } catch (error) {
      status.replaceChildren(failure(error));
    } finally {
      send.disabled = false;
    }
  });

  mount(
    h('h1', {}, 'Submit sealed'),
    h(
      'p',
      {},
      'Your dataset and API key are encrypted in this browser to a key only the attested executor holds, and only after this page has checked that key’s attestation. Whatever carries the request (a proxy, a load balancer, the host) sees ciphertext.',
    ),
    h('p', {}, h('label', {}, 'Dataset ', dataset), ' ', h('label', {}, 'format ', format)),
    h('p', {}, h('label', {}, 'Sandbox JSON (paste it, or pick the file) ', sandboxFile)),
    sandbox,
    h('p', {}, h('label', {}, sealSandbox, ' seal the sandbox description too (otherwise it is sent readable, and authenticated)')),
    h('p', {}, h('label', {}, 'LLM API key (sealed; only for a sandbox with "llm") ', apiKey)),
    h('p', {}, h('label', {}, 'Execute token (if this server asks for one) ', token)),
    h('p', {}, h('label', {}, 'Seal the result to your key (optional; ', h('code', {}, 'ephemera keygen'), ' makes one) ', recipient), ' ', recipientFile),
    h(
      'details',
      { class: 'policy', open: '' },
      h('summary', {}, 'Server keys you trust'),
      h(
        'p',
        {},
        'A simulated server signs its key with a software key: the page sends nothing unless you pinned that key or its fingerprint here (one per line; kept in this browser) — learn it from the operator (',
        h('code', {}, 'ephemera trust pin'),
        ' on their machine prints it), not from this server alone. A TDX server is trusted under your policy for TDX certificates (the builds you list on ',
        h('a', { href: '/verify' }, 'Verify a file'),
        ').',
      ),
      pins,
    ),
    h('p', {}, send),
    verification,
    status,
  );
}

interface SendInput {
  file: File | null;
  format: Format;
  sandboxText: string;
  sealSandbox: boolean;
  apiKey: string;
  token: string;
  recipient: string;
  pins: string[];
  verification: HTMLElement;
  status: HTMLElement;
}

async function sendSealed(input: SendInput): Promise<void> {
  if (!input.file) throw pageError('PAGE_INPUT', 'choose a dataset file');
  let sandbox: Record<string, unknown>;
  try {
    sandbox = JSON.parse(input.sandboxText) as Record<string, unknown>;
  } catch {
    throw pageError('REQUEST_INVALID', 'the sandbox is not JSON');
  }
  if (sandbox === null || typeof sandbox !== 'object' || Array.isArray(sandbox)) throw pageError('REQUEST_INVALID', 'the sandbox is not a JSON object');
  if (input.recipient !== '' && !RECIPIENT.test(input.recipient)) throw pageError('PAGE_INPUT', 'the result key is not 64 hex');
  for (const pin of input.pins) pinKey(pin.toLowerCase());
  const dataset = new Uint8Array(await input.file.arrayBuffer());
  const hasLlm = typeof sandbox.llm === 'object' && sandbox.llm !== null;
  try {
    const sent = await submitSealed({
      server: location.origin,
      ...(input.token ? { token: input.token } : {}),
      policy: browserOptions(readPolicy(), readPins()),
      input: {
        dataset,
        format: input.format,
        sandbox,
        sealSandbox: input.sealSandbox,
        apiKey: hasLlm && input.apiKey ? input.apiKey : null,
        resultRecipient: input.recipient || null,
      },
      onVerified: (verified) => {
        input.verification.replaceChildren(describeKey(verified));
        input.status.replaceChildren(h('p', {}, `Sealing ${dataset.length} bytes in this browser and sending…`));
      },
    });
    if (sent.status !== 200) {
      const error = (sent.body as { error?: { code?: string; message?: string } } | null)?.error;
      throw pageError(error?.code ?? `HTTP_${sent.status}`, error?.message ?? `the server answered HTTP ${sent.status}`);
    }
    const answer = sent.body as { certificate_id: string; status: string };
    input.status.replaceChildren(
      h(
        'div',
        { class: `banner banner-${answer.status === 'completed' ? 'ok' : 'warn'}`, 'data-testid': 'submitted' },
        h('p', { class: 'banner-title' }, `Sent sealed · run ${answer.status}`),
        h('p', {}, 'Certificate: ', h('a', { href: `/c/${answer.certificate_id}`, 'data-testid': 'certificate-link' }, answer.certificate_id)),
        h('p', {}, 'It names the key statement this page sealed to: ', h('code', { 'data-testid': 'statement-hash' }, sent.statementHash)),
        // Derived in this browser from the request's HPKE context (docs/row-proofs.md §7): shown once, never sent, never stored.
        (answer as { row_secret?: string }).row_secret === 'sealed'
          ? h(
              'p',
              {},
              'Row secret (keep it to prove records of your dataset with ',
              h('code', {}, 'ephemera prove'),
              '; it is shown only here): ',
              h('code', { 'data-testid': 'row-secret' }, bytesToHex(sent.rowSecret)),
            )
          : null,
      ),
    );
    sent.rowSecret.fill(0);
  } finally {
    dataset.fill(0);
  }
}

/** What was verified, before anything was sent. */
function describeKey(verified: VerifiedKey): HTMLElement {
  const { statement, statement_hash: hash } = verified.document;
  const tee = statement.tee;
  return h(
    'div',
    { class: 'trust' },
    h('p', {}, '✔ Verified the server’s key before sending anything'),
    h('p', {}, 'Key statement ', h('code', { 'data-testid': 'key-statement' }, hash), `, node ${statement.node}, suite ${statement.suite}`),
    tee.type === 'simulated'
      ? h(
          'p',
          {},
          'Attested by the simulated key ',
          h('code', { 'data-testid': 'attestor-fingerprint' }, keyFingerprint(tee.public_key)),
          ' (pinned by you; not hardware-backed)',
        )
      : h('p', {}, `Attested by TDX hardware, build (compose hash) ${tee.compose_hash ?? 'unknown'}, under your policy`),
    h('p', {}, `Valid from ${statement.not_before} until ${statement.not_after}. ${verified.trust.reason}`),
  );
}

function pageError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** A refusal: nothing was sent when it came before the key was trusted. */
function failure(error: unknown): HTMLElement {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return h(
    'div',
    { class: 'banner banner-bad', 'data-testid': 'submit-error', 'data-code': typeof code === 'string' ? code : 'INTERNAL' },
    h('p', { class: 'banner-title' }, `✘ ${typeof code === 'string' ? code : 'Error'}`),
    h('p', {}, typeof message === 'string' ? message : String(error)),
    typeof code === 'string' && code.startsWith('SEAL_') ? h('p', {}, 'Nothing was sent.') : null,
  );
}
