/** The certificate list: search and filter through GET /certificates. */
import { getJson, h, mount, table } from './dom.js';

interface Row {
  certificate_id: string;
  status: string;
  requested_at: string;
  execution_time_ms: number | null;
  models: string[];
  tools: string[];
  fingerprint: string;
  dataset_hash: string;
}

const FIELDS: [string, string][] = [
  ['status', 'Status'],
  ['model', 'Model'],
  ['tool', 'Tool'],
  ['dataset_hash', 'Dataset hash'],
  ['fingerprint', 'Fingerprint'],
  ['from', 'From'],
  ['to', 'To'],
  ['q', 'Result text'],
];

export async function listPage(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    ...FIELDS.map(([name, label]) =>
      h(
        'label',
        {},
        label,
        name === 'status'
          ? (() => {
              const s = h('select', { name }, ...['', 'completed', 'failed', 'aborted'].map((v) => h('option', { value: v }, v || 'any')));
              s.value = params.get(name) ?? '';
              return s;
            })()
          : h('input', { name, value: params.get(name) ?? '', placeholder: name === 'from' || name === 'to' ? '2026-01-01T00:00:00Z' : '' }),
      ),
    ),
    h('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v)) next.set(k, String(v));
    history.pushState(null, '', `/?${next}`);
    void listPage();
  });
  const query = new URLSearchParams([...params].filter(([, v]) => v));
  const results = h('div', {}, h('p', {}, 'Loading…'));
  mount(h('h1', {}, 'Execution certificates'), form, results);
  try {
    const page = (await getJson(`/certificates?${query}`)) as { items: Row[]; next_cursor: string | null };
    results.replaceChildren(
      page.items.length === 0
        ? h('p', {}, 'No certificate matches.')
        : table(
            ['Certificate', 'Status', 'Requested', 'Duration', 'Used'],
            page.items.map((r) => [
              h('a', { href: `/c/${r.certificate_id}`, class: 'mono' }, r.certificate_id),
              h('span', { class: `status-${r.status}` }, r.status),
              r.requested_at,
              r.execution_time_ms === null ? '—' : `${r.execution_time_ms} ms`,
              [...r.tools, ...r.models].join(', '),
            ]),
          ),
      page.next_cursor ? h('a', { href: `/?${new URLSearchParams([...query, ['cursor', page.next_cursor]])}` }, 'Next page →') : '',
    );
  } catch (error) {
    results.replaceChildren(h('p', { class: 'fail' }, `Could not load certificates (${(error as Error).message}).`));
  }
}
