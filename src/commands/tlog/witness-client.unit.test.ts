import { describe, expect, it } from 'vitest';
import { ERROR_REGISTRY, type ErrorCode } from '../../error-codes.js';
import { WITNESS_HTTP_STATUS } from '../../tlog/witness-messages.js';
import { generateCosignerKey } from '../../tlog/cosignature.js';
import { generateNoteKey } from '../../tlog/note.js';
import { codeOf } from '../../tlog/testing/code-of.js';
import { parseWitnessList } from './witness-client.js';

const w1 = generateCosignerKey('witness.example/w1').vkey;
const w2 = generateCosignerKey('witness.example/w2').vkey;

describe('parseWitnessList (EPHEMERA_TLOG_WITNESSES)', () => {
  it('reads <vkey>@<url> entries, comma-separated, split at the first @, trailing slashes dropped', () => {
    expect(parseWitnessList('')).toEqual([]);
    expect(parseWitnessList('  ')).toEqual([]);
    expect(parseWitnessList(`${w1}@http://127.0.0.1:7380/, ${w2}@https://user-free.example/prefix/w2//`)).toEqual([
      { vkey: w1, url: 'http://127.0.0.1:7380' },
      { vkey: w2, url: 'https://user-free.example/prefix/w2' },
    ]);
    // An @ after the first belongs to the URL (a path may hold one).
    expect(parseWitnessList(`${w1}@http://h.example/a@b`)).toEqual([{ vkey: w1, url: 'http://h.example/a@b' }]);
  });

  it.each([
    ['no @', w1],
    ['no vkey', '@http://h.example'],
    ['an empty entry', `${w1}@http://h.example,`],
    ['a note key (0x01) where a cosigner key (0x04) belongs', `${generateNoteKey('witness.example/w1').vkey}@http://h.example`],
    ['a malformed vkey', 'witness+zz+AAAA@http://h.example'],
    ['a non-http URL', `${w1}@ftp://h.example`],
    ['a file URL', `${w1}@file:///etc/passwd`],
    ['not a URL', `${w1}@not a url`],
    ['credentials in the URL', `${w1}@http://user:pw@h.example`],
    ['a query', `${w1}@http://h.example/?x=1`],
    ['a fragment', `${w1}@http://h.example/#x`],
    ['a witness twice', `${w1}@http://a.example,${w1}@http://b.example`],
  ])('refuses %s (CONFIG_INVALID, naming the variable)', (_, text) => {
    expect(codeOf(() => parseWitnessList(text))).toBe('CONFIG_INVALID');
    try {
      parseWitnessList(text);
    } catch (error) {
      expect((error as Error).message).toMatch(/^EPHEMERA_TLOG_WITNESSES: /);
      expect((error as { fields: unknown }).fields).toEqual({ variable: 'EPHEMERA_TLOG_WITNESSES' });
    }
  });

  it('refuses more witnesses than a checkpoint has signature lines for', () => {
    const many = Array.from({ length: 100 }, (_, i) => `${generateCosignerKey(`w/${i}`).vkey}@http://127.0.0.1:${1000 + i}`).join(',');
    expect(codeOf(() => parseWitnessList(many))).toBe('CONFIG_INVALID');
  });
});

describe('the witness codes', () => {
  it('have the HTTP statuses tlog-witness assigns (the witness answers them; the client reads them back as these codes)', () => {
    for (const [code, status] of Object.entries(WITNESS_HTTP_STATUS)) if (code !== 'ok') expect(ERROR_REGISTRY[code as ErrorCode].http, code).toBe(status);
  });
});
