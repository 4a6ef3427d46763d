/**
 * A certificate's `transparency` member (docs/transparency.md §12) through the
 * whole verifier: a real small log (tiles, signed and cosigned checkpoint,
 * attested log key), the object, text and chunked paths, every tampering
 * refused by its code, and an untrusted log key or witness policy that makes
 * the certificate untrusted, not invalid.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Bytes, utf8ToBytes } from '../events/index.js';
import {
  encodeLeaf,
  formatCheckpoint,
  generateCosignerKey,
  generateNoteKey,
  parseCosignerSignerKey,
  parseCosignerVerifierKey,
  parseNote,
  parseNoteSignerKey,
  signNote,
  type LogLeaf,
} from '../tlog/index.js';
import { CHECK_ORDER, certificateJson, verifyCertificate, verifyCertificateChunks, verifyCertificateText, type Verdict, type VerifyOptions } from './index.js';
import { richEvents } from './testing/conformance.js';
import { VECTOR_PUBLIC_KEY, sealEvents, type Doc } from './testing/forge.js';
import { loggedCertificate } from './testing/log-fixture.js';

const pinned: VerifyOptions = { trustedKeys: [VECTOR_PUBLIC_KEY] };
const plain = () => sealEvents(richEvents());
const logged = async (options: Parameters<typeof loggedCertificate>[1] = {}) => {
  const out = await loggedCertificate(plain(), options);
  return { ...out, doc: JSON.parse(JSON.stringify(out.certificate)) as Doc };
};
const outcome = (v: Verdict) => ({ valid: v.valid, trusted: v.trusted, code: v.failure?.code ?? null, field: v.failure?.field ?? null });

/** The verdict of every path: the value, its text (member after events), and that text in 61-byte chunks; all must agree. */
async function verdictOf(doc: Doc, options: VerifyOptions = pinned): Promise<Verdict> {
  const byValue = await verifyCertificate(doc, options);
  const text = certificateJson(doc as never, 2);
  const byText = await verifyCertificateText(text, options);
  const chunks = Array.from({ length: Math.ceil(text.length / 61) }, (_, i) => text.slice(i * 61, (i + 1) * 61));
  const byChunks = await verifyCertificateChunks(chunks, options);
  expect(outcome(byText)).toEqual(outcome(byValue));
  expect(outcome(byChunks)).toEqual(outcome(byValue));
  expect(byText.transparency).toEqual(byValue.transparency);
  return byValue;
}

