import { describe, expect, it } from 'vitest';
import { datasetFormatOf } from './common.js';

describe('datasetFormatOf (run, submit)', () => {
  it('tells the format from the extension, JSON Lines as json, any case; --format wins', () => {
    expect(['a.csv', 'b.JSON', 'c.jsonl', 'd.ndjson', 'e.txt'].map((path) => datasetFormatOf(path, undefined))).toEqual(['csv', 'json', 'json', 'json', 'txt']);
    expect(datasetFormatOf('data.bin', 'txt')).toBe('txt');
  });

  it('refuses a name that says nothing, and a --format it does not know, with CLI_USAGE', () => {
    for (const [path, given] of [
      ['data', undefined],
      ['data.tsv', undefined],
      ['a.csv', 'xml'],
    ] as const)
      expect(() => datasetFormatOf(path, given)).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
  });
});
