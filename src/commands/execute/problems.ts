/**
 * Turns Ajv's errors into problems a person can act on: the field path
 * (`sandbox.tools[2]`) and plain words (`must be one of bash, python, grep, sql`),
 * one problem per field, never the value (it may be dataset text). Member
 * names from the request are data: quoted, cut short, never trusted as paths.
 */
import type { ErrorObject } from 'ajv';
import type { ErrorCode } from '../../error-codes.js';
import { executeRequestSchema, limitsSchema, SCRIPT_NAME_PATTERN } from './request-schema.js';

const { dataset, sandbox } = executeRequestSchema.properties;

export interface RequestProblem {
  /** Where, from the request's root: `sandbox.environment.timeout_seconds`, `sandbox.scripts["a b.py"]`. */
  path: string;
  message: string;
  /** REQUEST_INVALID for a schema problem; a rule's own code for the rules of request-rules.ts. */
  code: ErrorCode;
}

/** At most this many problems are reported: enough to fix a request, bounded for a hostile one. */
export const MAX_PROBLEMS = 20;

/** Patterns in words: what a value of that form looks like. */
const PATTERN_WORDS = new Map<string, string>([
  [SCRIPT_NAME_PATTERN, 'must be a script name ending in .py or .sh (letters, digits, ".", "_", "-"; starting with a letter or digit)'],
  [sandbox.properties.llm.properties.model.pattern, 'must be a model name (letters, digits, ".", "_", ":", "@", "-"; at most 128 characters)'],
  [limitsSchema.properties.network.properties.allow.items.pattern, 'must be host:port, for example api.example.com:443'],
  [dataset.properties.data.pattern, 'must be "base64:" followed by standard base64 (line breaks allowed)'],
  [dataset.properties.url.pattern, 'must be an http:// or https:// URL'],
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name from the request, quoted and cut to 64 characters. */
export function quoted(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/** One member name as a path step: `.name`, or `["other name"]`. */
function step(name: string): string {
  return IDENTIFIER.test(name) && name.length <= 64 ? `.${name}` : `[${quoted(name)}]`;
}

/** The path of an Ajv instancePath (a JSON Pointer) in `root`: array positions as `[n]`. */
export function pathOf(pointer: string, root: unknown, prefix = ''): string {
  let path = prefix;
  let node: unknown = root;
  if (pointer === '') return path;
  for (const raw of pointer.slice(1).split('/')) {
    const name = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node) && /^\d+$/.test(name)) {
      path += `[${name}]`;
      node = node[Number(name)];
    } else {
      path += path === '' ? step(name).replace(/^\./, '') : step(name);
      node = node !== null && typeof node === 'object' && Object.hasOwn(node, name) ? (node as Record<string, unknown>)[name] : undefined;
    }
  }
  return path;
}

const join = (parent: string, name: string) => (parent === '' ? step(name).replace(/^\./, '') : `${parent}${step(name)}`);

type Schema = Record<string, unknown>;

/** What a field must be, in words, for the keyword that failed (the field's schema when Ajv gives it, else the error's params). */
function describe(error: ErrorObject): string {
  const schema = (error.parentSchema ?? {}) as Schema;
  const p = error.params as Record<string, unknown>;
  if (Array.isArray(schema.enum)) return `must be one of ${schema.enum.join(', ')}`;
  if (error.keyword === 'enum' && Array.isArray(p.allowedValues)) return `must be one of ${p.allowedValues.join(', ')}`;
  const type = schema.type ?? (error.keyword === 'type' ? p.type : undefined);
  if (type === 'integer' || type === 'number') {
    const whole = type === 'integer' ? 'a whole number' : 'a number';
    const { minimum: min, maximum: max } = schema;
    if (min !== undefined && max !== undefined) return `must be ${whole} from ${min} to ${max}`;
    if (min !== undefined) return `must be ${whole} of at least ${min}`;
    if (max !== undefined) return `must be ${whole} of at most ${max}`;
    if (error.keyword === 'minimum' || error.keyword === 'maximum') return `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${p.limit}`;
    return `must be ${whole}`;
  }
  switch (error.keyword) {
    case 'type':
      return (
        { string: 'must be text', object: 'must be an object', array: 'must be a list', boolean: 'must be true or false', null: 'must be null' }[
          String(type)
        ] ?? `must be of type ${String(type)}`
      );
    case 'pattern':
      return PATTERN_WORDS.get(String(p.pattern)) ?? 'is not in the accepted form (see the API description)';
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters`;
    case 'maxLength':
      return `must be at most ${p.limit} characters`;
    case 'minItems':
      return `must have at least ${p.limit} items`;
    case 'maxItems':
      return `must have at most ${p.limit} items`;
    case 'uniqueItems':
      return 'must not list an item twice';
    case 'minProperties':
      return `must have at least ${p.limit} entries`;
    case 'maxProperties':
      return `must have at most ${p.limit} entries`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    default:
      return 'is not valid here';
  }
}

/** `needs exactly one of data or url` from a oneOf of `required` branches. */
function describeOneOf(error: ErrorObject): string {
  const branches = ((error.parentSchema as Schema | undefined)?.oneOf ?? []) as Schema[];
  const names = branches.map((b) => (Array.isArray(b.required) && b.required.length === 1 ? String(b.required[0]) : null));
  if (names.length > 1 && names.every((n) => n !== null)) return `needs exactly one of ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  return 'must match exactly one of the accepted forms';
}

/**
 * The problems in Ajv's errors for the value `root` (validated under `prefix`, '' for the body),
 * one per field and keyword kind, in Ajv's order (the caller keeps the first MAX_PROBLEMS).
 */
export function problemsFrom(errors: readonly ErrorObject[], root: unknown, prefix = ''): RequestProblem[] {
  const problems: RequestProblem[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ path: path || '(request)', message, code: 'REQUEST_INVALID' });
  };
  // A field with several failing keywords (type and pattern, say) gets one problem, from its first.
  const described = new Set<string>();
  for (const error of errors) {
    if (error.schemaPath.includes('/oneOf/')) continue; // a branch's own failure: the oneOf says it better
    const at = pathOf(error.instancePath, root, prefix);
    const p = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') add(join(at, String(p.additionalProperty)), 'is not a known field');
    else if (error.keyword === 'required') add(join(at, String(p.missingProperty)), 'is required');
    else if (error.keyword === 'oneOf') add(at, describeOneOf(error));
    else if (error.keyword === 'propertyNames') add(join(at, String(p.propertyName)), 'is not an accepted name');
    else if ((error as { propertyName?: string }).propertyName !== undefined) {
      // The name itself failed (propertyNames): say what a name must be, at the name.
      const name = (error as { propertyName?: string }).propertyName!;
      add(join(at, name), `is not an accepted name: ${describe(error)}`);
      described.add(join(at, name));
    } else if (!described.has(at)) {
      described.add(at);
      add(at, describe(error));
    }
  }
  // propertyNames repeats the name's own failure without the reason: drop it where the reason is there.
  return problems.filter((p) => !(p.message === 'is not an accepted name' && described.has(p.path)));
}
