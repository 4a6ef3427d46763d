/**
 * A tiny isomorphic schema language for event data: each schema both checks an
 * unknown value (returning the first problem, with the path of the member) and
 * carries its TypeScript type. Objects are closed: an unknown member is a
 * problem of its own kind, so nothing rides along in an event unnoticed
 * (THREATS A14, docs/verification.md §4). Member names from the document are
 * data: they are looked up with Object.hasOwn and Maps, never through `in`
 * or a plain object's prototype.
 */
export type ProblemKind = 'unknown_member' | 'not_safe_integer' | 'timestamp' | 'invalid';

export interface Problem {
  kind: ProblemKind;
  /** Where, as `events[3].data.call_id`. */
  path: string;
  reason: string;
}

export interface Schema<T> {
  /** Returns null when valid, else the first problem. */
  check(value: unknown, path: string): Problem | null;
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const make = <T>(check: (value: unknown, path: string) => Problem | null): Schema<T> => ({ check });
const invalid = (path: string, reason: string): Problem => ({ kind: 'invalid', path, reason });

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`: the RFC 3339 profile every Ephemera time is written in (UTC, milliseconds). */
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const HASH_TEXT_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The last two hash texts found good: an event's `prev` is the `hash` of the one before it. */
let goodHashText = '';
let goodHashTextBefore = '';

/** `sha256:` and 64 lowercase hex digits (what HASH_TEXT_PATTERN says, as a loop: every event has several). */
export function isHashText(value: unknown): value is `sha256:${string}` {
  if (typeof value !== 'string' || value.length !== 71) return false;
  if (value === goodHashText || value === goodHashTextBefore) return true;
  if (!value.startsWith('sha256:')) return false;
  for (let i = 7; i < 71; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  goodHashTextBefore = goodHashText;
  goodHashText = value;
  return true;
}

/** The last timestamp found good: a stream repeats its times, and this check runs once per event. */
let lastGoodTimestamp = '';

/** True for a timestamp in the profile that names a real instant (no 2026-02-30, no 24:00, no leap second). */
export function isTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (value === lastGoodTimestamp) return true;
  if (!TIMESTAMP_PATTERN.test(value)) return false;
  const ms = Date.parse(value);
  // Date.parse rolls 2026-02-30 over into March: only a round trip proves the calendar date.
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== value) return false;
  lastGoodTimestamp = value;
  return true;
}

export const s = {
  string: (maxLength = 4096) =>
    make<string>((v, p) => (typeof v === 'string' && v.length <= maxLength ? null : invalid(p, `expected a string of at most ${maxLength} characters`))),
  /** A string matching `pattern` (anchored by the caller). */
  pattern: (pattern: RegExp, what: string) => make<string>((v, p) => (typeof v === 'string' && pattern.test(v) ? null : invalid(p, `expected ${what}`))),
  hash: () => make<`sha256:${string}`>((v, p) => (isHashText(v) ? null : invalid(p, 'expected sha256:<64 lowercase hex>'))),
  hex: (length?: number, maxLength = 1 << 22) =>
    make<string>((v, p) =>
      typeof v === 'string' && v.length <= maxLength && v.length % 2 === 0 && /^[0-9a-f]*$/.test(v) && (length === undefined || v.length === length)
        ? null
        : invalid(p, `expected lowercase hex${length ? ` of ${length} characters` : ''}`),
    ),
  timestamp: () =>
    make<string>((v, p) =>
      isTimestamp(v)
        ? null
        : { kind: 'timestamp', path: p, reason: 'expected an RFC 3339 UTC time with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ) on a real calendar date' },
    ),
  int: (min = 0, max = Number.MAX_SAFE_INTEGER) =>
    make<number>((v, p) => {
      if (typeof v !== 'number') return invalid(p, 'expected an integer');
      if (!Number.isSafeInteger(v)) return { kind: 'not_safe_integer', path: p, reason: `expected an exact integer of at most 2^53-1, found ${v}` };
      return v >= min && v <= max ? null : invalid(p, `expected an integer in [${min}, ${max}]`);
    }),
  bool: () => make<boolean>((v, p) => (typeof v === 'boolean' ? null : invalid(p, 'expected a boolean'))),
  literal: <const L extends string | number | boolean>(literal: L) =>
    make<L>((v, p) => (v === literal ? null : invalid(p, `expected ${JSON.stringify(literal)}`))),
  oneOf: <const L extends string>(values: readonly L[]) =>
    make<L>((v, p) => (typeof v === 'string' && values.includes(v as L) ? null : invalid(p, `expected one of ${values.join(', ')}`))),
  nullable: <T>(inner: Schema<T>) => make<T | null>((v, p) => (v === null ? null : inner.check(v, p))),
  /**
   * A member that may be absent. v1 has several; v2 only `execution.failed.stderr_tail`, which is
   * never null (one spelling per value: absent means there is none).
   */
  optional: <T>(inner: Schema<T>) => make<T | undefined>((v, p) => (v === undefined ? null : inner.check(v, p))),
  array: <T>(item: Schema<T>, maxItems = 10_000) =>
    make<T[]>((v, p) => {
      if (!Array.isArray(v)) return invalid(p, 'expected an array');
      if (v.length > maxItems) return invalid(p, `expected at most ${maxItems} items`);
      for (let i = 0; i < v.length; i++) {
        const problem = item.check(v[i], `${p}[${i}]`);
        if (problem) return problem;
      }
      return null;
    }),
  /**
   * Any JSON object, within a budget of values and of string length: only for
   * data that is the user's own (the result's JSON) and v1's open blocks.
   */
  json: (maxValues = 100_000, maxStringUnits = 1 << 20) =>
    make<Record<string, unknown>>((v, p) => {
      if (!isPlainObject(v)) return invalid(p, 'expected an object');
      return withinBudget(v, { values: maxValues, units: maxStringUnits })
        ? null
        : invalid(p, `expected at most ${maxValues} values and ${maxStringUnits} characters of strings`);
    }),
  /** An object whose member names are data (tool names, limit names); each value closed by `value`. */
  record: <T>(value: Schema<T>, maxEntries = 256) =>
    make<Record<string, T>>((v, p) => {
      if (!isPlainObject(v)) return invalid(p, 'expected an object');
      const keys = Object.keys(v);
      if (keys.length > maxEntries) return invalid(p, `expected at most ${maxEntries} members`);
      for (const key of keys) {
        const problem = value.check(v[key], `${p}.${key}`);
        if (problem) return problem;
      }
      return null;
    }),
  /** One of several closed shapes, chosen by the string member `tag`. */
  tagged: <const M extends Record<string, Schema<unknown>>>(tag: string, variants: M) => {
    const byTag = new Map(Object.entries(variants));
    return make<Infer<M[keyof M]>>((v, p) => {
      if (!isPlainObject(v)) return invalid(p, 'expected an object');
      const variant = typeof v[tag] === 'string' && Object.hasOwn(v, tag) ? byTag.get(v[tag] as string) : undefined;
      if (!variant) return invalid(`${p}.${tag}`, `expected one of ${[...byTag.keys()].join(', ')}`);
      return variant.check(v, p);
    });
  },
  /** Either of two schemas (the first problem of the second is reported). */
  either: <A, B>(a: Schema<A>, b: Schema<B>) => make<A | B>((v, p) => (a.check(v, p) === null ? null : b.check(v, p))),
  object: <const F extends Record<string, Schema<unknown>>>(fields: F) => {
    const known = new Map<string, Schema<unknown>>(Object.entries(fields));
    return make<ObjectOf<F>>((v, p) => {
      if (!isPlainObject(v)) return invalid(p, 'expected an object');
      for (const key of Object.keys(v)) {
        if (!known.has(key)) return { kind: 'unknown_member', path: `${p}.${key}`, reason: 'not a member of this object in this format version' };
      }
      for (const [key, schema] of known) {
        const present = Object.hasOwn(v, key);
        const problem = schema.check(present ? v[key] : undefined, `${p}.${key}`);
        if (problem) return present ? problem : invalid(`${p}.${key}`, 'missing member');
      }
      return null;
    });
  },
};

/** Walks `value` counting values and string characters (member names included) against the budget. */
function withinBudget(value: unknown, budget: { values: number; units: number }): boolean {
  if (--budget.values < 0) return false;
  if (typeof value === 'string') return (budget.units -= value.length) >= 0;
  if (Array.isArray(value)) return value.every((item) => withinBudget(item, budget));
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      if ((budget.units -= key.length) < 0 || !withinBudget((value as Record<string, unknown>)[key], budget)) return false;
    }
  }
  return true;
}

type OptionalKeys<F> = { [K in keyof F]: undefined extends Infer<F[K]> ? K : never }[keyof F];
type ObjectOf<F extends Record<string, Schema<unknown>>> = {
  [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]>;
} & { [K in OptionalKeys<F>]?: Infer<F[K]> };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
