/**
 * The EventLog contract: every backend (sqlite, kafka) runs this suite.
 * `open` returns a fresh log; `reopen` (optional) a second handle on the same
 * storage, to show that acknowledged events are durable.
 */
import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { EventChain, type EventEnvelope } from './envelope.js';
import type { EventLog } from './log.js';
import { sampleSandboxCreated, sampleSummary } from './testing/sample-data.js';

export interface ContractSubject {
  open(): Promise<EventLog>;
  reopen?(): Promise<EventLog>;
}

export function sampleStream(executionId = ulid(), clock = () => new Date('2026-02-01T13:15:00.123Z')): EventEnvelope[] {
  const chain = new EventChain(executionId, clock);
  const h = `sha256:${'ab'.repeat(32)}` as const;
  return [
    chain.next('execution.requested', {
      dataset_hash: h,
      dataset_bytes: 3,
      dataset_format: 'txt',
      dataset_source: 'inline',
      sandbox_hash: h,
      fingerprint: h,
      sandbox: sampleSummary({ tools: [], entrypoint: 'main.sh', scripts: [{ name: 'main.sh', hash: h, bytes: 1 }] }),
    }),
    chain.next('dataset.loaded', { dataset_hash: h, bytes: 3, medium: 'tmpfs' }),
    chain.next('sandbox.created', sampleSandboxCreated()),
    chain.next('tool.invoked', { call_id: 'c1', tool: 'main.sh', args_hash: h, caller: 'script' }),
    chain.next('tool.completed', {
      call_id: 'c1',
      exit_code: 0,
      duration_ms: 1,
      cpu_ms: 1,
      max_rss_kb: 1,
      stdout_bytes: 0,
      stderr_bytes: 0,
      output_hash: h,
      killed_by: null,
      truncated: false,
    }),
  ];
}

export function describeEventLogContract(name: string, subject: ContractSubject): void {
  describe(`EventLog contract: ${name}`, () => {
    const withLog = async (body: (log: EventLog) => Promise<void>) => {
      const log = await subject.open();
      try {
        await body(log);
      } finally {
        await log.close();
      }
    };

    describe('when a stream is appended step by step', () => {
      it('reads back every event in seq order, unchanged', () =>
        withLog(async (log) => {
          const stream = sampleStream();
          await log.append(stream.slice(0, 2));
          await log.append(stream.slice(2));
          expect(await log.readStream(stream[0]!.execution_id)).toEqual(stream);
        }));
    });

    describe('when an append does not continue the stored stream', () => {
      it.each([
        ['skips a seq', (s: EventEnvelope[]) => [s[0]!, s[2]!]],
        ['repeats a seq', (s: EventEnvelope[]) => [s[0]!, s[0]!]],
        ['starts past seq 0', (s: EventEnvelope[]) => [s[1]!]],
        ['breaks the prev link', (s: EventEnvelope[]) => [s[0]!, { ...s[1]!, prev: s[1]!.hash }]],
      ])('rejects a batch that %s with EVENTS_SEQ_CONFLICT and stores nothing of it', (_label, mutate) =>
        withLog(async (log) => {
          const stream = sampleStream();
          await expect(log.append(mutate(stream))).rejects.toMatchObject({ code: 'EVENTS_SEQ_CONFLICT' });
          expect(await log.readStream(stream[0]!.execution_id)).toEqual([]);
        }),
      );

      it('keeps what was stored before the rejected batch', () =>
        withLog(async (log) => {
          const stream = sampleStream();
          await log.append(stream.slice(0, 2));
          await expect(log.append(stream.slice(3))).rejects.toMatchObject({ code: 'EVENTS_SEQ_CONFLICT' });
          expect(await log.readStream(stream[0]!.execution_id)).toEqual(stream.slice(0, 2));
        }));
    });

    describe('when several executions append concurrently', () => {
      it('keeps each stream separate and ordered', () =>
        withLog(async (log) => {
          const streams = [sampleStream(), sampleStream(), sampleStream()];
          for (let step = 0; step < 5; step++) await Promise.all(streams.map((s) => log.append([s[step]!])));
          for (const s of streams) expect(await log.readStream(s[0]!.execution_id)).toEqual(s);
        }));
    });

    describe('when an execution is unknown', () => {
      it('reads an empty stream', () => withLog(async (log) => expect(await log.readStream(ulid())).toEqual([])));
    });

    if (subject.reopen) {
      describe('when the log is closed and opened again', () => {
        it('still holds every acknowledged event', async () => {
          const stream = sampleStream();
          await withLog((log) => log.append(stream));
          const again = await subject.reopen!();
          try {
            expect(await again.readStream(stream[0]!.execution_id)).toEqual(stream);
          } finally {
            await again.close();
          }
        });
      });
    }
  });
}
