/**
 * Sealed submissions against a real server on loopback (docs/sealed.md):
 * the key document, a sealed round trip through the client module, a sealed
 * API key reaching the model, every class of tampering refused with its code
 * and nothing recorded, replays, unknown, expired and rotated keys,
 * EPHEMERA_REQUIRE_SEALED, and sealed results opened with their key. Real
 * bubblewrap sandbox, real SQLite log, simulated attestor, the local
 * Messages-API server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import type { SimulatedAttestor } from '../../attest/node.js';
import { loadConfig } from '../../config.js';
import { canonicalize, type EventLog } from '../../events/index.js';
import { answerReply, startMessagesServer, type MessagesServer } from '../../sandbox/agent/testing/messages-server.js';
import {
  checkKeyDocument,
  generateResultKey,
  KEY_DOCUMENT_PATH,
  openSealedResult,
  parseKeyDocument,
  SEALED_REQUEST_CONTENT_TYPE,
  sealRequest,
  submitSealed,
  type KeyDocument,
  type SealRequestInput,
} from '../../seal/index.js';
import { nodeSealCrypto } from '../../seal/node-aead.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificate, type Certificate } from '../../verify/index.js';
import { KeyRing } from '../keys/key-ring.js';

const HOUR = 3600_000;
const ENVIRONMENT = { timeout_seconds: 20, max_memory_mb: 256 };
const COUNT_LINES = 'import os\nprint(sum(1 for _ in open(os.environ["DATASET_PATH"])))\n';
const CANARY_KEY = `sk-ant-canary-${randomBytes(12).toString('hex')}`;
const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const script = (source: string) => ({ tools: ['python'], scripts: { 'main.py': source }, environment: ENVIRONMENT });
const input = (dataset: string, overrides: Partial<SealRequestInput> = {}): SealRequestInput => ({
  dataset: new TextEncoder().encode(dataset),
  format: 'csv',
  sandbox: script(COUNT_LINES),
  ...overrides,
});

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the server answers
  json: any;
}

/** One server on loopback: its services, its key ring on a clock the test moves, and a count of appends. */
interface Node {
  dir: string;
  services: Services;
  app: FastifyInstance;
  base: string;
  keyRing: KeyRing;
  clock: { now: number };
  appends: { count: number };
  publicKey: string;
}

async function startNode(env: Record<string, string> = {}, attestorFails = false): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-sealed-'));
  const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, ...env }));
  const clock = { now: Date.now() };
  const failing = { describe: () => services.attestor.describe(), attest: () => Promise.reject(new Error('the TEE is not answering')) };
  const keyRing = new KeyRing({
    attestor: attestorFails ? failing : services.attestor,
    node: services.nodeId,
    suite: 'x25519-aes256gcm',
    rotateMs: HOUR,
    graceMs: 10 * 60_000,
    clock: () => new Date(clock.now),
    crypto: nodeSealCrypto,
    timer: false,
  });
  const appends = { count: 0 };
  const log: EventLog = {
    kind: services.log.kind,
    append: (events) => {
      appends.count += 1;
      return services.log.append(events);
    },
    readStream: (id) => services.log.readStream(id),
    close: () => services.log.close(),
  };
  const app = await buildApp({ ...services, log, keyRing });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { dir, services, app, base, keyRing, clock, appends, publicKey: (services.attestor as SimulatedAttestor).publicKeyHex };
}

async function stopNode(node: Node | undefined): Promise<void> {
  if (!node) return;
  await node.app.close();
  node.keyRing.close();
  await node.services.close();
  rmSync(node.dir, { recursive: true, force: true });
}

async function keyDocument(node: Node): Promise<KeyDocument> {
  return parseKeyDocument(await (await fetch(node.base + KEY_DOCUMENT_PATH)).text());
}

