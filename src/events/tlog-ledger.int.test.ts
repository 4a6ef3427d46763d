/** The tlog ledger on SQLite (a temp file) and on a real Kafka broker (KAFKA_BROKERS). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ulid } from 'ulid';
import { afterAll, describe, expect, it } from 'vitest';
import { requireKafka } from './kafka-testing.js';
import { SqliteEventLog } from './sqlite.js';
import { describeTlogLedgerContract } from './tlog-ledger.contract.js';
import { KafkaTlogLedger } from './tlog-ledger-kafka.js';
import { SqliteTlogLedger } from './tlog-ledger-sqlite.js';
import { isEphemeraError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tlog-ledger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeTlogLedgerContract('sqlite', async () => new SqliteTlogLedger(join(dir, `${ulid()}.sqlite`)));
describeTlogLedgerContract('kafka', async () =>
  KafkaTlogLedger.open(new Kafka({ brokers: requireKafka(), logLevel: logLevel.NOTHING }), `ephemera.test.${ulid().toLowerCase()}.tlog`),
);

describe('SQLite tlog ledger', () => {
  it('refuses a second batch at the same first index (a second sequencer cannot commit), beside the event log in one file', async () => {
    const path = join(dir, 'events.sqlite');
    const events = new SqliteEventLog(path);
    const ledger = new SqliteTlogLedger(path);
    const other = new SqliteTlogLedger(path);
    try {
      await ledger.append('{"a":1}', 0);
      const error = await other.append('{"b":1}', 0).catch((e: unknown) => e);
      expect(isEphemeraError(error) && error.code).toBe('TLOG_BATCH_CONFLICT');
      await other.append('{"cosignatures":1}', null);
      await other.append('{"cosignatures":2}', null);
      expect((await ledger.readFrom(-1, 10)).map((r) => r.text)).toEqual(['{"a":1}', '{"cosignatures":1}', '{"cosignatures":2}']);
    } finally {
      await ledger.close();
      await other.close();
      await events.close();
    }
  });
});
