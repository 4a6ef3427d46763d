/** Drop a certificate file and verify it here, read as a stream, with no request to any server. */
import { h, mount } from './dom.js';
import { loadTdx, policyEditor, verifyHere } from './checks.js';

export function verifyPage(): void {
  // Fetched now, so that checking a dropped TDX certificate needs nothing from any server.
  loadTdx().catch(() => undefined);
  const result = h('div', { 'data-testid': 'verification' });
  const input = h('input', { type: 'file', accept: 'application/json,.json', 'data-testid': 'file', 'aria-label': 'certificate file' });
  const drop = h('div', { class: 'drop' }, 'Drop a certificate JSON here, or ', input);
  const check = (file: File) => void verifyHere(file, result);
  input.addEventListener('change', () => input.files?.[0] && check(input.files[0]));
  drop.addEventListener('dragover', (e) => e.preventDefault());
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer?.files[0];
    if (file) check(file);
  });
  mount(
    h('h1', {}, 'Verify a certificate offline'),
    h('p', {}, 'The file never leaves this page: the verifier reads it here, strictly, and trusts only the events and the attestation.'),
    drop,
    policyEditor(),
    result,
  );
}
