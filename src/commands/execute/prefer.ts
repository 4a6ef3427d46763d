/**
 * The Prefer request header (RFC 7240): a comma-separated list of
 * preferences, each `token [= word] *(; parameter)`, where a word is a token
 * or a quoted string. Names are case-insensitive; the first occurrence of a
 * preference wins; a malformed element is ignored, as are preferences this
 * server does not know (a preference is only ever a hint).
 */

export interface Preference {
  value: string | null;
  parameters: ReadonlyMap<string, string | null>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Splits at `separator` outside quoted strings; null when a quoted string never closes. */
function splitOutsideQuotes(text: string, separator: string): string[] | null {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (quoted) return null;
  parts.push(current);
  return parts;
}

/** `name` or `name = word`, with the name lowercased and a quoted word unquoted; null when malformed. */
function nameAndValue(text: string): [string, string | null] | null {
  const equals = text.indexOf('=');
  const name = (equals < 0 ? text : text.slice(0, equals)).trim();
  if (!TOKEN.test(name)) return null;
  if (equals < 0) return [name.toLowerCase(), null];
  const word = text.slice(equals + 1).trim();
  if (TOKEN.test(word)) return [name.toLowerCase(), word];
  const quoted = /^"((?:[^"\\]|\\.)*)"$/s.exec(word);
  return quoted ? [name.toLowerCase(), quoted[1]!.replace(/\\(.)/gs, '$1')] : null;
}

export function parsePrefer(header: string | string[] | undefined): Map<string, Preference> {
  const preferences = new Map<string, Preference>();
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const element of splitOutsideQuotes(text, ',') ?? []) {
    if (element.trim() === '') continue;
    const [head, ...rest] = splitOutsideQuotes(element, ';')!;
    const preference = nameAndValue(head!);
    if (!preference || preferences.has(preference[0])) continue;
    const parameters = new Map<string, string | null>();
    let malformed = false;
    for (const part of rest) {
      if (part.trim() === '') continue;
      const parameter = nameAndValue(part);
      if (!parameter) malformed = true;
      else if (!parameters.has(parameter[0])) parameters.set(parameter[0], parameter[1]);
    }
    if (!malformed) preferences.set(preference[0], { value: preference[1], parameters });
  }
  return preferences;
}

/** Whether the caller asked for the answer before the run (`Prefer: respond-async`). */
export const prefersAsync = (header: string | string[] | undefined) => parsePrefer(header).has('respond-async');
