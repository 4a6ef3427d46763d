/** The certificate as a fold over the events: each summary row, and the document before and after the stream starts. */
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../events/index.js';
import { STREAM_EXECUTION_ID, STREAM_START, data, runEvents, streamChain } from '../events/testing/stream.js';
import { CERTIFICATE_MEMBERS, CertificateFold, certificateIdOf, deriveCertificate, executionIdOf, modelUses } from './certificate.js';

const ULID = '01JD7ZX3Q4M5N6P7R8S9T0VWXY';

describe('executionIdOf', () => {
  describe('when the id is a certificate id or a bare execution id', () => {
    it('returns the execution id', () => {
      expect(executionIdOf(`cert_${ULID}`)).toBe(ULID);
      expect(executionIdOf(ULID)).toBe(ULID);
      expect(certificateIdOf(ULID)).toBe(`cert_${ULID}`);
    });
  });

  describe('when the id is not exactly a ULID', () => {
    it.each([
      ['text before it', `x${ULID}`],
      ['text after it', `${ULID}x`],
      ['a prefix after "cert_"', `cert_x${ULID}`],
      ['lowercase letters', ULID.toLowerCase()],
      ['a letter Crockford base32 leaves out (U)', `${ULID.slice(0, 25)}U`],
      ['25 characters', ULID.slice(1)],
      ['nothing', ''],
    ])('returns null for %s', (_what, id) => {
      expect(executionIdOf(id)).toBeNull();
    });
  });
});

