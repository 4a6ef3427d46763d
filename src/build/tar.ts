/**
 * A tar archive whose bytes depend on its entries alone (docs/reproducible-builds.md §2): POSIX ustar
 * headers, a pax `path`/`linkpath` record where a name does not fit, every owner 0:0 with no names, one
 * mtime for all, modes reduced to 0755/0644 (and 0777 for links), entries in the order given. Written here
 * rather than with GNU tar or a package: the bundle script runs in a fresh clone before anything is
 * installed, and a tar program's own version would otherwise be part of the hash.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

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

/** One member as scanTar read it: what tarBlocks was given for it, a file's body by its SHA-256. */
export interface TarMember {
  path: string;
  type: TarEntry['type'];
  mode: number;
  /** A link's target. */
  target?: string;
  /** A file's body, hex SHA-256. */
  sha256?: string;
}

/** What scanTar found: the members in order (pax records not counted), the bodies asked for, and the whole file's SHA-256. */
export interface TarScan {
  members: TarMember[];
  bodies: Map<string, Buffer>;
  sha256: `sha256:${string}`;
}

const MAX_PAX_BYTES = 65_536;
/** TYPE_FLAG read backwards: the kind of member each flag this writer writes stands for. */
const TYPES = Object.fromEntries(Object.entries(TYPE_FLAG).map(([kind, flag]) => [flag, kind])) as Record<string, keyof typeof TYPE_FLAG>;

/** Reads `path` once, from start to end, as one sequence of bytes: every byte also goes into the file's hash. */
class SequentialReader {
  private readonly fd: number;
  private readonly buffer = Buffer.alloc(1 << 20);
  private start = 0;
  private end = 0;
  readonly hash = createHash('sha256');
  position = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  /** The next `length` bytes (a copy when `keep`), or a RangeError when the file ends first. */
  take(length: number, keep: boolean, onChunk?: (chunk: Buffer) => void): Buffer | undefined {
    const kept = keep ? Buffer.alloc(length) : undefined;
    let done = 0;
    while (done < length) {
      if (this.start === this.end) {
        this.start = 0;
        this.end = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
        if (this.end === 0) throw new RangeError(`tar: cut short at byte ${this.position}`);
        this.hash.update(this.buffer.subarray(0, this.end));
      }
      const n = Math.min(length - done, this.end - this.start);
      const chunk = this.buffer.subarray(this.start, this.start + n);
      kept?.set(chunk, done);
      onChunk?.(chunk);
      this.start += n;
      done += n;
      this.position += n;
    }
    return kept;
  }

  /** Whether any byte is left. */
  atEnd(): boolean {
    if (this.start < this.end) return false;
    this.start = 0;
    this.end = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
    this.hash.update(this.buffer.subarray(0, this.end));
    return this.end === 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A pax body's records, read by their lengths; only `path` and `linkpath`, each at most once. */
function paxRecords(body: Buffer, at: number): { path?: string; linkpath?: string } {
  const records: { path?: string; linkpath?: string } = {};
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = space > offset ? Number(body.subarray(offset, space).toString('ascii')) : Number.NaN;
    if (!Number.isSafeInteger(length) || length <= space - offset + 1 || offset + length > body.length || body[offset + length - 1] !== 0x0a)
      throw new RangeError(`tar: a malformed pax record at byte ${at + offset}`);
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    const key = record.slice(0, equals);
    if ((key !== 'path' && key !== 'linkpath') || Object.hasOwn(records, key))
      throw new RangeError(`tar: a pax record this writer never writes at byte ${at + offset}`);
    records[key] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

function zeroPadding(reader: SequentialReader, length: number): void {
  const at = reader.position;
  if (!reader.take(length, true)!.every((byte) => byte === 0)) throw new RangeError(`tar: padding that is not zeros at byte ${at}`);
}

const field = (block: Buffer, from: number, to: number) => block.subarray(from, to).toString('utf8').replace(/\0.*$/s, '');
const octalField = (block: Buffer, from: number, to: number, at: number) => {
  const text = block.subarray(from, to).toString('ascii');
  if (!/^[0-7]+\0 ?$|^[0-7]+ ?\0?$/.test(text)) throw new RangeError(`tar: a number field that is not octal at byte ${at + from}`);
  return Number.parseInt(text, 8);
};

/**
 * Reads the archive at `path` once, start to end, and refuses anything tarBlocks does not write: a header whose
 * checksum, magic, type or unused fields are not its, a pax record other than one `path` or `linkpath`, a member
 * cut short, an archive without its two zero blocks, or any byte after them. Returns every member (a file's body
 * by its SHA-256), the bodies of the files named in `wanted` (at most `maxBytes` each), and the file's SHA-256,
 * all from the same bytes. Throws a RangeError that says where the archive went wrong.
 */
export function scanTar(path: string, wanted: readonly string[], maxBytes: number): TarScan {
  const reader = new SequentialReader(path);
  try {
    const members: TarMember[] = [];
    const bodies = new Map<string, Buffer>();
    let pax: { path?: string; linkpath?: string } | undefined;
    for (;;) {
      const at = reader.position;
      const block = reader.take(BLOCK, true)!;
      if (block.every((byte) => byte === 0)) {
        if (!reader.take(BLOCK, true)!.every((byte) => byte === 0)) throw new RangeError(`tar: one zero block at byte ${at}, not the two that end an archive`);
        if (pax) throw new RangeError('tar: a pax record for no member');
        if (!reader.atEnd()) throw new RangeError(`tar: bytes after the end of the archive (byte ${reader.position})`);
        return { members, bodies, sha256: `sha256:${reader.hash.digest('hex')}` };
      }
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
      if (octalField(block, 148, 156, at) !== sum) throw new RangeError(`tar: bad header checksum at byte ${at}`);
      if (block.subarray(257, 265).toString('latin1') !== 'ustar\u000000' || block.subarray(345).some((byte) => byte !== 0))
        throw new RangeError(`tar: a header this writer never writes at byte ${at}`);
      const type = TYPES[String.fromCharCode(block[156]!)];
      const size = octalField(block, 124, 136, at);
      if (!type || (size !== 0 && type !== 'file' && type !== 'pax')) throw new RangeError(`tar: a member of a kind this writer never writes at byte ${at}`);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (type === 'pax') {
        if (pax || size > MAX_PAX_BYTES) throw new RangeError(`tar: a pax record this writer never writes at byte ${at}`);
        pax = paxRecords(reader.take(size, true)!, at + BLOCK);
        zeroPadding(reader, padding);
        continue;
      }
      const member: TarMember = { path: pax?.path ?? field(block, 0, 100), type, mode: octalField(block, 100, 108, at) };
      if (type === 'directory') member.path = member.path.replace(/\/$/, '');
      if (type === 'symlink') member.target = pax?.linkpath ?? field(block, 157, 257);
      pax = undefined;
      if (type === 'file') {
        const hash = createHash('sha256');
        const keep = wanted.includes(member.path) && size <= maxBytes;
        const body = reader.take(size, keep, (chunk) => hash.update(chunk));
        if (body) bodies.set(member.path, body);
        member.sha256 = hash.digest('hex');
      }
      zeroPadding(reader, padding);
      members.push(member);
    }
  } finally {
    reader.close();
  }
}
