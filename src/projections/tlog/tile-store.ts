/**
 * The tile store: `<dataDir>/tlog/` laid out as the URLs (C2SP tlog-tiles:
 * `checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), so it can
 * be served as static files. Every file is written then renamed: a reader
 * never sees half a tile, and a crash leaves the old file or the new one.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ulid } from 'ulid';

export const CHECKPOINT_FILE = 'checkpoint';

export class TileStore {
  constructor(readonly dir: string) {}

  /** `path` is a formatted tile path (formatTilePath / formatEntryBundlePath) or `checkpoint`, never a request's text. */
  async write(path: string, bytes: Uint8Array | string): Promise<void> {
    const target = join(this.dir, path);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${ulid()}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  }

  /** The file's bytes, or null when there is none. */
  async read(path: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(join(this.dir, path)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async readCheckpoint(): Promise<string | null> {
    const bytes = await this.read(CHECKPOINT_FILE);
    return bytes === null ? null : new TextDecoder().decode(bytes);
  }
}
