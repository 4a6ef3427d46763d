/**
 * The test that matters (issue 18, item 5): three `ephemera serve` processes on one machine share one Kafka topic
 * of several partitions, each with its own data directory, port and node id; real broker, real bubblewrap.
 * 150 executions spread over the nodes with up to 8 in flight; each certificate is fetched from a node other than
 * the one that issued it and verified with the repository's verifier, the three nodes' keys pinned. After ~50,
 * one node is killed with kill -9 (its whole process group). Then: no acknowledged event lost, no certificate
 * for an incomplete stream, the killed node's unanswered runs are never certified (abandoned past the lease, or
 * aborted once it is back), the survivors kept serving, and the node restarted on its data directory closes its
 * orphans and catches up. The `it`s below run in order over one shared run; each failure names the node, the
 * execution (request index, execution id) and the step.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKafka } from '../../src/events/kafka-testing.js';
import { DEFAULT_LEASE_MS, streamState, verifyStream, type EventEnvelope } from '../../src/events/index.js';
import { nodeSha256 } from '../../src/events/node-hash.js';
import { certificateJson, deriveCertificate, executionIdOf, verifyCertificateText, type Verdict } from '../../src/verify/index.js';
import { commandOf, descendantsOf, isAlive, startNode, type NodeProcess } from './node-process.js';
import { readTopic, type TopicStream } from './topic.js';

const BROKERS = requireKafka();
const TOPIC = `ephemera.test.three-nodes.${ulid().toLowerCase()}`;
const PARTITIONS = 6;
const TOTAL = 150;
const IN_FLIGHT = 8;
const KILL_AT = 50;
const NAMES = ['node-a', 'node-b', 'node-c'] as const;
type NodeName = (typeof NAMES)[number];
const VICTIM: NodeName = 'node-b';
/** Bounds of every wait: a node projecting a certificate, a killed node's processes going, a restarted node catching up. */
const PROJECTED_WITHIN_MS = 20_000;
const PROCESSES_GONE_WITHIN_MS = 5_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** The run's declared deadline: what the lease of an open stream counts from. */
const TIMEOUT_SECONDS = 10;

interface Run {
  index: number;
  node: NodeName;
  datasetHash: string;
  /** certified: answered 200; refused: answered otherwise; no_answer: the connection ended without one. */
  outcome?: 'certified' | 'refused' | 'no_answer';
  detail?: string;
  certificateId?: string;
  executionId?: string;
}

interface Fetched {
  run: Run;
  reader: NodeName;
  text: string;
  verdict: Verdict;
  readerVerdict: { valid: boolean; trusted: boolean; key?: { fingerprint: string } };
}

const root = mkdtempSync(join(tmpdir(), 'ephemera-three-nodes-'));
const nodes = new Map<NodeName, NodeProcess>();
const pins = new Map<NodeName, { public_key: string; fingerprint: string }>();
const runs: Run[] = [];
const fetched: Fetched[] = [];
const fetchFailures: string[] = [];
/** The kill's own request (the last the victim was sent), the victim's requests in flight then, and its processes. */
let killedAt: { index: number; inFlight: Set<number>; processes: number[] } | null = null;
/** Set the moment the kill begins (it waits for its own run's sandbox first): from then on no other request is sent to the victim. */
let killing = false;
let restarted = false;
/** What survivors served for the killed node's unanswered runs: documents of open streams. */
const unsealedDocuments: { run: Run; executionId: string; reader: NodeName; state: string | null }[] = [];
let topic: Map<string, TopicStream> = new Map();
const timings: Record<string, number> = {};

const envOf = (name: NodeName): Record<string, string> => ({
  EPHEMERA_LOG: 'kafka',
  KAFKA_BROKERS: BROKERS.join(','),
  EPHEMERA_KAFKA_TOPIC: TOPIC,
  EPHEMERA_KAFKA_PARTITIONS: String(PARTITIONS),
  EPHEMERA_NODE_ID: name,
});
const start = async (name: NodeName) => nodes.set(name, await startNode({ name, dataDir: join(root, name), env: envOf(name) }));
const live = () => NAMES.filter((name) => name !== VICTIM || !killing || restarted);
const where = (run: Run) => `request #${run.index} to ${run.node}${run.executionId ? ` (execution ${run.executionId})` : ''}`;

function datasetOf(index: number): Buffer {
  return Buffer.from(`run ${index} on ${TOPIC}\n`);
}

