/**
 * The canonical-text shortcut (strict-json.ts, envelope.ts eventDigest): an
 * event whose text is already its RFC 8785 form is hashed as read. The
 * scanner must call a text canonical exactly when JCS would write it so, and
 * the digest from the text must equal the digest from the parsed event.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, eventDigest, eventDigestOfCanonicalText, StrictObjectStream, type EventEnvelope, type ObjectSink } from './index.js';
import { richEvents } from '../verify/testing/conformance.js';

/** Reads `{"items":[…]}` and returns each element with the text the scanner calls canonical (or null). */
function read(elements: string[]): { value: unknown; canonicalText: string | null }[] {
  const out: { value: unknown; canonicalText: string | null }[] = [];
  const sink: ObjectSink = {
    name: () => undefined,
    member: () => undefined,
    arrayOpened: () => undefined,
    elementStarting: () => undefined,
    element: (_i, text, canonical) => void out.push({ value: JSON.parse(text), canonicalText: canonical ? text : null }),
  };
  const reader = new StrictObjectStream('items', sink);
  reader.push(`{"items":[${elements.join(',')}]}`);
  reader.end();
  return out;
}

describe('canonical event text', () => {
  const events = richEvents() as EventEnvelope[];

  it('is recognised for every event written by canonicalize, and hashes as the parsed event does', () => {
    const read_ = read(events.map((e) => canonicalize(e)));
    for (const [i, { value, canonicalText }] of read_.entries()) {
      expect(canonicalText, `event ${i}`).toBe(canonicalize(events[i]));
      expect(Buffer.from(eventDigestOfCanonicalText(canonicalText!)!).toString('hex')).toBe(Buffer.from(eventDigest(value as EventEnvelope)).toString('hex'));
    }
  });

  it.each([
    ['members in insertion order (JSON.stringify)', (e: EventEnvelope) => JSON.stringify(e)],
    ['a space after a colon', (e: EventEnvelope) => canonicalize(e).replace('":', '": ')],
    ['"/" written \\/', (e: EventEnvelope) => canonicalize(e).replace('"/data/dataset.csv"', '"\\/data\\/dataset.csv"')],
    ['a letter written \\u0061', (e: EventEnvelope) => canonicalize(e).replace('"tmpfs"', '"tmpf\\u0073"')],
    ['a newline written \\u000a', (e: EventEnvelope) => canonicalize(e).replace('\\n', '\\u000a')],
    ['an escape in uppercase hex (\\u001F)', (e: EventEnvelope) => canonicalize({ ...e, data: { ...e.data, x: '\u001f' } }).replace('\\u001f', '\\u001F')],
  ])('is refused for %s, which still hashes the same through the parsed event', (_what, spell) => {
    for (const event of events) {
      const text = spell(event);
      const [{ value, canonicalText }] = read([text]) as [{ value: EventEnvelope; canonicalText: string | null }];
      if (text === canonicalize(event)) continue; // this spelling changed nothing in this event
      expect(canonicalText).toBeNull();
      expect(eventDigest(value)).toEqual(eventDigest(JSON.parse(text)));
    }
  });

  it('agrees with canonicalize on any JSON value: canonical exactly when the text is JCS output', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const jcs = canonicalize(value);
        expect(read([jcs])[0]!.canonicalText).toBe(jcs);
        const spelled = JSON.stringify(value);
        expect(read([spelled])[0]!.canonicalText).toBe(spelled === jcs ? spelled : null);
      }),
      { numRuns: 500 },
    );
  });
});
