/**
 * Compares what the events imply with what a document says, member by
 * member, and names the first difference (`execution_trace.tool_uses[0].count`).
 * Own members only (Object.keys / Object.hasOwn), so names such as
 * `__proto__` or `toString` are compared like any other. Key order does not
 * matter. The document is walked in its own order: a member the events do
 * not imply is `unknown_member`; any other difference, a missing member
 * included, is `mismatch`. Linear in the size of the two values.
 *
 * `firstDifferenceInText` does the same against the exact text of a member
 * (already read strictly, docs/verification.md §2) without building it, so a
 * summary member costs its size in text, never the size of its objects.
 */
export interface Difference {
  path: string;
  kind: 'unknown_member' | 'mismatch';
}

const child = (path: string, key: string) => (path ? `${path}.${key}` : key);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function firstDifference(expected: unknown, actual: unknown, path = ''): Difference | null {
  if (expected === actual) return null;
  const here: Difference = { path: path || '(document)', kind: 'mismatch' };
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return here;
    for (let i = 0; i < expected.length; i++) {
      const inner = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (inner) return inner;
    }
    return null;
  }
  if (isRecord(expected)) {
    if (!isRecord(actual)) return here;
    for (const key of Object.keys(actual)) {
      if (!Object.hasOwn(expected, key)) return { path: child(path, key), kind: 'unknown_member' };
      const inner = firstDifference(expected[key], actual[key], child(path, key));
      if (inner) return inner;
    }
    for (const key of Object.keys(expected)) if (!Object.hasOwn(actual, key)) return { path: child(path, key), kind: 'mismatch' };
    return null;
  }
  return here;
}

/** Thrown to end the walk at the first difference. */
class Found {
  constructor(readonly difference: Difference) {}
}

/** The first difference between `expected` and the JSON `text` (valid, strictly read), in the text's order. */
export function firstDifferenceInText(expected: unknown, text: string, path = ''): Difference | null {
  const walker = new TextWalker(text);
  try {
    walker.compare(expected, path);
    return null;
  } catch (error) {
    if (error instanceof Found) return error.difference;
    throw error;
  }
}

class TextWalker {
  private i = 0;

  constructor(private readonly s: string) {}

  private ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private differ(path: string, kind: Difference['kind'] = 'mismatch'): never {
    throw new Found({ path: path || '(document)', kind });
  }

  /** The string token at the cursor (the text is valid JSON: its end is the first unescaped quote). */
  private string(): string {
    const start = this.i;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      const c = this.s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
      } else j += 1;
    }
    this.i = j + 1;
    return escaped ? (JSON.parse(this.s.slice(start, j + 1)) as string) : this.s.slice(start + 1, j);
  }

  compare(expected: unknown, path: string): void {
    this.ws();
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.object(expected, path);
    if (c === 0x5b) return this.array(expected, path);
    if (c === 0x22) {
      if (this.string() !== expected) this.differ(path);
      return;
    }
    const start = this.i;
    while (this.i < this.s.length && !/[\s,\]}]/.test(this.s[this.i]!)) this.i++;
    const token = this.s.slice(start, this.i);
    const value = token === 'true' ? true : token === 'false' ? false : token === 'null' ? null : Number(token);
    if (value !== expected) this.differ(path);
  }

  private object(expected: unknown, path: string): void {
    if (!isRecord(expected)) this.differ(path);
    const record = expected as Record<string, unknown>;
    const seen = new Set<string>();
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) this.i++;
    else {
      for (;;) {
        this.ws();
        const key = this.string();
        if (!Object.hasOwn(record, key)) this.differ(child(path, key), 'unknown_member');
        seen.add(key);
        this.ws();
        this.i++; // ':'
        this.compare(record[key], child(path, key));
        this.ws();
        if (this.s.charCodeAt(this.i++) === 0x7d) break; // else ','
      }
    }
    // Names are unique (the strict reader saw to it): an expected name not seen is missing.
    for (const key of Object.keys(record)) if (!seen.has(key)) this.differ(child(path, key));
  }

  private array(expected: unknown, path: string): void {
    if (!Array.isArray(expected)) this.differ(path);
    const items = expected as unknown[];
    let index = 0;
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
    } else {
      for (;;) {
        if (index >= items.length) this.differ(`${path}[${index}]`);
        this.compare(items[index], `${path}[${index}]`);
        index += 1;
        this.ws();
        if (this.s.charCodeAt(this.i++) === 0x5d) break;
      }
    }
    if (index !== items.length) this.differ(`${path}[${index}]`);
  }
}
