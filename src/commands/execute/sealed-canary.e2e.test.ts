/**
 * The canary sweep after sealed runs (issue 19; THREATS C27/G48 style): a
 * server on loopback with the Kafka log (its own topic) and the projection
 * consumer, three sealed requests (one completed with a sealed API key, one
 * failed with the marker on stderr, one refused for tampering), each with a
 * dataset carrying a unique marker and an API key canary. Neither appears in
 * any response body, the server's log output, any event or certificate, the
 * data directory, the broker's log directory or the temporary folders.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { requireKafka } from '../../events/kafka-testing.js';
import { answerReply, startMessagesServer, toolUseReply, type MessagesServer } from '../../sandbox/agent/testing/messages-server.js';
import { generateResultKey, KEY_DOCUMENT_PATH, parseKeyDocument, SEALED_REQUEST_CONTENT_TYPE, sealRequest, type SealRequestInput } from '../../seal/index.js';
import { nodeSealCrypto } from '../../seal/node-aead.js';
import { createServices, type Services } from '../../services.js';
import { filesHolding } from './testing/disk-sweep.js';

const MARKER = `ephemera-sealed-marker-${randomBytes(12).toString('hex')}`;
const CANARY_KEY = `sk-ant-canary-${randomBytes(12).toString('hex')}`;
const NEEDLES = [MARKER, CANARY_KEY, Buffer.from(MARKER).toString('base64'), Buffer.from(MARKER).toString('hex')];
const ENVIRONMENT = { timeout_seconds: 20, max_memory_mb: 256 };
const DATASET = `name,secret\nada,${MARKER}\n`;

/** Where the broker keeps its log segments, as it says itself (log.dirs), so the sweep reads what Kafka wrote. */
async function brokerLogDirs(brokers: string[]): Promise<string[]> {
  const admin = new kafkajs.Kafka({ clientId: 'ephemera-sweep', brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { brokers: nodes } = await admin.describeCluster();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: nodes.map((n) => ({ type: kafkajs.ConfigResourceTypes.BROKER, name: String(n.nodeId), configNames: ['log.dirs', 'log.dir'] })),
    });
    return described.resources.flatMap((r) => r.configEntries.flatMap((e) => (e.configValue ? e.configValue.split(',') : [])));
  } finally {
    await admin.disconnect();
  }
}

