/**
 * Property tests (fast-check): any run the executor could record verifies,
 * whatever names and texts it holds; re-spelling the document (member order,
 * whitespace) changes nothing; and any edit that changes what a reader is
 * shown, anywhere in the document, is rejected (docs/verification.md §6:
 * every member of a version-2 certificate is re-derived or committed).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventChain, hashUtf8, type EventEnvelope } from '../events/index.js';
import { SAMPLE_DESTROY_CHECKS, sampleSandboxCreated, sampleSummary, sampleTotals } from '../events/testing/sample-data.js';
import { verifyCertificate, verifyCertificateChunks, verifyCertificateText } from './index.js';
import { VECTOR_PUBLIC_KEY, sealEvents, type Doc } from './testing/forge.js';

const hostile = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', ''),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
const call = fc.record({
  caller: fc.constantFrom('llm' as const, 'script' as const),
  tool: hostile,
  exit: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 }), fc.constant(null)),
  files: fc.array(
    fc.record({
      op: fc.constantFrom('read' as const, 'write' as const, 'exec' as const, 'delete' as const),
      path: hostile,
      count: fc.integer({ min: 1, max: 9 }),
    }),
    { maxLength: 3 },
  ),
  network: fc.array(fc.record({ host: hostile, port: fc.integer({ min: 0, max: 65535 }), allowed: fc.boolean() }), { maxLength: 2 }),
});
const step = fc.oneof(
  fc.record({ kind: fc.constant('call' as const), call }),
  fc.record({ kind: fc.constant('llm' as const), model: hostile, host: hostile, tokens: fc.nat(100_000) }),
);
const run = fc.record({
  steps: fc.array(step, { maxLength: 8 }),
  failed: fc.boolean(),
  output: fc.string({ unit: 'grapheme', maxLength: 40 }),
  json: fc.option(
    fc.dictionary(hostile, fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 8 }), fc.boolean()), {
      maxKeys: 4,
    }),
    { nil: null },
  ),
});

/** The events the executor would record for `spec`, sealed with the vector key. */
type RunSpec = typeof run extends fc.Arbitrary<infer T> ? T : never;

function certificateOf(spec: RunSpec): Doc {
  let tick = 0;
  const chain = new EventChain('01JD7ZX3Q4M5N6P7R8S9T0VWXY', () => new Date(Date.parse('2026-02-01T13:15:00.000Z') + 3 * tick++));
  const h = (s: string) => hashUtf8(s);
  const events: EventEnvelope[] = [
    chain.next('execution.requested', {
      dataset_hash: h('d'),
      dataset_bytes: 10,
      dataset_format: 'csv',
      dataset_source: 'inline',
      sandbox_hash: h('s'),
      fingerprint: h('f'),
      sandbox: sampleSummary(),
    }),
    chain.next('dataset.loaded', { dataset_hash: h('d'), bytes: 10, medium: 'tmpfs' }),
    chain.next('sandbox.created', sampleSandboxCreated(VECTOR_PUBLIC_KEY)),
  ];
  spec.steps.forEach((s, i) => {
    if (s.kind === 'llm') {
      events.push(
        chain.next('llm.called', {
          provider: 'anthropic',
          host: s.host,
          model: s.model,
          turn: i,
          prompt_hash: h(`p${i}`),
          response_hash: h(`r${i}`),
          input_tokens: s.tokens,
          output_tokens: 1,
          stop_reason: 'end_turn',
          latency_ms: 1,
          error_code: null,
        }),
      );
      return;
    }
    const id = `call_${i}`;
    events.push(chain.next('tool.invoked', { call_id: id, tool: s.call.tool, args_hash: h(`a${i}`), caller: s.call.caller }));
    for (const f of s.call.files) events.push(chain.next('file.accessed', { call_id: id, ...f }));
    for (const n of s.call.network) events.push(chain.next('network.requested', { call_id: id, ...n, bytes_out: 1, bytes_in: 2 }));
    events.push(
      chain.next('tool.completed', {
        call_id: id,
        exit_code: s.call.exit,
        duration_ms: i,
        cpu_ms: i,
        max_rss_kb: 100,
        stdout_bytes: 1,
        stderr_bytes: 0,
        output_hash: h(`o${i}`),
        killed_by: s.call.exit === null ? 'timeout' : null,
        truncated: false,
      }),
    );
  });
  const result = { output: spec.output, bytes: new TextEncoder().encode(spec.output).length, truncated: false, json: spec.json };
  events.push(
    spec.failed
      ? chain.next('execution.failed', {
          error_code: 'EXECUTION_NONZERO_EXIT',
          exit_code: 1,
          killed_by: null,
          result_hash: h('r'),
          result,
          duration_ms: 5,
          totals: sampleTotals(),
        })
      : chain.next('execution.completed', { exit_code: 0, result_hash: h('r'), result, duration_ms: 5, totals: sampleTotals() }),
  );
  events.push(
    chain.next('dataset.deleted', { bytes_zeroed: 10, tmpfs_released: true }),
    chain.next('sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: SAMPLE_DESTROY_CHECKS }),
  );
  return sealEvents(events) as unknown as Doc;
}

type Path = (string | number)[];
function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...at, i], out);
  } else if (value && typeof value === 'object') for (const k of Object.keys(value)) paths((value as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

/** One edit at `path`, chosen by `kind`: the kinds of change a forger makes to what a reader sees. */
function edit(doc: Doc, path: Path, kind: number): void {
  if (path.length === 0) {
    doc.extra = kind;
    return;
  }
  // biome-ignore lint/suspicious/noExplicitAny: a walk to any member of any document
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], doc);
  const key = path[path.length - 1]!;
  const value = parent[key];
  const replace = (v: unknown) => {
    if (Array.isArray(parent)) parent[key as number] = v;
    else Object.defineProperty(parent, key, { value: v, enumerable: true, writable: true, configurable: true });
  };
  switch (typeof value) {
    case 'string':
      return replace(kind % 3 === 0 ? `${value}x` : kind % 3 === 1 ? value.slice(1) : value.toUpperCase() === value ? `${value}a` : value.toUpperCase());
    case 'number':
      return replace(kind % 2 === 0 ? value + 1 : String(value));
    case 'boolean':
      return replace(!value);
    case 'object':
      if (value === null) return replace(kind % 2 === 0 ? 0 : '');
      if (Array.isArray(value)) {
        if (kind % 3 === 0 || value.length === 0) value.push(value.length > 0 ? structuredClone(value[0]) : null);
        else if (kind % 3 === 1) value.pop();
        else value.reverse();
        return;
      }
      if (kind % 2 === 0)
        Object.defineProperty(value, kind % 4 === 0 ? '__proto__' : 'added', { value: 1, enumerable: true, writable: true, configurable: true });
      else {
        const keys = Object.keys(value);
        if (keys.length > 0) delete value[keys[kind % keys.length]!];
        else value.added = 1;
      }
  }
}

