/**
 * Sealed submissions through the real `ephemera` binary against a real `ephemera serve` (Kafka log on the shared
 * broker, simulated TEE), with a recording proxy in between that stands for whatever terminates TLS: it sees every
 * request and answer. submit refuses an unpinned key without sending anything; once the attestor key is pinned it
 * sends, and the certificate names the key statement; keygen + --result-key + open round-trips the result; another
 * key cannot open it. Then the canary sweep (docs/sealed.md): neither the dataset marker nor the API key is in any
 * log line, event, answer, certificate, the data directory, the Kafka topic or the temporary folders.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../nodes/node-process.js';
import { readTopic } from '../nodes/topic.js';
import { answerReply, startMessagesServer, type MessagesServer } from '../../src/sandbox/agent/testing/messages-server.js';
import { filesHolding } from '../../src/commands/execute/testing/disk-sweep.js';

const ROOT = join(import.meta.dirname, '../..');
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const TOPIC = `ephemera-sealed-cli-${randomBytes(4).toString('hex')}`;
const DATASET_RANDOM = randomBytes(12).toString('hex');
const KEY_RANDOM = randomBytes(12).toString('hex');
const DATASET_CANARY = `DATASETCANARY${DATASET_RANDOM}`;
const KEY_CANARY = `sk-ant-sealedcanary-${KEY_RANDOM}`;
/**
 * Every form a canary could take in a text: as is, its random part alone, base64 (a plain request's dataset), hex.
 * Only forms that hold the random part: this file's own source (vitest caches it, source map and all) names the prefixes.
 */
const forms = (canary: string, random: string) => [canary, random, Buffer.from(canary).toString('base64'), Buffer.from(canary).toString('hex')];

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'ephemera-sealed-cli-'));
const inputs = join(dir, 'inputs');
const configHome = join(dir, 'config');

interface Seen {
  requests: string[];
  answers: Buffer[];
}

