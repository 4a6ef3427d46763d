/**
 * The multi-node deployment's proxy, for real: HAProxy with deploy/nodes/haproxy.cfg (only the addresses changed
 * to this machine's loopback ports) in front of two `ephemera serve` nodes on one Kafka topic. Through the proxy:
 * a run is certified and its certificate is the same document whichever node serves it; an async run is followed
 * live over its event stream by `ephemera watch`; a node that drains leaves the pool and the proxy keeps serving
 * from the other one, every answer meanwhile either a certificate or a refusal with its code (never a bare 5xx).
 * Needs haproxy (Debian's package; .ci/run installs it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requireKafka } from '../../src/events/kafka-testing.js';
import { submitSealed, type SealRequestInput } from '../../src/seal/index.js';
import { nodeSealCrypto } from '../../src/seal/node-aead.js';
import { startNode, type NodeProcess } from './node-process.js';

const ROOT = join(import.meta.dirname, '../..');
const BROKERS = requireKafka();
const TOPIC = `ephemera.test.proxy.${ulid().toLowerCase()}`;

function haproxyBinary(): string {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return 'haproxy';
  } catch {
    throw new Error('haproxy missing: install it (Debian: apt-get install haproxy; .ci/run does) to test the multi-node proxy configuration');
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The shipped configuration with the two nodes' loopback addresses and a loopback port for the proxy; nothing else changed. */
function localConfig(proxyPort: number, nodePorts: number[]): string {
  const shipped = readFileSync(join(ROOT, 'deploy/nodes/haproxy.cfg'), 'utf8');
  expect(shipped).toMatch(/^ {2}bind :8080$/m);
  return shipped
    .replace(/^ {2}bind :8080$/m, `  bind 127.0.0.1:${proxyPort}`)
    .replace(/^ {2}server ephemera-(\d) ephemera-\d:8080(| cookie ephemera-\d)$/gm, (_line, n: string, cookie: string) =>
      Number(n) <= nodePorts.length ? `  server ephemera-${n} 127.0.0.1:${nodePorts[Number(n) - 1]}${cookie}` : '',
    );
}

const NOOP = (text: string) => ({
  dataset: { data: `base64:${Buffer.from(text).toString('base64')}`, format: 'txt' },
  sandbox: { tools: ['bash'], scripts: { 'main.sh': 'cat /data/dataset.txt' }, environment: { timeout_seconds: 20, max_memory_mb: 64 } },
});

