import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, describe, expect, it } from 'vitest';
import { genesisHash, verifyStream, type EventEnvelope, type EventLog } from '../../events/index.js';
import { KafkaEventLog, SqliteEventLog } from '../../events/node.js';
import { sampleStream } from '../../events/eventlog.contract.js';
import { requireKafka } from '../../events/kafka-testing.js';
import { richEvents } from '../../verify/testing/conformance.js';
import { sealEvents, v1Event } from '../../verify/testing/forge.js';
import { journalDirOf, RunJournal } from './journal.js';
import { abortOwnUnfinished } from './recover.js';

const ROOT = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-recover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('abortOwnUnfinished', () => {
  describe('when the log holds an unfinished run of this node and one of another node (THREATS B24)', () => {
    it('appends execution.aborted to its own alone, once, keeping the chain valid, and empties its journal', async () => {
      const log = new SqliteEventLog(join(dir, 'events.sqlite'));
      const journal = new RunJournal(join(dir, 'runs'));
      const mine = sampleStream();
      const theirs = sampleStream();
      const valid = sealEvents(richEvents());
      await journal.begin(mine[0]!.execution_id);
      await log.append(mine);
      await log.append(theirs);
      await log.append(valid.events);

      expect(await abortOwnUnfinished(log, journal)).toEqual([mine[0]!.execution_id]);
      const stream = await log.readStream(mine[0]!.execution_id);
      expect(stream.at(-1)).toMatchObject({ v: 2, type: 'execution.aborted', data: { reason: 'executor_restarted', last_seq: 4, error_code: null } });
      expect(verifyStream(stream).lifecycle.phase).toBe('aborted');
      expect(await log.readStream(theirs[0]!.execution_id)).toEqual(theirs);
      expect(await log.readStream(valid.execution_id)).toEqual(valid.events);
      expect(await journal.open()).toEqual([]);
      expect(await abortOwnUnfinished(log, journal)).toEqual([]);
      await log.close();
    });
  });

  describe('when a journal entry names a stream with no event, or one already finished', () => {
    it('removes the entry and appends nothing', async () => {
      const log = new SqliteEventLog(join(dir, 'entries.sqlite'));
      const journal = new RunJournal(join(dir, 'runs-entries'));
      const sealed = sealEvents(richEvents());
      const never = ulid();
      await journal.begin(never);
      await journal.begin(sealed.execution_id);
      await log.append(sealed.events);
      expect(await abortOwnUnfinished(log, journal)).toEqual([]);
      expect(await log.readStream(never)).toEqual([]);
      expect(await log.readStream(sealed.execution_id)).toEqual(sealed.events);
      expect(await journal.open()).toEqual([]);
      await log.close();
    });
  });

  describe('when the unfinished run was written in format version 1', () => {
    it("aborts it in version 1's own shape, so its stream still verifies", async () => {
      const log = new SqliteEventLog(join(dir, 'v1.sqlite'));
      const journal = new RunJournal(join(dir, 'runs-v1'));
      const id = '01JD7ZX3Q4M5N6P7R8S9T0VWXA';
      let prev = genesisHash(id);
      const v1: EventEnvelope[] = sampleStream(id)
        .slice(0, 3)
        .map((e, seq) => {
          const event = v1Event(id, seq, prev, e.type, e.at, e.type === 'sandbox.created' ? { isolation: {}, limits: {}, network: {}, runtime: {} } : e.data);
          prev = event.hash;
          return event;
        });
      await journal.begin(id);
      await log.append(v1);
      expect(await abortOwnUnfinished(log, journal)).toEqual([id]);
      const stream = await log.readStream(id);
      expect(stream.at(-1)).toEqual(expect.objectContaining({ v: 1, type: 'execution.aborted', data: { reason: 'executor_restarted', last_seq: 2 } }));
      expect(verifyStream(stream).lifecycle.phase).toBe('aborted');
      await log.close();
    });
  });
});

/** `ephemera serve` as a separate process (what a crash kills), on its own data dir; resolves with its URL. */
async function startServe(dataDir: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      output += chunk;
      const listening = /ephemera listening on (\S+)/.exec(output);
      if (listening) resolve(listening[1]!);
    });
    child.once('exit', () => reject(new Error(`serve exited: ${output}`)));
  });
  return { child, url, exited };
}

const waitFor = async <T>(read: () => Promise<T | null>, withinMs = 60_000): Promise<T> => {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await read();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`not so within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** A run that sleeps long enough to be killed in the middle of. */
const sleeper = {
  dataset: { data: 'base64:YQpiCg==', format: 'txt' },
  sandbox: { tools: ['bash'], scripts: { 'main.sh': 'sleep 50\n' }, environment: { timeout_seconds: 60, max_memory_mb: 128 } },
};

describe.each([
  { kind: 'sqlite', env: () => ({}) as Record<string, string> },
  {
    kind: 'kafka',
    env: () => ({ EPHEMERA_LOG: 'kafka', KAFKA_BROKERS: requireKafka().join(','), EPHEMERA_KAFKA_TOPIC: `ephemera.recover.${ulid().toLowerCase()}` }),
  },
])('when a real executor on the $kind log is killed with SIGKILL mid-run', ({ kind, env }) => {
  it('the restarted node aborts its own run, and leaves another node’s unfinished run on the same log alone', async () => {
    const dataDir = join(dir, `killed-${kind}`);
    const settings = env();
    const openLog = async (): Promise<EventLog> =>
      kind === 'kafka'
        ? KafkaEventLog.open({ brokers: settings.KAFKA_BROKERS!.split(','), topic: settings.EPHEMERA_KAFKA_TOPIC! })
        : new SqliteEventLog(join(dataDir, 'events.sqlite'));

    const first = await startServe(dataDir, settings);
    const answer = fetch(`${first.url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sleeper) }).catch(
      (error: unknown) => error,
    );
    const journalDir = journalDirOf(dataDir);
    const executionId = await waitFor(async () => readdirSync(journalDir)[0] ?? null);
    const log = await openLog();
    try {
      // Killed once the sandbox runs: the stream is open, past its first steps.
      await waitFor(async () => ((await log.readStream(executionId)).some((e) => e.type === 'sandbox.created') ? true : null));
      first.child.kill('SIGKILL');
      await first.exited;
      expect(await answer).toBeInstanceOf(Error);
      const beforeRestart = await log.readStream(executionId);
      expect(beforeRestart.at(-1)!.type).not.toMatch(/^(certificate\.sealed|execution\.aborted)$/);

      // Another node's run, open on the same log, with no entry in this node's journal.
      const theirs = sampleStream();
      await log.append(theirs);

      const second = await startServe(dataDir, settings);
      try {
        const stream = await log.readStream(executionId);
        expect(stream.slice(0, -1)).toEqual(beforeRestart);
        expect(stream.at(-1)).toMatchObject({ type: 'execution.aborted', data: { reason: 'executor_restarted', last_seq: beforeRestart.length - 1 } });
        expect(verifyStream(stream).lifecycle.phase).toBe('aborted');
        expect(await log.readStream(theirs[0]!.execution_id)).toEqual(theirs);
        expect(readdirSync(journalDir)).toEqual([]);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      await log.close();
    }
  }, 120_000);
});