describe('the canary sweep after sealed runs on the Kafka log', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;
  let messages: MessagesServer;
  let base: string;
  let started: number;
  const logLines: string[] = [];
  const bodies: string[] = [];
  const executionIds: string[] = [];
  let kafkaDirs: string[];

  async function post(body: Uint8Array): Promise<{ status: number; text: string }> {
    const response = await fetch(`${base}/execute`, { method: 'POST', headers: { 'content-type': SEALED_REQUEST_CONTENT_TYPE }, body: Buffer.from(body) });
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, text };
  }

  beforeAll(async () => {
    started = Date.now();
    const brokers = requireKafka();
    kafkaDirs = await brokerLogDirs(brokers);
    dir = mkdtempSync(join(tmpdir(), 'ephemera-sealed-canary-'));
    // The model reads the dataset through a tool, so the marker passes through a model call too.
    messages = await startMessagesServer([
      toolUseReply([{ name: 'read_file', input: { path: '/data/dataset.csv' } }], [30, 8]),
      answerReply('read it', [40, 4]),
    ]);
    services = await createServices(
      loadConfig({
        EPHEMERA_DATA_DIR: dir,
        EPHEMERA_LOG: 'kafka',
        KAFKA_BROKERS: brokers.join(','),
        EPHEMERA_KAFKA_TOPIC: `ephemera.sealed-canary.${ulid().toLowerCase()}`,
        ANTHROPIC_BASE_URL: messages.url,
        EPHEMERA_LLM_MAX_RETRIES: '0',
      }),
    );
    app = await buildApp(services, { logger: { level: 'trace', stream: { write: (line: string) => void logLines.push(line) } } });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    const document = parseKeyDocument(await (await fetch(base + KEY_DOCUMENT_PATH)).text());
    const key = await generateResultKey(nodeSealCrypto);
    const seal = async (overrides: Partial<SealRequestInput>) =>
      (
        await sealRequest(
          document,
          { dataset: new TextEncoder().encode(DATASET), format: 'csv', sandbox: {}, resultRecipient: key.public_key, sealSandbox: true, ...overrides },
          nodeSealCrypto,
        )
      ).body;

    // Completed: the model reads the dataset with the sealed key; the result (which may quote it) sealed to its owner.
    const completed = await post(
      await seal({
        sandbox: { llm: { prompt: 'Read the dataset.', model: 'claude-test' }, tools: ['python'], environment: ENVIRONMENT },
        apiKey: CANARY_KEY,
      }),
    );
    // Failed: the script prints the dataset and writes it to stderr, then fails.
    const failing = 'import os,sys\nd=open(os.environ["DATASET_PATH"]).read()\nprint(d)\nsys.stderr.write(d)\nsys.exit(2)\n';
    const failed = await post(await seal({ sandbox: { tools: ['python'], scripts: { 'main.py': failing }, environment: ENVIRONMENT }, apiKey: null }));
    // Refused: a byte of the ciphertext changed.
    const good = await seal({ sandbox: { tools: ['python'], scripts: { 'main.py': 'print(1)\n' }, environment: ENVIRONMENT }, apiKey: null });
    const refused = await post(Uint8Array.from(good, (b, i) => (i === good.length - 1 ? b ^ 1 : b)));

    expect([completed.status, failed.status, refused.status]).toEqual([200, 200, 400]);
    expect(JSON.parse(completed.text)).toMatchObject({ status: 'completed' });
    expect(JSON.parse(failed.text)).toMatchObject({ status: 'failed' });
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'SEALED_DECRYPT_FAILED' } });
    for (const text of [completed.text, failed.text]) executionIds.push(JSON.parse(text).certificate_id.replace(/^cert_/, ''));
    await services.feed!.caughtUp();
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await messages?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the model got the sealed key, and the run read the marker (the sweep looks for something that was there)', () => {
    const headers = messages.received[0]!.headers;
    expect(headers['x-api-key'] === CANARY_KEY || headers.authorization === `Bearer ${CANARY_KEY}`).toBe(true);
    expect(JSON.stringify(messages.received[1]!.body)).toContain(MARKER);
  });

  it('finds neither in any response body or log line', () => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const needle of NEEDLES) {
      for (const body of bodies) expect(body).not.toContain(needle);
      for (const line of logLines) expect(line).not.toContain(needle);
    }
  });

  it('finds neither in any event or certificate', async () => {
    for (const id of executionIds) {
      const events = JSON.stringify(await services.log.readStream(id));
      const certificate = await (await fetch(`${base}/certificate/cert_${id}`)).text();
      expect(certificate).toContain('"sealed"');
      for (const needle of NEEDLES) {
        expect(events).not.toContain(needle);
        expect(certificate).not.toContain(needle);
      }
    }
  });

  it("finds neither in the data directory, the broker's log directory or the temporary folders", () => {
    expect(kafkaDirs.length).toBeGreaterThan(0);
    // The broker is on this machine (loopback): its segments are readable files, and this run's topic is among them.
    expect(kafkaDirs.some((d) => existsSync(d))).toBe(true);
    // The sweep reads what the broker wrote: this run's events (their execution ids) are found in its segments.
    expect(filesHolding([executionIds[0]!], kafkaDirs, started).length).toBeGreaterThan(0);
    expect(filesHolding(NEEDLES, [dir, ...kafkaDirs, tmpdir(), '/var/tmp', '/dev/shm'], started)).toEqual([]);
  });
});
