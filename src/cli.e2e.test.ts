/** The `ephemera` command as a process: run, verify, exit codes, --json discipline. */
import { runCli, type CliResult } from './cli/testing/run-cli.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { chooseTree } from '../bin/source-digest.js';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createServices } from './services.js';
import { execute, parseExecuteRequest } from './commands/execute/index.js';

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
function runAsync(dataDir: string, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--data-dir', dataDir], { env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '' } });
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
        '--progress',
      );
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({
        status: 'completed',
        verification: { valid: true },
        result: { json: { rows: 200, pii_found: { ssn: 164, email: 194, phone: 160 } } },
      });
      // Progress went to stderr (asked for with --progress; stderr is a pipe here), step by step, never into the JSON.
      expect(run.stderr).toMatch(/read the dataset \(\d+ bytes\)[\s\S]*sandbox created[\s\S]*dataset deleted[\s\S]*sealed and attested/);
      expect(run.stdout).not.toContain('…');

      // The embedded default sequences the log in this process: the file is the offline bundle, its proof included.
      expect(run.stderr).toMatch(/logged as leaf \d+ of the transparency log/);
      const verify = ephemera('verify', certPath, '--json', '--require-log');
      expect(verify.code).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({
        valid: true,
        trusted: true,
        status: 'trusted',
        certificate_id: summary.certificate_id,
        trust: { basis: 'local-key' },
        transparency: { trusted: true },
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
      expect(reader('trust', 'ls').stdout).toMatch(new RegExp(`│ ${fingerprint} │ +│ our test server │`));
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
        // Over plain http from another host name (a second loopback address here), it pins but warns.
        const elsewhere = createHttpServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify(key)));
        await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
        const warned = await runAsync(join(dir, 'warned'), 'trust', 'pin', `http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}`);
        await new Promise((resolve) => elsewhere.close(resolve));
        expect(warned.code, warned.stderr).toBe(0);
        expect(warned.stderr).toMatch(/^WARNING: fetched over plain http from 127\.0\.0\.2: anyone on the path could have substituted the key/m);
        const pinned = await runAsync(join(dir, 'reader'), 'trust', 'pin', base, '--expect-fingerprint', key.fingerprint, '--json');
        expect(pinned.code, pinned.stderr).toBe(0);
        expect(pinned.stderr).not.toContain('WARNING');
        expect(JSON.parse(pinned.stdout)).toMatchObject({ fingerprint: key.fingerprint });
      } finally {
        await app.close();
        await services.close();
      }
      expect(ephemeraIn(join(dir, 'reader'), 'verify', certPath).code).toBe(0);
      // The raw key it pinned is listed with its fingerprint, and the fingerprint unpins it.
      const rawKey = key0(join(dir, 'config'));
      expect(JSON.parse(ephemeraIn(join(dir, 'reader'), 'trust', 'ls', '--json').stdout).keys).toContainEqual(
        expect.objectContaining({ key: rawKey, fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }),
      );
      const fingerprintOfPin = JSON.parse(ephemeraIn(join(dir, 'reader'), 'trust', 'ls', '--json').stdout).keys.find(
        (k: { key: string }) => k.key === rawKey,
      ).fingerprint;
      expect(ephemeraIn(join(dir, 'reader'), 'trust', 'rm', fingerprintOfPin).code).toBe(0);
      expect(JSON.parse(ephemeraIn(join(dir, 'reader'), 'trust', 'ls', '--json').stdout).keys).toEqual([]);
    });
  });

  describe('when run from the compiled build or from the sources', () => {
    it('these tests run the compiled dist/ (the test setup builds it), and the sources give the same verdict', () => {
      expect(chooseTree(ROOT).tree).toBe('dist');
      const compiled = ephemera('verify', certPath, '--json');
      const source = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'verify', certPath, '--json', '--data-dir', join(dir, 'data')], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '', EPHEMERA_FROM_SOURCE: '1' },
      });
      expect(compiled.code).toBe(0);
      expect({ code: source.status, stdout: source.stdout, stderr: source.stderr }).toEqual({ code: 0, stdout: compiled.stdout, stderr: '' });
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
      // Progress by default, even when stderr is not a terminal: on stderr only.
      expect(run.stderr).toMatch(/… sandbox created\n[\s\S]*… computation failed; destroying the sandbox\n/);
    });

    it("prints the tail of the script's stderr, with a terminal's control characters shown, not obeyed", () => {
      const sandbox = join(dir, 'traceback.json');
      const script = 'import sys\nsys.stderr.write("\\x1b[2Jwiped\\n")\nraise ValueError("column 7 is not a date")\n';
      writeFileSync(sandbox, JSON.stringify({ tools: ['python'], scripts: { 'main.py': script }, environment: { timeout_seconds: 10, max_memory_mb: 64 } }));
      const run = ephemera('run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', sandbox, '--quiet');
      expect(run.code).toBe(3);
      // --quiet: no progress at all.
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^stderr {6}\\x1b\[2Jwiped\n {12}Traceback \(most recent call last\):$/m);
      expect(run.stdout).toMatch(/^ {12}ValueError: column 7 is not a date$/m);
      expect(run.stdout).not.toContain('\x1b');
      // A failed run is logged like any other: its place in the transparency log is on the summary.
      expect(run.stdout).toMatch(/^logged {6}leaf \d+ of \d+ in ephemera\.log\/[0-9a-f]{16}/m);
    });
  });

  describe('when the sandbox file has several mistakes', () => {
    it('lists every problem, path first, and --json carries them', () => {
      const sandbox = join(dir, 'mistakes.json');
      writeFileSync(
        sandbox,
        JSON.stringify({ tools: ['perl'], scripts: { 'main.py': 'print(1)' }, environment: { timeout_seconds: 0, max_memory_mb: 64 }, gpu: true }),
      );
      const text = ephemera('run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', sandbox);
      expect(text.code).toBe(2);
      expect(text.stderr).toMatch(/^error REQUEST_INVALID: \d+ problems$/m);
      for (const path of ['sandbox.tools[0]', 'sandbox.environment.timeout_seconds', 'sandbox.gpu'])
        expect(text.stderr).toMatch(new RegExp(`^  ${path.replace(/[[\].]/g, '\\$&')}: `, 'm'));
      const json = JSON.parse(ephemera('run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', sandbox, '--json').stdout);
      expect(json.error.code).toBe('REQUEST_INVALID');
      expect(json.error.problems.map((p: { path: string }) => p.path)).toEqual(expect.arrayContaining(['sandbox.tools[0]', 'sandbox.gpu']));
    });
  });

  describe('when the dataset file is empty', () => {
    it('refuses it with DATASET_EMPTY (exit 2) unless --allow-empty', () => {
      const empty = join(dir, 'empty.csv');
      writeFileSync(empty, '');
      const sandbox = join(dir, 'count.json');
      writeFileSync(
        sandbox,
        JSON.stringify({ tools: ['bash'], scripts: { 'main.sh': 'wc -c < "$DATASET_PATH"' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } }),
      );
      const refused = ephemera('run', '--dataset', empty, '--sandbox', sandbox, '--json');
      expect(refused.code).toBe(2);
      expect(JSON.parse(refused.stdout).error.code).toBe('DATASET_EMPTY');
      const allowed = ephemera('run', '--dataset', empty, '--sandbox', sandbox, '--allow-empty', '--json');
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(JSON.parse(allowed.stdout)).toMatchObject({ status: 'completed', result: { output: '0\n' } });
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
  describe('when asked for help or the version', () => {
    it.each([
      [[]],
      [['run']],
      [['verify']],
      [['history']],
      [['trust']],
      [['trust', 'ls']],
      [['trust', 'add']],
      [['trust', 'rm']],
      [['trust', 'pin']],
      [['certs']],
      [['certs', 'ls']],
      [['certs', 'search']],
      [['stats']],
      [['replay']],
      [['migrate']],
      [['projections']],
      [['projections', 'rebuild']],
      [['build-info']],
      [['serve']],
      [['witness']],
      [['witness', 'serve']],
      [['witness', 'key']],
    ])('%j --help exits 0 with its usage and the exit codes', (path) => {
      const help = ephemera(...path, '--help');
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain(`Usage: ephemera${path.map((p) => ` ${p}`).join('')} `);
      expect(help.stdout).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n[\s\S]* {2}3 .*\n {2}4 /);
    });

    it('stops quietly when its reader has gone (`| head`): no stack trace, the exit code of what it did', async () => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), '--help'], { cwd: ROOT });
      child.stdout.destroy(); // the reading end closes before the help is written: the write fails with EPIPE
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    });

    it('--version prints the version of package.json', () => {
      const version = ephemera('--version');
      expect(version.code).toBe(0);
      expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    });

    it('a bare `ephemera` prints its usage on stderr and exits 2', () => {
      const bare = ephemera();
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain('Usage: ephemera');
      expect(bare.stdout).toBe('');
    });
  });

  describe('when an option value, option or argument is bad', () => {
    it.each([
      [['certs', 'ls', '--limit', 'abc'], /--limit <n>.*'abc' is invalid.*integer from 1 to 100/],
      [['certs', 'ls', '--limit', '0'], /integer from 1 to 100/],
      [['certs', 'ls', '--limit', '1e2'], /integer from 1 to 100/],
      [['certs', 'ls', '--status', 'done'], /Allowed choices are completed, failed, aborted/],
      [['certs', 'ls', '--fingerprint', 'abc'], /sha256:<64 lowercase hex>/],
      [['stats', '--from', 'yesterday'], /RFC 3339/],
      [
        ['run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', 'examples/pii-compliance/sandbox.json', '--format', 'xml'],
        /Allowed choices are csv, json, txt/,
      ],
      [['run', '--dataset', 'examples/pii-compliance/patients.csv'], /required option '--sandbox <file>' not specified/],
      [['run', '--dataset', 'x.csv', '--sandbox', 'x.json', '--bogus'], /unknown option '--bogus'/],
      [['verify'], /missing required argument 'certificate'/],
      [['verify', 'x', '--max-events', '0'], /--max-events/],
      [['replay', 'not-an-id'], /not a certificate id/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ])('%j exits 2 and says why', (args, why) => {
      const json = ephemera(...args, '--json');
      expect(json.code).toBe(2);
      const { error } = JSON.parse(json.stdout);
      expect(error.message).toMatch(why);
      expect(error.code).toMatch(/^(CLI_USAGE|CERTIFICATE_ID_INVALID)$/);
      const text = ephemera(...args);
      expect(text.code).toBe(2);
      expect(text.stderr).toMatch(new RegExp(`^error ${error.code}: `, 'm'));
      expect(text.stdout).toBe('');
    });
  });

  describe('when an input file is missing or unreadable', () => {
    const sandbox = 'examples/pii-compliance/sandbox.json';
    it.each([
      [['run', '--dataset', 'missing.csv', '--sandbox', sandbox], 'CLI_FILE_NOT_FOUND', /dataset file missing\.csv does not exist/],
      [['run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', 'missing/sandbox.json'], 'CLI_FILE_NOT_FOUND', /sandbox file/],
      [['run', '--dataset', 'examples', '--format', 'csv', '--sandbox', sandbox], 'CLI_FILE_UNREADABLE', /cannot read the dataset file examples \(EISDIR\)/],
      [['verify', 'missing/cert.json'], 'CLI_FILE_NOT_FOUND', /no such file/],
      [['build-info', '--compose', 'missing.json'], 'CLI_FILE_NOT_FOUND', /app compose file/],
      [['build-info', '--bundle', 'missing.tar'], 'CLI_FILE_NOT_FOUND', /bundle file/],
      [['build-info', '--bundle', 'package.json'], 'BUNDLE_INVALID', /not a whole bundle/],
      [['build-info', '--runtime', '--bundle', 'x.tar'], 'CLI_USAGE', /--runtime takes no other option \(--bundle given\)/],
      [['build-info', '--runtime', '--check-runtime'], 'CLI_USAGE', /--runtime takes no other option \(--check-runtime given\)/],
      [['build-info', '--commit', 'no-such-revision'], 'CLI_USAGE', /no-such-revision: no such commit/],
      [['verify', 'examples'], 'CLI_FILE_UNREADABLE', /examples is a directory, not a certificate file/],
    ])('%j exits 2 with %s', (args, code, why) => {
      const result = ephemera(...args, '--json');
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code, message: expect.stringMatching(why) });
    });

    it('reads no data directory that is not there (and creates none, nor a signing key in it)', () => {
      const nowhere = join(dir, 'never-ran-here');
      for (const args of [['verify', `cert_${'0'.repeat(26)}`], ['certs', 'ls'], ['stats']]) {
        const result = ephemeraIn(nowhere, ...args, '--json');
        expect(result.code, args.join(' ')).toBe(2);
        expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'CLI_DATA_DIR_NOT_FOUND', message: expect.stringContaining(nowhere) });
      }
      expect(existsSync(nowhere)).toBe(false);
    });

    it("names a sandbox's script file that is not there", () => {
      const sandbox = join(dir, 'script-file.json');
      writeFileSync(sandbox, JSON.stringify({ scripts: { 'main.sh': { file: 'gone.sh' } } }));
      const result = ephemera('run', '--dataset', 'examples/pii-compliance/patients.csv', '--sandbox', sandbox, '--json');
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'CLI_FILE_NOT_FOUND', message: expect.stringContaining('gone.sh') });
    });
  });

  describe('when --out cannot be written', () => {
    const run = (dataDir: string, out: string) =>
      ephemeraIn(
        dataDir,
        'run',
        '--dataset',
        'examples/pii-compliance/patients.csv',
        '--sandbox',
        'examples/pii-compliance/sandbox.json',
        '--out',
        out,
        '--json',
      );

    it('keeps the issued certificate in the data directory under its id, says where, and exits 2 with CLI_OUT_UNWRITABLE', () => {
      const out = join(dir, 'no-such-directory', 'cert.json');
      const result = run(join(dir, 'data'), out);
      expect(result.code).toBe(2);
      const summary = JSON.parse(result.stdout);
      const saved = join(dir, 'data', 'certificates', `${summary.certificate_id}.json`);
      expect(summary).toMatchObject({ status: 'completed', certificate_file: saved, out_error: { code: 'CLI_OUT_UNWRITABLE' } });
      expect(summary.out_error.message).toContain(saved);
      expect(result.stderr).toContain(`error CLI_OUT_UNWRITABLE: cannot write ${out} (ENOENT); the certificate is saved at ${saved}`);
      const verify = ephemera('verify', saved, '--json');
      expect(verify.code).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ certificate_id: summary.certificate_id, valid: true });
    });

    it('prints it on stdout when the data directory cannot take it either', () => {
      const dataDir = join(dir, 'blocked');
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'certificates'), 'a file where the directory would go');
      const result = run(dataDir, join(dir, 'no-such-directory', 'cert.json'));
      expect(result.code).toBe(2);
      const summary = JSON.parse(result.stdout);
      expect(summary).toMatchObject({ certificate_file: null, out_error: { code: 'CLI_OUT_UNWRITABLE', message: expect.stringMatching(/follows on stdout/) } });
      const printed = join(dir, 'printed.json');
      writeFileSync(printed, JSON.stringify(summary.certificate));
      expect(JSON.parse(ephemeraIn(dataDir, 'verify', printed, '--json').stdout)).toMatchObject({ certificate_id: summary.certificate_id, valid: true });
    });
  });

  describe('when listing as tables or JSON', () => {
    it('certs ls prints a table with headers, and --json one document with stable field names', () => {
      const cert = JSON.parse(readFileSync(certPath, 'utf8'));
      const table = ephemera('certs', 'ls');
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.split('\n');
      expect(lines[1]).toMatch(/^│ certificate +│ status +│ requested \(UTC\) +│ +time │ exit │ error +│ tools and models +│ executor +│$/);
      expect(table.stdout).toMatch(new RegExp(`│ ${cert.certificate_id} │ completed │ \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +│ +\\d+ ms │ +0 │`));

      const json = ephemera('certs', 'ls', '--limit', '1', '--json');
      expect(json.code).toBe(0);
      const page = JSON.parse(json.stdout);
      expect(Object.keys(page)).toEqual(['items', 'next_cursor']);
      expect(page.items).toHaveLength(1);
      expect(Object.keys(page.items[0]).sort()).toEqual(
        [
          'certificate_id',
          'status',
          'executor',
          'input',
          'result_sealed',
          'requested_at',
          'sealed_at',
          'dataset_hash',
          'sandbox_hash',
          'fingerprint',
          'models',
          'tools',
          'llm_calls',
          'input_tokens',
          'output_tokens',
          'tool_calls',
          'execution_time_ms',
          'exit_code',
          'error_code',
          'tee',
          'result_preview',
        ].sort(),
      );
      expect(page.next_cursor).toEqual(expect.any(String));
      expect(json.stderr).not.toContain('more:');
    });

    it('stats prints tables, and --json one document', () => {
      const table = ephemera('stats');
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^executions \d+; duration p50 \d+ ms/);
      expect(table.stdout).toMatch(/│ day +│ runs │ completed │ failed │ aborted │/);
      expect(table.stdout).toMatch(/│ error code +│ runs │\n[\s\S]*│ EXECUTION_NONZERO_EXIT │ +\d+ │/);
      const json = JSON.parse(ephemera('stats', '--json').stdout);
      expect(Object.keys(json)).toEqual(['executions_per_day', 'durations', 'tokens_by_model', 'tool_usage', 'failures']);
      expect(json.durations).toMatchObject({ executions: expect.any(Number), p50_ms: expect.any(Number) });
    });
  });

  describe('when `ephemera serve` is asked for limits this host cannot enforce', () => {
    it('refuses to start (exit 1, SANDBOX_LIMITS_MODE_UNAVAILABLE) instead of failing every run later', () => {
      // This machine offers no cgroup v2 memory, pids or cpu controller (docs/sandbox.md): an explicit cgroup2 cannot be met.
      const dataDir = join(dir, 'limits-data');
      const serve = ephemeraIn(dataDir, 'serve', '--limits', 'cgroup2', '--port', '0', '--host', '127.0.0.1');
      expect(serve.code).toBe(1);
      expect(serve.stderr).toMatch(/^error SANDBOX_LIMITS_MODE_UNAVAILABLE: /m);
      expect(serve.stderr).not.toContain('listening');
      expect(existsSync(join(dataDir, 'serve.json'))).toBe(false);
    });
  });

  describe('when `ephemera serve` runs on the same data directory', () => {
    it('certs, stats and replay read through its API; with serve not answering, from a snapshot of the log; serve.json is gone after it exits', async () => {
      const dataDir = join(dir, 'data');
      const cert = JSON.parse(readFileSync(certPath, 'utf8'));
      const server = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'], {
        cwd: ROOT,
        env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config') },
      });
      const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
      let serverLog = '';
      try {
        await new Promise<void>((resolve, reject) => {
          server.stderr.on('data', (chunk) => {
            serverLog += chunk;
            if (serverLog.includes('ephemera listening on')) resolve();
          });
          server.on('exit', () => reject(new Error(`serve exited: ${serverLog}`)));
        });
        const discovery = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8'));
        expect(serverLog).toMatch(/limits enforced by memory (cgroup2|cgroup1|rlimit), processes (cgroup2|cgroup1|rlimit), cpu (cgroup2|cgroup1|rlimit)/);
        expect(discovery).toEqual({
          url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
          pid: server.pid,
          instance: expect.stringMatching(/^[0-9a-f]{32}$/),
        });

        // An async run on that serve, followed by `watch` found through serve.json like the read commands.
        const accepted = await fetch(`${discovery.url}/execute`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'respond-async' },
          body: JSON.stringify({
            dataset: { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' },
            sandbox: { tools: ['bash'], scripts: { 'main.sh': 'sleep 1; echo hi' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
          }),
        });
        const { execution_id: executionId } = (await accepted.json()) as { execution_id: string };
        const watched = await runAsync(dataDir, 'watch', executionId);
        expect(watched.code, watched.stderr).toBe(0);
        expect(watched.stdout).toBe(`certificate cert_${executionId}\nstatus      completed\n`);
        // What a witness operator needs, printed at start (README "Running a witness").
        expect(serverLog).toMatch(/transparency log (ephemera\.log\/[0-9a-f]{16}): witnesses follow it with ephemera witness --origin \1 --log-key \1\+/);
        expect(watched.stderr).toMatch(/… sandbox created\n[\s\S]*… sealed and attested; checking the certificate\n/);

        // A second serve on the same data directory is refused, and leaves the first one's serve.json alone.
        const second = ephemeraIn(dataDir, 'serve', '--port', '0', '--host', '127.0.0.1');
        expect(second.code).toBe(2);
        expect(second.stderr).toMatch(new RegExp(`^error SERVE_DATA_DIR_HELD: ephemera serve \\(pid ${server.pid}\\) holds `, 'm'));
        expect(JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8'))).toEqual(discovery);
        // A serve elsewhere asked for the port this one has: a clear refusal, not an internal error.
        const taken = ephemeraIn(join(dir, 'other-data'), 'serve', '--port', new URL(discovery.url).port, '--host', '127.0.0.1');
        expect(taken.code).toBe(2);
        expect(taken.stderr).toMatch(/^error SERVE_ADDRESS_IN_USE: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/m);

        // Writing the projections beside it is refused the same way.
        const migrate = ephemeraIn(dataDir, 'migrate', '--json');
        expect(migrate.code).toBe(2);
        expect(JSON.parse(migrate.stdout).error.code).toBe('SERVE_DATA_DIR_HELD');

        // Through the API: this process could not open the embedded store (serve holds its lock).
        const ls = ephemera('certs', 'ls', '--json');
        expect(ls.code, ls.stderr).toBe(0);
        expect(JSON.parse(ls.stdout).items.map((c: { certificate_id: string }) => c.certificate_id)).toContain(cert.certificate_id);
        expect(ls.stderr).not.toMatch(/Cannot lock file|snapshot/);
        const stats = ephemera('stats', '--json');
        expect(stats.code, stats.stderr).toBe(0);
        expect(JSON.parse(stats.stdout).durations.executions).toBeGreaterThanOrEqual(2);
        const replay = ephemera('replay', cert.certificate_id, '--json');
        expect(replay.code, replay.stderr).toBe(0);
        expect(JSON.parse(replay.stdout)).toMatchObject({ certificate_id: cert.certificate_id, valid: true, projection_diff: [], projection_checked: true });
        expect(ephemera('replay', `cert_${'0'.repeat(26)}`, '--json').code).toBe(2);
        expect(ephemera('certs', 'ls').stdout).toContain(cert.certificate_id);

        // serve alive but not answering (its URL points at a loopback port nothing listens on): a snapshot from the read-only log.
        const closed = createServer();
        await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
        const { port } = closed.address() as AddressInfo;
        await new Promise((resolve) => closed.close(resolve));
        writeFileSync(join(dataDir, 'serve.json'), JSON.stringify({ ...discovery, url: `http://127.0.0.1:${port}` }));
        const snapshot = ephemera('certs', 'ls', '--json');
        expect(snapshot.code, snapshot.stderr).toBe(0);
        expect(snapshot.stderr).toContain('reading a snapshot projected from the log');
        expect(JSON.parse(snapshot.stdout).items.map((c: { certificate_id: string }) => c.certificate_id)).toContain(cert.certificate_id);
        const unchecked = ephemera('replay', cert.certificate_id, '--json');
        expect(unchecked.code, unchecked.stderr).toBe(0);
        expect(JSON.parse(unchecked.stdout)).toMatchObject({ valid: true, projection_checked: false });
        // Something answers at the URL but is not the serve that wrote the file (another instance): not believed either.
        writeFileSync(join(dataDir, 'serve.json'), JSON.stringify({ ...discovery, instance: 'f'.repeat(32) }));
        const impostor = ephemera('certs', 'ls', '--json');
        expect(impostor.code, impostor.stderr).toBe(0);
        expect(impostor.stderr).toContain('reading a snapshot projected from the log');
        writeFileSync(join(dataDir, 'serve.json'), JSON.stringify(discovery));
      } finally {
        server.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      expect(existsSync(join(dataDir, 'serve.json'))).toBe(false);
      // With serve gone, the CLI opens the store itself again.
      expect(ephemera('certs', 'ls', '--json').code).toBe(0);
      // A dozen CLI processes, two serves and a run: about 10 s alone, past 60 s on two cores beside the three-node test.
    }, 180_000);
  });

  describe('when watching runs on a server (ephemera watch)', () => {
    it('follows a failed run to its certificate (exit 3, --json pure), a refused one to its code, and says when there is nothing to watch', async () => {
      const dataDir = join(dir, 'watch-data');
      const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dataDir }));
      const app = await buildApp(services);
      try {
        const server = await app.listen({ port: 0, host: '127.0.0.1' });
        const start = async (sandbox: object, dataset: object = { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' }) => {
          const accepted = await fetch(`${server}/execute`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', prefer: 'respond-async' },
            body: JSON.stringify({ dataset, sandbox }),
          });
          return ((await accepted.json()) as { execution_id: string }).execution_id;
        };
        const failing = await start({ tools: ['bash'], scripts: { 'main.sh': 'exit 4' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } });
        const watched = await runAsync(dataDir, 'watch', failing, '--server', server, '--json');
        expect(watched.code, watched.stderr).toBe(3);
        expect(JSON.parse(watched.stdout)).toEqual({
          execution_id: failing,
          state: 'certified',
          certificate_id: `cert_${failing}`,
          status: 'failed',
          error: null,
        });
        expect(watched.stderr).toMatch(/… computation failed; destroying the sandbox\n/);

        const refused = await start(
          { tools: ['bash'], scripts: { 'main.sh': 'true' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
          { url: 'http://127.0.0.1:9/x.txt', format: 'txt' },
        );
        const refusedWatch = await runAsync(dataDir, 'watch', refused, '--server', server, '--quiet');
        expect(refusedWatch.code).toBe(2);
        expect(refusedWatch.stdout).toBe('');
        expect(refusedWatch.stderr).toMatch(/^refused: error DATASET_URL_SCHEME_FORBIDDEN: /);

        const unknown = await runAsync(dataDir, 'watch', '01JD7ZX3Q4M5N6P7R8S9T0XXXX', '--server', server);
        expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringMatching(/^error EXECUTION_NOT_FOUND: /)]);

        // A run this server does not know yet (behind a proxy: queued on another node): watch waits while the
        // server's 404 says to ask again, and follows the run once its first event is stored.
        const later = ulid();
        let waitingLog = '';
        const waiting = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'watch', later, '--server', server, '--data-dir', dataDir], {
          cwd: ROOT,
          env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config') },
        });
        waiting.stderr.on('data', (chunk) => (waitingLog += chunk));
        let waitingOut = '';
        waiting.stdout.on('data', (chunk) => (waitingOut += chunk));
        const waited = new Promise<number | null>((resolve) => waiting.on('close', resolve));
        await vi.waitFor(() => expect(waitingLog).toContain('not recorded yet'), { timeout: 20_000, interval: 100 });
        await execute(
          parseExecuteRequest({
            dataset: { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' },
            sandbox: { tools: ['bash'], scripts: { 'main.sh': 'echo later' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
          }),
          { ...services, executionId: later },
        );
        expect(await waited, waitingLog).toBe(0);
        expect(waitingOut).toBe(`certificate cert_${later}\nstatus      completed\n`);
      } finally {
        await app.close();
        await services.close();
      }
      const noServer = await runAsync(dataDir, 'watch', '01JD7ZX3Q4M5N6P7R8S9T0XXXX');
      expect([noServer.code, noServer.stderr]).toEqual([2, expect.stringMatching(/^error CLI_SERVER_NOT_FOUND: /)]);
      const badId = await runAsync(dataDir, 'watch', 'nope');
      expect([badId.code, badId.stderr]).toEqual([2, expect.stringMatching(/^error CLI_USAGE: /)]);
    });
  });
});
