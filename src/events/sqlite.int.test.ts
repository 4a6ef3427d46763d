import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalText } from './envelope.js';
import { describeEventLogContract, sampleStream } from './eventlog.contract.js';
import { SqliteEventLog } from './sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'ephemera-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'events.sqlite');

describeEventLogContract('sqlite', {
  open: async () => new SqliteEventLog(path),
  reopen: async () => new SqliteEventLog(path),
});

describe('SqliteEventLog', () => {
  describe('when tailed by position', () => {
    it('returns events after a position in log order', async () => {
      const log = new SqliteEventLog(join(dir, 'tail.sqlite'));
      const stream = sampleStream();
      await log.append(stream);
      const first = await log.readFrom(0, 2);
      const rest = await log.readFrom(first.at(-1)!.position, 100);
      expect([...first, ...rest].map((p) => p.event)).toEqual(stream);
      await log.close();
    });
  });

  describe('when events are stored', () => {
    it('writes the text each was hashed from, and reads it back with it', async () => {
      const file = join(dir, 'text.sqlite');
      const log = new SqliteEventLog(file);
      const stream = sampleStream();
      await log.append(stream);
      const db = new Database(file, { readonly: true });
      const stored = db.prepare('SELECT envelope FROM events ORDER BY seq').all() as { envelope: string }[];
      db.close();
      expect(stored.map((row) => row.envelope)).toEqual(stream.map(canonicalText));
      expect((await log.readStream(stream[0]!.execution_id)).map(canonicalText)).toEqual(stored.map((row) => row.envelope));
      await log.close();
    });
  });

  describe('when opened read-only beside the writer (a CLI reader while serve runs)', () => {
    it('reads what the writer appends, creates nothing, and refuses to append', async () => {
      const file = join(dir, 'shared.sqlite');
      expect(() => new SqliteEventLog(file, { readonly: true })).toThrow(/cannot open/);
      const writer = new SqliteEventLog(file);
      const reader = new SqliteEventLog(file, { readonly: true });
      const stream = sampleStream();
      await writer.append(stream);
      expect(await reader.readStream(stream[0]!.execution_id)).toEqual(stream);
      await expect(reader.append(sampleStream())).rejects.toMatchObject({ code: 'LOG_APPEND_FAILED' });
      await reader.close();
      await writer.close();
    });
  });
});
