/**
 * A tiny isomorphic schema language for event data: each schema both checks an
 * unknown value (returning the path of the first bad field) and carries its
 * TypeScript type. Objects are closed: an unknown key is an error, so nothing
 * can ride along in an event unnoticed (THREATS A14).
 */
export interface Schema<T> {
  /** Returns null when valid, else `path: reason`. */
  check(value: unknown, path: string): string | null;
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const make = <T>(check: (value: unknown, path: string) => string | null): Schema<T> => ({ check });

export const s = {
  string: (maxLength = 4096) =>
    make<string>((v, p) => (typeof v === 'string' && v.length <= maxLength ? null : `${p}: expected a string of at most ${maxLength} characters`)),
  hash: () => make<`sha256:${string}`>((v, p) => (typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v) ? null : `${p}: expected sha256:<64 hex>`)),
  hex: (length?: number) =>
    make<string>((v, p) =>
      typeof v === 'string' && /^[0-9a-f]*$/.test(v) && (length === undefined || v.length === length) ? null : `${p}: expected lowercase hex${length ? ` of ${length} characters` : ''}`,
    ),
  int: (min = 0, max = Number.MAX_SAFE_INTEGER) =>
    make<number>((v, p) => (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? null : `${p}: expected an integer in [${min}, ${max}]`)),
  bool: () => make<boolean>((v, p) => (typeof v === 'boolean' ? null : `${p}: expected a boolean`)),
  literal: <const L extends string | number | boolean>(literal: L) => make<L>((v, p) => (v === literal ? null : `${p}: expected ${JSON.stringify(literal)}`)),
  oneOf: <const L extends string>(values: readonly L[]) => make<L>((v, p) => (values.includes(v as L) ? null : `${p}: expected one of ${values.join(', ')}`)),
  nullable: <T>(inner: Schema<T>) => make<T | null>((v, p) => (v === null ? null : inner.check(v, p))),
  optional: <T>(inner: Schema<T>) => make<T | undefined>((v, p) => (v === undefined ? null : inner.check(v, p))),
  array: <T>(item: Schema<T>, maxItems = 10_000) =>
    make<T[]>((v, p) => {
      if (!Array.isArray(v) || v.length > maxItems) return `${p}: expected an array of at most ${maxItems} items`;
      for (let i = 0; i < v.length; i++) {
        const error = item.check(v[i], `${p}[${i}]`);
        if (error) return error;
      }
      return null;
    }),
  /** Any JSON object: used for open, descriptive blocks (limits, runtime identity, attestation). */
  json: () => make<Record<string, unknown>>((v, p) => (isPlainObject(v) ? null : `${p}: expected an object`)),
  record: <T>(value: Schema<T>) =>
    make<Record<string, T>>((v, p) => {
      if (!isPlainObject(v)) return `${p}: expected an object`;
      for (const [key, item] of Object.entries(v)) {
        const error = value.check(item, `${p}.${key}`);
        if (error) return error;
      }
      return null;
    }),
  object: <const F extends Record<string, Schema<unknown>>>(fields: F) =>
    make<ObjectOf<F>>((v, p) => {
      if (!isPlainObject(v)) return `${p}: expected an object`;
      for (const key of Object.keys(v)) if (!(key in fields)) return `${p}.${key}: unknown field`;
      for (const [key, schema] of Object.entries(fields)) {
        const error = schema.check((v as Record<string, unknown>)[key], `${p}.${key}`);
        if (error) return error;
      }
      return null;
    }),
};

type OptionalKeys<F> = { [K in keyof F]: undefined extends Infer<F[K]> ? K : never }[keyof F];
type ObjectOf<F extends Record<string, Schema<unknown>>> = {
  [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]>;
} & { [K in OptionalKeys<F>]?: Infer<F[K]> };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
