import { describe, expect, it } from 'vitest';
import { executeValidatorCompiler, parseExecuteRequest, requestProblems } from './request.js';

const valid = () => ({
  dataset: { data: 'base64:eA==', format: 'txt' },
  sandbox: { tools: ['python'], scripts: { 'main.py': 'print(1)' }, environment: { timeout_seconds: 5, max_memory_mb: 64 } } as Record<string, unknown>,
});

describe('execute request validation (the CLI and the route share it)', () => {
  it('accepts a valid request as it is', () => {
    const body = valid();
    expect(requestProblems(body)).toEqual([]);
    expect(parseExecuteRequest(body)).toBe(body);
  });

  it('throws REQUEST_INVALID carrying every problem, the first as its field', () => {
    const body = valid();
    body.sandbox = { ...body.sandbox, tools: 'python', environment: { timeout_seconds: 5 }, 'a/b': 1 };
    let error: unknown;
    try {
      parseExecuteRequest(body);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'REQUEST_INVALID',
      fields: {
        field: 'body.sandbox["a/b"]',
        problems: [
          { path: 'sandbox["a/b"]', message: 'is not a known field', code: 'REQUEST_INVALID' },
          { path: 'sandbox.tools', message: 'must be a list', code: 'REQUEST_INVALID' },
          { path: 'sandbox.environment.max_memory_mb', message: 'is required', code: 'REQUEST_INVALID' },
        ],
      },
    });
  });

  it('takes dataset.rows as input, none or {sorted_by} (csv and json only), and nothing else', () => {
    const paths = (format: string, rows: unknown) => requestProblems({ ...valid(), dataset: { data: 'base64:eA==', format, rows } }).map((p) => p.path);
    for (const rows of ['input', 'none', { sorted_by: 'id' }]) expect(paths('csv', rows)).toEqual([]);
    expect(paths('json', { sorted_by: 'patient' })).toEqual([]);
    expect(paths('txt', 'none')).toEqual([]);
    expect(paths('txt', { sorted_by: 'line' })).toEqual(['dataset.rows.sorted_by']);
    // Printable, and at most what the event holds: 256 UTF-16 units (200 emoji are 400).
    for (const name of ['id\u001b]0;x\u0007', 'a\nb', 'a\u202eb', '😀'.repeat(200), '\ud800'])
      expect(paths('csv', { sorted_by: name }), JSON.stringify(name)).toEqual(['dataset.rows.sorted_by']);
    for (const rows of ['all', null, { sorted_by: '' }, { sorted_by: 'x'.repeat(257) }, { sorted_by: 'id', order: 'desc' }, ['input']])
      expect(paths('csv', rows).length, JSON.stringify(rows)).toBeGreaterThan(0);
  });

  it('takes the tools bash, python, grep and sql, and names any other', () => {
    const problems = (tools: unknown) => requestProblems({ ...valid(), sandbox: { ...valid().sandbox, tools } });
    expect(problems(['python', 'bash', 'grep', 'sql'])).toEqual([]);
    expect(problems(['python', 'SQL'])).toEqual([{ path: 'sandbox.tools[1]', message: 'must be one of bash, python, grep, sql', code: 'REQUEST_INVALID' }]);
  });

  it('names a missing entrypoint, nothing to run, and a missing interpreter, each with its own code', () => {
    const codes = (sandbox: Record<string, unknown>) =>
      requestProblems({ ...valid(), sandbox: { ...valid().sandbox, ...sandbox } }).map((p) => [p.path, p.code]);
    expect(codes({ entrypoint: 'other.py' })).toEqual([['sandbox.entrypoint', 'REQUEST_ENTRYPOINT_NOT_A_SCRIPT']]);
    expect(codes({ scripts: { 'a.py': '', 'b.py': '' } })).toEqual([['sandbox.scripts', 'REQUEST_NOTHING_TO_RUN']]);
    expect(codes({ scripts: {}, llm: { prompt: 'p', model: 'm' } })).toEqual([]);
    expect(codes({ tools: [], scripts: { 'run.sh': '' } })).toEqual([['sandbox.tools', 'REQUEST_INTERPRETER_NOT_A_TOOL']]);
    expect(codes({ tools: ['bash'], scripts: { 'run.sh': '', 'x.py': '' }, entrypoint: 'run.sh' })).toEqual([]);
    // With an LLM, scripts are its tools: no entry script, no interpreter rule.
    expect(codes({ tools: [], scripts: { 'x.py': '' }, llm: { prompt: 'p', model: 'm' } })).toEqual([]);
  });

  it('cuts a long hostile member name and quotes it', () => {
    const [problem] = requestProblems({ ...valid(), ['"'.repeat(500)]: 1 });
    expect(problem!.path).toBe(`[${JSON.stringify(`${'"'.repeat(64)}…`)}]`);
  });

  it("validates the route's other parts (headers, say) as fastify would, and only the body with the problems", () => {
    const headers = executeValidatorCompiler({ schema: { type: 'object', required: ['x-a'] }, httpPart: 'headers' });
    expect(headers({})).toBe(false);
    expect(headers({ 'x-a': '1' })).toBe(true);
    const body = executeValidatorCompiler({ schema: {}, httpPart: 'body' });
    expect(body(valid())).toBe(true);
    expect(body({})).toMatchObject({ error: { code: 'REQUEST_INVALID' } });
  });
});