/** The kill's own run stays this long in its sandbox: long enough to be found there, well within its timeout. */
const KILL_RUN_SLEEP_SECONDS = 5;
/** How long the kill waits for that sandbox before the test fails. */
const KILL_WAIT_MS = 30_000;

function bodyOf(index: number): string {
  return JSON.stringify({
    dataset: { data: `base64:${datasetOf(index).toString('base64')}`, format: 'txt' },
    // Each run sleeps a moment in its sandbox; the kill's own run sleeps long enough to be found there.
    sandbox: {
      tools: ['bash'],
      scripts: { 'main.sh': `sleep ${index === KILL_AT ? KILL_RUN_SLEEP_SECONDS : 0.2}\nwc -c < "$DATASET_PATH"\n` },
      environment: { timeout_seconds: TIMEOUT_SECONDS, max_memory_mb: 64 },
    },
  });
}

async function getJson(node: NodeName, path: string): Promise<{ status: number; body: unknown; text: string; state: string | null }> {
  const response = await fetch(`${nodes.get(node)!.url}${path}`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text says what came back.
  }
  return { status: response.status, body, text, state: response.headers.get('ephemera-execution-state') };
}

async function execute(run: Run): Promise<void> {
  try {
    const response = await fetch(`${nodes.get(run.node)!.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bodyOf(run.index),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json()) as { certificate_id?: string; error?: { code: string; message: string } };
    if (response.status === 200 && body.certificate_id) {
      run.outcome = 'certified';
      run.certificateId = body.certificate_id;
      run.executionId = executionIdOf(body.certificate_id) ?? undefined;
    } else {
      run.outcome = 'refused';
      run.detail = `${response.status} ${body.error?.code}: ${body.error?.message}`;
    }
  } catch (error) {
    run.outcome = 'no_answer';
    run.detail = String((error as Error & { cause?: Error }).cause ?? error);
  }
}

/** The certificate from a live node other than its issuer, polled until that node has projected it; then verified. */
async function fetchElsewhere(run: Run): Promise<void> {
  const deadline = Date.now() + PROJECTED_WITHIN_MS;
  let last = '';
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const others = live().filter((name) => name !== run.node);
    const reader = others[(run.index + attempt) % others.length]!;
    try {
      const response = await getJson(reader, `/certificate/${run.certificateId}`);
      // A node serves a stream's document as soon as it projected part of it; the certificate is the sealed one.
      if (response.status === 200 && isSealed(response.body)) {
        const trustKeys = [...pins.values()].map((pin) => `trust_key=${pin.fingerprint}`).join('&');
        const readerVerdict = (await getJson(reader, `/certificate/${run.certificateId}/verify?${trustKeys}`)).body as Fetched['readerVerdict'];
        const verdict = await verifyCertificateText(response.text, { trustedKeys: [...pins.values()].map((pin) => pin.public_key), sha256: nodeSha256 });
        fetched.push({ run, reader, text: response.text, verdict, readerVerdict });
        return;
      }
      last = `${reader} answered ${response.status} ${response.text.slice(0, 200)}`;
    } catch (error) {
      last = `${reader}: ${String(error)}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fetchFailures.push(`${where(run)}: certificate ${run.certificateId} not served by another node within ${PROJECTED_WITHIN_MS} ms (last: ${last})`);
}

/** Request `index` of the workload, to `node`. */
const runOf = (index: number, node: NodeName): Run => ({
  index,
  node,
  datasetHash: `sha256:${createHash('sha256').update(datasetOf(index)).digest('hex')}`,
});

/**
 * kill -9 the victim's process group while a run of its own is mid-stream, remembering every process it had
 * started (its sandboxes among them). The kill's run is request `index`, sent to the victim here and kept in its
 * sandbox for seconds: waiting for one of the runs already there to be in its sandbox is a race those runs can
 * win (each sandbox lasts 0.2 s).
 */
async function killVictim(index: number): Promise<void> {
  // Before the first await: the other workers' next requests go to survivors, so every request the victim leaves
  // unanswered was in flight at the kill.
  killing = true;
  const victim = nodes.get(VICTIM)!;
  const run = runOf(index, VICTIM);
  runs.push(run);
  const answered = execute(run);
  // Mid-run: a sandbox is up, so its execution.requested is acknowledged and its seal not yet written.
  const deadline = Date.now() + KILL_WAIT_MS;
  let processes = descendantsOf(victim.pid);
  while (!processes.some((pid) => commandOf(pid) === 'bwrap')) {
    if (Date.now() > deadline) throw new Error(`no sandbox of ${VICTIM} appeared within ${KILL_WAIT_MS} ms of request #${index}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    processes = descendantsOf(victim.pid);
  }
  const inFlight = new Set(runs.filter((r) => r.node === VICTIM && r.outcome === undefined).map((r) => r.index));
  killedAt = { index, inFlight, processes };
  await victim.kill9();
  await answered;
}

async function runWorkload(): Promise<void> {
  const fetches: Promise<void>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < TOTAL) {
      const index = next++;
      if (index === KILL_AT) {
        await killVictim(index);
        continue;
      }
      const names = live();
      const run = runOf(index, names[index % names.length]!);
      runs.push(run);
      await execute(run);
      if (run.outcome === 'certified') fetches.push(fetchElsewhere(run));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await Promise.all(fetches);
}

function isSealed(document: unknown): boolean {
  return (document as { merkle?: unknown } | null)?.merkle != null;
}

function streamOf(run: Run): TopicStream | undefined {
  return run.executionId ? topic.get(run.executionId) : undefined;
}

/** The victim's requests that got no answer, with the stream each left on the topic (found by its dataset's hash). */
function orphans(): { run: Run; executionId: string; events: EventEnvelope[] }[] {
  const byDataset = new Map<string, [string, EventEnvelope[]]>();
  for (const [executionId, { events }] of topic) {
    const hash = (events[0]?.data as { dataset_hash?: string } | undefined)?.dataset_hash;
    if (hash) byDataset.set(hash, [executionId, events]);
  }
  return runs
    .filter((run) => run.node === VICTIM && run.outcome === 'no_answer' && byDataset.has(run.datasetHash))
    .map((run) => {
      const [executionId, events] = byDataset.get(run.datasetHash)!;
      return { run, executionId, events };
    });
}

describe(`three nodes on one Kafka topic (${PARTITIONS} partitions), ${TOTAL} runs, ${VICTIM} killed with kill -9 after ${KILL_AT}`, () => {
  beforeAll(async () => {
    const started = Date.now();
    // One at a time: the first creates the topic with its partitions, the others find it.
    for (const name of NAMES) await start(name);
    for (const name of NAMES) {
      const key = (await getJson(name, '/.well-known/ephemera-key.json')).body as { public_key: string; fingerprint: string };
      pins.set(name, key);
    }
    timings.start_ms = Date.now() - started;
  });

  afterAll(async () => {
    await Promise.all([...nodes.values()].map((node) => node.stop(3000)));
    rmSync(root, { recursive: true, force: true });
    process.stderr.write(`three-nodes timings: ${JSON.stringify(timings)}\n`);
  });

  it('every request to a survivor is answered with a certificate that another node serves and the verifier trusts', async () => {
    const started = Date.now();
    await runWorkload();
    timings.workload_ms = Date.now() - started;
    expect(new Set(pins.values()).size, 'each node has its own key').toBe(3);

    const survivorFailures = runs
      .filter((run) => run.node !== VICTIM && run.outcome !== 'certified')
      .map((run) => `${where(run)}: ${run.outcome} ${run.detail}`);
    expect(survivorFailures, 'requests to survivors that failed').toEqual([]);
    // Before the kill every node answered; after it, only the victim's requests still in flight went unanswered.
    const victimFailures = runs.filter((run) => run.node === VICTIM && run.outcome !== 'certified');
    expect(
      victimFailures
        .filter((run) => run.outcome !== 'no_answer' || !killedAt!.inFlight.has(run.index))
        .map((run) => `${where(run)}: ${run.outcome} ${run.detail}`),
      `${VICTIM}'s requests that failed otherwise than by its kill`,
    ).toEqual([]);
    expect(runs.find((run) => run.index === killedAt!.index)?.outcome, `the kill's own request #${killedAt!.index}`).toBe('no_answer');
    expect(runs).toHaveLength(TOTAL);

    expect(fetchFailures, 'certificates no other node served').toEqual([]);
    const certified = runs.filter((run) => run.outcome === 'certified');
    expect(fetched).toHaveLength(certified.length);
    const bad = fetched
      .filter(
        ({ run, reader, verdict, readerVerdict }) =>
          reader === run.node ||
          !verdict.valid ||
          !verdict.trusted ||
          verdict.key?.fingerprint !== pins.get(run.node)!.fingerprint ||
          !readerVerdict.valid ||
          !readerVerdict.trusted,
      )
      .map(
        ({ run, reader, verdict, readerVerdict }) =>
          `${where(run)} read from ${reader}: verifier ${verdict.status} (${verdict.failure?.code ?? 'ok'}, key ${verdict.key?.fingerprint}), ${reader}'s /verify valid=${readerVerdict.valid} trusted=${readerVerdict.trusted}`,
      );
    expect(bad, 'certificates that did not verify, or named another key than their issuer').toEqual([]);
  });

  it(`kill -9 of ${VICTIM}'s process group leaves none of its processes (sandboxes included) running`, async () => {
    expect(killedAt, 'the kill happened').not.toBeNull();
    expect(killedAt!.processes.length, `${VICTIM} had child processes (sandboxes in flight) when killed`).toBeGreaterThan(0);
    const deadline = Date.now() + PROCESSES_GONE_WITHIN_MS;
    while (killedAt!.processes.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(killedAt!.processes.filter(isAlive), `processes of ${VICTIM} alive ${PROCESSES_GONE_WITHIN_MS} ms after its kill`).toEqual([]);
  });

  it('the survivors are ready and each serves every certificate, whichever partition and node it came from', async () => {
    const missing: string[] = [];
    for (const name of live()) {
      expect((await getJson(name, '/ready')).status, `${name} /ready`).toBe(200);
      for (const { run } of fetched) {
        const { status } = await getJson(name, `/certificate/${run.certificateId}`);
        if (status !== 200) missing.push(`${name} answers ${status} for the certificate of ${where(run)}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('loses no acknowledged event: every run answered 200 has its whole sealed stream on the topic, and that is the certificate served', async () => {
    topic = await readTopic(BROKERS, TOPIC);
    const problems: string[] = [];
    for (const { run, reader, text } of fetched) {
      const stream = streamOf(run);
      if (!stream) {
        problems.push(`${where(run)}: no events on the topic`);
        continue;
      }
      try {
        verifyStream(stream.events, run.executionId, nodeSha256);
      } catch (error) {
        problems.push(`${where(run)}: the stream on partition ${stream.partition} does not verify: ${(error as Error).message}`);
        continue;
      }
      if (stream.events.at(-1)?.type !== 'certificate.sealed') problems.push(`${where(run)}: its stream ends with ${stream.events.at(-1)?.type}`);
      else if (certificateJson(deriveCertificate(stream.events)) !== text)
        problems.push(`${where(run)}: ${reader} serves another certificate than the topic's stream makes`);
    }
    expect(problems).toEqual([]);
    expect(new Set([...topic.values()].map((s) => s.partition)).size, 'the runs spread over several partitions').toBeGreaterThan(1);
  });

  it('seals no incomplete stream: every stream on the topic with certificate.sealed verifies as a whole', async () => {
    const problems: string[] = [];
    const trustedKeys = [...pins.values()].map((pin) => pin.public_key);
    for (const [executionId, { events }] of topic) {
      const sealed = events.filter((event) => event.type === 'certificate.sealed');
      if (sealed.length === 0) continue;
      if (sealed.length > 1 || events.at(-1) !== sealed[0]) problems.push(`execution ${executionId}: certificate.sealed is not its one last event`);
      const verdict = await verifyCertificateText(certificateJson(deriveCertificate(events)), { trustedKeys, sha256: nodeSha256 });
      if (!verdict.valid || !verdict.trusted)
        problems.push(`execution ${executionId}: ${verdict.status} (${verdict.failure?.code}: ${verdict.failure?.message})`);
    }
    expect(problems).toEqual([]);
  });

  it(`leaves ${VICTIM}'s unanswered runs that were not sealed uncertified: open until the lease runs out, then abandoned`, async () => {
    const open = orphans();
    const problems: string[] = [];
    expect(
      open.filter(({ events }) => streamState(events, Date.now()) !== 'certified'),
      `${VICTIM} was killed with some run mid-stream`,
    ).not.toEqual([]);
    for (const { run, executionId, events } of open) {
      const state = streamState(events, Date.now());
      // Sealed before the kill, answered never: a whole stream (the test above verified it), only its answer was lost.
      if (state === 'certified') continue;
      const requested = Date.parse(events[0]!.at);
      const lastAt = Date.parse(events.at(-1)!.at);
      const leaseOver = Math.max(requested + TIMEOUT_SECONDS * 1000, lastAt) + DEFAULT_LEASE_MS + 1;
      if (state === 'running' && streamState(events, leaseOver) !== 'abandoned')
        problems.push(`${where(run)} (execution ${executionId}): not abandoned after its lease`);
      for (const name of live()) {
        const { status, body, state } = await getJson(name, `/certificate/cert_${executionId}`);
        // 404 until it projected the stream; then the open stream's document, which is no certificate: never sealed.
        if (status === 200 && isSealed(body)) problems.push(`${name} serves a sealed certificate for ${where(run)} (execution ${executionId})`);
        else if (status === 200) unsealedDocuments.push({ run, executionId, reader: name, state });
        else if (status !== 404) problems.push(`${name} answers ${status} for the document of ${where(run)} (execution ${executionId})`);
      }
    }
    expect(problems).toEqual([]);
    process.stderr.write(
      `three-nodes: ${VICTIM} killed during request #${killedAt?.index}; ${runs.filter((r) => r.outcome === 'no_answer').length} unanswered, ${open.length} of them with a stream on the topic, ending with ${open.map(({ events }) => events.at(-1)!.type).join(', ')}\n`,
    );
  });

  it(`says so: a survivor serves an unsealed run of ${VICTIM} as running or abandoned, never as certified`, () => {
    // The document is the stream's fold (an executor killed after execution.completed leaves one whose status reads
    // "completed", as a verifier re-derives it); what the run came to is the route's Ephemera-Execution-State.
    const misleading = unsealedDocuments.filter(({ state }) => state !== 'running' && state !== 'abandoned');
    expect(
      misleading.map(({ run, executionId, reader, state }) => `${reader} serves ${where(run)} (execution ${executionId}) unsealed as state "${state}"`),
    ).toEqual([]);
  });

  it(`restarted on its data directory, ${VICTIM} closes its orphaned runs as aborted (executor_restarted)`, async () => {
    const started = Date.now();
    await start(VICTIM);
    restarted = true;
    timings.restart_ms = Date.now() - started;
    const open = orphans().filter(({ events }) => !['certificate.sealed', 'execution.aborted'].includes(events.at(-1)!.type));
    // It aborts them as it starts (helper `nodes`, issue 18 item 3); give the topic a moment to show it.
    const deadline = Date.now() + 10_000;
    let unclosed = open;
    while (unclosed.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      topic = await readTopic(BROKERS, TOPIC);
      unclosed = open.filter(({ executionId }) => {
        const last = topic.get(executionId)?.events.at(-1);
        return last?.type !== 'execution.aborted' || (last.data as { reason?: string }).reason !== 'executor_restarted';
      });
    }
    expect(
      unclosed.map(({ run, executionId }) => `${where(run)} (execution ${executionId}) still ends with ${topic.get(executionId)?.events.at(-1)?.type}`),
      `${VICTIM}'s runs left open by the kill, 10 s after its restart`,
    ).toEqual([]);
    // And every node, the restarted one included, says so.
    const notAborted: string[] = [];
    for (const { run, executionId } of open)
      for (const name of NAMES) {
        const { status, body, state } = await getJson(name, `/certificate/cert_${executionId}`);
        const said = (body as { status?: string } | null)?.status;
        if (status !== 200 || said !== 'aborted' || state !== 'aborted' || isSealed(body))
          notAborted.push(`${name} answers ${status} "${said}" (state ${state}) for ${where(run)} (execution ${executionId})`);
      }
    expect(notAborted).toEqual([]);
  });

  it(`restarted, ${VICTIM} catches up: it serves every certificate, those issued while it was down included`, async () => {
    expect(restarted, `${VICTIM} was restarted`).toBe(true);
    const started = Date.now();
    const deadline = started + 60_000;
    const missing: string[] = [];
    for (const { run, text } of fetched) {
      let answer = await getJson(VICTIM, `/certificate/${run.certificateId}`);
      while ((answer.status === 404 || (answer.status === 200 && !isSealed(answer.body))) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        answer = await getJson(VICTIM, `/certificate/${run.certificateId}`);
      }
      if (answer.status !== 200) missing.push(`${where(run)}: ${VICTIM} answers ${answer.status} ${answer.text.slice(0, 200)} 60 s after its restart`);
      else if (answer.text !== text) missing.push(`${where(run)}: ${VICTIM} serves another certificate than the other nodes`);
    }
    timings.catch_up_ms = Date.now() - started;
    expect(missing).toEqual([]);
    expect((await getJson(VICTIM, '/ready')).status).toBe(200);
  });
});
