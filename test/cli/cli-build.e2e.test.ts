/**
 * bin/ephemera.js runs the compiled dist/ only when it was built from src/ as
 * it is now, else the sources through tsx; and a command loads only what it
 * needs. Each case works in a scratch copy of the package (src/, bin/, the
 * build script; node_modules linked), so the checkout's own dist/ is left alone.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'ephemera-build-'));
const pkg = join(scratch, 'pkg');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const node = (args: string[], env: Record<string, string> = {}, cwd = pkg) => {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, EPHEMERA_FROM_SOURCE: '', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const ephemera = (args: string[], env: Record<string, string> = {}) => node([join(pkg, 'bin/ephemera.js'), ...args], env);
const build = () => {
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: pkg, encoding: 'utf8', timeout: 120_000 });
  expect(result.status, result.stderr).toBe(0);
};
/** A line each tree prints first when it runs, so a test can tell which one ran. */
const markDist = () => appendFileSync(join(pkg, 'dist/cli.js'), "\nprocess.stderr.write('ran dist\\n');\n");
const srcMarker = "\nprocess.stderr.write('ran src\\n');\n";

describe('the compiled build', () => {
  beforeAll(() => {
    for (const part of ['src', 'bin', 'scripts/build-dist.ts', 'package.json', 'tsconfig.json', 'deploy', 'web', 'migrations'])
      cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    build();
  });

  it('mirrors src/ file for file, with the files that are not TypeScript beside, and no tests', () => {
    expect(existsSync(join(pkg, 'dist/cli.js'))).toBe(true);
    expect(readFileSync(join(pkg, 'dist/cli.js'), 'utf8')).toContain('from "./vendor/commander.js"');
    expect(existsSync(join(pkg, 'dist/verify/reader-worker.js'))).toBe(true);
    const python = readdirSync(join(ROOT, 'src/sandbox/supervisor')).filter((f) => f.endsWith('.py'));
    expect(python.length).toBeGreaterThan(0);
    for (const file of python)
      expect(readFileSync(join(pkg, 'dist/sandbox/supervisor', file), 'utf8')).toBe(readFileSync(join(ROOT, 'src/sandbox/supervisor', file), 'utf8'));
    expect(readdirSync(join(pkg, 'dist'), { recursive: true }).filter((f) => String(f).includes('.test.'))).toEqual([]);
  });

  it('runs when it was built from the sources as they are, finding package.json and deploy/ from dist/', () => {
    markDist();
    const version = ephemera(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: 'ran dist\n' });
    const info = ephemera(['build-info', '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).compose_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['a source edited', () => appendFileSync(join(pkg, 'src/cli.ts'), srcMarker)],
    ['a source added', () => writeFileSync(join(pkg, 'src/added.ts'), 'export {};\n')],
    ['a source removed', () => rmSync(join(pkg, 'src/cli/files.ts'))],
    ['a non-TypeScript file the build copies edited', () => appendFileSync(join(pkg, 'src/sandbox/supervisor/10-base.py'), '# edited\n')],
    ['the build script edited', () => appendFileSync(join(pkg, 'scripts/build-dist.ts'), '// edited\n')],
    ['the build script removed', () => rmSync(join(pkg, 'scripts/build-dist.ts'))],
    ['tsconfig.json edited (the compiler target)', () => appendFileSync(join(pkg, 'tsconfig.json'), '\n')],
  ])('is never run stale: with %s since the build, the sources run, and it says why', (_what, change) => {
    build();
    markDist();
    expect(ephemera(['--version']).stderr).toBe('ran dist\n');
    const before = readFileSync(join(pkg, 'src/cli.ts'), 'utf8');
    change();
    const version = ephemera(['--version']);
    expect(version.stderr).toContain(
      'ephemera: dist/ is out of date (src/, its build script or a bundled package changed since); running the sources through tsx',
    );
    expect(version.stderr).not.toContain('ran dist');
    // Put back (the removed file from the checkout), for the next case.
    writeFileSync(join(pkg, 'src/cli.ts'), before);
    rmSync(join(pkg, 'src/added.ts'), { force: true });
    cpSync(join(ROOT, 'src/cli/files.ts'), join(pkg, 'src/cli/files.ts'));
    cpSync(join(ROOT, 'src/sandbox/supervisor/10-base.py'), join(pkg, 'src/sandbox/supervisor/10-base.py'));
    cpSync(join(ROOT, 'scripts/build-dist.ts'), join(pkg, 'scripts/build-dist.ts'));
    cpSync(join(ROOT, 'tsconfig.json'), join(pkg, 'tsconfig.json'));
  });

  it('does not count an edited test as a change to what it runs', () => {
    build();
    markDist();
    const test = readdirSync(join(pkg, 'src')).find((f) => f.endsWith('.test.ts'))!;
    appendFileSync(join(pkg, 'src', test), '\n');
    expect(ephemera(['--version']).stderr).toBe('ran dist\n');
  });

  it('runs the sources when asked (EPHEMERA_FROM_SOURCE=1) or when there is no build', () => {
    build();
    markDist();
    appendFileSync(join(pkg, 'src/cli.ts'), srcMarker);
    // The edit makes dist/ stale: rebuild so only the variable decides.
    build();
    markDist();
    expect(ephemera(['--version'], { EPHEMERA_FROM_SOURCE: '1' })).toMatchObject({ code: 0, stderr: 'ran src\n' });
    rmSync(join(pkg, 'dist'), { recursive: true });
    expect(ephemera(['--version'])).toMatchObject({ code: 0, stderr: 'ran src\n' });
    cpSync(join(ROOT, 'src/cli.ts'), join(pkg, 'src/cli.ts'));
  });
});

describe('what a command loads', () => {
  const imported = (args: string[], env: Record<string, string> = {}) => {
    const record = join(scratch, `imports-${args[0]}`);
    const result = node(
      ['--import', join(ROOT, 'test/cli/record-imports.mjs'), join(ROOT, 'bin/ephemera.js'), ...args],
      { RECORD_IMPORTS: record, ...env },
      ROOT,
    );
    expect(result.code, result.stderr).toBe(0);
    return readFileSync(record, 'utf8');
  };
  const HEAVY = ['fastify', 'chdb', '@clickhouse', 'kafkajs', 'better-sqlite3', '@anthropic-ai', '@phala'];

  it('--help loads no command module, and from node_modules nothing (commander is in dist/vendor/)', () => {
    const urls = imported(['--help']);
    expect(urls).toContain('/dist/vendor/commander.js');
    // A CommonJS package imported from ESM would start Node's CommonJS loader too (~10 MB, ~30 ms).
    expect(urls).not.toContain('/node_modules/');
    expect(urls).not.toMatch(/\/(src|dist)\/cli\/(?!common|trust-store)/);
  });

  it('verify of a certificate file loads the verifier, not the log, the stores, the server or the TDX verifier', () => {
    const urls = imported([
      'verify',
      join(ROOT, 'test-vectors/certificates/cases/valid.json'),
      '--trust-key',
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    ]);
    expect(urls).toMatch(/\/cli\/verify\.(js|ts)/);
    for (const name of HEAVY) expect(urls).not.toContain(`/node_modules/${name}`);
    expect(urls).not.toMatch(/\/(services|server|verify-tdx)\.(js|ts)/);
  });

  it('a run on the embedded log loads no Kafka client', () => {
    const urls = imported(['run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', 'examples/pii-compliance/sandbox.json'], {
      EPHEMERA_DATA_DIR: join(scratch, 'run-data'),
      EPHEMERA_LOG: 'sqlite',
    });
    expect(urls).toContain('/node_modules/better-sqlite3');
    expect(urls).not.toContain('/node_modules/kafkajs');
  });
});