describe('a certificate with its transparency member', () => {
  it('is valid and trusted when its leaf, proof and checkpoint hold and the log key is attested by a pinned key', async () => {
    const { doc, index, log } = await logged();
    expect(certificateJson(doc as never).indexOf('"transparency"')).toBeGreaterThan(certificateJson(doc as never).indexOf('"events"'));
    const verdict = await verdictOf(doc);
    expect(outcome(verdict)).toEqual({ valid: true, trusted: true, code: null, field: null });
    expect(verdict.checks.map((c) => [c.name, c.status])).toEqual([...CHECK_ORDER.map((name) => [name, 'pass']), ['transparency', 'pass']]);
    expect(verdict.transparency).toMatchObject({
      leaf_index: index,
      tree_size: log.leaves.length,
      origin: log.origin,
      log_key: log.vkey,
      trusted: true,
      cosigned_by: [],
      unverified_signers: [],
      prev: null,
    });
    expect(verdict.transparency!.trust).toMatch(/log key attested/);
  });

  it('verifies as before without the member, and fails with TLOG_NOT_LOGGED when the reader requires the log', async () => {
    const doc = JSON.parse(JSON.stringify(plain())) as Doc;
    const before = await verdictOf(doc);
    expect(before.checks.map((c) => c.name)).toEqual([...CHECK_ORDER]);
    expect(before.transparency).toBeNull();
    const required = await verdictOf(doc, { ...pinned, requireLog: true });
    expect(outcome(required)).toEqual({ valid: false, trusted: false, code: 'TLOG_NOT_LOGGED', field: 'transparency' });
    expect(required.checks.at(-1)).toMatchObject({ name: 'transparency', status: 'fail', code: 'TLOG_NOT_LOGGED' });
  });

  it("is valid but untrusted when the log key's attestation is not pinned and the reader requires the log, and trusted again with the log vkey pinned", async () => {
    const { doc, log } = await logged({ attestedBy: 'forger' });
    // A reader who asked nothing of the log: the certificate's own trust stands, the log's is reported apart.
    const unasked = await verdictOf(doc);
    expect(outcome(unasked)).toEqual({ valid: true, trusted: true, code: null, field: null });
    expect(unasked.transparency!.trusted).toBe(false);
    const verdict = await verdictOf(doc, { ...pinned, requireLog: true });
    expect(outcome(verdict)).toEqual({ valid: true, trusted: false, code: null, field: null });
    expect(verdict.status).toBe('untrusted');
    expect(verdict.trust.reason).toMatch(/TLOG_LOG_KEY_UNTRUSTED/);
    expect(verdict.transparency!.trusted).toBe(false);
    expect(outcome(await verdictOf(doc, { ...pinned, logKeys: [log.vkey] }))).toEqual({ valid: true, trusted: true, code: null, field: null });
  });

  it('counts k of n witnesses: enough cosignatures trust it, too few leave it untrusted, a forged one is invalid', async () => {
    const { doc, log } = await logged({ witnesses: 2 });
    const [w0, w1] = log.witnesses.map((w) => w.vkey);
    const other = generateNoteKey('witness-x.example', new Uint8Array(32).fill(7)).vkey;
    const both = await verdictOf(doc, { ...pinned, witnesses: [w0!, w1!] });
    expect(outcome(both)).toEqual({ valid: true, trusted: true, code: null, field: null });
    expect(both.transparency!.cosigned_by).toEqual(['witness-0.example', 'witness-1.example']);
    expect(outcome(await verdictOf(doc, { ...pinned, witnesses: [w0!, other], witnessesRequired: 1 }))).toMatchObject({ valid: true, trusted: true });
    const short = await verdictOf(doc, { ...pinned, witnesses: [w0!, other] });
    expect(outcome(short)).toEqual({ valid: true, trusted: false, code: null, field: null });
    expect(short.trust.reason).toMatch(/TLOG_COSIGNATURES_INSUFFICIENT/);
    // Without a witness policy the cosignatures are shown as unchecked names.
    expect((await verdictOf(doc)).transparency!.unverified_signers).toEqual(['witness-0.example', 'witness-1.example']);

    doc.transparency.checkpoint = flipLastSignature(doc.transparency.checkpoint);
    expect(outcome(await verdictOf(doc, { ...pinned, witnesses: [w0!, w1!] }))).toMatchObject({ valid: false, code: 'TLOG_NOTE_SIGNATURE_INVALID' });
  });

  it('refuses a checkpoint the log key did not sign, even when a witness the reader named cosigned it', async () => {
    // A witness (one of k) that cosigns a tree of its own making must not stand in for the log's signature.
    const { doc, log } = await logged({ witnesses: 1 });
    const witness = log.witnesses[0]!;
    const leaf = doc.transparency.leaf as LogLeaf;
    const forged = formatCheckpoint({ origin: log.origin, size: 1, rootHash: sha256Bytes(new Uint8Array([0]), encodeLeaf(leaf)), extensions: [] });
    doc.transparency = {
      ...doc.transparency,
      leaf_index: 0,
      inclusion_proof: [],
      checkpoint: signNote({ text: forged }, [parseCosignerSignerKey(witness.skey, () => Date.parse('2026-12-01T00:00:10Z'))]),
    };
    const verdict = await verdictOf(doc, { ...pinned, witnesses: [witness.vkey] });
    expect(outcome(verdict)).toEqual({ valid: false, trusted: false, code: 'TLOG_NOTE_UNVERIFIED', field: 'transparency.checkpoint' });
  });

  it('counts a witness once, however often and in whichever key form the reader names it', async () => {
    const { doc, log } = await logged({ witnesses: 1 });
    const w0 = log.witnesses[0]!.vkey;
    const seed = sha256Bytes(utf8ToBytes('ephemera test witness 0'));
    const asNoteKey = generateNoteKey('witness-0.example', seed).vkey;
    // The same public key under another name: a cosignature/v1 signature does not cover the name, so its line can be
    // copied under the other name's key ID, and it is still one witness.
    const renamed = generateCosignerKey('witness-0.again', seed).vkey;
    const copied = copyLineAs(doc.transparency.checkpoint, 'witness-0.example', 'witness-0.again', parseCosignerVerifierKey(renamed).keyId);
    for (const [witnesses, checkpoint] of [
      [[w0, w0], doc.transparency.checkpoint],
      [[w0, asNoteKey], doc.transparency.checkpoint],
      [[w0, renamed], copied],
    ] as const) {
      const verdict = await verdictOf({ ...doc, transparency: { ...doc.transparency, checkpoint } }, { ...pinned, witnesses, witnessesRequired: 2 });
      expect(outcome(verdict)).toEqual({ valid: true, trusted: false, code: null, field: null });
      expect(verdict.trust.reason).toMatch(/TLOG_COSIGNATURES_INSUFFICIENT/);
    }
  });
});

