/**
 * Watches one run live (/e/<execution id>): an EventSource on its event
 * stream, each step in plain words as the log acknowledges it, then the
 * certificate's page. The browser resumes a cut stream itself (Last-Event-ID).
 * SECURITY: events are untrusted text: they go in through textContent only,
 * and the only link is built from the id pattern, never from event data.
 */
import { RUN_ID } from '../../src/events/index.js';
import { h, mount } from './dom.js';

const STEPS: Record<string, string> = {
  'execution.requested': 'Request recorded',
  'dataset.loaded': 'Dataset loaded into memory and hashed',
  'sandbox.created': 'Sandbox created',
  'tool.invoked': 'A tool started',
  'tool.completed': 'A tool finished',
  'llm.called': 'The model answered',
  'execution.completed': 'Computation finished',
  'execution.failed': 'Computation failed',
  'dataset.deleted': 'Dataset deleted from memory',
  'sandbox.destroyed': 'Sandbox destroyed',
  'certificate.sealed': 'Sealed and attested',
  'execution.aborted': 'Aborted: no certificate',
};
/** Steps seen many times in one run (file activity, tools) are counted on one line, not listed one by one. */
const COUNTED: Record<string, string> = {
  'tool.invoked': 'tool calls',
  'llm.called': 'model calls',
  'file.accessed': 'file accesses',
  'network.requested': 'network requests',
};
const CERTIFICATE_ID = new RegExp(`^cert_${RUN_ID}$`);

interface End {
  state?: string;
  certificate_id?: string | null;
  error?: { code?: string; message?: string } | null;
}

export function watchPage(executionId: string): void {
  const status = h('p', { class: 'banner-title', 'data-testid': 'watch-state' }, 'Waiting for the run…');
  const banner = h('div', { class: 'banner banner-neutral', 'data-testid': 'watch-banner' }, status);
  const steps = h('ol', { class: 'steps', 'data-testid': 'watch-steps' });
  const activity = h('p', { 'data-testid': 'watch-activity' });
  mount(h('h1', {}, 'Run ', h('code', { class: 'watch-id' }, executionId)), banner, steps, activity);

  const counts = new Map<string, number>();
  const follow = () => {
    const source = new EventSource(`/executions/${executionId}/events`);
    const onStep = (message: MessageEvent<string>) => {
      const type = message.type;
      if (COUNTED[type]) {
        counts.set(type, (counts.get(type) ?? 0) + 1);
        activity.textContent = [...counts].map(([t, n]) => `${COUNTED[t]}: ${n}`).join(' · ');
      }
      if (!STEPS[type] || type === 'tool.completed') return;
      let at = '';
      try {
        at = String((JSON.parse(message.data) as { at?: unknown }).at ?? '');
      } catch {
        // shown without its time
      }
      steps.append(h('li', { 'data-step': type }, STEPS[type] ?? type, at ? h('small', {}, ` ${at}`) : null));
      status.textContent = 'Running…';
    };
    for (const type of new Set([...Object.keys(STEPS), ...Object.keys(COUNTED)])) source.addEventListener(type, onStep);
    source.addEventListener('end', (message) => {
      source.close();
      let end: End = {};
      try {
        end = JSON.parse((message as MessageEvent<string>).data) as End;
      } catch {
        // an end we cannot read: said below
      }
      finish(end, banner, status);
    });
    source.addEventListener('error', () => {
      // The browser retries by itself while the stream can come back; a refusal (404, 400) closes it for good,
      // unless the server says the run may yet appear (another node accepted it and has not recorded it yet).
      if (source.readyState !== EventSource.CLOSED) return;
      void notYet(executionId).then((retryAfterS) => {
        if (retryAfterS !== null) {
          status.textContent = 'Not recorded yet on this server: waiting for its first event…';
          setTimeout(follow, retryAfterS * 1000);
          return;
        }
        banner.className = 'banner banner-warn';
        status.textContent = 'This run cannot be followed: no such execution on this server, or the server refused the stream.';
      });
    });
  };
  follow();
}

/** Seconds to wait when the server does not know the run yet but says to ask again (404 with Retry-After); else null. */
async function notYet(executionId: string): Promise<number | null> {
  try {
    const response = await fetch(`/executions/${executionId}`);
    const seconds = Number(response.headers.get('retry-after'));
    return response.status === 404 && Number.isSafeInteger(seconds) && seconds > 0 ? Math.min(seconds, 10) : null;
  } catch {
    return null;
  }
}

function finish(end: End, banner: HTMLElement, status: HTMLElement): void {
  const id = typeof end.certificate_id === 'string' && CERTIFICATE_ID.test(end.certificate_id) ? end.certificate_id : null;
  if (end.state === 'certified' && id) {
    status.textContent = 'Certified';
    banner.append(
      h('p', {}, 'The run is over and its certificate is issued: ', h('a', { href: `/c/${id}`, 'data-testid': 'watch-certificate' }, 'open and verify it')),
    );
    return;
  }
  banner.className = 'banner banner-warn';
  status.textContent = `Run ${end.state ?? 'ended'}: no certificate`;
  if (end.error?.code) banner.append(h('p', { 'data-testid': 'watch-error' }, `${end.error.code}: ${end.error.message ?? ''}`));
}
