/**
 * Compares what the events imply with what a document says, member by
 * member, and names the first difference (`execution_trace.tool_uses[0].count`).
 * Own members only (Object.keys / Object.hasOwn), so names such as
 * `__proto__` or `toString` are compared like any other. Key order does not
 * matter; a member the events do not imply is `unknown_member`, any other
 * difference (a missing member included) is `mismatch`. Linear in the size
 * of the two values.
 */
export interface Difference {
  path: string;
  kind: 'unknown_member' | 'mismatch';
}

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
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return here;
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const key of Object.keys(a)) {
      if (!Object.hasOwn(e, key)) return { path: path ? `${path}.${key}` : key, kind: 'unknown_member' };
    }
    for (const key of Object.keys(e)) {
      const child = path ? `${path}.${key}` : key;
      if (!Object.hasOwn(a, key)) return { path: child, kind: 'mismatch' };
      const inner = firstDifference(e[key], a[key], child);
      if (inner) return inner;
    }
    return null;
  }
  return here;
}