/** A forwarding proxy that records every request line and every answer body: what a TLS terminator would see. */
async function recordingProxy(target: string, seen: Seen): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    seen.requests.push(`${req.method} ${req.url}`);
    const upstream = httpRequest(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => seen.answers.push(Buffer.concat(chunks)));
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The CLI as a user runs it, with its own trust file; never this machine's ~/.config. */
function ephemera(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_CONFIG_HOME: configHome, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sandboxFile = (name: string, sandbox: Record<string, unknown>) => {
  const path = join(inputs, name);
  writeFileSync(path, JSON.stringify(sandbox));
  return path;
};
const script = (body: string) => ({ tools: ['bash'], scripts: { 'main.sh': body }, environment: { timeout_seconds: 20, max_memory_mb: 64 } });

describe('ephemera submit, keygen and open against a real serve', () => {
  let node: NodeProcess;
  let messages: MessagesServer;
  let proxy: { url: string; server: Server };
  const seen: Seen = { requests: [], answers: [] };
  const outputs: string[] = [];
  const dataset = join(inputs, 'patients.csv');
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const result = await ephemera(args, env);
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  beforeAll(async () => {
    mkdirSync(inputs);
    writeFileSync(dataset, `name,secret\nada,${DATASET_CANARY}\n`);
    messages = await startMessagesServer([answerReply('{"rows": 1}', [10, 5])]);
    node = await startNode({
      name: 'sealed',
      dataDir: join(dir, 'data'),
      env: { EPHEMERA_LOG: 'kafka', KAFKA_BROKERS: BROKERS.join(','), EPHEMERA_KAFKA_TOPIC: TOPIC, ANTHROPIC_BASE_URL: messages.url },
      startTimeoutMs: 60_000,
    });
    proxy = await recordingProxy(node.url, seen);
  }, 90_000);

  afterAll(async () => {
    proxy?.server.close();
    await node?.stop();
    await messages?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unpinned server key: nonzero exit, SEAL_KEY_UNTRUSTED, and no POST /execute reached the server', async () => {
    const sandbox = sandboxFile('count.json', script('wc -l < "$DATASET_PATH"'));
    const refused = await run(['submit', '--server', proxy.url, '--dataset', dataset, '--sandbox', sandbox]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^error SEAL_KEY_UNTRUSTED: /m);
    expect(refused.stderr).toContain('nothing was sent. To trust this server, pin its attestor key');
    expect(seen.requests).toContain('GET /.well-known/ephemera-seal-key.json');
    expect(seen.requests.filter((r) => r.startsWith('POST'))).toEqual([]);
  });

  it('refuses before it fetches or sends anything: a server URL with a path, an unwritable --out, a file that is no key file', async () => {
    const sandbox = sandboxFile('count-early.json', script('wc -l < "$DATASET_PATH"'));
    const before = seen.requests.length;
    const cases: [string[], RegExp][] = [
      [['--server', `${proxy.url}/api`], /^error CLI_USAGE: --server .*\/api: give the server's origin only/m],
      [['--server', proxy.url, '--out', join(dir, 'no-such-dir', 'c.json')], /^error CLI_OUT_UNWRITABLE: .*nothing was sent/m],
      [['--server', proxy.url, '--result-key', dataset], /^error SEALED_RESULT_KEY_INVALID: .* is not a result key file \(ephemera keygen/m],
    ];
    for (const [args, message] of cases) {
      const refused = await run(['submit', ...args, '--dataset', dataset, '--sandbox', sandbox]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(message);
    }
    expect(seen.requests.slice(before)).toEqual([]);
  });

  it('once the attestor key is pinned, verifies it, sends, and gets a certificate naming the served key statement', async () => {
    const pinned = await run(['trust', 'pin', node.url]);
    expect(pinned.code, pinned.stderr).toBe(0);
    const document = (await (await fetch(`${node.url}/.well-known/ephemera-seal-key.json`)).json()) as { statement_hash: string; statement: { node: string } };
    const out = join(dir, 'plain-result.json');
    const sandbox = sandboxFile('count.json', script('wc -l < "$DATASET_PATH"'));
    const sent = await run(['submit', '--server', proxy.url, '--dataset', dataset, '--sandbox', sandbox, '--out', out]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toContain("verified the server's key before sending anything:");
    expect(sent.stderr).toContain(`key statement ${document.statement_hash}, node ${document.statement.node}`);
    expect(sent.stderr).toMatch(/attested by simulated key sha256:[0-9a-f]{64} \(pinned; not hardware-backed\)/);
    expect(sent.stdout).toMatch(/^result {6}2$/m);
    expect(sent.stdout).toContain(`input       sealed to key statement ${document.statement_hash}`);
    const certificate = JSON.parse(readFileSync(out, 'utf8'));
    expect(certificate.dataset.submission).toMatchObject({ mode: 'sealed', key_statement_hash: document.statement_hash, sealed: ['dataset'] });
    expect((await run(['verify', out])).code).toBe(0);
    // The request body crossed the proxy as ciphertext only.
    expect(seen.requests.filter((r) => r.startsWith('POST'))).toEqual(['POST /execute']);
  });

  it('keygen + submit --result-key + open: the certificate carries only ciphertext; open shows the output and checks the commitment', async () => {
    const keyFile = join(dir, 'result.key');
    const made = await run(['keygen', '--out', keyFile]);
    expect(made.code, made.stderr).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = JSON.parse(readFileSync(keyFile, 'utf8'));
    expect(made.stdout).toContain(`public key ${key.public_key}`);
    expect((await run(['keygen', '--out', keyFile])).code).toBe(2); // never overwritten
    expect(JSON.parse(readFileSync(keyFile, 'utf8'))).toEqual(key);

    const out = join(dir, 'sealed-result.json');
    const sandbox = sandboxFile('echo.json', script('grep -o "DATASETCANARY[0-9a-f]*" "$DATASET_PATH"'));
    const sent = await run([
      'submit',
      '--server',
      proxy.url,
      '--dataset',
      dataset,
      '--sandbox',
      sandbox,
      '--seal-sandbox',
      '--result-key',
      keyFile,
      '--out',
      out,
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain(`result      sealed to ${key.public_key}`);
    const certificate = JSON.parse(readFileSync(out, 'utf8'));
    expect(certificate.dataset.submission.sealed).toEqual(['dataset', 'sandbox']);
    expect(certificate.result).toMatchObject({ output: '', sealed: { recipient: key.public_key } });

    const opened = await ephemera(['open', out, '--key', keyFile]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toContain(`result      ${DATASET_CANARY}`);
    expect(opened.stdout).toContain(`matches the certificate's commitment result_hash ${certificate.result.result_hash}`);

    const otherKey = join(dir, 'other.key');
    expect((await run(['keygen', '--out', otherKey])).code).toBe(0);
    const wrong = await run(['open', out, '--key', otherKey]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/^error SEALED_RESULT_KEY_MISMATCH: /m);
  });

  it('a failing sealed run: exit 3, its stderr tail sealed too, opened only with the key', async () => {
    const keyFile = join(dir, 'result.key');
    const out = join(dir, 'failed.json');
    const sandbox = sandboxFile('fail.json', script('cat "$DATASET_PATH" >&2\nexit 3\n'));
    const sent = await run(['submit', '--server', proxy.url, '--dataset', dataset, '--sandbox', sandbox, '--result-key', keyFile, '--out', out]);
    expect(sent.code, sent.stderr).toBe(3);
    const certificate = JSON.parse(readFileSync(out, 'utf8'));
    expect(certificate.status).toBe('failed');
    expect(certificate.result.stderr_tail).toBeUndefined();
    const opened = await ephemera(['open', out, '--key', keyFile, '--json']);
    expect(JSON.parse(opened.stdout).opened.stderr_tail.text).toContain(DATASET_CANARY);
  });

  it('seals the API key from the environment: the model provider gets it, nothing else holds it', async () => {
    const out = join(dir, 'llm.json');
    const sandbox = sandboxFile('llm.json', {
      llm: { prompt: 'Count the rows.', model: 'claude-test', max_turns: 2 },
      tools: ['bash'],
      environment: { timeout_seconds: 20, max_memory_mb: 128 },
    });
    const sent = await run(['submit', '--server', proxy.url, '--dataset', dataset, '--sandbox', sandbox, '--out', out, '--api-key-env', 'MY_KEY'], {
      MY_KEY: KEY_CANARY,
    });
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).dataset.submission.sealed).toEqual(['dataset', 'api_key']);
    const headers = messages.received[0]!.headers;
    expect(headers['x-api-key'] === KEY_CANARY || headers.authorization === `Bearer ${KEY_CANARY}`).toBe(true);
  });

  it('the canary sweep: neither the dataset marker nor the API key is in a log line, event, answer, certificate, file or the topic', async () => {
    const needles = [...forms(DATASET_CANARY, DATASET_RANDOM), ...forms(KEY_CANARY, KEY_RANDOM)];
    const holds = (text: string | Buffer) => needles.filter((n) => text.includes(n));
    expect(holds(node.output())).toEqual([]);
    expect(seen.answers.flatMap((a) => holds(a))).toEqual([]);
    // Certificates and what submit printed (open's output is the owner's plaintext, on purpose; it is not in `outputs`).
    expect(outputs.flatMap((o) => holds(o))).toEqual([]);
    const topic = await readTopic(BROKERS, TOPIC);
    expect(topic.size).toBeGreaterThanOrEqual(4);
    expect(holds(JSON.stringify([...topic.values()]))).toEqual([]);
    // The data directory, the temporary folders (this test's inputs, which hold the dataset, set aside).
    const hits = filesHolding(needles, [join(dir, 'data'), tmpdir(), '/dev/shm'], started).filter((hit) => !hit.startsWith(inputs));
    expect(hits).toEqual([]);
    // The sweep can see: it finds the marker where it is, in the dataset file, and it read real answers and logs.
    expect(filesHolding(needles, [inputs], started)).not.toEqual([]);
    expect(seen.answers.length).toBeGreaterThanOrEqual(8);
    expect(node.output()).toContain('ephemera listening on');
  });
});
