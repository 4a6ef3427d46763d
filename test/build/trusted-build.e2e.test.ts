/**
 * `ephemera verify --trusted-build` on a real run's certificate (docs/reproducible-builds.md §5): a build-info
 * whose runtime is this machine's passes and names its commit; one tool that is not the one that ran fails the
 * certificate; a document that is not a build-info is refused before anything is verified; and a commit of
 * this checkout stands for its build-info.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleSource } from '../../src/build/bundle.js';
import type { BuildInfo } from '../../src/verify/index.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-trusted-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ephemera = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '', EPHEMERA_DATA_DIR: join(dir, 'data') },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const writeJson = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

describe('verify --trusted-build', () => {
  const cert = join(dir, 'cert.json');
  let build: BuildInfo;
  beforeAll(() => {
    const run = ephemera(
      'run',
      '--dataset',
      'examples/pii-compliance/patients.csv',
      '--sandbox',
      'examples/pii-compliance/sandbox.json',
      '--out',
      cert,
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const info = ephemera('build-info', '--json');
    expect(info.code, info.stderr).toBe(0);
    // The committed runtime manifest is the image's; this test's certificate was made with this machine's tools.
    const runtime = ephemera('build-info', '--runtime');
    expect(runtime.code, runtime.stderr).toBe(0);
    build = { ...(JSON.parse(info.stdout) as BuildInfo), runtime: JSON.parse(runtime.stdout) as BuildInfo['runtime'] };
  }, 180_000);

  it("passes a certificate whose sandbox ran the build's tools, and says which commit and that nothing measured it", () => {
    const verdict = ephemera('verify', cert, '--trusted-build', writeJson('build.json', build), '--json');
    expect(verdict.code, verdict.stdout).toBe(0);
    expect(JSON.parse(verdict.stdout)).toMatchObject({
      valid: true,
      build: { commit: build.commit, measured: false, runtime_matches: true, reproducible: false },
      checks: expect.arrayContaining([expect.objectContaining({ name: 'build', status: 'pass' })]),
    });
    const text = ephemera('verify', cert, '--trusted-build', join(dir, 'build.json'));
    expect(text.stdout).toContain(
      `  build from commit ${build.commit}, reproducible: no bundle hash in the build-info, not measured (no TDX quote); sandbox tools: the build's\n`,
    );
  });

  it('fails it when one tool is not the one that ran, naming the tool', () => {
    const other = structuredClone(build);
    other.runtime.tools.bash!.sha256 = `sha256:${'00'.repeat(32)}`;
    const verdict = ephemera('verify', cert, '--trusted-build', writeJson('other.json', other), '--json');
    expect(verdict.code).toBe(1);
    const parsed = JSON.parse(verdict.stdout);
    expect(parsed.failure).toMatchObject({ code: 'VERIFY_BUILD_RUNTIME_MISMATCH', field: expect.stringMatching(/\.data\.runtime\.tools$/) });
    expect(parsed.build.differences).toEqual([expect.stringMatching(/^bash: sha256 /)]);
  });

  it('refuses a document that is not a build-info (exit 2, BUILD_INFO_MALFORMED), and a file past the size bound unread', () => {
    const extra = ephemera('verify', cert, '--trusted-build', writeJson('extra.json', { ...build, image_digest: 'x' }), '--json');
    expect(extra.code).toBe(2);
    expect(JSON.parse(extra.stdout).error).toMatchObject({ code: 'BUILD_INFO_MALFORMED', message: expect.stringMatching(/^\/.*extra\.json: .*image_digest/) });
    const big = join(dir, 'big.json');
    writeFileSync(big, ' '.repeat(70_000));
    expect(JSON.parse(ephemera('verify', cert, '--trusted-build', big, '--json').stdout).error.code).toBe('BUILD_INFO_MALFORMED');
  });

  it("takes a commit of this checkout for that commit's build-info", () => {
    const verdict = ephemera('verify', cert, '--trusted-build', 'git:HEAD', '--json');
    const parsed = JSON.parse(verdict.stdout);
    expect(parsed.build.commit).toBe(bundleSource(ROOT).commit);
    // The committed manifest is the image's runtime: this machine's tools may or may not be those.
    expect(verdict.code).toBe(parsed.build.runtime_matches ? 0 : 1);
    expect(JSON.parse(ephemera('verify', cert, '--trusted-build', 'git:no-such-revision', '--json').stdout).error.code).toBe('CLI_USAGE');
    // Without git:, a name is a file, never a revision (a file planted as HEAD is not taken for the commit).
    expect(JSON.parse(ephemera('verify', cert, '--trusted-build', 'HEAD', '--json').stdout).error.code).toBe('CLI_FILE_NOT_FOUND');
  });
});