describe('a tampered transparency member is invalid', () => {
  const cases: [string, (doc: Doc) => void | Promise<void>, string, string][] = [
    [
      'a leaf member edited',
      (d) => void (d.transparency.leaf.result_hash = d.transparency.leaf.dataset_hash),
      'TLOG_LEAF_MISMATCH',
      'transparency.leaf.result_hash',
    ],
    [
      'another certificate hash',
      (d) => void (d.transparency.leaf.certificate_hash = d.events[0].hash),
      'TLOG_LEAF_MISMATCH',
      'transparency.leaf.certificate_hash',
    ],
    ['status failed', (d) => void (d.transparency.leaf.status = 'failed'), 'TLOG_LEAF_MISMATCH', 'transparency.leaf.status'],
    ['a prev the proof does not cover', (d) => void (d.transparency.leaf.prev = 1), 'TLOG_INCLUSION_INVALID', 'transparency.inclusion_proof'],
    [
      'a proof hash flipped',
      (d) => void (d.transparency.inclusion_proof[0] = flipHex(d.transparency.inclusion_proof[0])),
      'TLOG_INCLUSION_INVALID',
      'transparency.inclusion_proof',
    ],
    ['a proof hash dropped', (d) => void d.transparency.inclusion_proof.pop(), 'TLOG_INCLUSION_INVALID', 'transparency.inclusion_proof'],
    ['another leaf index', (d) => void (d.transparency.leaf_index -= 1), 'TLOG_INCLUSION_INVALID', 'transparency.inclusion_proof'],
    ['a leaf index past the tree', (d) => void (d.transparency.leaf_index = 8), 'TLOG_INCLUSION_INVALID', 'transparency.leaf_index'],
    [
      '64 proof hashes',
      (d) => void (d.transparency.inclusion_proof = Array(64).fill('00'.repeat(32))),
      'TLOG_TRANSPARENCY_MALFORMED',
      'transparency.inclusion_proof',
    ],
    [
      'an uppercase proof hash',
      (d) => void (d.transparency.inclusion_proof[0] = d.transparency.inclusion_proof[0].toUpperCase()),
      'TLOG_TRANSPARENCY_MALFORMED',
      'transparency.inclusion_proof[0]',
    ],
    ['a member it does not have', (d) => void (d.transparency.size = 8), 'TLOG_TRANSPARENCY_MALFORMED', 'transparency.size'],
    ['a member of the leaf it does not have', (d) => void (d.transparency.leaf.note = 'x'), 'TLOG_TRANSPARENCY_MALFORMED', 'transparency.leaf.note'],
    ['no proof', (d) => void delete d.transparency.inclusion_proof, 'TLOG_TRANSPARENCY_MALFORMED', 'transparency.inclusion_proof'],
    ['a negative index', (d) => void (d.transparency.leaf_index = -1), 'TLOG_TRANSPARENCY_MALFORMED', 'transparency.leaf_index'],
    ['null', (d) => void (d.transparency = null), 'TLOG_TRANSPARENCY_MALFORMED', 'transparency'],
    ['a checkpoint over 64 KiB', (d) => void (d.transparency.checkpoint = 'x'.repeat(65 * 1024)), 'TLOG_TRANSPARENCY_MALFORMED', 'transparency.checkpoint'],
    [
      'the log signature flipped',
      (d) => void (d.transparency.checkpoint = flipLastSignature(d.transparency.checkpoint)),
      'TLOG_NOTE_SIGNATURE_INVALID',
      'transparency.checkpoint',
    ],
    [
      'the checkpoint signed by another key of the same name',
      (d) => void (d.transparency.checkpoint = resign(d.transparency.checkpoint)),
      'TLOG_NOTE_UNVERIFIED',
      'transparency.checkpoint',
    ],
    [
      'the statement hash edited',
      (d) => void (d.transparency.log_key.statement_hash = d.events[0].hash),
      'TLOG_LOG_KEY_DOCUMENT_MALFORMED',
      'transparency.log_key.statement_hash',
    ],
    [
      'the log key document missing its attestation',
      (d) => void delete d.transparency.log_key.attestation,
      'TLOG_LOG_KEY_DOCUMENT_MALFORMED',
      'transparency.log_key.attestation',
    ],
    [
      'the attestation signature flipped',
      (d) => void (d.transparency.log_key.attestation.signature = flipHex(d.transparency.log_key.attestation.signature)),
      'ATTEST_SIGNATURE_INVALID',
      'transparency.log_key.attestation.signature',
    ],
  ];
  it.each(cases)('%s: %s', async (_name, edit, code, field) => {
    const { doc } = await logged();
    await edit(doc);
    const verdict = await verdictOf(doc);
    expect(outcome(verdict)).toEqual({ valid: false, trusted: false, code, field });
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks.filter((c) => c.status === 'fail')).toHaveLength(1);
  });

  it('a member text over the bound is refused before it is parsed', async () => {
    const { doc } = await logged();
    doc.transparency.log_key.padding = 'x'.repeat(1_200_000);
    const text = certificateJson(doc as never);
    expect(outcome(await verifyCertificateText(text, pinned))).toMatchObject({ valid: false, code: 'TLOG_TRANSPARENCY_MALFORMED', field: 'transparency' });
  });

  it('is skipped when the certificate itself is invalid', async () => {
    const { doc } = await logged();
    doc.status = 'failed';
    const verdict = await verdictOf(doc);
    expect(verdict.failure?.code).toBe('VERIFY_FIELD_MISMATCH');
    expect(verdict.checks.at(-1)).toEqual({ name: 'transparency', status: 'skipped' });
  });
});

