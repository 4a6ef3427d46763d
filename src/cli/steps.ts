/** A run's steps in plain words, as `run` and `watch` report them on stderr. */
import type { EventEnvelope } from '../events/index.js';

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
  for (const event of batch) if (STEPS[event.type]) progress(STEPS[event.type]!);
}
