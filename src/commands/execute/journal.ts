/**
 * This executor's record of its own unfinished runs: one empty file per
 * execution id under <dataDir>/runs (ids only, never data). An entry is made
 * durable before a run's first append and removed once its terminal event is
 * acknowledged, so after a crash the node knows exactly which streams are its
 * own to close: on a shared Kafka log it must never append to anyone else's.
 */
import { mkdirSync } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EXECUTION_ID_PATTERN } from '../../events/index.js';

export class RunJournal {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Durable before it resolves: the file and the directory entry naming it are both synced. */
  async begin(executionId: string): Promise<void> {
    if (!EXECUTION_ID_PATTERN.test(executionId)) throw new Error(`not an execution id: ${JSON.stringify(executionId)}`);
    await synced(join(this.dir, executionId), 'wx');
    await synced(this.dir, 'r');
  }

  /** Idempotent. Not synced: an entry that reappears after a crash names a finished stream, and recovery just removes it. */
  async end(executionId: string): Promise<void> {
    if (EXECUTION_ID_PATTERN.test(executionId)) await rm(join(this.dir, executionId), { force: true });
  }

  /**
   * The ids of the runs this node started and has not seen finished, oldest first (ULIDs sort by time).
   * Regular files only: a directory with an entry's name is not one of ours, and `end` could not remove it
   * (startup recovery would fail on it at every restart).
   */
  async open(): Promise<string[]> {
    return (await readdir(this.dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && EXECUTION_ID_PATTERN.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  }
}

async function synced(path: string, flags: 'wx' | 'r'): Promise<void> {
  const handle = await open(path, flags, 0o600);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Where a node keeps its journal. */
export const journalDirOf = (dataDir: string) => join(dataDir, 'runs');
