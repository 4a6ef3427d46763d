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
import { KafkaTlogLedger, recordText } from './tlog-ledger-kafka.js';
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

describe('Kafka tlog ledger', () => {
  it('reads past a message that is not UTF-8 (anyone who may write the topic can send one) as no record, never stopping there', async () => {
    const kafka = new Kafka({ brokers: requireKafka(), logLevel: logLevel.NOTHING });
    const topic = `ephemera.test.${ulid().toLowerCase()}.tlog`;
    const ledger = await KafkaTlogLedger.open(kafka, topic);
    const producer = kafka.producer();
    try {
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), partition: 0 }] });
      await ledger.append('{"after":1}', null);
      expect((await ledger.readFrom(-1, 10)).map((r) => r.text)).toEqual(['', '{"after":1}']);
    } finally {
      await producer.disconnect();
      await ledger.close();
    }
  });

  it('reads a message that is not UTF-8 as the empty text, which no record is', () => {
    expect(recordText(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe('');
    expect(recordText(null)).toBe('');
    expect(recordText(Buffer.from('{"a":"é"}'))).toBe('{"a":"é"}');
  });
});
