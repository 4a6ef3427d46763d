/**
 * Builds sealed certificates without a sandbox, for verifier tests and the
 * language-neutral vectors: a fixed clock and execution id make them
 * reproducible. Test support only.
 */
import { EventChain, bytesToHex, hashUtf8, hashToBytes, type EventEnvelope, type Hash } from '../../events/index.js';
import { SAMPLE_DESTROY_CHECKS, sampleSandboxCreated, sampleSummary, sampleTotals } from '../../events/testing/sample-data.js';
import { data } from '../../events/testing/stream.js';
import { CompactRange, leafHash, reportData, type Attestor } from '../../attest/index.js';
import { deriveCertificate, type Certificate } from '../certificate.js';

export const SAMPLE_EXECUTION_ID = '01JD7ZX3Q4M5N6P7R8S9T0VWXY';

export function sampleEvents(executionId = SAMPLE_EXECUTION_ID, start = Date.parse('2026-02-01T13:15:00.000Z')): EventEnvelope[] {
  let tick = 0;
  const chain = new EventChain(executionId, () => new Date(start + 7 * tick++));
  const h = (s: string) => hashUtf8(s);
  return [
    chain.next('execution.requested', data.requested({ sandbox: sampleSummary({ scripts: [{ name: 'scan.py', hash: h('scan.py'), bytes: 42 }] }) })),
    chain.next('dataset.loaded', { dataset_hash: h('dataset'), bytes: 1234, medium: 'tmpfs' }),
    chain.next('sandbox.created', sampleSandboxCreated()),
    chain.next('tool.invoked', { call_id: 'call_1', tool: 'scan.py', args_hash: h('args'), caller: 'script' }),
    chain.next('tool.completed', {
      call_id: 'call_1',
      exit_code: 0,
      duration_ms: 31,
      cpu_ms: 20,
      max_rss_kb: 9000,
      stdout_bytes: 20,
      stderr_bytes: 0,
      output_hash: h('out'),
      killed_by: null,
      truncated: false,
    }),
    chain.next('file.accessed', { call_id: 'call_1', op: 'read', path: '/data/dataset.csv', count: 1 }),
    chain.next('execution.completed', {
      exit_code: 0,
      result_hash: h('result'),
      result: { output: '{"ssn": 3}\n', bytes: 11, truncated: false, json: { ssn: 3 } },
      duration_ms: 40,
      totals: sampleTotals(),
    }),
    chain.next('dataset.deleted', { bytes_zeroed: 1234, tmpfs_released: true }),
    chain.next('sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: SAMPLE_DESTROY_CHECKS }),
  ];
}

/** Seals `events` as the executor does (root kept incrementally, report data over it and the sealing time, attestation) and derives the certificate. */
export async function sealSample(events: EventEnvelope[], attestor: Attestor): Promise<Certificate> {
  const range = new CompactRange();
  for (const e of events) range.appendLeaf(leafHash(hashToBytes(e.hash)));
  const root = range.root();
  const last = events[events.length - 1]!;
  const chain = EventChain.resume(last, () => new Date(Date.parse(last.at) + 5));
  const at = chain.now();
  const report = reportData(root, last.execution_id, events.length, at);
  const sealed = chain.next(
    'certificate.sealed',
    {
      tree_size: events.length,
      merkle_root: `sha256:${bytesToHex(root)}` as Hash,
      report_data: bytesToHex(report),
      attestation: await attestor.attest(report),
    },
    at,
  );
  return deriveCertificate([...events, sealed]);
}
