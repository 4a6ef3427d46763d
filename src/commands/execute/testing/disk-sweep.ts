/**
 * The non-persistence sweeps (THREATS C27, G48): which files under the roots
 * hold any of the needles. Only files written since `since` are read (a copy
 * a run leaves is newer than the run), and node_modules trees are not entered
 * (nothing of a run writes there; a CI clone's tree alone is a gigabyte).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX_DEPTH = 12;
const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** File systems keep coarse times: a file written in the run's first moments may read as a little older. */
const CLOCK_SLACK_MS = 2000;

export function filesHolding(needles: readonly string[], roots: readonly string[], since: number): string[] {
  const hits: string[] = [];
  for (const root of roots)
    for (const file of filesWrittenSince(root, since - CLOCK_SLACK_MS)) {
      let text: Buffer;
      try {
        text = readFileSync(file);
      } catch {
        continue;
      }
      for (const needle of needles) if (text.includes(needle)) hits.push(`${file}: ${needle.slice(0, 6)}…`);
    }
  return hits;
}

function* filesWrittenSince(root: string, since: number, depth = 0): Generator<string> {
  if (depth > MAX_DEPTH) return;
  let entries: string[] = [];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry === 'node_modules') continue;
    const path = join(root, entry);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      continue;
    }
    if (!st) continue;
    if (st.isDirectory()) yield* filesWrittenSince(path, since, depth + 1);
    else if (st.isFile() && st.size < MAX_FILE_BYTES && st.mtimeMs >= since) yield path;
  }
}
