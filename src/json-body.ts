/**
 * The JSON body parser: secure-json-parse with __proto__ and
 * constructor.prototype refused, nesting capped before parsing (THREATS G46).
 * SECURITY: parse errors quote their input, so they are never forwarded; the
 * client gets a fixed message and a code.
 */
import secureJson from 'secure-json-parse';
import { EphemeraError } from './errors.js';

export const MAX_JSON_DEPTH = 64;

/** Deepest nesting of objects and arrays, outside strings. Linear, no allocation. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new EphemeraError('REQUEST_MALFORMED_JSON', 'the body is empty');
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new EphemeraError('REQUEST_TOO_DEEP', `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (cause) {
    if (cause instanceof SyntaxError && /prototype|constructor/i.test(cause.message) && !/JSON/.test(cause.message)) {
      throw new EphemeraError('REQUEST_FORBIDDEN_KEY', 'the body contains a forbidden key (__proto__ or constructor.prototype)');
    }
    throw new EphemeraError('REQUEST_MALFORMED_JSON', 'the body is not valid JSON');
  }
}
