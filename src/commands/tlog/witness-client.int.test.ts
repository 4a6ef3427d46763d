/**
 * WitnessClient against a real witness (the in-process app of `ephemera
 * witness`) and against loopback servers that misbehave: every failure is
 * reported with its code and bounded, and never thrown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519';
import { cosignatureMessage, generateCosignerKey, parseCosignerSignerKey, parseCosignerVerifierKey } from '../../tlog/cosignature.js';
import { formatSignatureLine, parseNoteVerifierKey, signNote } from '../../tlog/note.js';
import { loadWitnessKey } from '../../witness/key.js';
import { buildWitnessApp } from '../../witness/server.js';
import { WitnessState } from '../../witness/state.js';
import { TestLog } from '../../witness/testing/test-log.js';
import { Witness } from '../../witness/witness.js';
import { WITNESS_ANSWER_MAX_BYTES, type WitnessReport, WitnessClient } from './witness-client.js';

const dir = mkdtempSync(join(tmpdir(), 'ephemera-witness-client-'));
const log = new TestLog('example.test/client');
let witnessUrl = '';
let witnessVkey = '';
let closeWitness = async () => undefined as unknown;

beforeAll(async () => {
  const cosigner = await loadWitnessKey(dir, { create: true, name: 'witness.example/real' });
  const witness = new Witness({
    logs: new Map([[log.origin, [parseNoteVerifierKey(log.vkey)]]]),
    state: await WitnessState.open(dir),
    cosigner,
  });
  const app = buildWitnessApp(witness);
  witnessUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  witnessVkey = cosigner.vkey;
  closeWitness = () => app.close();
});
afterAll(async () => {
  await closeWitness();
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback server answering every request with `answer`; counts the requests. */
async function misbehaving(answer: (res: ServerResponse) => void): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, server };
}

const fakeSeed = crypto.getRandomValues(new Uint8Array(32));
const fake = generateCosignerKey('witness.example/fake', fakeSeed);

