/**
 * `ephemera witness` as a child process, driven over HTTP by the log's
 * WitnessClient and by raw add-checkpoint requests: it cosigns a growing log,
 * answers 409 to a stale old size, refuses forks (keeping evidence), unknown
 * origins and checkpoints the log did not sign, and keeps refusing after a
 * restart.
 */
import { type ChildProcessWithoutNullStreams, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type WitnessReport, WitnessClient } from '../commands/tlog/witness-client.js';
import { cosignatureTimestamp, parseCosignerVerifierKey } from '../tlog/cosignature.js';
import { encodeBase64 } from '../tlog/lines.js';
import { generateNoteKey, openNote, parseNoteSignerKey, parseNoteVerifierKey } from '../tlog/note.js';
import { formatAddCheckpointRequest, TREE_SIZE_CONTENT_TYPE } from '../tlog/witness-messages.js';
import { TestLog } from './testing/test-log.js';
import { startWitnessProcess, type WitnessProcess } from './testing/witness-process.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-witness-'));
const state = join(dir, 'state');
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const ORIGIN = 'example.test/log-a';
const log = new TestLog(ORIGIN);

/** Starts the witness on this log; resolves with its URL and vkey once it listens. */
async function startWitness(...extra: string[]): Promise<WitnessProcess> {
  const started = await startWitnessProcess({ origin: ORIGIN, logKey: log.vkey, state }, ...extra);
  children.push(started.child);
  return started;
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function post(url: string, body: string | Uint8Array) {
  const response = await fetch(`${url}/add-checkpoint`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Blob([body as Uint8Array<ArrayBuffer>]),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

const request = (oldSize: number, checkpoint: string, proof: Uint8Array[] = []) => formatAddCheckpointRequest({ oldSize, proof, signedCheckpoint: checkpoint });
const randomRoot = () => crypto.getRandomValues(new Uint8Array(32));
const evidenceFiles = () => readdirSync(join(state, 'evidence')).filter((name) => name.endsWith('.json'));

describe('ephemera witness', () => {
  let url = '';
  let vkey = '';
  let child: ChildProcessWithoutNullStreams;
  const reports: WitnessReport[] = [];

  it('starts, creates its key 0600, and cosigns a growing log through WitnessClient', async () => {
    ({ child, url, vkey } = await startWitness());
    expect(statSync(join(state, 'witness.key')).mode & 0o777).toBe(0o600);
    expect(vkey).toMatch(/^ephemera\.witness\/[0-9a-f]{16}\+[0-9a-f]{8}\+/);
    const client = new WitnessClient([{ vkey, url }], { onReport: (r) => reports.push(r) });
    const verifier = parseCosignerVerifierKey(vkey);
    for (const grow of [5, 300, 1, 256]) {
      log.append(grow);
      const checkpoint = log.checkpoint();
      const lines = await client.submit(log.submission(checkpoint));
      expect(lines, JSON.stringify(reports.at(-1))).toHaveLength(1);
      // The line verifies over exactly this checkpoint with the printed key, and is timestamped.
      const opened = openNote(`${checkpoint}${lines[0]}`, [verifier]);
      expect(cosignatureTimestamp(opened.verified[0]!)).toBeGreaterThan(1_700_000_000);
      expect(() => openNote(`${log.checkpoint(randomRoot())}${lines[0]}`, [verifier])).toThrow(/does not verify/);
    }
    expect(reports.map((r) => r.ok)).toEqual([true, true, true, true]);
    const saved = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    expect(saved.logs[ORIGIN]).toMatchObject({ size: 562, root_hash: encodeBase64(log.root()) });
    // The monitoring answer: the latest checkpoint with the log's signature and the cosignature.
    const hash = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(ORIGIN))).toString('hex');
    const monitored = await fetch(`${url}/${hash}/checkpoint`).then((r) => r.text());
    expect(openNote(monitored, [verifier]).text).toBe(`${ORIGIN}\n562\n${encodeBase64(log.root())}\n`);
    expect(openNote(monitored, [parseNoteVerifierKey(log.vkey)]).verified).toHaveLength(1);
    expect((await fetch(`${url}/${'0'.repeat(64)}/checkpoint`)).status).toBe(404);
  });

  it('answers a stale old size with 409 text/x.tlog.size, and a fresh client (a restarted log) catches up by retrying', async () => {
    const stale = await post(url, request(0, log.checkpoint()));
    expect(stale).toEqual({ status: 409, type: TREE_SIZE_CONTENT_TYPE, text: '562\n' });
    log.append(7);
    const fresh: WitnessReport[] = [];
    const lines = await new WitnessClient([{ vkey, url }], { onReport: (r) => fresh.push(r) }).submit(log.submission());
    expect(lines).toHaveLength(1);
    expect(fresh).toMatchObject([{ ok: true, size: 569 }]);
  });

  it('serializes check and persist: of two requests from the same old size, one is cosigned and the other gets 409', async () => {
    const oldSize = log.size;
    const first = log.append(3).checkpoint();
    const firstProof = await log.consistencyProof(oldSize);
    const second = log.append(4).checkpoint();
    const secondProof = await log.consistencyProof(oldSize);
    const answers = await Promise.all([post(url, request(oldSize, first, firstProof)), post(url, request(oldSize, second, secondProof))]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    // Whichever won, the client continues from it.
    log.append(1);
    expect(await new WitnessClient([{ vkey, url }]).submit(log.submission())).toHaveLength(1);
  });

  it('refuses a checkpoint whose consistency proof fails (422) and keeps both notes as evidence', async () => {
    const size = log.size;
    const forged = log.checkpoint(randomRoot(), size + 10);
    const answer = await post(url, request(size, forged, await log.consistencyProof(Math.max(1, size - 1))));
    expect(answer.status).toBe(422);
    expect(JSON.parse(answer.text).error.code).toBe('TLOG_WITNESS_INCONSISTENT');
    const files = evidenceFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^${size + 10}-[0-9a-f]{16}\\.json$`));
    const evidence = JSON.parse(readFileSync(join(state, 'evidence', files[0]!), 'utf8'));
    expect(evidence).toMatchObject({
      code: 'TLOG_WITNESS_INCONSISTENT',
      origin: ORIGIN,
      cosigned: { size },
      submitted: { old_size: size, checkpoint: forged },
    });
    expect(evidence.cosigned.checkpoint).toContain(`${ORIGIN}\n${size}\n`);
  });

  it('refuses a checkpoint of the cosigned size with another root (a split view): 422 from the right old size, 409 otherwise, evidence both times', async () => {
    const fork = log.checkpoint(randomRoot());
    const same = await post(url, request(log.size, fork));
    expect(same.status).toBe(422);
    const fromZero = await post(url, request(0, fork));
    expect(fromZero).toMatchObject({ status: 409, text: `${log.size}\n` });
    expect(evidenceFiles()).toHaveLength(3);
    // The same refusal again is the same evidence: kept once, never overwritten by another.
    await post(url, request(log.size, fork));
    expect(evidenceFiles()).toHaveLength(3);
  });

  it('refuses an unknown origin (404), a checkpoint not signed by the log key (403), a malformed or oversized body (400, 413)', async () => {
    const other = new TestLog('example.test/not-followed').append(3);
    expect((await post(url, request(0, other.checkpoint()))).status).toBe(404);
    const impostor = parseNoteSignerKey(generateNoteKey(ORIGIN).skey);
    const unsigned = await post(url, request(log.size, log.checkpoint(log.root(), log.size, impostor)));
    expect(unsigned.status).toBe(403);
    expect(JSON.parse(unsigned.text).error.code).toBe('TLOG_WITNESS_CHECKPOINT_UNVERIFIED');
    const malformed = await post(url, 'old 01\n\nnot a checkpoint\n');
    expect(JSON.parse(malformed.text).error.code).toBe('TLOG_WITNESS_REQUEST_MALFORMED');
    expect(malformed.status).toBe(400);
    const huge = await post(url, new Uint8Array(300 * 1024).fill(0x41));
    expect(huge.status).toBe(413);
    // The client reports the refusals with their codes and never throws.
    const got: WitnessReport[] = [];
    const client = new WitnessClient([{ vkey, url }], { onReport: (r) => got.push(r) });
    expect(await client.submit(other.submission())).toEqual([]);
    expect(got).toMatchObject([{ ok: false, code: 'TLOG_WITNESS_ORIGIN_UNKNOWN', status: 404 }]);
  });

  it('keeps its state and key across a restart, and still refuses to go back', async () => {
    const size = log.size;
    const older = log.checkpoint(log.root(), size); // kept to re-send later as "the past"
    expect(await stop(child)).toBe(0);
    const again = await startWitness();
    child = again.child;
    expect(again.vkey).toBe(vkey);
    url = again.url;
    expect(await post(url, request(0, older))).toMatchObject({ status: 409, text: `${size}\n` });
    // The same checkpoint again is cosigned again; a smaller tree: 409 from the old size it claims, 400 from the cosigned size (old > size).
    expect((await post(url, `old ${size}\n\n${older}`)).status).toBe(200);
    const smaller = log.checkpoint(randomRoot(), size - 1);
    expect((await post(url, request(size - 1, smaller))).status).toBe(409);
    expect((await post(url, `old ${size}\n\n${smaller}`)).status).toBe(400);
    // And it goes on with the log.
    log.append(2);
    expect(await new WitnessClient([{ vkey, url }]).submit(log.submission())).toHaveLength(1);
  });

  it('prints its key with `ephemera witness key`, and refuses a second witness on the same state', async () => {
    const key = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'witness', 'key', '--state', state], { cwd: ROOT, encoding: 'utf8' });
    expect(key.status).toBe(0);
    expect(key.stdout).toBe(`${vkey}\n`);
    await expect(startWitness()).rejects.toThrow(/TLOG_WITNESS_STATE_LOCKED/);
  });
});
