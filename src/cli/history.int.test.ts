/**
 * `ephemera history` as a process against a real small log served on loopback (the routes of
 * docs/transparency.md §11 over src/verify/testing/log-fixture.ts): the chain, paging, a hidden run,
 * a sequencer's skipped run (--audit), trust and exit codes.
 */
import { runCli, type CliResult } from './testing/run-cli.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryAnswer } from '../tlog/index.js';
import { VECTOR_PUBLIC_KEY } from '../verify/testing/forge.js';
import { fixtureLog, honestLeaves, syntheticLeaf, type FixtureLog } from '../verify/testing/log-fixture.js';

const _ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-history-'));
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

const honest = honestLeaves;
const A = syntheticLeaf(0, 'a', null).fingerprint;

/** The log's routes on loopback; the history follows prev from the newest leaf below ?before=, `pageSize` at a time, minus `hide`. */
async function serve(log: FixtureLog, options: { pageSize?: number; hide?: number } = {}): Promise<string> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const history = /^\/tlog\/history\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (history) {
      const before = url.searchParams.has('before') ? Number(url.searchParams.get('before')) : Number.POSITIVE_INFINITY;
      const leaves: HistoryAnswer['leaves'] = [];
      void log.historyOf(history[1]!).then((answer) => {
        let i: number | null = answer.leaves.find((l) => l.leaf_index < before)?.leaf_index ?? null;
        for (; i !== null && leaves.length < (options.pageSize ?? 1000); i = log.leaves[i]!.prev)
          if (i !== options.hide) leaves.push(answer.leaves.find((l) => l.leaf_index === i)!);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ...answer, leaves }));
      });
      return;
    }
    const file = url.pathname.startsWith('/tlog/') ? log.files.get(url.pathname.slice('/tlog/'.length)) : undefined;
    if (!file) {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'TLOG_TILE_NOT_FOUND', message: 'no such tile' } }));
      return;
    }
    res.end(file);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function ephemera(...args: string[]): Promise<CliResult> {
  return runCli([...args, '--data-dir', join(dir, 'data')], { env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '' } });
}

describe('ephemera history', () => {
  it('shows the runs of a fingerprint, chained and proved, following pages; exit 0 when the log key is trusted', async () => {
    const server = await serve(await fixtureLog(honest()), { pageSize: 2 });
    const text = await ephemera('history', A, '--server', server, '--trust-key', VECTOR_PUBLIC_KEY);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/VALID, TRUSTED/);
    expect(text.stdout).toMatch(/all 4 clear results agree/);
    expect(text.stdout).toMatch(/not proved/);
    const json = await ephemera('history', A, '--server', server, '--trust-key', VECTOR_PUBLIC_KEY, '--json', '--audit');
    const verdict = JSON.parse(json.stdout);
    expect(verdict).toMatchObject({ status: 'trusted', pages: 2, audit: { size: 6, indexes: [0, 2, 3, 5] } });
    expect(verdict.runs.map((r: { leaf_index: number }) => r.leaf_index)).toEqual([5, 3, 2, 0]);
  });

  it('exits 4 for a log key nobody trusts, and 1 when a run is hidden from the history', async () => {
    const log = await fixtureLog(honest());
    const untrusted = await ephemera('history', A, '--server', await serve(log), '--json');
    expect(untrusted.code).toBe(4);
    expect(JSON.parse(untrusted.stdout).error.code).toBe('TLOG_LOG_KEY_UNTRUSTED');
    const hint = await ephemera('history', A, '--server', await serve(log));
    expect(hint.stdout).toContain(`to trust it: --log-key ${log.vkey}`);
    const pinned = await ephemera('history', A, '--server', await serve(log), '--log-key', log.vkey);
    expect(pinned.code, pinned.stdout).toBe(0);
    const hidden = await ephemera('history', A, '--server', await serve(log, { hide: 3 }), '--trust-key', VECTOR_PUBLIC_KEY);
    expect(hidden.code).toBe(1);
    expect(hidden.stdout).toMatch(/BROKEN/);
    expect(hidden.stdout).toMatch(/TLOG_HISTORY_BROKEN: leaf 5 says the run before it is leaf 3/);
  });

  it('with --audit, catches a sequencer that left a run out of the chain, which the history alone passes', async () => {
    const leaves = honest();
    leaves[5] = syntheticLeaf(5, 'a', 2);
    const server = await serve(await fixtureLog(leaves));
    expect((await ephemera('history', A, '--server', server, '--trust-key', VECTOR_PUBLIC_KEY)).code).toBe(0);
    const audit = await ephemera('history', A, '--server', server, '--trust-key', VECTOR_PUBLIC_KEY, '--audit', '--json');
    expect(audit.code).toBe(1);
    expect(JSON.parse(audit.stdout).error).toMatchObject({ code: 'TLOG_HISTORY_BROKEN', fields: { break: 'skipped', leaf_index: 5, expected: 3 } });
  });

  it('given a certificate file, its own run must be in the history', async () => {
    const log = await fixtureLog(honest());
    const cert = join(dir, 'cert.json');
    writeFileSync(cert, JSON.stringify({ certificate_id: log.leaves[3]!.certificate_id, fingerprint: A, transparency: await log.transparencyOf(3) }));
    const ok = await ephemera('history', cert, '--server', await serve(log), '--trust-key', VECTOR_PUBLIC_KEY);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/3 \(yours\)/);
    // A server that hides leaf 3 and relinks nothing: the chain breaks; one that answers without it at all: omits-held.
    const hiding = await ephemera('history', cert, '--server', await serve(log, { hide: 3 }), '--trust-key', VECTOR_PUBLIC_KEY, '--json');
    expect(hiding.code).toBe(1);
    expect(JSON.parse(hiding.stdout).error.code).toBe('TLOG_HISTORY_BROKEN');
    expect((await ephemera('history', 'sha256:12', '--server', 'http://127.0.0.1:1')).code).toBe(2);
    const unreachable = await ephemera('history', A, '--server', 'http://127.0.0.1:1', '--json');
    expect(unreachable.code).toBe(1);
    expect(JSON.parse(unreachable.stdout).error.code).toBe('CLI_HISTORY_UNAVAILABLE');
  });
});
