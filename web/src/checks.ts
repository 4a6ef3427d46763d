/** Runs the project's own verifier in this browser and shows each check turn green or red. */
import { verifyCertificate, type Verdict } from '../../src/verify/index.js';
import { h } from './dom.js';

export async function verifyHere(certificate: unknown, into: HTMLElement): Promise<Verdict> {
  into.replaceChildren(h('p', {}, 'Verifying in this browser…'));
  const verdict = await verifyCertificate(certificate);
  const list = h('ul', { class: 'checks', 'data-testid': 'checks' });
  into.replaceChildren(
    h('p', { class: verdict.valid ? 'pass' : 'fail', 'data-testid': 'verdict' }, verdict.valid ? '✔ Valid — every check passed in this browser' : `✘ Invalid — first failure: ${verdict.failure?.code}${verdict.failure?.field ? ` at ${verdict.failure.field}` : ''}`),
    list,
    ...(verdict.notice ? [h('p', { class: 'notice' }, verdict.notice)] : []),
  );
  for (const check of verdict.checks) {
    await new Promise((resolve) => setTimeout(resolve, 30)); // one by one, so a reader sees them turn
    const mark = check.status === 'pass' ? '✔' : check.status === 'fail' ? '✘' : '–';
    list.append(h('li', { class: check.status, 'data-check': check.name, 'data-status': check.status }, `${mark} ${check.name}`, check.code ? ` — ${check.code}` : '', check.field ? ` at ${check.field}` : '', check.detail && check.status === 'fail' ? `: ${check.detail}` : ''));
  }
  return verdict;
}
