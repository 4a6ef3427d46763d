/**
 * The FIFO one strace writes a sandbox's file activity to (file-trace.ts), in a fresh private directory.
 * Node cannot make a FIFO (no mknod), so mkfifo runs as a process: about 5 ms of every traced start, and
 * run synchronously it stalled every other request meanwhile. So the next sandbox's FIFO is made ahead, in
 * the background, as this one is taken. A FIFO keeps no data on disk and a spare has never been opened, so
 * nothing of any run can be in it; a spare left at exit is removed.
 */
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TraceFifo {
  /** The private directory (mode 0700) holding it; removed with it. */
  dir: string;
  path: string;
}

const execFileAsync = promisify(execFile);
let spare: Promise<TraceFifo | null> | null = null;
/** Made and not yet taken: what the process removes when it exits. */
const untaken = new Set<string>();

/**
 * A fresh FIFO owned by `owner` (the tracer's host uid, when it is not ours), and the next one started. A spare
 * stays ours (its directory 0700) until it is taken: only then is it handed to the tracer's uid, as a FIFO made
 * on the spot would be, so no process of that uid can reach it while it waits.
 */
export async function takeTraceFifo(owner?: number): Promise<TraceFifo> {
  const ready = spare;
  spare = makeTraceFifo().then(keepAsSpare, () => null);
  const taken = (await ready) ?? (await makeTraceFifo());
  untaken.delete(taken.dir);
  try {
    if (owner !== undefined) for (const p of [taken.dir, taken.path]) await chown(p, owner, owner);
  } catch (cause) {
    await rm(taken.dir, { recursive: true, force: true });
    throw cause;
  }
  return taken;
}

async function makeTraceFifo(): Promise<TraceFifo> {
  const dir = await mkdtemp(join(tmpdir(), 'ephemera-trace-'));
  const path = join(dir, 'trace.fifo');
  try {
    await execFileAsync('mkfifo', ['-m', '600', path]);
  } catch (cause) {
    await rm(dir, { recursive: true, force: true });
    throw cause;
  }
  return { dir, path };
}

function keepAsSpare(fifo: TraceFifo): TraceFifo {
  if (!removedAtExit) process.once('exit', removeUntaken);
  removedAtExit = true;
  untaken.add(fifo.dir);
  return fifo;
}

let removedAtExit = false;

function removeUntaken(): void {
  for (const dir of untaken) rmSync(dir, { recursive: true, force: true });
  untaken.clear();
}
