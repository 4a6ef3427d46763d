/**
 * The host and the supervisor agree on the protocol because the supervisor
 * has no copy of its own: it reads what protocol.ts prepends. Checked from
 * both sides: Python loads the source the sandbox runs and reports what it
 * derived, and neither side writes the shared values anywhere else.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL, PROTOCOL_PLACEHOLDER, SUPERVISOR_DIR, supervisorSource } from './protocol.js';

const DIR = import.meta.dirname;

/** Loads the supervisor as a module (main() does not run) and reports the values it uses. */
const DUMP = `
import json, sys, types
module = types.ModuleType("supervisor")
exec(compile(sys.stdin.read(), "supervisor.py", "exec"), module.__dict__)
m = module.__dict__
print(json.dumps({
  "mark_dir": m["MARK_DIR"], "proxy_socket": m["PROXY_SOCKET"], "proxy_port": m["PROXY_PORT"],
  "dataset_env_in_tool_env": [k for k in m["ENV"] if k == "${PROTOCOL.dataset_env}"],
  "blocked": m["BLOCKED_SYSCALLS"], "signalling": m["SIGNALLING_SYSCALLS"],
  "operations": sorted(list(m["HANDLERS"]) + ["exit"]),
}))
`;

describe('the sandbox protocol', () => {
  it('is what the supervisor runs with: paths, port, environment, seccomp lists, operations', () => {
    const seen = JSON.parse(execFileSync('/usr/bin/python3', ['-I', '-S', '-c', DUMP], { input: supervisorSource(), encoding: 'utf8' })) as Record<
      string,
      unknown
    >;
    expect(seen).toEqual({
      mark_dir: PROTOCOL.mark_dir,
      proxy_socket: PROTOCOL.proxy_socket,
      proxy_port: PROTOCOL.proxy_port,
      dataset_env_in_tool_env: [PROTOCOL.dataset_env],
      blocked: PROTOCOL.seccomp.blocked,
      signalling: PROTOCOL.seccomp.signalling,
      operations: Object.keys(PROTOCOL.messages).sort(),
    });
  });

  it('is written once: the supervisor holds only the placeholder, the other host files only references', () => {
    const supervisor = readdirSync(SUPERVISOR_DIR)
      .map((name) => readFileSync(join(SUPERVISOR_DIR, name), 'utf8'))
      .join('\n');
    expect(supervisor).toContain(PROTOCOL_PLACEHOLDER);
    const literals = [PROTOCOL.run_dir, String(PROTOCOL.proxy_port), PROTOCOL.dataset_env, ...Object.keys(PROTOCOL.seccomp.blocked).map((name) => `"${name}"`)];
    for (const literal of literals) expect(supervisor, literal).not.toContain(literal);
    for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.includes('.test.') && f !== 'protocol.ts')) {
      const text = readFileSync(join(DIR, file), 'utf8');
      for (const literal of [`'${PROTOCOL.run_dir}`, String(PROTOCOL.proxy_port), `'${PROTOCOL.dataset_env}'`])
        expect(text, `${file}: ${literal}`).not.toContain(literal);
    }
  });

  it('refuses to hand out a supervisor that lost its placeholder', () => {
    expect(() => supervisorSource(DIR)).toThrow(/placeholder/);
  });
});