async function reportOf(url: string, options: { timeoutMs?: number; vkey?: string } = {}): Promise<{ lines: string[]; report: WitnessReport }> {
  const reports: WitnessReport[] = [];
  const client = new WitnessClient([{ vkey: options.vkey ?? fake.vkey, url }], {
    onReport: (r) => reports.push(r),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  const lines = await client.submit(log.submission());
  expect(reports).toHaveLength(1);
  return { lines, report: reports[0]! };
}

describe('WitnessClient', () => {
  beforeAll(() => void log.append(4));

  it('does not follow a redirect', async () => {
    const target = await misbehaving((res) => res.writeHead(200).end());
    const redirect = await misbehaving((res) => res.writeHead(307, { location: `${target.url}/add-checkpoint` }).end());
    const { lines, report } = await reportOf(redirect.url);
    expect(lines).toEqual([]);
    expect(report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_UNREACHABLE', status: 307 });
    expect(target.hits()).toBe(0);
    target.server.close();
    redirect.server.close();
  });

  it('refuses an answer over 64 KiB, declared or streamed', async () => {
    const big = '— x '.padEnd(WITNESS_ANSWER_MAX_BYTES + 10, 'A');
    const declared = await misbehaving((res) => res.writeHead(200, { 'content-length': Buffer.byteLength(big) }).end(big));
    expect((await reportOf(declared.url)).report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_UNREACHABLE', message: expect.stringMatching(/larger/) });
    const streamed = await misbehaving((res) => {
      res.writeHead(200);
      for (let i = 0; i < 40; i++) res.write('A'.repeat(4096));
      res.end();
    });
    expect((await reportOf(streamed.url)).report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_UNREACHABLE', message: expect.stringMatching(/larger/) });
    declared.server.close();
    streamed.server.close();
  });

  it('gives up on a witness that does not answer in time, or is not there', async () => {
    const silent = await misbehaving(() => undefined);
    const { lines, report } = await reportOf(silent.url, { timeoutMs: 300 });
    expect(lines).toEqual([]);
    expect(report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_UNREACHABLE', message: expect.stringMatching(/timed out/) });
    const port = (silent.server.address() as AddressInfo).port;
    silent.server.closeAllConnections();
    await new Promise((resolve) => silent.server.close(resolve));
    expect((await reportOf(`http://127.0.0.1:${port}`)).report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_UNREACHABLE' });
  });

  it("refuses a 200 whose lines are not the witness's cosignature of this checkpoint", async () => {
    // Signed by another key than the configured one: nothing verifies.
    const other = generateCosignerKey('witness.example/other');
    const otherLine = signNote({ text: `${log.checkpoint().split('\n\n')[0]!}\n` }, [parseCosignerSignerKey(other.skey)]).split('\n\n')[1]!;
    const stranger = await misbehaving((res) => res.writeHead(200).end(otherLine));
    expect((await reportOf(stranger.url)).report).toMatchObject({ ok: false, code: 'TLOG_NOTE_UNVERIFIED' });
    // The configured key's line, but over another checkpoint: refused as a bad signature.
    const elsewhere = signNote({ text: `${log.origin}\n1\n${Buffer.alloc(32).toString('base64')}\n` }, [parseCosignerSignerKey(fake.skey)]).split('\n\n')[1]!;
    const replayed = await misbehaving((res) => res.writeHead(200).end(elsewhere));
    expect((await reportOf(replayed.url)).report).toMatchObject({ ok: false, code: 'TLOG_NOTE_SIGNATURE_INVALID' });
    // The configured key's valid cosignature of this checkpoint, but at time 0: refused.
    const text = `${log.checkpoint().split('\n\n')[0]!}\n`;
    const signature = new Uint8Array(72);
    signature.set(ed25519.sign(cosignatureMessage(text, 0), fakeSeed), 8);
    const timeless = await misbehaving((res) =>
      res.writeHead(200).end(formatSignatureLine('witness.example/fake', parseCosignerVerifierKey(fake.vkey).keyId, signature)),
    );
    expect((await reportOf(timeless.url)).report).toMatchObject({
      ok: false,
      code: 'TLOG_WITNESS_RESPONSE_MALFORMED',
      message: expect.stringMatching(/timestamp 0/),
    });
    timeless.server.close();
    const garbage = await misbehaving((res) => res.writeHead(200).end('not lines'));
    expect((await reportOf(garbage.url)).report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_RESPONSE_MALFORMED' });
    const untyped = await misbehaving((res) => res.writeHead(409, { 'content-type': 'text/plain' }).end('3\n'));
    expect((await reportOf(untyped.url)).report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_RESPONSE_MALFORMED', status: 409 });
    const looping = await misbehaving((res) => res.writeHead(409, { 'content-type': 'text/x.tlog.size' }).end('0\n'));
    expect((await reportOf(looping.url)).report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_OLD_SIZE_MISMATCH' });
    expect(looping.hits()).toBe(2);
    const ahead = await misbehaving((res) => res.writeHead(409, { 'content-type': 'text/x.tlog.size' }).end('999999\n'));
    expect((await reportOf(ahead.url)).report).toMatchObject({ ok: false, code: 'TLOG_WITNESS_OLD_SIZE_MISMATCH' });
    expect(ahead.hits()).toBe(1);
    for (const s of [stranger, replayed, garbage, untyped, looping, ahead]) s.server.close();
  });

  it('collects the lines of the witnesses that cosign, leaving out the others', async () => {
    const broken = await misbehaving((res) => res.writeHead(500).end());
    const reports: WitnessReport[] = [];
    const client = new WitnessClient(
      [
        { vkey: fake.vkey, url: broken.url },
        { vkey: witnessVkey, url: witnessUrl },
      ],
      { onReport: (r) => reports.push(r) },
    );
    const lines = await client.submit(log.submission());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^— witness\.example\/real [A-Za-z0-9+/=]+\n$/);
    expect(reports.map((r) => [r.ok, r.ok ? null : r.code]).sort()).toEqual([
      [false, 'TLOG_WITNESS_UNREACHABLE'],
      [true, null],
    ]);
    broken.server.close();
  });

  it('sends one request at a time per witness, and only the latest of the checkpoints that waited', async () => {
    let inFlight = 0;
    let most = 0;
    const sent: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const client = new WitnessClient([{ vkey: witnessVkey, url: witnessUrl }], {
      fetch: async (url, init) => {
        inFlight++;
        most = Math.max(most, inFlight);
        sent.push(Number(String(init?.body).split('\n\n')[1]!.split('\n')[1]));
        if (sent.length === 1) await gate;
        try {
          return await fetch(url, init);
        } finally {
          inFlight--;
        }
      },
    });
    const first = client.submit(log.append(1).submission());
    const second = client.submit(log.append(1).submission());
    const third = client.submit(log.append(1).submission());
    // The second was replaced by the third before it could be sent.
    expect(await second).toEqual([]);
    release();
    expect(await first).toHaveLength(1);
    expect(await third).toHaveLength(1);
    // A fresh client starts from 0: the first checkpoint is sent twice (409, then from the witness's size), the third once.
    expect(sent).toEqual([log.size - 2, log.size - 2, log.size]);
    expect(most).toBe(1);
  });
});
