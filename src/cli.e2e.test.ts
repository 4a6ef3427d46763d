/** The `ephemera` command as a process: run, verify, exit codes, --json discipline. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ephemera = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args, '--data-dir', join(dir, 'data')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('ephemera CLI', () => {
  const certPath = join(dir, 'cert.json');

  describe('when the PII example runs', () => {
    it('exits 0, prints only JSON with --json, writes a certificate that verifies', () => {
      const run = ephemera('run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', 'examples/pii-compliance/sandbox.json', '--out', certPath, '--json');
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({ status: 'completed', verification: { valid: true }, result: { json: { rows: 200, pii_found: { ssn: 164, email: 194, phone: 160 } } } });
      expect(run.stderr).toMatch(/sandbox/);

      const verify = ephemera('verify', certPath, '--json');
      expect(verify.code).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true, certificate_id: summary.certificate_id });

      const byId = ephemera('verify', summary.certificate_id);
      expect(byId.code).toBe(0);
      expect(byId.stdout).toMatch(/VALID/);
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
      expect(JSON.parse(verify.stdout).failure).toMatchObject({ code: 'VERIFY_FIELD_MISMATCH', field: 'result.output' });
    });
  });

  describe('when the computation fails', () => {
    it('exits 3 with a certificate that says so', () => {
      const sandbox = join(dir, 'failing.json');
      writeFileSync(sandbox, JSON.stringify({ scripts: { 'main.sh': 'exit 4' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } }));
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
      [['frobnicate']],
    ])('%j exits 2', (args) => {
      const result = ephemera(...args, '--json');
      expect(result.code).toBe(2);
    });
  });
});
