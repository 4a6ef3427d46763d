/**
 * A tar archive whose bytes depend on its entries alone (docs/reproducible-builds.md §2): POSIX ustar
 * headers, a pax `path`/`linkpath` record where a name does not fit, every owner 0:0 with no names, one
 * mtime for all, modes reduced to 0755/0644 (and 0777 for links), entries in the order given. Written here
 * rather than with GNU tar or a package: the bundle script runs in a fresh clone before anything is
 * installed, and a tar program's own version would otherwise be part of the hash.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type TarEntry =
  | { path: string; type: 'directory' }
  | { path: string; type: 'file'; executable: boolean; body: () => Buffer }
  | { path: string; type: 'symlink'; target: string };

const BLOCK = 512;
const TYPE_FLAG = { file: '0', symlink: '2', directory: '5', pax: 'x' } as const;

function octal(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new RangeError(`tar: ${value} does not fit ${width - 1} octal digits`);
  return `${digits.padStart(width - 1, '0')}\0`;
}

function header(name: string, type: keyof typeof TYPE_FLAG, mode: number, size: number, mtime: number, link = ''): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(mtime, 12), 136, 'ascii');
  block.write(' '.repeat(8), 148, 'ascii');
  block.write(TYPE_FLAG[type], 156, 'ascii');
  block.write(link, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'ascii');
  block.write(octal(0, 8), 329, 'ascii');
  block.write(octal(0, 8), 337, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** One pax record, "<length> <key>=<value>\n", whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = Buffer.byteLength(` ${key}=${value}\n`);
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return `${length} ${key}=${value}\n`;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
const fits = (text: string) => Buffer.byteLength(text) <= 100 && /^[\x20-\x7e]*$/.test(text);

/** The archive's blocks for `entries`, in their order, then the two zero blocks that end it. A file's body is read when its turn comes. */
export function* tarBlocks(entries: Iterable<TarEntry>, mtime: number): Generator<Buffer> {
  for (const entry of entries) {
    const name = entry.type === 'directory' ? `${entry.path}/` : entry.path;
    const link = entry.type === 'symlink' ? entry.target : '';
    const pax = (fits(name) ? '' : paxRecord('path', name)) + (fits(link) ? '' : paxRecord('linkpath', link));
    if (pax) {
      const body = Buffer.from(pax, 'utf8');
      yield header('././@PaxHeader', 'pax', 0o644, body.length, mtime);
      yield body;
      yield padding(body.length);
    }
    const shortName = fits(name)
      ? name
      : Buffer.from(name)
          .subarray(0, 100)
          .toString('latin1')
          .replace(/[^\x20-\x7e]/g, '_');
    const shortLink = fits(link) ? link : '';
    if (entry.type === 'file') {
      const body = entry.body();
      yield header(shortName, 'file', entry.executable ? 0o755 : 0o644, body.length, mtime);
      yield body;
      yield padding(body.length);
    } else if (entry.type === 'symlink') yield header(shortName, 'symlink', 0o777, 0, mtime, shortLink);
    else yield header(shortName, 'directory', 0o755, 0, mtime);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** The SHA-256 of what `blocks` writes, as `sha256:<hex>`, while they are written through `write`. */
export function hashWhileWriting(blocks: Iterable<Buffer>, write: (chunk: Buffer) => void): `sha256:${string}` {
  const hash = createHash('sha256');
  for (const block of blocks) {
    hash.update(block);
    write(block);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** What scanTar found: how many members (pax records not counted), and the bodies of the ones asked for. */
export interface TarScan {
  entries: number;
  members: Map<string, Buffer>;
}

/**
 * Reads the archive at `path` header by header, as this writer writes them, and refuses anything else: a header
 * whose checksum is wrong, a member cut short, an archive without its two zero blocks, or any byte after them.
 * The bodies of the members named in `wanted` (regular files, at most `maxBytes` each) are returned; the rest
 * are skipped unread. Throws a RangeError that says where the archive went wrong.
 */
export function scanTar(path: string, wanted: readonly string[], maxBytes: number): TarScan {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const block = Buffer.alloc(BLOCK);
    const read = (buffer: Buffer, at: number) => {
      if (readSync(fd, buffer, 0, buffer.length, at) !== buffer.length) throw new RangeError(`tar: cut short at byte ${at}`);
    };
    const members = new Map<string, Buffer>();
    let entries = 0;
    let position = 0;
    let paxPath: string | undefined;
    for (;;) {
      read(block, position);
      if (block.every((byte) => byte === 0)) {
        read(block, position + BLOCK);
        if (!block.every((byte) => byte === 0)) throw new RangeError(`tar: one zero block at byte ${position}, not the two that end an archive`);
        if (position + 2 * BLOCK !== size) throw new RangeError(`tar: ${size - position - 2 * BLOCK} bytes after the end of the archive`);
        return { entries, members };
      }
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
      if (Number.parseInt(block.subarray(148, 156).toString('ascii'), 8) !== sum) throw new RangeError(`tar: bad header checksum at byte ${position}`);
      const bodySize = Number.parseInt(block.subarray(124, 136).toString('ascii'), 8);
      if (!Number.isSafeInteger(bodySize) || bodySize < 0) throw new RangeError(`tar: bad size at byte ${position}`);
      const type = String.fromCharCode(block[156]!);
      const bodyAt = position + BLOCK;
      position = bodyAt + bodySize + ((BLOCK - (bodySize % BLOCK)) % BLOCK);
      if (position > size) throw new RangeError(`tar: a member runs past the end of the file (byte ${bodyAt})`);
      if (type === 'x') {
        const body = Buffer.alloc(Math.min(bodySize, 65_536));
        read(body, bodyAt);
        paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
        continue;
      }
      entries += 1;
      const name = paxPath ?? block.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      paxPath = undefined;
      if (type !== '0' || !wanted.includes(name) || bodySize > maxBytes) continue;
      const body = Buffer.alloc(bodySize);
      read(body, bodyAt);
      members.set(name, body);
    }
  } finally {
    closeSync(fd);
  }
}
