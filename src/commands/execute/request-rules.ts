/**
 * What a request must satisfy beyond its schema, each rule with its own code,
 * reported as problems beside the schema's (request.ts): the entrypoint is one
 * of the scripts, the entry script's interpreter is among the requested tools,
 * there is something to run, and a sorted row commitment has records with keys. Reads a request that may have failed its
 * schema, so every member is checked for its type before it is used.
 */
import { isPlainObject } from '../../events/index.js';
import { resolveEntrypoint } from './describe.js';
import { quoted, type RequestProblem } from './problems.js';

/** The tool each kind of entry script runs with. */
const INTERPRETER: ReadonlyMap<string, string> = new Map([
  ['.py', 'python'],
  ['.sh', 'bash'],
]);

export function ruleProblems(body: unknown): RequestProblem[] {
  return [...datasetProblems(body), ...sandboxProblems(body)];
}

/**
 * Only csv and json records have a key to sort by (docs/row-proofs.md §8); its name is what the event holds (at
 * most 256 UTF-16 units, well-formed) and printable, since every reader of the certificate shows it.
 */
function datasetProblems(body: unknown): RequestProblem[] {
  const dataset = isPlainObject(body) && isPlainObject(body.dataset) ? body.dataset : null;
  const sortedBy = isPlainObject(dataset?.rows) ? dataset.rows.sorted_by : undefined;
  if (typeof sortedBy !== 'string') return [];
  const problem = (message: string): RequestProblem[] => [{ path: 'dataset.rows.sorted_by', code: 'REQUEST_INVALID', message }];
  if (dataset?.format === 'txt') return problem('a txt dataset has no key to sort its records by: give "input" or "none"');
  if (sortedBy.length > 256 || /\p{Surrogate}|[\p{Cc}\p{Cf}\u2028\u2029]/u.test(sortedBy))
    return problem('is at most 256 UTF-16 units of printable text (no control or format characters)');
  return [];
}

function sandboxProblems(body: unknown): RequestProblem[] {
  const sandbox = isPlainObject(body) && isPlainObject(body.sandbox) ? body.sandbox : null;
  if (!sandbox) return [];
  const scripts = isPlainObject(sandbox.scripts) ? sandbox.scripts : {};
  const entrypoint = typeof sandbox.entrypoint === 'string' ? sandbox.entrypoint : undefined;
  if (sandbox.entrypoint !== undefined && entrypoint === undefined) return []; // the schema says what is wrong with it
  if (entrypoint !== undefined && !Object.hasOwn(scripts, entrypoint)) {
    return [{ path: 'sandbox.entrypoint', code: 'REQUEST_ENTRYPOINT_NOT_A_SCRIPT', message: 'names no script in sandbox.scripts' }];
  }
  const chosen = resolveEntrypoint({ scripts, entrypoint, llm: sandbox.llm });
  if (chosen === null) {
    if (sandbox.llm !== undefined) return [];
    return [
      {
        path: 'sandbox.scripts',
        code: 'REQUEST_NOTHING_TO_RUN',
        message: 'nothing to run: give one script, or main.py or main.sh, or name sandbox.entrypoint (or add an llm step)',
      },
    ];
  }
  const interpreter = INTERPRETER.get(chosen.slice(chosen.lastIndexOf('.')));
  const tools = Array.isArray(sandbox.tools) ? sandbox.tools : [];
  if (interpreter && !tools.includes(interpreter)) {
    return [
      {
        path: 'sandbox.tools',
        code: 'REQUEST_INTERPRETER_NOT_A_TOOL',
        message: `must include "${interpreter}": the entry script ${quoted(chosen)} runs with ${interpreter}`,
      },
    ];
  }
  return [];
}