describe('HAProxy in front of two nodes (deploy/nodes/haproxy.cfg)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-proxy-'));
  const nodes: NodeProcess[] = [];
  let proxy: ChildProcess | null = null;
  let proxyLog = '';
  let url = '';

  beforeAll(async () => {
    const binary = haproxyBinary();
    for (const name of ['node-1', 'node-2'])
      nodes.push(
        await startNode({
          name,
          dataDir: join(dir, name),
          env: {
            EPHEMERA_LOG: 'kafka',
            KAFKA_BROKERS: BROKERS.join(','),
            EPHEMERA_KAFKA_TOPIC: TOPIC,
            EPHEMERA_KAFKA_PARTITIONS: '3',
            EPHEMERA_NODE_ID: name,
            // As docker-compose.nodes.yml sets it: the listener outlives the proxy's notice of the drain.
            EPHEMERA_DRAIN_GRACE_MS: '6000',
          },
        }),
      );
    const proxyPort = await freePort();
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(
      config,
      localConfig(
        proxyPort,
        nodes.map((node) => Number(new URL(node.url).port)),
      ),
    );
    proxy = spawn(binary, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    proxy.stdout!.on('data', (chunk) => (proxyLog += chunk));
    proxy.stderr!.on('data', (chunk) => (proxyLog += chunk));
    url = `http://127.0.0.1:${proxyPort}`;
    // Both nodes in the pool: their /ready checks passed (rise 2, every 2 s).
    await vi.waitFor(
      async () => {
        const answers = await Promise.all([1, 2, 3, 4].map(() => fetch(`${url}/health`).then((r) => r.json() as Promise<{ node_id: string }>)));
        expect(new Set(answers.map((a) => a.node_id))).toEqual(new Set(['node-1', 'node-2']));
      },
      { timeout: 30_000, interval: 250 },
    );
  }, 120_000);

  afterAll(async () => {
    proxy?.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('certifies a run, and serves its certificate as the same bytes from either node', async () => {
    const response = await fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(NOOP('one')) });
    expect(response.status, proxyLog).toBe(200);
    const { certificate_id: id } = (await response.json()) as { certificate_id: string };
    // Each node serves it once its projection has the whole sealed stream (before that, the open stream's document).
    for (const node of nodes)
      await vi.waitFor(async () => expect((await fetch(`${node.url}/certificate/${id}`)).headers.get('ephemera-execution-state')).toBe('certified'), {
        timeout: 20_000,
        interval: 100,
      });
    const texts = await Promise.all(nodes.map(async (node) => (await fetch(`${node.url}/certificate/${id}`)).text()));
    expect(texts[0]).toBe(texts[1]);
    expect(await (await fetch(`${url}/certificate/${id}`)).text()).toBe(texts[0]);
  });

  it('lets ephemera watch follow an async run live through the proxy, to its certificate', async () => {
    const accepted = await fetch(`${url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ ...NOOP('two'), sandbox: { ...NOOP('two').sandbox, scripts: { 'main.sh': 'sleep 1; cat /data/dataset.txt' } } }),
    });
    expect(accepted.status).toBe(202);
    const { execution_id: executionId } = (await accepted.json()) as { execution_id: string };
    const watched = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'watch', executionId, '--server', url, '--data-dir', join(dir, 'cli')], {
        cwd: ROOT,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toBe(`certificate cert_${executionId}\nstatus      completed\n`);
    expect(watched.stderr).toMatch(/sandbox created[\s\S]*sealed and attested/);
  });

  it("takes each sealed submission to the node holding its key: the key document's answer sets the sticky cookie, the POST returns it", async () => {
    // Each node's key lives in its memory only; without stickiness leastconn alternates, and the POST meets the other node (421).
    const pins = await Promise.all(
      nodes.map(async (node) => ((await (await fetch(`${node.url}/.well-known/ephemera-key.json`)).json()) as { public_key: string }).public_key),
    );
    const sandbox = NOOP('').sandbox as SealRequestInput['sandbox'];
    for (let i = 0; i < 4; i++) {
      const sent = await submitSealed({
        server: url,
        policy: { trustedKeys: pins },
        input: { dataset: Buffer.from(`sealed ${i}\n`), format: 'txt', sandbox },
        crypto: nodeSealCrypto,
      });
      expect(sent.status, `${JSON.stringify(sent.body)}\n${proxyLog}`).toBe(200);
      expect(sent.body).toMatchObject({ status: 'completed', submission: { key_statement_hash: sent.statementHash } });
    }
  });

  it('takes a draining node out of the pool and keeps serving from the other: every answer a certificate or a refusal with its code', async () => {
    const [draining, staying] = nodes as [NodeProcess, NodeProcess];
    const stopped = draining.stop(30_000);
    const answers: { status: number; code: string | null }[] = [];
    const deadline = Date.now() + 10_000;
    // Long enough for the proxy's check to fail twice (inter 2 s, fall 2), and past the node's drain grace (6 s).
    while (Date.now() < deadline) {
      const response = await fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(NOOP('three')) });
      const body = (await response.json().catch(() => null)) as { certificate_id?: string; error?: { code: string } } | null;
      answers.push({ status: response.status, code: body?.error?.code ?? null });
    }
    await stopped;
    const unexplained = answers.filter((a) => a.status !== 200 && !(a.status === 503 && a.code === 'SERVER_DRAINING'));
    expect(unexplained, proxyLog).toEqual([]);
    // The last answers all came from the node that stayed: certified.
    expect(answers.slice(-3).map((a) => a.status)).toEqual([200, 200, 200]);
    const health = (await (await fetch(`${url}/health`)).json()) as { node_id: string };
    expect(health.node_id).toBe(staying.name);
  });
});
