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
  "blocked": m["BLOCKED_SYSCALLS"], "signalling": m["SIGNALLING_SYSCALLS"], "own_only": m["OWN_ONLY_SYSCALLS"],
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
      own_only: PROTOCOL.seccomp.own_only,
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

  it("gives the sql command the socket's name through the environment variable the protocol names, and nothing else of it", () => {
    const client = readFileSync(join(DIR, 'sql', 'sql_client.py'), 'utf8');
    expect(client).toContain(`os.environ.get("${PROTOCOL.sql.socket_env}")`);
    expect(client).not.toContain(PROTOCOL.sql.socket);
    const supervisor = readFileSync(join(SUPERVISOR_DIR, '45-sql.py'), 'utf8');
    for (const literal of [PROTOCOL.sql.socket, PROTOCOL.sql.engine_path, PROTOCOL.sql.bin_dir]) expect(supervisor).not.toContain(literal);
  });

  it('reads and writes its JSON strictly, the same with the C codec as with the json package it falls back to', () => {
    const CODEC = String.raw`
import json as reference, sys, types
if sys.argv[1] == "fallback":
    sys.modules["_json"] = None  # as on a Python without the C codec
module = types.ModuleType("supervisor")
exec(compile(sys.stdin.read(), "supervisor.py", "exec"), module.__dict__)
loads, dumps = module.json_loads, module.json_dumps
line = r'{"op":"run","id":7,"call":{"command":"echo \u00e9\n\ud83d\ude00 \\"},"n":[1,-2.5e3,true,null]}' + "\n"
value = loads(line)
refused = []
for bad in ['{"a":1} {"b":2}', '{"a":NaN}', '{"a":Infinity}', '[1,]', "{'a':1}", ""]:
    try:
        loads(bad)
    except ValueError:
        refused.append(bad)
try:
    dumps({"x": float("nan")})
except ValueError:
    refused.append("nan out")
print(reference.dumps({"same": value == reference.loads(line), "out": dumps({"é": ["\n", None, True, 1.5]}), "refused": refused}))
`;
    for (const mode of ['c', 'fallback']) {
      const seen = JSON.parse(execFileSync('/usr/bin/python3', ['-I', '-S', '-c', CODEC, mode], { input: supervisorSource(), encoding: 'utf8' }));
      expect(seen, mode).toEqual({
        same: true,
        out: '{"\\u00e9":["\\n",null,true,1.5]}',
        refused: ['{"a":1} {"b":2}', '{"a":NaN}', '{"a":Infinity}', '[1,]', "{'a':1}", '', 'nan out'],
      });
    }
  });

  it('starts without the modules that cost most of its start (re, enum, json, socket, threading) when there is no proxy', () => {
    const IMPORTS = `
import sys, types
module = types.ModuleType("supervisor")
exec(compile(sys.stdin.read(), "supervisor.py", "exec"), module.__dict__)
print(" ".join(sorted(m for m in ("re", "enum", "json", "socket", "threading", "platform", "base64", "functools") if m in sys.modules)))
`;
    expect(execFileSync('/usr/bin/python3', ['-I', '-S', '-c', IMPORTS], { input: supervisorSource(), encoding: 'utf8' }).trim()).toBe('');
  });

  it('refuses to hand out a supervisor that lost its placeholder', () => {
    expect(() => supervisorSource(DIR)).toThrow(/placeholder/);
  });
});
