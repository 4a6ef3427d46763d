/**
 * The trust file's transparency-log lines (`log-key <vkey>`, `witness <vkey>`) beside the key pins: read
 * strictly, kept when pins are rewritten, and a malformed line named.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosignerVerifierKey, generateCosignerKey, generateNoteKey } from '../tlog/index.js';
import { readLogTrust, readPins, writeLogTrust, writePins } from './trust-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ephemera-trust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logKey = generateNoteKey('ephemera.log/abc', new Uint8Array(32).fill(1)).vkey;
const witness = generateCosignerKey('witness.example', new Uint8Array(32).fill(2));
const pin = 'ab'.repeat(32);

describe('the trust file', () => {
  it('keeps log keys and witnesses beside the pins, each rewrite keeping the other', () => {
    const path = join(dir, 'a');
    writePins([{ key: pin, note: 'ops' }], path);
    writeLogTrust({ logKeys: [logKey], witnesses: [witness.vkey] }, path);
    expect(readPins(path)).toEqual([{ key: pin, note: 'ops' }]);
    expect(readLogTrust(path)).toEqual({ logKeys: [logKey], witnesses: [witness.vkey] });
    writePins([], path);
    expect(readLogTrust(path)).toEqual({ logKeys: [logKey], witnesses: [witness.vkey] });
    expect(readFileSync(path, 'utf8')).toContain(`log-key ${logKey}\nwitness ${witness.vkey}\n`);
  });

  it("takes a witness's Ed25519 vkey as its cosigner key, and refuses a malformed line naming it", () => {
    const path = join(dir, 'b');
    const ed25519Vkey = generateNoteKey('witness.example', new Uint8Array(32).fill(2)).vkey;
    writeFileSync(path, `${pin}\nwitness ${ed25519Vkey}  # the same key, type 0x01\n`);
    expect(readLogTrust(path).witnesses).toEqual([cosignerVerifierKey(ed25519Vkey)]);
    expect(cosignerVerifierKey(ed25519Vkey)).toBe(witness.vkey);
    writeFileSync(path, `log-key ${witness.vkey}\n`);
    expect(() => readLogTrust(path)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(`${path}:1`) }));
    writeFileSync(path, 'witness nope\n');
    expect(() => readLogTrust(path)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