async function postSealed(node: Node, body: Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${node.base}/execute`, {
    method: 'POST',
    headers: { 'content-type': SEALED_REQUEST_CONTENT_TYPE, ...headers },
    body: Buffer.from(body),
  });
  return { status: response.status, json: await response.json() };
}

const MAGIC_AND_LENGTH = 12;

/** The header of a sealed body (docs/sealed.md §3: "EPHSEAL1", u32be length, JCS header, chunks). */
function headerOf(body: Uint8Array): Record<string, unknown> {
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(8);
  return JSON.parse(Buffer.from(body.subarray(MAGIC_AND_LENGTH, MAGIC_AND_LENGTH + length)).toString('utf8'));
}

/** The body with its header changed and framed again (canonical, length updated): only the AEAD can tell. */
function reframe(body: Uint8Array, change: (header: Record<string, unknown>) => void): Uint8Array {
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(8);
  const header = headerOf(body);
  change(header);
  const bytes = new TextEncoder().encode(canonicalize(header));
  const chunks = body.subarray(MAGIC_AND_LENGTH + length);
  const out = new Uint8Array(MAGIC_AND_LENGTH + bytes.length + chunks.length);
  out.set(body.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, bytes.length);
  out.set(bytes, MAGIC_AND_LENGTH);
  out.set(chunks, MAGIC_AND_LENGTH + bytes.length);
  return out;
}

/** A certificate with the members its derivation adds for sealed input and results (docs/sealed.md §4–5). */

async function certificateOf(node: Node, answer: Answer): Promise<Certificate> {
  return (await fetch(node.base + answer.json.certificate_json_url)).json() as Promise<Certificate>;
}

describe('sealed submissions', () => {
  let messages: MessagesServer;
  let node: Node;

  beforeAll(async () => {
    messages = await startMessagesServer([answerReply('the model saw the data', [20, 6])]);
    node = await startNode({ ANTHROPIC_BASE_URL: messages.url, EPHEMERA_LLM_MAX_RETRIES: '0' });
  });
  afterAll(async () => {
    await stopNode(node);
    await messages?.close();
  });

  describe('the key document', () => {
    it('is served uncached, binds a statement naming this node and its TEE, and verifies with the simulated key pinned', async () => {
      const response = await fetch(node.base + KEY_DOCUMENT_PATH);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const document = parseKeyDocument(await response.text());
      expect(document.statement).toMatchObject({ suite: 'x25519-aes256gcm', node: node.services.nodeId, tee: await node.services.attestor.describe() });
      const verified = await checkKeyDocument(document, { trustedKeys: [node.publicKey] });
      expect(verified.document.statement_hash).toBe(document.statement_hash);
      // Another key pinned: the same document is not trusted.
      await expect(checkKeyDocument(document, { trustedKeys: ['ab'.repeat(32)] })).rejects.toMatchObject({ code: 'SEAL_KEY_UNTRUSTED' });
    });
  });

  describe('a sealed round trip through the client module', () => {
    const dataset = 'a,b\n1,2\n3,4\n';
    let answer: Answer;
    let statementHash: string;
    let certificate: Certificate;
    beforeAll(async () => {
      const sent = await submitSealed({ server: node.base, policy: { trustedKeys: [node.publicKey] }, input: input(dataset), crypto: nodeSealCrypto });
      answer = { status: sent.status, json: sent.body };
      statementHash = sent.statementHash;
      certificate = await certificateOf(node, answer);
    });

    it('runs like a plain request and answers which key statement the input was sealed to', () => {
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ status: 'completed', result: { output: '3\n' } });
      expect(answer.json.submission).toEqual({ mode: 'sealed', suite: 'x25519-aes256gcm', key_statement_hash: statementHash, sealed: ['dataset'] });
    });

    it('certifies the plaintext dataset by its hash, recorded as inline, with the submission in the certificate', async () => {
      expect(certificate.dataset_hash).toBe(sha256(new TextEncoder().encode(dataset)));
      expect(certificate.dataset).toMatchObject({ source: 'inline', bytes: dataset.length, submission: answer.json.submission });
      expect(await verifyCertificate(certificate, { trustedKeys: [node.publicKey] })).toMatchObject({ valid: true, trusted: true });
    });
  });

  describe('a sealed request with Prefer: respond-async', () => {
    it('answers 202 at once, then runs in the background like a plain one, and its certificate names the key statement', async () => {
      const document = await keyDocument(node);
      const { body } = await sealRequest(document, input('q\nr\n'), nodeSealCrypto);
      const accepted = await postSealed(node, body, { prefer: 'respond-async' });
      expect(accepted).toMatchObject({ status: 202, json: { state: 'queued' } });
      let state: Answer['json'] = null;
      for (let i = 0; i < 200 && state?.state !== 'certified'; i++) {
        state = await (await fetch(node.base + accepted.json.status_url)).json();
        if (state.state !== 'certified') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(state).toMatchObject({ state: 'certified' });
      const certificate = (await (await fetch(node.base + state.certificate_json_url)).json()) as Certificate;
      expect(certificate.dataset.submission?.key_statement_hash).toBe(document.statement_hash);
      expect(certificate.result.output).toBe('2\n');
    });
  });

  describe('a sealed API key', () => {
    it('reaches the model, and only the model', async () => {
      const document = await keyDocument(node);
      const llm = { llm: { prompt: 'Describe the dataset.', model: 'claude-test' }, environment: ENVIRONMENT };
      const { body } = await sealRequest(document, input('x,y\n', { sandbox: llm, apiKey: CANARY_KEY }), nodeSealCrypto);
      const answer = await postSealed(node, body);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ status: 'completed', result: { output: 'the model saw the data' } });
      expect(answer.json.submission.sealed).toEqual(['dataset', 'api_key']);
      const headers = messages.received[0]!.headers;
      expect(headers['x-api-key'] === CANARY_KEY || headers.authorization === `Bearer ${CANARY_KEY}`).toBe(true);
      expect(JSON.stringify(await certificateOf(node, answer))).not.toContain(CANARY_KEY);
    });
  });

  describe('tampering, at the HTTP level', () => {
    let document: KeyDocument;
    let sealed: Uint8Array;
    beforeAll(async () => {
      document = await keyDocument(node);
      sealed = (await sealRequest(document, input('t\n'), nodeSealCrypto)).body;
    });

    const encOf = () => headerOf(sealed).enc as string;
    const flipHex = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);

    it.each([
      ['a byte of ciphertext', () => Uint8Array.from(sealed, (b, i) => (i === sealed.length - 1 ? b ^ 1 : b)), 'SEALED_DECRYPT_FAILED'],
      ['the encapsulated key', () => reframe(sealed, (h) => (h.enc = flipHex(h.enc as string))), 'SEALED_DECRYPT_FAILED'],
      ['a header member (the dataset format)', () => reframe(sealed, (h) => (h.dataset = { format: 'txt', allow_empty: false })), 'SEALED_DECRYPT_FAILED'],
      [
        'a header member (the sandbox in the clear)',
        () => reframe(sealed, (h) => (h.sandbox = script('print(open("/etc/hostname").read())\n'))),
        'SEALED_DECRYPT_FAILED',
      ],
      ['the key statement named', () => reframe(sealed, (h) => (h.key_id = `sha256:${'0'.repeat(64)}`)), 'SEALED_KEY_UNKNOWN'],
      ['a truncated body', () => sealed.subarray(0, sealed.length - 7), 'SEALED_REQUEST_MALFORMED'],
      ['a body that is no sealed request', () => new TextEncoder().encode('{"dataset":{}}'), 'SEALED_REQUEST_MALFORMED'],
    ])('refuses %s with its code, and records nothing', async (_what, tamper, code) => {
      const before = node.appends.count;
      const answer = await postSealed(node, tamper());
      expect(answer.json.error.code).toBe(code);
      expect(answer.status).toBe(code === 'SEALED_KEY_UNKNOWN' ? 421 : 400);
      expect(node.appends.count).toBe(before);
      // The refusal names no header value.
      expect(JSON.stringify(answer.json)).not.toContain(encOf());
    });

    it('still runs the untampered request once, and refuses it replayed (409), recording nothing the second time', async () => {
      expect((await postSealed(node, sealed)).json).toMatchObject({ status: 'completed' });
      const before = node.appends.count;
      const replayed = await postSealed(node, sealed);
      expect(replayed.status).toBe(409);
      expect(replayed.json.error.code).toBe('SEALED_REPLAY');
      expect(node.appends.count).toBe(before);
    });
  });

  describe('keys', () => {
    it('refuses a statement another server issued (421), and a key past its not_after (410); a rotated key works until then', async () => {
      const other = await startNode();
      try {
        const foreign = await sealRequest(await keyDocument(other), input('f\n'), nodeSealCrypto);
        expect(await postSealed(node, foreign.body)).toMatchObject({ status: 421, json: { error: { code: 'SEALED_KEY_UNKNOWN' } } });
      } finally {
        await stopNode(other);
      }

      const old = await keyDocument(node);
      const toOld = async () => (await sealRequest(old, input('r\n'), nodeSealCrypto)).body;
      // An hour on: rotated. The old key is no longer the current one, and still opens requests (grace).
      node.clock.now += HOUR;
      await node.keyRing.rotate();
      const current = await keyDocument(node);
      expect(current.statement_hash).not.toBe(old.statement_hash);
      expect((await postSealed(node, await toOld())).json).toMatchObject({ status: 'completed' });
      // Past the old key's not_after (rotation + grace): expired, and the current key still works.
      node.clock.now += 11 * 60_000;
      const expired = await postSealed(node, await toOld());
      expect(expired).toMatchObject({ status: 410, json: { error: { code: 'SEALED_KEY_EXPIRED' } } });
      const fresh = await sealRequest(current, input('n\n'), nodeSealCrypto);
      expect((await postSealed(node, fresh.body)).json).toMatchObject({ status: 'completed' });
    });

    it('refuses a suite other than the statement names (400), before opening anything', async () => {
      const document = await keyDocument(node);
      const { body } = await sealRequest(document, input('s\n'), nodeSealCrypto);
      // An X-Wing encapsulation is 1120 bytes: well-formed for the suite the header now names, not the statement's.
      const swapped = reframe(body, (h) => {
        h.suite = 'xwing-aes256gcm';
        h.enc = randomBytes(1120).toString('hex');
      });
      expect(await postSealed(node, swapped)).toMatchObject({ status: 400, json: { error: { code: 'SEALED_SUITE_MISMATCH' } } });
    });
  });

  describe('sealed results', () => {
    it('certifies an empty result and the ciphertext; the key file opens it and checks the committed hash', async () => {
      const key = await generateResultKey(nodeSealCrypto);
      const { body } = await sealRequest(await keyDocument(node), input('r1\nr2\n', { resultRecipient: key.public_key }), nodeSealCrypto);
      const answer = await postSealed(node, body);
      expect(answer.json).toMatchObject({ status: 'completed', result: { output: '', json: null, stderr_tail: null } });
      const certificate = await certificateOf(node, answer);
      expect(certificate.result).toMatchObject({ output: '', bytes: 0, sealed: { suite: 'x25519-aes256gcm', recipient: key.public_key } });
      expect(answer.json.result.sealed).toEqual(certificate.result.sealed);
      const opened = await openSealedResult(certificate, key, nodeSealCrypto);
      expect(opened.result.output).toBe('2\n');
      // The entry script's output hash is keyed by the salt inside the sealed result: a reader cannot confirm a
      // guessed output from it; the owner, holding the salt, recomputes it (docs/sealed.md §5).
      const completed = certificate.events.find((e) => e.type === 'tool.completed')!.data as { output_hash: string };
      const length = Buffer.alloc(8);
      length.writeBigUInt64BE(2n);
      const unkeyed = createHash('sha256').update(length).update('2\n').digest('hex');
      const keyed = createHash('sha256').update(Buffer.from(opened.salt, 'hex')).update(length).update('2\n').digest('hex');
      expect(completed.output_hash).toBe(`sha256:${keyed}`);
      expect(completed.output_hash).not.toBe(`sha256:${unkeyed}`);
      expect(await verifyCertificate(certificate, { trustedKeys: [node.publicKey] })).toMatchObject({ valid: true });
      // Another key does not open it.
      await expect(openSealedResult(certificate, await generateResultKey(nodeSealCrypto), nodeSealCrypto)).rejects.toMatchObject({
        code: 'SEALED_RESULT_KEY_MISMATCH',
      });
    });

    it("seals a failed run's stderr tail too, and works for a plain JSON request that names a recipient", async () => {
      const key = await generateResultKey(nodeSealCrypto);
      const marker = `stderr-marker-${randomBytes(6).toString('hex')}`;
      const response = await fetch(`${node.base}/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          dataset: { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' },
          sandbox: script(`import sys\nsys.stderr.write("${marker}")\nsys.exit(3)\n`),
          result_recipient: key.public_key,
        }),
      });
      const answer: Answer = { status: response.status, json: await response.json() };
      expect(answer.json).toMatchObject({ status: 'failed', submission: null, result: { error_code: 'EXECUTION_NONZERO_EXIT', stderr_tail: null } });
      const certificate = await certificateOf(node, answer);
      expect(JSON.stringify(certificate)).not.toContain(marker);
      const opened = await openSealedResult(certificate, key, nodeSealCrypto);
      expect(opened.stderr_tail?.text).toContain(marker);
    });

    it('refuses a recipient no result can be sealed to, before anything is recorded', async () => {
      const before = node.appends.count;
      const { body } = await sealRequest(await keyDocument(node), input('z\n', { resultRecipient: '00'.repeat(32) }), nodeSealCrypto);
      const answer = await postSealed(node, body);
      expect(answer).toMatchObject({ status: 400, json: { error: { code: 'REQUEST_INVALID', field: 'body.result_recipient' } } });
      expect(node.appends.count).toBe(before);
    });
  });

  describe('when the attestor fails at start', () => {
    it('serves plain requests, answers the key route 503 ATTEST_UNAVAILABLE, and refuses sealed ones as unknown keys', async () => {
      const keyless = await startNode({}, true);
      try {
        const keyRoute = await fetch(keyless.base + KEY_DOCUMENT_PATH);
        expect(keyRoute.status).toBe(503);
        expect(((await keyRoute.json()) as Answer['json']).error.code).toBe('ATTEST_UNAVAILABLE');
        const plain = await fetch(`${keyless.base}/execute`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dataset: { data: `base64:${Buffer.from('a\n').toString('base64')}`, format: 'txt' }, sandbox: script(COUNT_LINES) }),
        });
        expect(((await plain.json()) as Answer['json']).status).toBe('completed');
        const { body } = await sealRequest(await keyDocument(node), input('k\n'), nodeSealCrypto);
        expect((await postSealed(keyless, body)).status).toBe(421);
      } finally {
        await stopNode(keyless);
      }
    });
  });

  describe('with EPHEMERA_REQUIRE_SEALED', () => {
    let strict: Node;
    beforeAll(async () => {
      strict = await startNode({ EPHEMERA_REQUIRE_SEALED: 'true', EPHEMERA_DATASET_URL_ALLOW: '127.0.0.1', EPHEMERA_DATASET_URL_ALLOW_HTTP: 'true' });
    });
    afterAll(() => stopNode(strict));

    it.each([
      ['an inline dataset', { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' }],
      ['a dataset URL', { url: 'http://127.0.0.1:9/data.csv', format: 'csv' }],
    ])('refuses a plain request with %s (403), before its body is used', async (_what, dataset) => {
      const response = await fetch(`${strict.base}/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataset, sandbox: script(COUNT_LINES) }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as Answer['json']).error.code).toBe('SEALED_REQUIRED');
      expect(strict.appends.count).toBe(0);
    });

    it.each([
      ['a JSON media type with a charset', 'application/json; charset=utf-8'],
      ['the JSON media type in capitals', 'APPLICATION/JSON'],
      ['text/plain', 'text/plain'],
      ['a media type that only starts like the sealed one', `${SEALED_REQUEST_CONTENT_TYPE}-json`],
      ['the sealed type listed after another', `application/json, ${SEALED_REQUEST_CONTENT_TYPE}`],
    ])('refuses a plain body sent as %s (403), recording nothing', async (_what, contentType) => {
      const response = await fetch(`${strict.base}/execute`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: JSON.stringify({ dataset: { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' }, sandbox: script(COUNT_LINES) }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as Answer['json']).error.code).toBe('SEALED_REQUIRED');
      expect(strict.appends.count).toBe(0);
    });

    it('reads a JSON body sent under the sealed type, with parameters or in capitals, as a sealed one: malformed, not run', async () => {
      const json = JSON.stringify({ dataset: { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' }, sandbox: script(COUNT_LINES) });
      for (const contentType of [
        `${SEALED_REQUEST_CONTENT_TYPE}; charset=utf-8`,
        SEALED_REQUEST_CONTENT_TYPE.toUpperCase(),
        `${SEALED_REQUEST_CONTENT_TYPE} ; x=y`,
      ]) {
        const response = await fetch(`${strict.base}/execute`, { method: 'POST', headers: { 'content-type': contentType }, body: json });
        expect(response.status).toBe(400);
        expect(((await response.json()) as Answer['json']).error.code).toBe('SEALED_REQUEST_MALFORMED');
      }
      expect(strict.appends.count).toBe(0);
    });

    it('accepts a sealed one', async () => {
      const { body } = await sealRequest(await keyDocument(strict), input('a\nb\n'), nodeSealCrypto);
      expect((await postSealed(strict, body)).json).toMatchObject({ status: 'completed', result: { output: '2\n' } });
    });
  });
});
