/**
 * Startup recovery (THREATS B24): a stream that is neither sealed nor aborted
 * belongs to an executor that died mid-run. Its sandbox died with it
 * (--die-with-parent, tmpfs gone with the namespace); the dataset lived only
 * in that process's memory. Mark the run aborted by an event: it never gets a
 * certificate.
 * LIMITATION: only for the embedded log, where one process owns the data dir.
 * With Kafka several executors share the log and none may abort another's run.
 */
import { EventChain, type EventData, type TailableEventLog, type EventEnvelope } from '../../events/index.js';

export async function abortUnfinished(log: TailableEventLog, clock?: () => Date): Promise<string[]> {
  const last = new Map<string, EventEnvelope>();
  for (let position = 0; ; ) {
    const page = await log.readFrom(position, 10_000);
    if (page.length === 0) break;
    for (const { event } of page) last.set(event.execution_id, event);
    position = page[page.length - 1]!.position;
  }
  const aborted: string[] = [];
  for (const [executionId, event] of last) {
    if (event.type === 'certificate.sealed' || event.type === 'execution.aborted') continue;
    const chain = EventChain.resume(event, clock);
    // The stream keeps its own format version: a version-1 stream's aborted event has no error_code.
    const data =
      chain.formatVersion === 1
        ? { reason: 'executor_restarted', last_seq: event.seq }
        : { reason: 'executor_restarted', last_seq: event.seq, error_code: null };
    await log.append([chain.next('execution.aborted', data as EventData['execution.aborted'])]);
    aborted.push(executionId);
  }
  return aborted;
}
