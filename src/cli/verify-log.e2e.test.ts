/**
 * `ephemera verify` with the transparency log (docs/transparency.md §12), as a
 * reader runs it: a logged certificate file, the log policy from flags and
 * the trust file, and --refresh against a real loopback HTTP server serving a
 * fixture log's checkpoint and tiles at the §11 paths (same size, grown,
 * split view, rewritten history, bad tiles, no server).
 */
import { runCli, type CliResult } from './testing/run-cli.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCosignerKey, leafOfCertificate } from '../tlog/index.js';
import { certificateJson } from '../verify/index.js';
import { richEvents } from '../verify/testing/conformance.js';
import { VECTOR_PUBLIC_KEY, sealEvents, type Doc } from '../verify/testing/forge.js';
import { fixtureLogSync, syntheticLeaf, type FixtureLog } from '../verify/testing/log-fixture.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-verify-log-'));
const certificate = sealEvents(richEvents());
const leaves = Array.from({ length: 300 }, (_, i) => syntheticLeaf(i, `run ${i % 5}`, null));
leaves[200] = leafOfCertificate(certificate, null);
/** The log when the certificate was served (260 leaves, one witness), and later states of it. */
const atIssue = fixtureLogSync(leaves.slice(0, 260), { witnesses: 1 });
const grown = fixtureLogSync(leaves, { witnesses: 1 });
const rewritten = fixtureLogSync([syntheticLeaf(9999, 'hidden', null), ...leaves.slice(1)]);
const logged = join(dir, 'logged.json');
const plain = join(dir, 'plain.json');
const witness = atIssue.witnesses[0]!.vkey;
const stranger = generateCosignerKey('witness-x.example', new Uint8Array(32).fill(7)).vkey;

/** What the loopback log serves: `checkpoint` and `tile/...` under /tlog/. */
let serving: { checkpoint: string; files: Map<string, Uint8Array> } = atIssue;
let server: Server;
let url = '';

