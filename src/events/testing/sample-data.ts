/**
 * Well-formed event data for tests, in the closed shapes of format version 2
 * (types.ts): what a real sandbox and attestor record, with fixed values.
 * Test support only.
 */
import type { EventData, SandboxSummary, Totals } from '../index.js';

const H = `sha256:${'ab'.repeat(32)}` as const;

export function sampleSummary(over: Partial<SandboxSummary> = {}): SandboxSummary {
  return {
    tools: ['python'],
    entrypoint: 'scan.py',
    scripts: [{ name: 'scan.py', hash: H, bytes: 42 }],
    llm: null,
    limits: { timeout_seconds: 30, max_memory_mb: 256 },
    network: { allow: [] },
    ...over,
  };
}

/** sandbox.created as bubblewrap records it, signed off by a simulated attestor with `publicKey`. */
export function sampleSandboxCreated(publicKey = 'd7'.repeat(32)): EventData['sandbox.created'] {
  return {
    isolation: {
      tool: 'bubblewrap',
      namespaces: ['user', 'pid', 'net', 'ipc', 'uts', 'mount', 'cgroup'],
      new_session: true,
      die_with_parent: true,
      init: 'the supervisor (--as-pid-1), not dumpable',
      capabilities: 'none',
      no_new_privileges: true,
      nested_user_namespaces: false,
      uid: 65534,
      host_uid: 65534,
      host_paths: ['/usr (read-only)'],
      seccomp: { mechanism: 'seccomp-bpf', errno_eperm: ['ptrace', 'bpf'], killed: 'any other ABI (i386)' },
      file_tracing: 'strace -f --seccomp-bpf, one tracer outside the sandbox',
    },
    limits: {
      wall_ms: { value: 30_000, mechanism: 'supervisor deadline' },
      memory_bytes: { value: 268_435_456, mechanism: 'cgroup v1 memory.limit_in_bytes' },
    },
    network: { mode: 'none', mechanism: 'empty network namespace (loopback only)', allow: [] },
    runtime: {
      kernel: '6.1.0-test',
      tools: { python3: { path: '/usr/bin/python3', version: 'Python 3.11.2', sha256: H } },
      tee: { type: 'simulated', public_key: publicKey, hardware_backed: false },
    },
  };
}

export function sampleTotals(over: Partial<Totals> = {}): Totals {
  return { tool_calls: 1, cpu_ms: 20, max_rss_kb: 9000, llm_calls: 0, input_tokens: 0, output_tokens: 0, ...over };
}

export const SAMPLE_DESTROY_CHECKS: EventData['sandbox.destroyed']['checks'] = {
  cgroup_processes_remaining: 0,
  namespace_holders: 0,
  namespaces_checked: true,
  processes_remaining: 0,
  dataset_bytes_zeroed: 1234,
};
