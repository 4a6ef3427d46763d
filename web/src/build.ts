/**
 * The build a certificate was checked against (docs/reproducible-builds.md §5), as this browser's verifier
 * found it: the commit, whether the build is reproducible (its build-info names a bundle hash anyone can
 * rebuild), whether the quote measured it, and whether the sandbox's tools were the build's. Build-info
 * documents are the reader's own, pasted into their policy and kept in this browser.
 */
import type { Verdict } from '../../src/verify/index.js';
import { facts, h } from './dom.js';

export function buildBox(verdict: Verdict): HTMLElement | null {
  const check = verdict.checks.find((c) => c.name === 'build');
  if (!check) return null;
  const b = verdict.build;
  if (!b) return h('div', { class: 'build', 'data-testid': 'build', 'data-build': 'none' }, h('h3', {}, 'Build'), h('p', {}, check.detail ?? 'not checked'));
  return h(
    'div',
    { class: 'build', 'data-testid': 'build', 'data-build': b.runtime_matches ? 'match' : 'differs' },
    h('h3', {}, 'Build'),
    facts([
      ['built from commit', h('code', { 'data-testid': 'build-commit' }, b.commit ?? 'unknown')],
      [
        'reproducible',
        h(
          'span',
          { 'data-testid': 'build-reproducible' },
          b.reproducible ? `yes: rebuild bundle ${b.bundle_sha256} with npm run bundle at that commit` : 'no bundle hash in your build-info',
        ),
      ],
      ['measured', b.measured ? `yes: the quote's compose hash ${b.compose_hash} is this build's` : 'no: not a TDX certificate, nothing measured the build'],
      [
        'sandbox tools',
        h(
          'span',
          { 'data-testid': 'build-tools' },
          `${b.runtime_matches ? "the build's, checked by the verifier in this browser" : `not the build's: ${b.differences.join('; ')}`}${verdict.status === 'untrusted' ? ' (as recorded by a signer you do not trust)' : ''}`,
        ),
      ],
    ]),
  );
}
