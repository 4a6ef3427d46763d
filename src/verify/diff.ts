/**
 * First difference between what the events imply and what a document says,
 * as a field path (`execution_trace.tool_uses[0].count`). Key order does not
 * matter; an extra or missing key does.
 */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | null {
  if (Object.is(expected, actual)) return null;
  const here = path || '(root)';
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return here;
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (i >= expected.length || i >= actual.length) return `${path}[${i}]`;
      const inner = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (inner) return inner;
    }
    return null;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return here;
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
    for (const key of [...keys].sort()) {
      const child = path ? `${path}.${key}` : key;
      if (!(key in e) || !(key in a)) {
        if (e[key] === undefined && a[key] === undefined) continue;
        return child;
      }
      const inner = firstDifference(e[key], a[key], child);
      if (inner) return inner;
    }
    return null;
  }
  return here;
}
