/**
 * build-info from git and from a bundle's tar: the commit's own files (its version included), a shallow
 * history refused, and a bundle that is not one, or is another commit's, refused with a stable code.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { atRevision, buildInfoOf, readBundle, workingTree } from './build-info.js';
import { FILES_FILE, MANIFEST_FILE, bundleSource, inputCommit } from './bundle.js';
import { hashWhileWriting, tarBlocks, type TarEntry } from './tar.js';

const ROOT = join(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'ephemera-build-info-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const FILES = '';
/** A tar with a file list and a BUILD-MANIFEST.json of `text`, as a bundle of no other entries would be. */
function bundleWith(name: string, text: string): string {
  const path = join(scratch, name);
  const chunks: Buffer[] = [];
  const entries: TarEntry[] = [
    { path: FILES_FILE, type: 'file', executable: false, body: () => Buffer.from(FILES) },
    { path: MANIFEST_FILE, type: 'file', executable: false, body: () => Buffer.from(text) },
  ];
  hashWhileWriting(tarBlocks(entries, 0), (c) => chunks.push(c));
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

const manifest = (commit: string) => ({
  format: 'ephemera.bundle/1',
  name: 'ephemera',
  version: '9.9.9',
  commit,
  source_date_epoch: 1,
  build_env: { node: 'v20.20.2', npm: '11.19.1', cc: null, cxx: null, platform: 'linux-x64' },
  runtime: JSON.parse(workingTree(ROOT).read('deploy/image/runtime.json')!),
  files: { count: 0, sha256: `sha256:${createHash('sha256').update(FILES).digest('hex')}` },
});

describe('build-info', () => {
  it("reads a revision's own files: its commit, its package version, its compose hash", () => {
    const head = buildInfoOf(atRevision(ROOT, 'HEAD'), 'unused');
    expect(head.commit).toBe(inputCommit(ROOT).commit);
    expect(head.version).toBe(JSON.parse(workingTree(ROOT).read('package.json')!).version);
    expect(head.compose_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(() => buildInfoOf(atRevision(ROOT, 'no-such-revision'), 'unused')).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
    expect(() => atRevision(ROOT, '--output=/tmp/x')).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
  });

  it('refuses a shallow clone, whose boundary commit would pass for the last that changed the inputs', () => {
    const shallow = join(scratch, 'shallow');
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${ROOT}`, shallow]);
    expect(() => bundleSource(shallow)).toThrow(/shallow clone/);
    expect(() => buildInfoOf(atRevision(shallow, 'HEAD'), 'unused')).toThrow(
      expect.objectContaining({ code: 'CLI_USAGE', message: expect.stringMatching(/shallow/) }),
    );
  });

  it('takes a bundle of the same commit, and refuses one of another commit (one document, one build)', () => {
    const commit = inputCommit(ROOT).commit;
    const same = buildInfoOf(atRevision(ROOT, 'HEAD'), 'unused', undefined, readBundle(bundleWith('same.tar', JSON.stringify(manifest(commit)))));
    expect(same).toMatchObject({ commit, version: '9.9.9', bundle: { source_date_epoch: 1 } });
    const other = readBundle(bundleWith('other.tar', JSON.stringify(manifest('a'.repeat(40)))));
    expect(() => buildInfoOf(atRevision(ROOT, 'HEAD'), 'unused', undefined, other)).toThrow(
      expect.objectContaining({ code: 'CLI_USAGE', message: expect.stringContaining(`built from commit ${'a'.repeat(40)}`) }),
    );
  });

  it.each([
    ['no manifest', null],
    ['a manifest that is null', 'null'],
    ['a manifest that is not JSON', '{'],
    ['a manifest of another shape', JSON.stringify({ ...manifest('a'.repeat(40)), commit: 'HEAD' })],
    ['a manifest that counts other entries', JSON.stringify({ ...manifest('a'.repeat(40)), files: { ...manifest('a'.repeat(40)).files, count: 1 } })],
    ['a manifest that hashes another file list', JSON.stringify({ ...manifest('a'.repeat(40)), files: { count: 0, sha256: `sha256:${'00'.repeat(32)}` } })],
  ])('refuses a tar with %s as BUNDLE_INVALID', (_what, text) => {
    const path = text === null ? join(scratch, 'not-a-tar') : bundleWith('bad.tar', text);
    if (text === null) writeFileSync(path, 'not a tar at all');
    expect(() => readBundle(path)).toThrow(expect.objectContaining({ code: 'BUNDLE_INVALID' }));
  });
});
