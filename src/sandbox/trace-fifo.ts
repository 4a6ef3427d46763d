/**
 * The FIFO one strace writes a sandbox's file activity to (file-trace.ts), in a fresh private directory.
 * Node cannot make a FIFO (no mknod), so mkfifo runs as a process: about 5 ms of every traced start, and
 * run synchronously it stalled every other request meanwhile. So FIFOs are made ahead, in the background,
 * several per mkfifo: starting a process costs this one's main thread ~10 ms when it is large (a serve with
 * chDB loaded), which at four runs in flight was a tenth of its time (docs/performance.md §7). A FIFO keeps
 * no data on disk and a spare has never been opened, so nothing of any run can be in it; spares left at exit
 * are removed.
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
/** FIFOs one mkfifo makes; a new batch starts when the spares run this low. */
const BATCH = 4;
const LOW = 1;
const spares: TraceFifo[] = [];
let making: Promise<void> | null = null;
/** Made and not yet taken: what the process removes when it exits. */
const untaken = new Set<string>();

/**
 * A fresh FIFO owned by `owner` (the tracer's host uid, when it is not ours), the next batch started when the
 * spares run low. A spare stays ours (its directory 0700) until it is taken: only then is it handed to the
 * tracer's uid, as a FIFO made on the spot would be, so no process of that uid can reach it while it waits.
 */
export async function takeTraceFifo(owner?: number): Promise<TraceFifo> {
  let taken = spares.shift();
  if (spares.length <= LOW) refill();
  if (!taken) {
    await making?.catch(() => undefined);
    taken = spares.shift() ?? (await makeTraceFifos(1))[0]!;
    if (spares.length <= LOW) refill();
  }
  untaken.delete(taken.dir);
  try {
    if (owner !== undefined) for (const p of [taken.dir, taken.path]) await chown(p, owner, owner);
  } catch (cause) {
    await rm(taken.dir, { recursive: true, force: true });
    throw cause;
  }
  return taken;
}

function refill(): void {
  making ??= makeTraceFifos(BATCH)
    .then((made) => void spares.push(...made.map(keepAsSpare)))
    // A failed batch leaves no spare: the next take makes its own FIFO, and says why if that fails too.
    .catch(() => undefined)
    .finally(() => (making = null));
}

async function makeTraceFifos(count: number): Promise<TraceFifo[]> {
  const fifos = await Promise.all(
    Array.from({ length: count }, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ephemera-trace-'));
      return { dir, path: join(dir, 'trace.fifo') };
    }),
  );
  try {
    await execFileAsync('mkfifo', ['-m', '600', ...fifos.map((fifo) => fifo.path)]);
  } catch (cause) {
    await Promise.all(fifos.map((fifo) => rm(fifo.dir, { recursive: true, force: true })));
    throw cause;
  }
  return fifos;
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
