/**
 * Where the certificate sits in the transparency log (docs/transparency.md
 * §12), as this browser's verifier found it: leaf, tree size, origin, who
 * cosigned; or that it carries no inclusion proof yet. Text only: every
 * name comes from the certificate.
 */
import type { Verdict } from '../../src/verify/index.js';
import { facts, h } from './dom.js';

export function transparencyBox(verdict: Verdict): HTMLElement | null {
  if (!verdict.valid) return null;
  const t = verdict.transparency;
  if (!t)
    return h(
      'div',
      { class: 'transparency', 'data-testid': 'transparency', 'data-logged': 'false' },
      h('h3', {}, 'Transparency log'),
      h('p', {}, 'Not logged yet: this copy carries no inclusion proof, so nothing shows that it is the only run the operator published.'),
    );
  const witnesses = [...t.cosigned_by.map((name) => `${name} (checked)`), ...t.unverified_signers.map((name) => `${name} (not checked: no witness key given)`)];
  return h(
    'div',
    { class: 'transparency', 'data-testid': 'transparency', 'data-logged': 'true', 'data-log-trusted': String(t.trusted) },
    h('h3', {}, 'Transparency log'),
    facts([
      ['leaf', h('span', { 'data-testid': 'log-leaf' }, `${t.leaf_index} of a tree of ${t.tree_size}`)],
      ['log', h('code', { 'data-testid': 'log-origin' }, t.origin)],
      ['cosigned by', h('span', { 'data-testid': 'log-cosigners' }, witnesses.join(', ') || 'no witness')],
      ['previous run', t.prev === null ? 'none: the first run of this fingerprint in the log' : `leaf ${t.prev}`],
      ['log key', h('span', { 'data-testid': 'log-trust' }, t.trusted ? t.trust : `not trusted: ${t.trust}`)],
    ]),
  );
}
