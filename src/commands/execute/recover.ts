/**
 * Startup recovery (THREATS B24): a run this node journaled and never saw
 * finished belongs to an executor (this one, before a crash) that died
 * mid-run. Its sandbox died with it (--die-with-parent, tmpfs gone with the
 * namespace); the dataset lived only in that process's memory. Close its
 * stream with execution.aborted: it never gets a certificate.
 * Only journaled runs: on a shared Kafka log, other nodes' open streams are
 * theirs to close (or the projections call them abandoned once their lease is up).
 */
import { EventChain, type EventData, type EventLog } from '../../events/index.js';
import type { RunJournal } from './journal.js';

export async function abortOwnUnfinished(log: Pick<EventLog, 'readStream' | 'append'>, journal: RunJournal, clock?: () => Date): Promise<string[]> {
  const aborted: string[] = [];
  for (const executionId of await journal.open()) {
    const last = (await log.readStream(executionId)).at(-1);
    // No event: the crash came before the first append was acknowledged; nothing to close.
    if (last && last.type !== 'certificate.sealed' && last.type !== 'execution.aborted') {
      const chain = EventChain.resume(last, clock);
      // The stream keeps its own format version: a version-1 stream's aborted event has no error_code.
      const data =
        chain.formatVersion === 1
          ? { reason: 'executor_restarted', last_seq: last.seq }
          : { reason: 'executor_restarted', last_seq: last.seq, error_code: null };
      await log.append([chain.next('execution.aborted', data as EventData['execution.aborted'])]);
      aborted.push(executionId);
    }
    await journal.end(executionId);
  }
  return aborted;
}
