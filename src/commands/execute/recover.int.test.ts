import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyStream } from '../../events/index.js';
import { SqliteEventLog } from '../../events/node.js';
import { sampleStream } from '../../events/eventlog.contract.js';
import { sampleCertificates } from '../../verify/testing/vectors.js';
import { abortUnfinished } from './recover.js';

const dir = mkdtempSync(join(tmpdir(), 'ephemera-recover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('abortUnfinished', () => {
  describe('when the log holds a run its executor never finished (THREATS B24)', () => {
    it('appends execution.aborted to it alone, once, keeping the chain valid', async () => {
      const log = new SqliteEventLog(join(dir, 'events.sqlite'));
      const unfinished = sampleStream();
      const { valid } = await sampleCertificates();
      await log.append(unfinished);
      await log.append(valid.events);

      expect(await abortUnfinished(log)).toEqual([unfinished[0]!.execution_id]);
      const stream = await log.readStream(unfinished[0]!.execution_id);
      expect(stream.at(-1)).toMatchObject({ type: 'execution.aborted', data: { reason: 'executor_restarted', last_seq: 4 } });
      expect(verifyStream(stream).state.phase).toBe('aborted');
      expect(await log.readStream(valid.execution_id)).toEqual(valid.events);
      expect(await abortUnfinished(log)).toEqual([]);
      await log.close();
    });
  });
});
