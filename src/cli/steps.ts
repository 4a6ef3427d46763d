/** A run's steps in plain words, as `run` and `watch` report them on stderr. */
import type { EventEnvelope } from '../events/index.js';
import { terminalSafe } from './common.js';

/** What each acknowledged event means to someone waiting (the run's own events are its progress; `watch` says the same). */
const STEPS: Partial<Record<EventEnvelope['type'], string>> = {
  'execution.requested': 'request recorded',
  'dataset.loaded': 'dataset loaded and hashed',
  'sandbox.created': 'sandbox created',
  'execution.completed': 'computation finished; destroying the sandbox',
  'execution.failed': 'computation failed; destroying the sandbox',
  'dataset.deleted': 'dataset deleted from memory',
  'sandbox.destroyed': 'sandbox destroyed; sealing and attesting',
  'certificate.sealed': 'sealed and attested; checking the certificate',
  'execution.aborted': 'aborted: no certificate',
};

/** The steps of one acknowledged batch (the log holds them before they are reported). */
export function reportSteps(batch: readonly EventEnvelope[], progress: (message: string) => void): void {
  for (const event of batch) {
    const step = STEPS[event.type] ?? activity(event);
    if (step) progress(step);
  }
}

/** What a long run is doing: each tool call and model turn. Names come from the events (from a server, for `watch`): one printable line. */
function activity(event: EventEnvelope): string | null {
  const data = event.data as Record<string, unknown>;
  const name = (value: unknown) => terminalSafe(String(value)).replace(/\n/g, '\\n').slice(0, 80);
  // A call made by another call's processes (a script running `sql`) names the call it runs within.
  if (event.type === 'tool.invoked' && data.parent_call_id !== undefined) return `running ${name(data.tool)} within ${name(data.parent_call_id)}`;
  if (event.type === 'tool.invoked') return `${data.caller === 'llm' ? 'the model calls' : 'running'} ${name(data.tool)}`;
  if (event.type === 'llm.called') return `model ${name(data.model)}, turn ${name(data.turn)}: ${name(data.stop_reason)}`;
  return null;
}
