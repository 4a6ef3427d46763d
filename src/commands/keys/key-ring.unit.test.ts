/**
 * The key ring on a clock the test moves: the statement and its document, the
 * lookups' refusals (unknown, expired, other suite), replays, the replay set
 * that retires its key when full, rotation and a failing attestor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedAttestor } from '../../attest/node.js';
import { checkKeyDocument } from '../../seal/index.js';
import { nodeSealCrypto } from '../../seal/node-aead.js';
import { KeyRing, type KeyRingOptions } from './key-ring.js';

const MINUTE = 60_000;
const dir = mkdtempSync(join(tmpdir(), 'ephemera-key-ring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const attestor = new SimulatedAttestor(dir);

function ring(options: Partial<KeyRingOptions> = {}) {
  const clock = { now: Date.parse('2026-12-03T16:00:00.000Z') };
  const keyRing = new KeyRing({
    attestor,
    node: 'node-a',
    suite: 'x25519-aes256gcm',
    rotateMs: 60 * MINUTE,
    graceMs: 10 * MINUTE,
    clock: () => new Date(clock.now),
    crypto: nodeSealCrypto,
    timer: false,
    ...options,
  });
  return { keyRing, clock };
}

describe('the key ring', () => {
  it('makes a key whose statement names the node, the TEE and its window, and whose document verifies', async () => {
    const { keyRing, clock } = ring();
    await keyRing.start();
    const document = await keyRing.document();
    expect(document.statement).toMatchObject({
      type: 'ephemera.key-statement',
      v: 1,
      suite: 'x25519-aes256gcm',
      node: 'node-a',
      tee: await attestor.describe(),
      not_before: '2026-12-03T16:00:00.000Z',
      not_after: '2026-12-03T17:10:00.000Z',
    });
    await expect(checkKeyDocument(document, { trustedKeys: [attestor.publicKeyHex], now: () => new Date(clock.now) })).resolves.toBeDefined();
    // The document never carries the private key.
    expect(JSON.stringify(document)).not.toMatch(/private|"d":/);
    keyRing.close();
  });

  it('finds the key a request names, and refuses another suite, an unknown statement and a replay', async () => {
    const { keyRing } = ring();
    await keyRing.start();
    const { statement_hash } = await keyRing.document();
    const key = keyRing.lookup(statement_hash, 'x25519-aes256gcm');
    expect(() => keyRing.lookup(statement_hash, 'xwing-aes256gcm')).toThrow(expect.objectContaining({ code: 'SEALED_SUITE_MISMATCH' }));
    expect(() => keyRing.lookup(`sha256:${'0'.repeat(64)}`, 'x25519-aes256gcm')).toThrow(expect.objectContaining({ code: 'SEALED_KEY_UNKNOWN' }));
    keyRing.remember(key, 'aa');
    expect(() => keyRing.refuseReplay(key, 'aa')).toThrow(expect.objectContaining({ code: 'SEALED_REPLAY' }));
    expect(() => keyRing.remember(key, 'aa')).toThrow(expect.objectContaining({ code: 'SEALED_REPLAY' }));
    keyRing.remember(key, 'bb');
    keyRing.close();
    // Closed: no key is held any more.
    expect(() => keyRing.lookup(statement_hash, 'x25519-aes256gcm')).toThrow(expect.objectContaining({ code: 'SEALED_KEY_UNKNOWN' }));
  });

  it('keeps a rotated key until its not_after, then answers expired; the current document is always a live key', async () => {
    const { keyRing, clock } = ring();
    await keyRing.start();
    const first = await keyRing.document();
    clock.now += 60 * MINUTE;
    await keyRing.rotate();
    const second = await keyRing.document();
    expect(second.statement_hash).not.toBe(first.statement_hash);
    expect(keyRing.lookup(first.statement_hash, 'x25519-aes256gcm')).toBeDefined();
    clock.now += 10 * MINUTE;
    expect(() => keyRing.lookup(first.statement_hash, 'x25519-aes256gcm')).toThrow(expect.objectContaining({ code: 'SEALED_KEY_EXPIRED' }));
    expect(keyRing.lookup(second.statement_hash, 'x25519-aes256gcm')).toBeDefined();
    // Hours later with no rotation (a suspended host): the document route makes a fresh key rather than serve a dead one.
    clock.now += 5 * 60 * MINUTE;
    const third = await keyRing.document();
    expect(third.statement_hash).not.toBe(second.statement_hash);
    expect(Date.parse(third.statement.not_before)).toBe(clock.now);
    keyRing.close();
  });

  it('retires a key early when its replay set is full: the next request is unknown and a new key is current', async () => {
    const { keyRing } = ring({ replayMax: 3 });
    await keyRing.start();
    const full = await keyRing.document();
    const key = keyRing.lookup(full.statement_hash, 'x25519-aes256gcm');
    for (const enc of ['01', '02', '03']) keyRing.remember(key, enc);
    expect(() => keyRing.lookup(full.statement_hash, 'x25519-aes256gcm')).toThrow(expect.objectContaining({ code: 'SEALED_KEY_UNKNOWN' }));
    expect((await keyRing.document()).statement_hash).not.toBe(full.statement_hash);
    keyRing.close();
  });

  it('refuses the second of two copies opened at once even when the key leaves the ring between them (expiry, a full set)', async () => {
    for (const leave of ['expiry', 'full set'] as const) {
      const { keyRing, clock } = ring({ replayMax: 2 });
      await keyRing.start();
      const { statement_hash } = await keyRing.document();
      // Two copies of one request pass the check before opening together; the first to finish is remembered.
      const first = keyRing.lookup(statement_hash, 'x25519-aes256gcm');
      const copy = keyRing.lookup(statement_hash, 'x25519-aes256gcm');
      keyRing.refuseReplay(first, 'cc');
      keyRing.refuseReplay(copy, 'cc');
      keyRing.remember(first, 'cc');
      // While the copy is still being opened, its key leaves the ring.
      if (leave === 'expiry') {
        clock.now += 70 * MINUTE;
        expect(() => keyRing.lookup(statement_hash, 'x25519-aes256gcm')).toThrow(expect.objectContaining({ code: 'SEALED_KEY_EXPIRED' }));
      } else keyRing.remember(first, 'dd');
      expect(() => keyRing.remember(copy, 'cc')).toThrow(expect.objectContaining({ code: 'SEALED_REPLAY' }));
      keyRing.close();
    }
  });

  it('makes an X-Wing key when asked', async () => {
    const { keyRing } = ring({ suite: 'xwing-aes256gcm' });
    await keyRing.start();
    const document = await keyRing.document();
    expect(document.statement.suite).toBe('xwing-aes256gcm');
    expect(keyRing.lookup(document.statement_hash, 'xwing-aes256gcm')).toBeDefined();
    keyRing.close();
  });

  it('starts without a key when the attestor fails, answers ATTEST_UNAVAILABLE, and makes one once it answers', async () => {
    let up = false;
    const flaky = { describe: () => attestor.describe(), attest: (data: Uint8Array) => (up ? attestor.attest(data) : Promise.reject(new Error('down'))) };
    const { keyRing } = ring({ attestor: flaky });
    await keyRing.start();
    await expect(keyRing.document()).rejects.toMatchObject({ code: 'ATTEST_UNAVAILABLE' });
    up = true;
    expect((await keyRing.document()).statement.node).toBe('node-a');
    keyRing.close();
  });
});
