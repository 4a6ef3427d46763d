/** The `ephemera` command as a process: run, verify, exit codes, --json discipline. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createServices } from './services.js';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI as a process, with its own data directory and its own trust file (never the user's ~/.config). */
const ephemeraIn = (dataDir: string, ...args: string[]) => {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args, '--data-dir', dataDir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const ephemera = (...args: string[]) => ephemeraIn(join(dir, 'data'), ...args);

/** The CLI as a child process that does not block this one (which serves the key it fetches). */
function runAsync(dataDir: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args, '--data-dir', dataDir], {
      cwd: ROOT,
      env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The first key in the trust file under `configHome`. */
function key0(configHome: string): string {
  return readFileSync(join(configHome, 'ephemera', 'trusted-keys'), 'utf8')
    .split('\n')
    .find((l) => /^[0-9a-f]{64}/.test(l))!
    .slice(0, 64);
}

describe('ephemera CLI', () => {
  const certPath = join(dir, 'cert.json');

  describe('when the PII example runs', () => {
    it('exits 0, prints only JSON with --json, writes a certificate that verifies', () => {
      const run = ephemera(
        'run',
        '--dataset',
        'examples/pii-compliance/patients.csv',
        '--sandbox',
        'examples/pii-compliance/sandbox.json',
        '--out',
        certPath,
        '--json',
      );
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({
        status: 'completed',
        verification: { valid: true },
        result: { json: { rows: 200, pii_found: { ssn: 164, email: 194, phone: 160 } } },
      });
      expect(run.stderr).toMatch(/sandbox/);

      const verify = ephemera('verify', certPath, '--json');
      expect(verify.code).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({
        valid: true,
        trusted: true,
        status: 'trusted',
        certificate_id: summary.certificate_id,
        trust: { basis: 'local-key' },
      });

      const byId = ephemera('verify', summary.certificate_id);
      expect(byId.code).toBe(0);
      expect(byId.stdout).toMatch(/VALID, TRUSTED/);
      expect(byId.stdout).toMatch(/this machine's own simulated attestor/);
    });
  });

  describe('when a reader on another machine verifies it (no key of theirs signed it)', () => {
    const reader = (...args: string[]) => ephemeraIn(join(dir, 'reader'), ...args);
    it("exits 4, valid but untrusted, naming the key's fingerprint and how to pin it; pinned, it exits 0", () => {
      const untrusted = reader('verify', certPath);
      expect(untrusted.code).toBe(4);
      expect(untrusted.stdout).toMatch(/VALID, NOT TRUSTED/);
      const fingerprint = /key {3}(sha256:[0-9a-f]{64})/.exec(untrusted.stdout)![1]!;
      expect(untrusted.stdout).toContain(`ephemera trust add ${fingerprint}`);
      expect(JSON.parse(reader('verify', certPath, '--json').stdout)).toMatchObject({ valid: true, trusted: false, status: 'untrusted', key: { fingerprint } });

      expect(reader('verify', certPath, '--trust-key', fingerprint).code).toBe(0);
      expect(reader('verify', certPath, '--trust-key', 'sha256:nope').code).toBe(2);
      expect(reader('trust', 'add', fingerprint, '--note', 'our test server').code).toBe(0);
      expect(reader('trust', 'ls').stdout).toContain(`${fingerprint}  our test server`);
      expect(reader('verify', certPath).code).toBe(0);
      expect(reader('trust', 'rm', fingerprint).code).toBe(0);
      expect(reader('verify', certPath).code).toBe(4);
    });

    it('does not trust a key planted in ./.ephemera beside a file: only a data directory named on purpose counts', () => {
      const planted = join(dir, 'planted');
      mkdirSync(join(planted, '.ephemera'), { recursive: true });
      writeFileSync(join(planted, '.ephemera', 'simulated-tee-ed25519.pem'), readFileSync(join(dir, 'data', 'simulated-tee-ed25519.pem')));
      const run = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'verify', certPath, '--json'], {
        cwd: planted,
        encoding: 'utf8',
        env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '', EPHEMERA_DATA_DIR: '' },
      });
      expect(run.status).toBe(4);
      expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, trusted: false });
      expect(ephemeraIn(join(planted, '.ephemera'), 'verify', certPath).stdout).toMatch(
        /this machine's own simulated attestor \(.*simulated-tee-ed25519\.pem\)/,
      );
    });

    it('exits 2 when the trust file holds a line that is not a key, naming the line', () => {
      const config = join(dir, 'config', 'ephemera');
      mkdirSync(config, { recursive: true });
      writeFileSync(join(config, 'trusted-keys'), '# ok\nnot-a-key\n');
      const result = reader('verify', certPath, '--json');
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('trusted-keys:2') });
      rmSync(join(config, 'trusted-keys'));
    });

    it("pins a server's key fetched from its well-known URL, and refuses when the fingerprint is not the one expected", async () => {
      const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'data') }));
      const app = await buildApp(services);
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const key = (await app.inject({ url: '/.well-known/ephemera-key.json' })).json();
        const wrong = await runAsync(join(dir, 'reader'), 'trust', 'pin', base, '--expect-fingerprint', `sha256:${'00'.repeat(32)}`);
        expect(wrong.code).toBe(1);
        expect(wrong.stderr).toMatch(/TRUST_FINGERPRINT_MISMATCH/);
        const pinned = await runAsync(join(dir, 'reader'), 'trust', 'pin', base, '--expect-fingerprint', key.fingerprint, '--json');
        expect(pinned.code, pinned.stderr).toBe(0);
        expect(JSON.parse(pinned.stdout)).toMatchObject({ fingerprint: key.fingerprint });
      } finally {
        await app.close();
        await services.close();
      }
      expect(ephemeraIn(join(dir, 'reader'), 'verify', certPath).code).toBe(0);
      expect(ephemeraIn(join(dir, 'reader'), 'trust', 'rm', key0(join(dir, 'config'))).code).toBe(0);
    });
  });

  describe('when a certificate file was tampered with', () => {
    it('exits 1 and names the failing check', () => {
      const cert = JSON.parse(readFileSync(certPath, 'utf8'));
      cert.result.output = '{"compliant": true}';
      const tampered = join(dir, 'tampered.json');
      writeFileSync(tampered, JSON.stringify(cert));
      const verify = ephemera('verify', tampered, '--json');
      expect(verify.code).toBe(1);
      expect(JSON.parse(verify.stdout)).toMatchObject({ valid: false, status: 'invalid' });
      expect(JSON.parse(verify.stdout).failure).toMatchObject({ code: 'VERIFY_FIELD_MISMATCH', field: 'result.output' });
    });
  });

  describe('when the computation fails', () => {
    it('exits 3 with a certificate that says so', () => {
      const sandbox = join(dir, 'failing.json');
      writeFileSync(sandbox, JSON.stringify({ tools: ['bash'], scripts: { 'main.sh': 'exit 4' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } }));
      const run = ephemera('run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', sandbox, '--json');
      expect(run.code).toBe(3);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed', result: { exit_code: 4 } });
    });
  });

  describe('when browsing what ran', () => {
    it('lists, replays and counts the certificates from the projections', () => {
      const cert = JSON.parse(readFileSync(certPath, 'utf8'));
      const ls = ephemera('certs', 'search', '--fingerprint', cert.fingerprint, '--json');
      expect(ls.code, ls.stderr).toBe(0);
      expect(JSON.parse(ls.stdout).items.map((c: { certificate_id: string }) => c.certificate_id)).toContain(cert.certificate_id);
      const replay = ephemera('replay', cert.certificate_id, '--json');
      expect(replay.code, replay.stderr).toBe(0);
      expect(JSON.parse(replay.stdout)).toMatchObject({ valid: true, projection_diff: [] });
      const stats = ephemera('stats', '--json');
      expect(JSON.parse(stats.stdout).durations.executions).toBeGreaterThanOrEqual(2);
    });
  });

  describe('when asked for the build identity', () => {
    it('prints the dstack compose hash verifiers pin', () => {
      const info = ephemera('build-info', '--json');
      expect(info.code).toBe(0);
      expect(JSON.parse(info.stdout).compose_hash).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('when the input is unusable', () => {
    it.each([
      [['run', '--dataset', 'missing.csv', '--sandbox', 'examples/pii-compliance/sandbox.json']],
      [['run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', 'package.json']],
      [['verify', 'no-such-file-or-id']],
      [['verify', 'missing/cert.json']],
      [['verify', 'x', '--max-events', '0']],
      [['frobnicate']],
    ])('%j exits 2', (args) => {
      const result = ephemera(...args, '--json');
      expect(result.code).toBe(2);
    });
  });
});
