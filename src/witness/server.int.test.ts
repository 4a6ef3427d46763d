/** The witness's HTTP bounds: a request that arrives too slowly is cut off; a body over the limit is refused before it is read. */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNoteVerifierKey } from '../tlog/note.js';
import { ADD_CHECKPOINT_MAX_BYTES } from '../tlog/witness-messages.js';
import { loadWitnessKey } from './key.js';
import { buildWitnessApp, WITNESS_MAX_CONNECTIONS } from './server.js';
import { WitnessState } from './state.js';
import { TestLog } from './testing/test-log.js';
import { Witness } from './witness.js';

const dir = mkdtempSync(join(tmpdir(), 'ephemera-witness-http-'));
const log = new TestLog('example.test/http');
let port = 0;
let close = async () => undefined as unknown;
let connections = async () => 0;

beforeAll(async () => {
  const witness = new Witness({
    logs: new Map([[log.origin, [parseNoteVerifierKey(log.vkey)]]]),
    state: await WitnessState.open(dir),
    cosigner: await loadWitnessKey(dir, { create: true }),
  });
  const app = buildWitnessApp(witness, { requestTimeoutMs: 1_000 });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(url).port);
  close = () => app.close();
  connections = () => new Promise((resolve, reject) => app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
});
afterAll(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `head` then drips a byte every 200 ms; resolves with what the server answered and when it closed. */
function slowRequest(head: string): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    const drip = setInterval(() => socket.writable && socket.write('A'), 200);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ answer, ms: Date.now() - started });
    });
  });
}

describe('the witness over HTTP', () => {
  it('cuts off a request whose body trickles in past the request timeout (408), though bytes keep coming', async () => {
    const { answer, ms } = await slowRequest('POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nold 0\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(5_000);
  });

  it('cuts off headers that never end', async () => {
    const { ms } = await slowRequest('POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(ms).toBeLessThan(5_000);
  });

  it('refuses a declared body over the limit before reading it (413 REQUEST_BODY_TOO_LARGE)', async () => {
    const { answer } = await slowRequest(
      `POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: ${ADD_CHECKPOINT_MAX_BYTES + 1}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('REQUEST_BODY_TOO_LARGE');
  });

  it(`drops a connection beyond ${WITNESS_MAX_CONNECTIONS} at once`, async () => {
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      });
    const held = await Promise.all(Array.from({ length: WITNESS_MAX_CONNECTIONS }, open));
    const extra = await open();
    const dropped = await new Promise<boolean>((resolve) => {
      extra.on('close', () => resolve(true));
      extra.on('error', () => undefined);
      extra.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      setTimeout(() => resolve(false), 800);
    });
    for (const socket of [...held, extra]) socket.destroy();
    expect(dropped).toBe(true);
    // The server lets go of them as they close.
    for (let i = 0; i < 50 && (await connections()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await connections()).toBe(0);
  });

  it('cosigns through the app, and answers the monitoring route', async () => {
    log.append(3);
    const body = `old 0\n\n${log.checkpoint()}`;
    const response = await fetch(`http://127.0.0.1:${port}/add-checkpoint`, { method: 'POST', body });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toMatch(/^— ephemera\.witness\/[0-9a-f]{16} [A-Za-z0-9+/=]+\n$/);
    const info = (await fetch(`http://127.0.0.1:${port}/`).then((r) => r.json())) as { origins: string[] };
    expect(info.origins).toEqual([log.origin]);
  });
});
