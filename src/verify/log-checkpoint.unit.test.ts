import { describe, expect, it } from 'vitest';
import { hexToBytes, utf8ToBytes } from '../events/index.js';
import { verifyInclusion } from '../attest/merkle.js';
import { encodeLeaf, parseLeaf, parseNote, signNote, generateCosignerKey } from '../tlog/index.js';
import { sha256Bytes } from '../events/index.js';
import { codeOf, codeOfAsync } from '../tlog/testing/code-of.js';
import { checkLogCheckpoint, parseLogKeyDocument } from './log-checkpoint.js';
import { fixtureLog, syntheticLeaf } from './testing/log-fixture.js';
import { VECTOR_PUBLIC_KEY } from './testing/forge.js';

const trusted = { trustedKeys: [VECTOR_PUBLIC_KEY] };
const leaves = [syntheticLeaf(0, 'a', null), syntheticLeaf(1, 'b', null), syntheticLeaf(2, 'a', 0)];

describe('leaves', () => {
  it('read back exactly what they write, and refuse any other spelling', () => {
    for (const leaf of leaves) expect(parseLeaf(encodeLeaf(leaf))).toEqual(leaf);
    const text = new TextDecoder().decode(encodeLeaf(leaves[0]!));
    expect(codeOf(() => parseLeaf(utf8ToBytes(` ${text}`)))).toBe('TLOG_LEAF_MALFORMED');
    expect(codeOf(() => parseLeaf(utf8ToBytes(text.replace('"prev":null', '"prev":-1'))))).toBe('TLOG_LEAF_MALFORMED');
    expect(codeOf(() => parseLeaf(utf8ToBytes(text.replace('"v":1', '"v":1,"x":1'))))).toBe('TLOG_LEAF_MALFORMED');
    expect(codeOf(() => parseLeaf(new Uint8Array(5000)))).toBe('TLOG_LEAF_MALFORMED');
  });
});

describe('checkLogCheckpoint', () => {
  it('trusts a checkpoint whose log key is attested by a pinned key, and its inclusion proofs hold', async () => {
    const log = await fixtureLog(leaves);
    const trustedCheckpoint = await checkLogCheckpoint(log.checkpoint, log.logKey, trusted);
    expect(trustedCheckpoint.checkpoint.size).toBe(3);
    expect(trustedCheckpoint.logKeyTrust.basis).toBe('pinned-key');
    const t = await log.transparencyOf(2);
    verifyInclusion(sha256Bytes(new Uint8Array([0]), encodeLeaf(t.leaf)), 2, 3, t.inclusion_proof.map(hexToBytes), trustedCheckpoint.checkpoint.rootHash);
  });

  it('refuses an unpinned attestation, but a pinned log vkey stands on its own', async () => {
    const log = await fixtureLog(leaves);
    expect(await codeOfAsync(() => checkLogCheckpoint(log.checkpoint, log.logKey, {}))).toBe('TLOG_LOG_KEY_UNTRUSTED');
    expect((await checkLogCheckpoint(log.checkpoint, log.logKey, { logKeys: [log.vkey] })).logKeyTrust.basis).toBe('pinned-log-key');
  });

  it('refuses a document whose statement was changed, and one that is not strict JSON', async () => {
    const log = await fixtureLog(leaves);
    const changed = { ...log.logKey, statement: { ...log.logKey.statement, issued_at: '2026-12-02T00:00:00.000Z' } };
    expect(await codeOfAsync(() => checkLogCheckpoint(log.checkpoint, changed, trusted))).toBe('TLOG_LOG_KEY_DOCUMENT_MALFORMED');
    const text = JSON.stringify(log.logKey);
    expect(parseLogKeyDocument(text)).toEqual(log.logKey);
    expect(codeOf(() => parseLogKeyDocument(`${text.slice(0, -1)},"statement":{}}`))).toBe('TLOG_LOG_KEY_DOCUMENT_MALFORMED');
  });

  it('refuses a checkpoint another key signed under the same origin', async () => {
    const log = await fixtureLog(leaves);
    const other = await fixtureLog(leaves, { origin: 'ephemera.log/other' });
    expect(await codeOfAsync(() => checkLogCheckpoint(other.checkpoint, log.logKey, trusted))).toMatch(/^TLOG_(NOTE_UNVERIFIED|LOG_KEY_DOCUMENT_MALFORMED)$/);
  });

  it('counts the witnesses the reader named: k of n', async () => {
    const log = await fixtureLog(leaves, { witnesses: 2 });
    const [w0, w1] = log.witnesses.map((w) => w.vkey);
    const stranger = generateCosignerKey('stranger.example').vkey;
    expect((await checkLogCheckpoint(log.checkpoint, log.logKey, { ...trusted, witnesses: [w0!, w1!] })).cosignedBy).toHaveLength(2);
    expect((await checkLogCheckpoint(log.checkpoint, log.logKey, { ...trusted, witnesses: [w0!, stranger], witnessesRequired: 1 })).cosignedBy).toHaveLength(1);
    expect(await codeOfAsync(() => checkLogCheckpoint(log.checkpoint, log.logKey, { ...trusted, witnesses: [w0!, stranger] }))).toBe(
      'TLOG_COSIGNATURES_INSUFFICIENT',
    );
    expect(await codeOfAsync(() => checkLogCheckpoint(log.checkpoint, log.logKey, { ...trusted, witnesses: [w0!], witnessesRequired: 2 }))).toBe(
      'TLOG_COSIGNATURES_INSUFFICIENT',
    );
  });

  it('refuses a cosignature that does not verify', async () => {
    const log = await fixtureLog(leaves, { witnesses: 1 });
    const note = parseNote(log.checkpoint);
    const forged = signNote({ text: note.text, signatures: note.signatures }, []).replace(/— witness-0\.example (\S+)/, (_, b64: string) => {
      const raw = Buffer.from(b64, 'base64');
      raw[raw.length - 1]! ^= 1;
      return `— witness-0.example ${raw.toString('base64')}`;
    });
    expect(await codeOfAsync(() => checkLogCheckpoint(forged, log.logKey, { ...trusted, witnesses: [log.witnesses[0]!.vkey] }))).toBe(
      'TLOG_NOTE_SIGNATURE_INVALID',
    );
  });
});
