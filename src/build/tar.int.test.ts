/**
 * The bundle's tar writer against GNU tar, the reader users extract it with: what it lists and extracts, and
 * that the same entries give the same bytes whatever the clock, umask or order they were found in.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashWhileWriting, scanTar, tarBlocks, type TarEntry } from './tar.js';

const scratch = mkdtempSync(join(tmpdir(), 'ephemera-tar-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const LONG_DIR = `node_modules/${'a'.repeat(60)}/${'b'.repeat(60)}`;
const LONG_FILE = `${LONG_DIR}/${'c'.repeat(40)}.js`;
const file = (path: string, text: string, executable = false): TarEntry => ({ path, type: 'file', executable, body: () => Buffer.from(text) });
const ENTRIES: TarEntry[] = [
  { path: 'bin', type: 'directory' },
  file('bin/run.js', '#!/usr/bin/env node\n', true),
  { path: 'node_modules', type: 'directory' },
  { path: `node_modules/${'a'.repeat(60)}`, type: 'directory' },
  { path: LONG_DIR, type: 'directory' },
  file(LONG_FILE, 'long\n'),
  { path: 'node_modules/.bin', type: 'directory' },
  { path: 'node_modules/.bin/long', type: 'symlink', target: `../${LONG_FILE.slice('node_modules/'.length)}` },
  file('naïve.txt', 'not ascii\n'),
  file('empty', ''),
  file('block', 'x'.repeat(512)),
];
const EPOCH = 1_764_806_400;

function write(name: string, entries = ENTRIES): { path: string; sha256: string } {
  const path = join(scratch, name);
  const chunks: Buffer[] = [];
  const sha256 = hashWhileWriting(tarBlocks(entries, EPOCH), (chunk) => chunks.push(chunk));
  writeFileSync(path, Buffer.concat(chunks));
  return { path, sha256 };
}

/** The header at `at` with its checksum made right again after an edit (-1: none to fix). */
function withChecksum(bytes: Buffer, at: number): Buffer {
  if (at < 0) return bytes;
  bytes.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += bytes[i]!;
  bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'ascii');
  return bytes;
}

/** An archive whose long name's pax record is followed by a record of `key`, as another writer could write. */
function paxWith(key: string): Buffer {
  const entries: TarEntry[] = [file(LONG_FILE, 'long\n')];
  const bytes = Buffer.concat([...tarBlocks(entries, EPOCH)]);
  const record = (k: string, v: string) => {
    const rest = ` ${k}=${v}\n`.length;
    let length = rest + 1;
    while (String(length).length + rest !== length) length = String(length).length + rest;
    return `${length} ${k}=${v}\n`;
  };
  const body = Buffer.from(record('path', LONG_FILE) + record(key, '1'));
  const header = Buffer.from(bytes.subarray(0, 512));
  header.write(body.length.toString(8).padStart(11, '0'), 124, 'ascii');
  withChecksum(header, 0);
  const padded = Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
  return Buffer.concat([header, padded, bytes.subarray(1024)]);
}

