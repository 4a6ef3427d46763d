import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyStream } from '../../events/index.js';
import { SqliteEventLog } from '../../events/node.js';
import { sampleStream } from '../../events/eventlog.contract.js';
import { genesisHash, type EventEnvelope } from '../../events/index.js';
import { richEvents } from '../../verify/testing/conformance.js';
import { sealEvents, v1Event } from '../../verify/testing/forge.js';
import { abortUnfinished } from './recover.js';

const dir = mkdtempSync(join(tmpdir(), 'ephemera-recover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('abortUnfinished', () => {
  describe('when the log holds a run its executor never finished (THREATS B24)', () => {
    it('appends execution.aborted to it alone, once, keeping the chain valid', async () => {
      const log = new SqliteEventLog(join(dir, 'events.sqlite'));
      const unfinished = sampleStream();
      const valid = sealEvents(richEvents());
      await log.append(unfinished);
      await log.append(valid.events);

      expect(await abortUnfinished(log)).toEqual([unfinished[0]!.execution_id]);
      const stream = await log.readStream(unfinished[0]!.execution_id);
      expect(stream.at(-1)).toMatchObject({ v: 2, type: 'execution.aborted', data: { reason: 'executor_restarted', last_seq: 4, error_code: null } });
      expect(verifyStream(stream).lifecycle.phase).toBe('aborted');
      expect(await log.readStream(valid.execution_id)).toEqual(valid.events);
      expect(await abortUnfinished(log)).toEqual([]);
      await log.close();
    });
  });

  describe('when the unfinished run was written in format version 1', () => {
    it("aborts it in version 1's own shape, so its stream still verifies", async () => {
      const log = new SqliteEventLog(join(dir, 'v1.sqlite'));
      const id = '01JD7ZX3Q4M5N6P7R8S9T0VWXA';
      let prev = genesisHash(id);
      const v1: EventEnvelope[] = sampleStream(id)
        .slice(0, 3)
        .map((e, seq) => {
          const event = v1Event(id, seq, prev, e.type, e.at, e.type === 'sandbox.created' ? { isolation: {}, limits: {}, network: {}, runtime: {} } : e.data);
          prev = event.hash;
          return event;
        });
      await log.append(v1);
      expect(await abortUnfinished(log)).toEqual([id]);
      const stream = await log.readStream(id);
      expect(stream.at(-1)).toEqual(expect.objectContaining({ v: 1, type: 'execution.aborted', data: { reason: 'executor_restarted', last_seq: 2 } }));
      expect(verifyStream(stream).lifecycle.phase).toBe('aborted');
      await log.close();
    });
  });
});