beforeAll(async () => {
  writeFileSync(logged, certificateJson({ ...certificate, transparency: atIssue.transparencyNow(200) }, 2));
  writeFileSync(plain, certificateJson(certificate, 2));
  server = createServer((request, response) => {
    const path = (request.url ?? '').replace(/^\/tlog\//, '');
    const body = path === 'checkpoint' ? Buffer.from(serving.checkpoint) : serving.files.get(path);
    if (!body) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': path === 'checkpoint' ? 'text/plain; charset=utf-8' : 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI as a process: its own data directory and trust file (never the user's), the vector key pinned by flag. */
function ephemera(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args, '--data-dir', join(dir, 'data')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const verify = (file: string, ...args: string[]) => ephemera('verify', file, '--trust-key', VECTOR_PUBLIC_KEY, ...args);

/** The same, not blocking this process, which serves the log it reads. */
function verifyAsync(file: string, ...args: string[]): Promise<CliResult> {
  return runCli(['verify', file, '--trust-key', VECTOR_PUBLIC_KEY, ...args, '--data-dir', join(dir, 'data')], {
    cwd: dir,
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '' },
  });
}
const json = (out: { stdout: string }) => JSON.parse(out.stdout) as Doc;

describe('ephemera verify with the transparency log', () => {
  it('shows the leaf, tree and origin of a logged certificate, and checks the witness policy (exit 0, or 4 untrusted)', () => {
    const ok = verify(logged);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok {3}transparency {2}leaf 200 of 260 in ephemera\.log\/test-fixture/);
    expect(ok.stdout).toMatch(/log {3}leaf 200 of 260 .*also signed by witness-0\.example, not checked/);
    expect(verify(logged, '--witness', witness).code).toBe(0);
    const short = verify(logged, '--witness', witness, '--witness', stranger, '--json');
    expect(short.code).toBe(4);
    expect(json(short)).toMatchObject({ valid: true, trusted: false, transparency: { trusted: false, cosigned_by: ['witness-0.example'] } });
    expect(verify(logged, '--witness', witness, '--witness', stranger, '--witnesses-required', '1').code).toBe(0);
    expect(verify(logged, '--witness', witness, '--witnesses-required', '2').code).toBe(2);
    expect(verify(logged, '--log-key', 'not-a-vkey').code).toBe(2);
  });

  it("says how to trust the log's key when only the log's key is not trusted (exit 4 under --require-log, 0 for a reader who asked nothing of the log), and pinned it exits 0", () => {
    const forgerLog = fixtureLogSync(leaves.slice(0, 260), { attestedBy: 'forger' });
    const file = join(dir, 'forger-logged.json');
    writeFileSync(file, certificateJson({ ...certificate, transparency: forgerLog.transparencyNow(200) }, 2));
    // A reader who asked nothing of the log: the certificate's own trust stands, the log line says what is not trusted.
    const unasked = verify(file);
    expect(unasked.code).toBe(0);
    expect(unasked.stdout).toMatch(/log {3}leaf 200 of 260 .*NOT TRUSTED: TLOG_LOG_KEY_UNTRUSTED/);
    const out = verify(file, '--require-log');
    expect(out.code).toBe(4);
    expect(out.stdout).toMatch(/log {3}leaf 200 of 260 .*NOT TRUSTED: TLOG_LOG_KEY_UNTRUSTED/);
    expect(out.stdout).toContain(`to trust the log's key: ephemera trust add ${forgerLog.vkey}`);
    expect(verify(file, '--require-log', '--log-key', forgerLog.vkey).code).toBe(0);
  });

  it('fails a certificate without the member under --require-log (exit 1), and verifies it as before without', () => {
    const required = verify(plain, '--require-log', '--json');
    expect(required.code).toBe(1);
    expect(json(required).failure.code).toBe('TLOG_NOT_LOGGED');
    expect(verify(plain).code).toBe(0);
    expect(verify(logged, '--require-log').code).toBe(0);
  });

  it('takes witnesses and log keys from the trust file (`ephemera trust add <vkey>`)', () => {
    expect(ephemera('trust', 'add', stranger).code).toBe(0);
    expect(ephemera('trust', 'add', atIssue.vkey).code).toBe(0);
    expect(json(ephemera('trust', 'ls', '--json'))).toMatchObject({ log_keys: [atIssue.vkey], witnesses: [stranger] });
    expect(verify(logged).code).toBe(4);
    expect(ephemera('trust', 'rm', stranger).code).toBe(0);
    // The log key pinned: trusted without the vector key's attestation of it.
    expect(json(ephemera('verify', logged, '--trust-key', VECTOR_PUBLIC_KEY, '--json')).transparency.trust).toMatch(/which you pinned/);
    expect(ephemera('verify', logged, '--json').code).toBe(4);
    expect(ephemera('trust', 'rm', atIssue.vkey).code).toBe(0);
    // A vkey of neither kind: the message names both, not only the last one tried.
    const bad = ephemera('trust', 'add', 'ephemera.log/x+00000000+AAAA');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a log vkey or a witness's cosigner vkey/);
  });

  describe('--refresh', () => {
    const refresh = (log: Pick<FixtureLog, 'checkpoint' | 'files'>, ...args: string[]) => {
      serving = log;
      return verifyAsync(logged, '--refresh', '--server', url, ...args);
    };

    it("passes when the log's latest checkpoint is the certificate's or contains it", async () => {
      const same = await refresh(atIssue);
      expect(same.code).toBe(0);
      expect(same.stdout).toMatch(/ok {3}transparency\.refresh {2}the log's latest checkpoint is this one \(260 leaves\)/);
      const later = await refresh(grown);
      expect(later.code).toBe(0);
      expect(later.stdout).toMatch(/contains this one \(260\)/);
    });

    it('fails loudly on a split view and keeps both checkpoints as evidence (exit 1)', async () => {
      const evidence = join(dir, 'evidence');
      const split = await refresh({ ...atIssue, checkpoint: atIssue.signCheckpoint(260, grown.root) }, '--evidence-dir', evidence, '--json');
      expect(split.code).toBe(1);
      expect(json(split)).toMatchObject({ valid: false, status: 'invalid', failure: { code: 'TLOG_SPLIT_VIEW' } });
      expect(split.stderr).toMatch(/!!! SPLIT VIEW/);
      const files = readdirSync(evidence).sort();
      expect(files).toHaveLength(2);
      const notes = files.map((f) => readFileSync(join(evidence, f), 'utf8'));
      expect(notes).toContain(atIssue.checkpoint);
      expect(notes.some((n) => n.startsWith(`${atIssue.origin}\n260\n`) && n !== atIssue.checkpoint)).toBe(true);
    });

    it('fails the certificate on a rewritten history (evidence in the working directory by default); fails the command on bad tiles, an unsigned checkpoint, no server', async () => {
      const history = await refresh(rewritten, '--json');
      expect(history.code).toBe(1);
      expect(json(history).failure.code).toBe('TLOG_CONSISTENCY_INVALID');
      expect(readdirSync(dir).filter((f) => f.startsWith('tlog-evidence-'))).toHaveLength(2);
      const bad = new Map(grown.files);
      bad.set('tile/0/001.p/44', new Uint8Array(44 * 32));
      // Tiles that do not hash to the log's checkpoint are what the server answered, not the log's word: the command
      // fails (its error, no verdict), and the certificate is not called invalid.
      const badTiles = await refresh({ ...grown, files: bad }, '--json');
      expect(badTiles.code).toBe(1);
      expect(json(badTiles).error.code).toBe('TLOG_TILE_MISMATCH');
      expect(json(badTiles).valid).toBeUndefined();
      // Nor is a latest checkpoint the log key did not sign.
      const unsigned = await refresh({ ...grown, checkpoint: grown.checkpoint.replace(/\n\n— [^\n]*\n/, '\n\n') }, '--json');
      expect(json(unsigned).error.code).toMatch(/^TLOG_NOTE_/);
      serving = { checkpoint: 'x'.repeat(300 * 1024), files: new Map() };
      // The log could not be asked: an error of the command (exit 1), not a verdict on the certificate.
      const unavailable = await verifyAsync(logged, '--refresh', '--server', url, '--json');
      expect(unavailable.code).toBe(1);
      expect(json(unavailable).error.code).toBe('TLOG_CHECKPOINT_UNAVAILABLE');
      // A server of another log: the same (the certificate is not called invalid for a wrong --server).
      const elsewhere = await refresh(fixtureLogSync(leaves, { origin: 'other.example/log' }));
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stdout).not.toMatch(/INVALID/);
      expect(elsewhere.stderr).toMatch(/TLOG_CHECKPOINT_UNAVAILABLE: the server answers for another log/);
      expect(verify(logged, '--refresh').code).not.toBe(0);
    });
  });
});
