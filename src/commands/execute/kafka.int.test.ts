/**
 * Executions on the Kafka log, against real brokers: end to end through the
 * projection consumer, and the broker killed mid-run (THREATS D29). The fault
 * test runs its own broker (scripts/kafka/start.sh on another port) so it can
 * kill it without disturbing other tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { loadConfig } from '../../config.js';
import { verifyStream } from '../../events/index.js';
import { KafkaEventLog } from '../../events/node.js';
import { requireKafka } from '../../events/kafka-testing.js';
import { buildApp } from '../../app.js';
import { createServices } from '../../services.js';
import { SimulatedAttestor } from '../../attest/node.js';
import { createSandbox } from '../../sandbox/index.js';
import { execute } from './handler.js';
import { parseExecuteRequest } from './request.js';

const ROOT = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-kafka-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (script: string) =>
  parseExecuteRequest({
    dataset: { data: `base64:${Buffer.from('a\nb\n').toString('base64')}`, format: 'txt' },
    sandbox: { tools: ['bash'], scripts: { 'main.sh': script }, environment: { timeout_seconds: 30, max_memory_mb: 128 } },
  });

describe('execute on the Kafka log', () => {
  describe('when the broker is up', () => {
    it('certifies the run, and the certificate served through the projection consumer verifies', async () => {
      const config = loadConfig({
        EPHEMERA_DATA_DIR: join(dir, 'up'),
        EPHEMERA_LOG: 'kafka',
        KAFKA_BROKERS: requireKafka().join(','),
        EPHEMERA_KAFKA_TOPIC: `ephemera.e2e.${ulid().toLowerCase()}`,
      });
      const services = await createServices(config);
      const app = await buildApp(services);
      try {
        const body = (
          await app.inject({
            method: 'POST',
            url: '/execute',
            payload: {
              dataset: { data: 'base64:YQpiCg==', format: 'txt' },
              sandbox: { tools: ['bash'], scripts: { 'main.sh': 'wc -l < "$DATASET_PATH"' }, environment: { timeout_seconds: 20, max_memory_mb: 128 } },
            },
          })
        ).json();
        expect(body).toMatchObject({ status: 'completed', result: { output: '2\n' } });
        await services.feed!.caughtUp();
        const verdict = (await app.inject({ url: `/certificate/${body.certificate_id}/verify` })).json();
        expect(verdict).toMatchObject({ valid: true });
      } finally {
        await app.close();
        await services.close();
      }
    });
  });

  describe('when no broker listens', () => {
    it('refuses to start with LOG_UNAVAILABLE', async () => {
      const config = loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'down'), EPHEMERA_LOG: 'kafka', KAFKA_BROKERS: '127.0.0.1:1' });
      await expect(createServices(config)).rejects.toMatchObject({ code: 'LOG_UNAVAILABLE' });
    });
  });

  describe('when the broker is killed (SIGKILL) in the middle of a run', () => {
    const env = { ...process.env, KAFKA_PORT: '19192', KAFKA_RUN_DIR: join(ROOT, '.cache/kafka/run-faults') };
    const broker = (script: string, ...args: string[]) => execFileSync(join(ROOT, 'scripts/kafka', script), args, { env, encoding: 'utf8' }).trim();
    afterAll(() => broker('stop.sh', '--wipe'));

    it('fails closed with no certificate, and every acknowledged event is still there, chain intact, after it is back', async () => {
      requireKafka();
      broker('stop.sh', '--wipe');
      const brokers = broker('start.sh');
      const topic = `ephemera.faults.${ulid().toLowerCase()}`;
      const log = await KafkaEventLog.open({
        brokers: [brokers],
        topic,
        producer: { idempotent: true, acks: -1, maxInFlightRequests: 1, retries: 2, requestTimeoutMs: 2000 },
      });
      const attestor = new SimulatedAttestor(join(dir, 'faults'));
      const services = {
        config: loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'faults') }),
        log,
        attestor,
        createSandbox,
        selfCheck: { localKeys: [attestor.publicKeyHex] },
      };
      const killer = setTimeout(() => broker('stop.sh', '--kill'), 1500);
      const outcome = await execute(request('sleep 4; echo done'), services).then(
        () => null,
        (error: unknown) => error,
      );
      clearTimeout(killer);
      expect(outcome).toMatchObject({ code: 'LOG_APPEND_FAILED' });
      const executionId = (outcome as { fields: { execution_id: string } }).fields.execution_id;
      await log.close();

      broker('start.sh');
      const again = await KafkaEventLog.open({ brokers: [brokers], topic });
      try {
        const stored = await again.readStream(executionId);
        expect(stored.map((e) => e.type)).toEqual(['execution.requested', 'dataset.loaded', 'sandbox.created', 'tool.invoked']);
        expect(verifyStream(stored).lifecycle.phase).toBe('running');
        expect(stored.some((e) => e.type === 'certificate.sealed')).toBe(false);
      } finally {
        await again.close();
      }
    });
  });
});
