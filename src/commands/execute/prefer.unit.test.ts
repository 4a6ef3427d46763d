import { describe, expect, it } from 'vitest';
import { parsePrefer, prefersAsync } from './prefer.js';

describe('the Prefer header (RFC 7240)', () => {
  it('finds respond-async among several preferences, in any case, with parameters and other headers', () => {
    for (const header of [
      'respond-async',
      'Respond-Async',
      'wait=10, respond-async',
      'return=minimal; foo="a,b;c", RESPOND-ASYNC ; x=1',
      ['handling=lenient', 'respond-async'],
      '  respond-async  ',
    ])
      expect(prefersAsync(header), JSON.stringify(header)).toBe(true);
  });

  it('does not find it where it is not a preference of its own', () => {
    for (const header of [
      undefined,
      '',
      'return=minimal',
      'respond-asynchronously',
      'x="respond-async"',
      'wait=5; respond-async',
      'respond async',
      'respond-async"',
    ])
      expect(prefersAsync(header), JSON.stringify(header)).toBe(false);
  });

  it('reads values and parameters, unquotes quoted strings, keeps the first occurrence and skips malformed elements', () => {
    const parsed = parsePrefer('Wait=10, wait=20, return="mini\\"mal"; Q = 1 ; r, bad@name, handling=strict; =x, respond-async');
    expect(parsed.get('wait')).toEqual({ value: '10', parameters: new Map() });
    expect(parsed.get('return')).toEqual({
      value: 'mini"mal',
      parameters: new Map([
        ['q', '1'],
        ['r', null],
      ]),
    });
    expect(parsed.has('handling')).toBe(false);
    expect([...parsed.keys()]).toEqual(['wait', 'return', 'respond-async']);
  });

  it('ignores a header whose quoted string never closes', () => {
    expect(parsePrefer('respond-async, x="open').size).toBe(0);
  });
});
