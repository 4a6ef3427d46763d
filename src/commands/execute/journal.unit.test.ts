import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { RunJournal } from './journal.js';

const dir = mkdtempSync(join(tmpdir(), 'ephemera-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('names only entries it could have written: a directory or an odd name in its directory is left alone, and startup recovery does not trip on it', async () => {
  const journal = new RunJournal(join(dir, 'runs'));
  await journal.begin('01M8Y7838MYS64AA2E2J88SBA4');
  // An operator's (or a restore's) leftovers: a directory with an entry's name, and a file that is not one.
  mkdirSync(join(dir, 'runs', '01M8Y7838MYS64AA2E2J88SBA3'));
  writeFileSync(join(dir, 'runs', 'notes.txt'), 'x');
  expect(await journal.open()).toEqual(['01M8Y7838MYS64AA2E2J88SBA4']);
  for (const id of await journal.open()) await journal.end(id);
  expect(await journal.open()).toEqual([]);
});