describe('the deterministic tar', () => {
  it('extracts with GNU tar: names past 100 bytes and not ASCII, links, modes and contents as written', () => {
    const { path } = write('a.tar');
    const into = join(scratch, 'out');
    mkdirSync(into);
    execFileSync('tar', ['-xf', path, '-C', into]);
    expect(readFileSync(join(into, LONG_FILE), 'utf8')).toBe('long\n');
    expect(readFileSync(join(into, 'naïve.txt'), 'utf8')).toBe('not ascii\n');
    expect(readlinkSync(join(into, 'node_modules/.bin/long'))).toBe(`../${LONG_FILE.slice('node_modules/'.length)}`);
    expect(readFileSync(join(into, 'node_modules/.bin/long'), 'utf8')).toBe('long\n');
    expect(readFileSync(join(into, 'block'), 'utf8')).toHaveLength(512);
    expect(statSync(join(into, 'bin/run.js')).mode & 0o777).toBe(0o755);
    expect(statSync(join(into, 'empty')).size).toBe(0);
    expect(statSync(join(into, LONG_FILE)).mtimeMs).toBe(EPOCH * 1000);
  });

  it('lists every entry owned by 0:0 at the one time, with 0755/0644 modes, in the order given', () => {
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', write('b.tar').path], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    })
      .trim()
      .split('\n');
    expect(listing).toHaveLength(ENTRIES.length);
    for (const line of listing) expect(line).toMatch(/^(drwxr-xr-x|-rwxr-xr-x|-rw-r--r--|lrwxrwxrwx) 0\/0 +\d+ 2025-12-04 00:00:00 /);
    expect(listing.map((line) => line.split(/\s+/)[5])).toEqual(ENTRIES.map((e) => (e.type === 'directory' ? `${e.path}/` : e.path)));
    expect(listing[0]).toMatch(/^drwxr-xr-x/);
    expect(listing[1]).toMatch(/^-rwxr-xr-x/);
    expect(listing[5]).toMatch(/^-rw-r--r--/);
  });

  it('gives the same bytes for the same entries, and other bytes for one byte of content changed', () => {
    expect(write('c.tar').sha256).toBe(write('d.tar').sha256);
    const changed = ENTRIES.map((e) => (e.path === 'empty' ? file('empty', ' ') : e));
    expect(write('e.tar', changed).sha256).not.toBe(write('f.tar').sha256);
  });

  it('reads back every member as written, the bodies asked for (nothing over the bound), and the hash of the bytes it read', () => {
    const { path, sha256 } = write('g.tar');
    const scan = scanTar(path, [LONG_FILE, 'bin/run.js', 'block', 'missing'], 511);
    expect(scan.sha256).toBe(sha256);
    expect(scan.members.map((m) => [m.path, m.type, m.mode.toString(8), m.target])).toEqual(
      ENTRIES.map((e) => [
        e.path,
        e.type,
        e.type === 'directory' ? '755' : e.type === 'symlink' ? '777' : e.executable ? '755' : '644',
        e.type === 'symlink' ? e.target : undefined,
      ]),
    );
    expect(scan.members.find((m) => m.path === 'empty')?.sha256).toBe(createHash('sha256').update('').digest('hex'));
    expect(scan.bodies.get(LONG_FILE)?.toString()).toBe('long\n');
    expect(scan.bodies.get('bin/run.js')?.toString()).toBe('#!/usr/bin/env node\n');
    expect(scan.bodies.has('block')).toBe(false);
    expect(scan.bodies.has('missing')).toBe(false);
  });

  it('refuses an archive cut short, with bytes after its end, or with a header changed', () => {
    const bytes = readFileSync(write('h.tar').path);
    const variants: [string, Buffer, RegExp][] = [
      ['cut in a body', bytes.subarray(0, 512 * 4 + 100), /past the end|cut short/],
      ['cut before its end blocks', bytes.subarray(0, bytes.length - 1024), /cut short/],
      ['one end block', bytes.subarray(0, bytes.length - 512), /cut short|one zero block/],
      ['a byte after it', Buffer.concat([bytes, Buffer.from('x')]), /after the end/],
      ['a block after it', Buffer.concat([bytes, Buffer.alloc(512)]), /after the end/],
      ['a header byte changed', Buffer.from(bytes).fill(0x41, 600, 601), /checksum/],
      ['padding that is not zeros', withChecksum(Buffer.from(bytes), -1).fill(0x41, 512 * 2 + 100, 512 * 2 + 101), /padding/],
      ['a ustar prefix', withChecksum(Buffer.from(bytes).fill(0x41, 512 + 345, 512 + 346), 512), /never writes/],
      ['a hard link', withChecksum(Buffer.from(bytes).fill(0x31, 512 + 156, 512 + 157), 512), /kind this writer never writes/],
      ['a pax size record', paxWith('size'), /pax record this writer never writes/],
    ];
    for (const [what, variant, message] of variants) {
      const path = join(scratch, 'variant.tar');
      writeFileSync(path, variant);
      expect(() => scanTar(path, [], 100), what).toThrow(message);
    }
  });
});
