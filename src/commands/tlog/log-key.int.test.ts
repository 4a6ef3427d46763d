/**
 * The log key from each attestor: simulated (the seed from the simulated key: the same across restarts, another
 * per data directory) and dstack through the local guest-agent stand-in's /GetKey (the same for every instance of
 * one app, another for another app); its document verifies, and no byte of the secret reaches it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPrivateKey } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { verifySimulatedAttestation } from '../../attest/index.js';
import { DstackAttestor, SIMULATED_KEY_FILE, SimulatedAttestor } from '../../attest/node.js';
import { SIMULATED_COMPOSE_HASH, startDstackSimulator } from '../../attest/testing/dstack-standins.js';
import { bytesToHex } from '../../events/index.js';
import { logKeyReportData, logKeyStatementHash, openCheckpoint, parseNoteVerifierKey, signNote, formatCheckpoint } from '../../tlog/index.js';
import { defaultOrigin, openLogKey } from './log-key.js';

const root = mkdtempSync(join(tmpdir(), 'tlog-key-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the log key', () => {
  it('simulated: derived from the simulated key, stable across restarts, named by the default origin; the document verifies', async () => {
    const dir = join(root, 'sim');
    const key = await openLogKey(new SimulatedAttestor(dir), null);
    const again = await openLogKey(new SimulatedAttestor(dir), null);
    const other = await openLogKey(new SimulatedAttestor(join(root, 'other')), null);
    expect(again.vkey).toBe(key.vkey);
    expect(other.vkey).not.toBe(key.vkey);
    // name+keyid+base64(0x01 ‖ key): the base64 may itself hold plus signs.
    const publicKey = Buffer.from(key.vkey.slice(key.origin.length + 10), 'base64').subarray(1);
    expect(key.origin).toBe(defaultOrigin(publicKey));
    expect(key.origin).toMatch(/^ephemera\.log\/[0-9a-f]{16}$/);
    expect(key.vkey.startsWith(`${key.origin}+`)).toBe(true);
    const document = await key.document();
    expect(await key.document()).toBe(document);
    expect(document.statement_hash).toBe(logKeyStatementHash(document.statement));
    verifySimulatedAttestation(document.attestation as unknown as Record<string, unknown>, logKeyReportData(document.statement_hash));
    expect(document.report_data).toBe(bytesToHex(logKeyReportData(document.statement_hash)));
    // The simulated secret appears nowhere in what is served.
    const der = createPrivateKey(readFileSync(join(dir, SIMULATED_KEY_FILE))).export({ format: 'der', type: 'pkcs8' });
    expect(JSON.stringify(document)).not.toContain(der.subarray(-32).toString('hex'));
    expect(JSON.stringify(document)).not.toContain(der.subarray(-32).toString('base64'));
    const text = formatCheckpoint({ origin: key.origin, size: 1, rootHash: new Uint8Array(32), extensions: [] });
    expect(openCheckpoint(signNote({ text }, [key.signer]), [parseNoteVerifierKey(key.vkey)]).checkpoint.size).toBe(1);
  });

  it('EPHEMERA_TLOG_ORIGIN names the key instead', async () => {
    const key = await openLogKey(new SimulatedAttestor(join(root, 'sim')), 'log.example/one');
    expect(key.vkey.startsWith('log.example/one+')).toBe(true);
    expect((await key.document()).statement.origin).toBe('log.example/one');
  });

  it('dstack: the same key for every instance of an app (getKey), another app another key', async () => {
    const app = await startDstackSimulator();
    const sameApp = await startDstackSimulator();
    const otherApp = await startDstackSimulator('beef'.padEnd(64, '0'));
    try {
      const attestor = (url: string) => new DstackAttestor({ endpoint: url, pccsUrl: 'http://127.0.0.1:9' });
      const key = await openLogKey(attestor(app.url), null);
      expect((await openLogKey(attestor(sameApp.url), null)).vkey).toBe(key.vkey);
      expect((await openLogKey(attestor(otherApp.url), null)).vkey).not.toBe(key.vkey);
      // §9: the seed is SHA-256("ephemera/v1/tlog-key\n" ‖ getKey("ephemera/tlog/v1", "tlog").key).
      const kmsKey = createHash('sha256').update(`dstack-standin-key\n${SIMULATED_COMPOSE_HASH}\nephemera/tlog/v1\ntlog`).digest();
      const seed = createHash('sha256').update('ephemera/v1/tlog-key\n').update(kmsKey).digest();
      expect(bytesToHex(await attestor(app.url).tlogKeySeed())).toBe(seed.toString('hex'));
    } finally {
      await Promise.all([app.close(), sameApp.close(), otherApp.close()]);
    }
  });
});