describe('any change to the member text', () => {
  it('is refused with a code of its own, never VERIFY_INTERNAL, unless it leaves what is checked the same', async () => {
    const { certificate } = await logged({ witnesses: 1 });
    const text = certificateJson(certificate as never);
    const start = text.indexOf('"transparency"');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: start, max: text.length - 3 }), fc.integer({ min: 32, max: 126 }), async (at, code) => {
        const changed = `${text.slice(0, at)}${String.fromCharCode(code)}${text.slice(at + 1)}`;
        const verdict = await verifyCertificateText(changed, pinned);
        // Valid only when the change is no change, or falls in a signature line of a key nobody named (ignored, as C2SP says).
        const checkedPart = (t: string) => {
          const { checkpoint, ...rest } = JSON.parse(t).transparency;
          return { ...rest, signed: checkpoint.split('\n\n')[0], log: checkpoint.split('\n\n')[1].split('\n')[0] };
        };
        if (verdict.valid) expect(checkedPart(changed)).toEqual(checkedPart(text));
        else expect(verdict.failure!.code).toMatch(/^(TLOG_|JSON_|ATTEST_|VERIFY_UNKNOWN_MEMBER$)/);
      }),
      { numRuns: 300, seed: 20 },
    );
  });
});

/** The note with the signature line of `from` copied under the name `to` and the key ID `keyId`. */
function copyLineAs(note: string, from: string, to: string, keyId: number): string {
  const line = note.split('\n').find((l) => l.startsWith(`— ${from} `))!;
  const bytes = Buffer.from(line.split(' ')[2]!, 'base64');
  bytes.writeUInt32BE(keyId, 0);
  return `${note}— ${to} ${bytes.toString('base64')}\n`;
}

function flipHex(hex: string): string {
  return `${hex[0] === '0' ? '1' : '0'}${hex.slice(1)}`;
}

/** Flips a bit inside the last signature line's signature (the base64 before the padding). */
function flipLastSignature(note: string): string {
  const lines = note.split('\n');
  const i = lines.length - 2;
  const line = lines[i]!;
  const at = line.length - 5;
  lines[i] = `${line.slice(0, at)}${line[at] === 'A' ? 'B' : 'A'}${line.slice(at + 1)}`;
  return lines.join('\n');
}

/** The same checkpoint text signed by another key with the log's name. */
function resign(note: string): string {
  const { text } = parseNote(note);
  const origin = text.split('\n')[0]!;
  return signNote({ text }, [parseNoteSignerKey(generateNoteKey(origin, new Uint8Array(32).fill(9)).skey)]);
}
