/**
 * Tiny DOM helpers. SECURITY: certificates are untrusted input; text only ever
 * goes in through textContent (never innerHTML), links only to our own paths.
 */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function mount(...nodes: Node[]): void {
  const app = document.getElementById('app')!;
  app.replaceChildren(...nodes);
}

export function facts(pairs: [string, Child][]): HTMLDListElement {
  return h('dl', { class: 'facts' }, ...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** A table; on a narrow screen each row becomes a card whose cells are labelled by their column (style.css). */
export function table(headers: string[], rows: Child[][]): HTMLTableElement {
  return h(
    'table',
    { class: 'cards' },
    h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { 'data-label': headers[i] ?? '' }, c))))),
  );
}

/** The response body as it came, for the strict reader; an error answer throws its code. */
export async function getBytes(url: string): Promise<Blob> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(((await response.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code ?? `HTTP ${response.status}`);
  return response.blob();
}

export async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await response.json();
  if (!response.ok) throw new Error((body as { error?: { code?: string } }).error?.code ?? `HTTP ${response.status}`);
  return body;
}