describe('deriveCertificate', () => {
  describe('when there are no events', () => {
    it('is the empty, incomplete document of version 2', () => {
      expect(deriveCertificate([])).toEqual({
        certificate_id: '',
        version: 2,
        execution_id: '',
        status: 'incomplete',
        dataset_hash: '',
        sandbox_hash: '',
        fingerprint: '',
        dataset: { bytes: 0, format: '', source: '' },
        sandbox: null,
        isolation: null,
        result: { output: '', exit_code: null, error_code: null, truncated: false, bytes: 0, json: null, result_hash: null },
        execution_trace: {
          llm_calls: { count: 0, input_tokens: 0, output_tokens: 0, by_model: [], provider_hosts: [] },
          tool_uses: [],
          file_activity: [],
          network_activity: [],
          resources: { tool_calls: 0, cpu_ms: 0, max_rss_kb: 0, stdout_bytes: 0, stderr_bytes: 0, killed_by: null },
        },
        lifecycle: {
          requested: null,
          dataset_loaded: null,
          execution_started: null,
          execution_completed: null,
          dataset_deleted: null,
          sandbox_destroyed: null,
          sealed: null,
          execution_time_ms: null,
        },
        merkle: null,
        proof: null,
        events: [],
      });
      expect(Object.keys(deriveCertificate([]))).toEqual([...CERTIFICATE_MEMBERS]);
    });
  });

  describe('when a run completes', () => {
    it('takes the ids, hashes, dataset and times from the events, and keeps the events', () => {
      const events = runEvents();
      const cert = deriveCertificate(events);
      expect(cert).toMatchObject({
        certificate_id: `cert_${STREAM_EXECUTION_ID}`,
        execution_id: STREAM_EXECUTION_ID,
        version: 2,
        status: 'completed',
        dataset_hash: (events[0] as EventEnvelope<'execution.requested'>).data.dataset_hash,
        dataset: { bytes: 1234, format: 'csv', source: 'inline' },
        result: { output: 'ok', exit_code: 0, error_code: null, truncated: false, bytes: 2, json: null },
        lifecycle: {
          requested: STREAM_START,
          dataset_loaded: events[1]!.at,
          execution_started: events[2]!.at,
          execution_completed: events[3]!.at,
          dataset_deleted: events[4]!.at,
          sandbox_destroyed: events[5]!.at,
          sealed: null,
          execution_time_ms: 50,
        },
      });
      expect(cert.events).toEqual(events);
    });
  });

  describe('when the same tool is called twice by the same caller', () => {
    it('adds both calls to one row, in order, and counts a non-zero exit as a failure', () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1', 'bash', 'llm'));
          next('tool.completed', data.completed('c1', { exit_code: 2, duration_ms: 7, cpu_ms: 3 }));
          next('tool.invoked', data.invoked('c2', 'bash', 'llm'));
          next('tool.completed', data.completed('c2', { exit_code: 0, duration_ms: 5, cpu_ms: 4 }));
          next('tool.invoked', data.invoked('c3', 'bash', 'script'));
          next('tool.completed', data.completed('c3', { exit_code: null }));
        }),
      );
      expect(cert.execution_trace.tool_uses).toEqual([
        {
          tool: 'bash',
          caller: 'llm',
          count: 2,
          args_hashes: [data.invoked('c1').args_hash, data.invoked('c2').args_hash],
          duration_ms: 12,
          cpu_ms: 7,
          failures: 1,
        },
        { tool: 'bash', caller: 'script', count: 1, args_hashes: [data.invoked('c3').args_hash], duration_ms: 10, cpu_ms: 5, failures: 1 },
      ]);
      expect(cert.execution_trace.resources).toMatchObject({ tool_calls: 3, cpu_ms: 12 });
    });
  });

  describe('when SQL calls answer (tool.completed.sql)', () => {
    const sqlAnswer = (rows: number, bytes: number, truncated: boolean, error_code: string | null = null) => ({ rows, bytes, truncated, error_code });

    it('sums rows and bytes and counts truncated answers per sql row; nested calls count like any call', () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1', 'scan.py', 'script'));
          next('tool.invoked', { ...data.invoked('c2', 'sql', 'script'), parent_call_id: 'c1' });
          next('tool.completed', data.completed('c2', { sql: sqlAnswer(1000, 60_000, true) }));
          next('tool.invoked', { ...data.invoked('c3', 'sql', 'script'), parent_call_id: 'c1' });
          next('tool.completed', data.completed('c3', { exit_code: 2, sql: sqlAnswer(0, 2, false, 'SQL_QUERY_REFUSED') }));
          next('tool.invoked', { ...data.invoked('c4', 'sql', 'script'), parent_call_id: 'c1' });
          next('tool.completed', data.completed('c4', { exit_code: null, killed_by: 'timeout' }));
          next('tool.completed', data.completed('c1'));
          next('tool.invoked', data.invoked('c5', 'sql', 'llm'));
          next('tool.completed', data.completed('c5', { sql: sqlAnswer(204, 3000, false) }));
        }),
      );
      const { tool_uses, resources } = cert.execution_trace;
      expect(tool_uses.map((u) => [u.tool, u.caller, u.count, u.failures, u.sql])).toEqual([
        ['scan.py', 'script', 1, 0, undefined],
        ['sql', 'script', 3, 2, { rows: 1000, bytes: 60_002, truncated: 1 }],
        ['sql', 'llm', 1, 0, { rows: 204, bytes: 3000, truncated: 0 }],
      ]);
      expect(Object.keys(tool_uses[0]!)).not.toContain('sql');
      expect(tool_uses[1]!.args_hashes).toEqual(['c2', 'c3', 'c4'].map((c) => data.invoked(c).args_hash));
      expect(resources.tool_calls).toBe(5);
    });

    it('has no sql member on a sql row none of whose calls answered (all killed)', () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1', 'sql', 'llm'));
          next('tool.completed', data.completed('c1', { exit_code: null, killed_by: 'memory' }));
        }),
      );
      expect(cert.execution_trace.tool_uses[0]).toEqual({
        tool: 'sql',
        caller: 'llm',
        count: 1,
        args_hashes: [data.invoked('c1').args_hash],
        duration_ms: 10,
        cpu_ms: 5,
        failures: 1,
      });
    });
  });

  describe('when tool calls are killed', () => {
    it('keeps the first killer, and lets a later call without one leave it', () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1'));
          next('tool.completed', data.completed('c1', { killed_by: null, max_rss_kb: 10 }));
          next('tool.invoked', data.invoked('c2'));
          next('tool.completed', data.completed('c2', { killed_by: 'timeout', max_rss_kb: 30, stdout_bytes: 4, stderr_bytes: 5 }));
          next('tool.invoked', data.invoked('c3'));
          next('tool.completed', data.completed('c3', { killed_by: 'memory', max_rss_kb: 20 }));
          next('tool.invoked', data.invoked('c4'));
          next('tool.completed', data.completed('c4', { killed_by: null }));
        }),
      );
      expect(cert.execution_trace.resources).toEqual({ tool_calls: 4, cpu_ms: 20, max_rss_kb: 1000, stdout_bytes: 13, stderr_bytes: 5, killed_by: 'timeout' });
    });
  });

  describe('when the run fails', () => {
    it("records the failure, its error code, and the run's killer over a tool's", () => {
      // A copy: sealed events are frozen, and this one is edited after the fact (derivation does not check hashes).
      const events = structuredClone(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1'));
          next('tool.completed', data.completed('c1', { killed_by: 'timeout' }));
        }, 'failed'),
      );
      const failedAt = events.findIndex((e) => e.type === 'execution.failed');
      (events[failedAt]!.data as { killed_by: string | null }).killed_by = 'memory';
      const cert = deriveCertificate(events);
      expect(cert.status).toBe('failed');
      expect(cert.result).toMatchObject({ exit_code: 1, error_code: 'EXECUTION_NONZERO_EXIT', truncated: true, bytes: 4, output: 'boom' });
      expect(cert.execution_trace.resources.killed_by).toBe('memory');
      expect(cert.lifecycle).toMatchObject({ execution_completed: events[failedAt]!.at, execution_time_ms: 60 });
    });

    it("keeps a tool's killer when the run's failure names none", () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1'));
          next('tool.completed', data.completed('c1', { killed_by: 'output_limit' }));
        }, 'failed'),
      );
      expect(cert.execution_trace.resources.killed_by).toBe('output_limit');
    });
  });

  describe('when files are accessed', () => {
    it('adds counts per operation and path, in order of first access', () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1'));
          next('file.accessed', data.file('c1', 'read', '/data/a', 2));
          next('file.accessed', data.file('c1', 'write', '/data/a', 1));
          next('file.accessed', data.file('c1', 'read', '/data/a', 3));
          next('file.accessed', data.file('c1', 'read', '/data/b', 1));
          next('tool.completed', data.completed('c1'));
        }),
      );
      expect(cert.execution_trace.file_activity).toEqual([
        { op: 'read', path: '/data/a', count: 5 },
        { op: 'write', path: '/data/a', count: 1 },
        { op: 'read', path: '/data/b', count: 1 },
      ]);
    });
  });

  describe('when the network is requested', () => {
    it('adds attempts and bytes per host, port and verdict, in order of first attempt', () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('tool.invoked', data.invoked('c1'));
          next('network.requested', data.network('c1', 'example.org', 443, true, 10, 100));
          next('network.requested', data.network('c1', 'example.org', 443, false));
          next('network.requested', data.network('c1', 'example.org', 443, true, 5, 50));
          next('network.requested', data.network('c1', 'example.org', 80, true, 1, 2));
          next('tool.completed', data.completed('c1'));
        }),
      );
      expect(cert.execution_trace.network_activity).toEqual([
        { host: 'example.org', port: 443, allowed: true, attempts: 2, bytes_out: 15, bytes_in: 150 },
        { host: 'example.org', port: 443, allowed: false, attempts: 1, bytes_out: 0, bytes_in: 0 },
        { host: 'example.org', port: 80, allowed: true, attempts: 1, bytes_out: 1, bytes_in: 2 },
      ]);
    });
  });

  describe('when models are called', () => {
    it('adds calls and tokens per model in order of first use, and lists each host once', () => {
      const cert = deriveCertificate(
        runEvents((next) => {
          next('llm.called', data.llm('m1', 'h1', 10, 1));
          next('llm.called', data.llm('m2', 'h2', 20, 2));
          next('llm.called', data.llm('m1', 'h1', 30, 3));
        }),
      );
      expect(cert.execution_trace.llm_calls).toEqual({
        count: 3,
        input_tokens: 60,
        output_tokens: 6,
        by_model: [
          { model: 'm1', calls: 2, input_tokens: 40, output_tokens: 4 },
          { model: 'm2', calls: 1, input_tokens: 20, output_tokens: 2 },
        ],
        provider_hosts: ['h1', 'h2'],
      });
      expect(modelUses(cert.execution_trace)).toEqual(cert.execution_trace.llm_calls.by_model);
    });
  });

  describe('when the stream is of version 1', () => {
    it('keys by_model by model name in a null-prototype object, and modelUses gives the rows back', () => {
      const events = runEvents((next) => {
        next('llm.called', data.llm('__proto__', 'h1', 10, 1));
        next('llm.called', data.llm('m2', 'h1', 20, 2));
      }).map((e) => ({ ...e, v: 1 as const }));
      const trace = deriveCertificate(events).execution_trace;
      expect(Object.getPrototypeOf(trace.llm_calls.by_model)).toBeNull();
      expect(Object.keys(trace.llm_calls.by_model)).toEqual(['__proto__', 'm2']);
      expect(modelUses(trace)).toEqual([
        { model: '__proto__', calls: 1, input_tokens: 10, output_tokens: 1 },
        { model: 'm2', calls: 1, input_tokens: 20, output_tokens: 2 },
      ]);
    });
  });

  describe('when the run is aborted', () => {
    it('is aborted', () => {
      const { next } = streamChain();
      const events: EventEnvelope[] = [next('execution.requested', data.requested()), next('execution.aborted', data.aborted())];
      expect(deriveCertificate(events).status).toBe('aborted');
    });
  });

  describe('when the stream is sealed', () => {
    it('fills merkle and proof from the seal, the attestation type naming the TEE', () => {
      const events = runEvents();
      const { chain } = streamChain();
      const sealed = chain.next('certificate.sealed', data.sealed());
      const cert = deriveCertificate([...events, sealed]);
      expect(cert.merkle).toEqual({ algorithm: 'rfc6962-sha256', tree_size: 1, root: sealed.data.merkle_root });
      expect(cert.proof).toEqual({ tee: 'simulated', report_data: '00'.repeat(64), attestation: sealed.data.attestation });
      expect(cert.lifecycle.sealed).toBe(sealed.at);
    });

    it('names the TEE "unknown" when the attestation has no type', () => {
      const { chain } = streamChain();
      const sealed = chain.next('certificate.sealed', data.sealed({ public_key: 'x' }));
      expect(deriveCertificate([sealed]).proof?.tee).toBe('unknown');
      const numbered = chain.next('certificate.sealed', data.sealed({ type: 7 }));
      expect(deriveCertificate([numbered]).proof?.tee).toBe('unknown');
    });
  });
});

describe('CertificateFold', () => {
  describe("when it keeps no events (the verifier's)", () => {
    it('derives everything else and leaves events empty', () => {
      const fold = new CertificateFold(false);
      for (const e of runEvents()) fold.apply(e);
      const cert = fold.result();
      expect(cert.events).toEqual([]);
      expect(cert.status).toBe('completed');
    });
  });
});