const shuffleKeys = (value: unknown, seed: number): unknown => {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, seed));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    entries.sort((a, b) => (hashUtf8(a[0] + seed) < hashUtf8(b[0] + seed) ? -1 : 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) Object.defineProperty(out, k, { value: shuffleKeys(v, seed), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
};

describe('verifyCertificate (properties)', () => {
  it('verifies every run the executor could record, whatever names and texts it holds', async () => {
    await fc.assert(
      fc.asyncProperty(run, async (spec) => {
        const verdict = await verifyCertificate(certificateOf(spec), { trustedKeys: [VECTOR_PUBLIC_KEY] });
        expect(verdict.failure).toBeNull();
        expect(verdict.status).toBe('trusted');
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same verdict after the document is re-spelled (member order, whitespace)', async () => {
    await fc.assert(
      fc.asyncProperty(run, fc.nat(), fc.constantFrom(0, 1, 2), async (spec, seed, indent) => {
        const text = JSON.stringify(shuffleKeys(certificateOf(spec), seed), null, indent);
        expect((await verifyCertificateText(text, { trustedKeys: [VECTOR_PUBLIC_KEY] })).status).toBe('trusted');
      }),
      { numRuns: 100 },
    );
  });

  it('answers any bytes with a verdict and a stable code: flipped, cut, spliced or random, whole or in chunks', async () => {
    const text = new TextEncoder().encode(JSON.stringify(certificateOf({ steps: [], failed: false, output: 'ok', json: null })));
    const damaged = fc.oneof(
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => text.map((b, i) => (i === at % text.length ? b ^ x : b))),
      fc.nat().map((at) => text.subarray(0, at % text.length)),
      fc
        .tuple(fc.nat(), fc.uint8Array({ maxLength: 16 }))
        .map(([at, junk]) => new Uint8Array([...text.subarray(0, at % text.length), ...junk, ...text.subarray(at % text.length)])),
      fc.uint8Array({ maxLength: 256 }),
    );
    await fc.assert(
      fc.asyncProperty(damaged, fc.integer({ min: 1, max: 4096 }), async (bytes, chunk) => {
        const chunks = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk));
        const verdict = await verifyCertificateChunks(chunks, { trustedKeys: [VECTOR_PUBLIC_KEY] });
        if (verdict.valid) expect(new TextDecoder().decode(bytes)).toContain('"certificate.sealed"');
        else expect(verdict.failure?.code).toMatch(/^(JSON|EVENTS|VERIFY|ATTEST)_[A-Z_0-9]+$/);
        expect(verdict.failure?.code).not.toBe('VERIFY_INTERNAL');
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every edit that changes what a reader is shown, anywhere in the document', async () => {
    await fc.assert(
      fc.asyncProperty(run, fc.nat(), fc.nat(), async (spec, pick, kind) => {
        const original = certificateOf(spec);
        const doc = JSON.parse(JSON.stringify(original)) as Doc;
        const all = paths(doc);
        edit(doc, all[pick % all.length]!, kind);
        fc.pre(!isDeepStrictEqual(JSON.parse(JSON.stringify(doc)), JSON.parse(JSON.stringify(original))));
        const [fromObject, fromText] = await Promise.all([
          verifyCertificate(doc, { trustedKeys: [VECTOR_PUBLIC_KEY] }),
          verifyCertificateText(JSON.stringify(doc), { trustedKeys: [VECTOR_PUBLIC_KEY] }),
        ]);
        expect(fromObject.valid).toBe(false);
        expect(fromText.valid).toBe(false);
        expect(fromText.failure?.code).toMatch(/^(JSON|EVENTS|VERIFY|ATTEST)_[A-Z_]+$/);
      }),
      { numRuns: 400 },
    );
  });
});
