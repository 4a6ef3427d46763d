/**
 * The tools offered to the model: the requested ones among bash, python, grep
 * and sql, plus read-only helpers to list and read files (size-capped). Every
 * one runs inside the execution's sandbox (cwd /work, dataset at /data).
 */
import type { ToolCall, ToolName } from '../types.js';

export type AgentToolName = ToolName | 'list_files' | 'read_file';

export interface ToolDefinition {
  name: AgentToolName;
  description: string;
  input_schema: { type: 'object'; properties: Record<string, unknown>; required: string[] };
}

const DEFINITIONS: Record<AgentToolName, ToolDefinition> = {
  bash: {
    name: 'bash',
    description: 'Run a bash script inside the sandbox (cwd /work, dataset under /data, no network). Returns exit code, stdout and stderr (capped).',
    input_schema: { type: 'object', properties: { command: { type: 'string', description: 'The script to run.' } }, required: ['command'] },
  },
  python: {
    name: 'python',
    description:
      'Run Python 3 code inside the sandbox (cwd /work, dataset under /data, no network, standard library only). Returns exit code, stdout and stderr (capped).',
    input_schema: { type: 'object', properties: { code: { type: 'string', description: 'The program to run.' } }, required: ['code'] },
  },
  grep: {
    name: 'grep',
    description: 'Run grep inside the sandbox with the given arguments, e.g. ["-cE", "[0-9]{3}-[0-9]{2}-[0-9]{4}", "/data/dataset.csv"].',
    input_schema: { type: 'object', properties: { args: { type: 'array', items: { type: 'string' }, description: 'Arguments to grep.' } }, required: ['args'] },
  },
  sql: {
    name: 'sql',
    description:
      'Run one read-only SQLite query over the dataset, loaded in memory as the table `dataset` with typed columns (INTEGER, REAL, DATE as YYYY-MM-DD text, TEXT). ' +
      'Returns JSON: the table schema, the result columns and rows (at most 1,000 rows and 12 KiB of rows; "truncated" says when cut). A query runs at most 30 s. Only SELECT, WITH and VALUES; no files, no ATTACH; no REGEXP (use LIKE, GLOB, instr).',
    input_schema: { type: 'object', properties: { query: { type: 'string', description: 'One SQL statement.' } }, required: ['query'] },
  },
  list_files: {
    name: 'list_files',
    description: 'List the files of a directory inside the sandbox (e.g. /data or /work).',
    input_schema: { type: 'object', properties: { dir: { type: 'string' } }, required: ['dir'] },
  },
  read_file: {
    name: 'read_file',
    description: 'Read a regular file inside the sandbox, up to max_bytes (default 16384).',
    input_schema: { type: 'object', properties: { path: { type: 'string' }, max_bytes: { type: 'integer', minimum: 1, maximum: 65536 } }, required: ['path'] },
  },
};

/** What one model sql call may return: its whole answer fits what the model sees of a tool call (16 KiB, run-llm.ts). */
const MODEL_SQL_CAPS = { max_rows: 1000, max_bytes: 12 * 1024, max_seconds: 30 };

export function toolDefinitions(requested: readonly ToolName[]): ToolDefinition[] {
  return [...requested.map((name) => DEFINITIONS[name]), DEFINITIONS.list_files, DEFINITIONS.read_file];
}

/** A model's tool input → a sandbox call; null when the input is not what the tool takes. */
export function toSandboxCall(name: string, input: unknown): ToolCall | null {
  const i = (input ?? {}) as Record<string, unknown>;
  if (name === 'bash' && typeof i.command === 'string') return { kind: 'bash', command: i.command };
  if (name === 'python' && typeof i.code === 'string') return { kind: 'python', code: i.code };
  if (name === 'grep' && Array.isArray(i.args) && i.args.every((a) => typeof a === 'string')) return { kind: 'grep', args: i.args as string[] };
  if (name === 'sql' && typeof i.query === 'string') return { kind: 'sql', query: i.query, ...MODEL_SQL_CAPS };
  return null;
}
