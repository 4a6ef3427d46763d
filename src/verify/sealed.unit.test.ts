/**
 * Sealed submissions and sealed results in the certificate (docs/sealed.md
 * §4–5, docs/verification.md §4.3): the verdict and the CLI say how the input
 * arrived and whom the result is sealed to; the sealed-result vectors are real
 * HPKE that the manifest's key opens to a canonical plaintext hashing to
 * result_hash; the rules hold for the executor's own streams too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { describe, expect, it } from 'vitest';
import { formatVerdict } from '../cli/verify.js';
import { openSealedResult, parseResultKeyFile } from '../seal/index.js';
import { nodeSealCrypto } from '../seal/node-aead.js';
import { canonicalize, hashUtf8, hexToBytes, verifyStream, type EventEnvelope } from '../events/index.js';
import { keyFingerprint, verifyCertificateText } from './index.js';
import { EXECUTION_ID, richEvents } from './testing/conformance.js';
import { VECTOR_PUBLIC_KEY, ev, reseal, type Doc } from './testing/forge.js';

const DIR = join(import.meta.dirname, '../../test-vectors/certificates');
const caseBytes = (name: string) => readFileSync(join(DIR, 'cases', `${name}.json`));
const caseDoc = (name: string) => JSON.parse(caseBytes(name).toString('utf8')) as Doc;
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  result_key: { type: string; suite: string; public_key: string; private_key: string };
};
const options = { trustedKeys: [VECTOR_PUBLIC_KEY] };
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Opens a certificate's sealed result as docs/sealed.md §5 says, with @hpke/core alone (not the seal library under test). */
async function openWithHpke(doc: Doc, privateKeyHex: string): Promise<string> {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const sealed = doc.result.sealed;
  const recipientKey = await suite.kem.importKey('raw', hexToBytes(privateKeyHex).buffer as ArrayBuffer, false);
  const context = await suite.createRecipientContext({
    recipientKey,
    enc: hexToBytes(sealed.enc).buffer as ArrayBuffer,
    info: utf8('ephemera/v1/sealed-result'),
  });
  const plain = await context.open(hexToBytes(sealed.ciphertext).buffer as ArrayBuffer, utf8(`ephemera/v1/sealed-result\n${doc.execution_id}`));
  return new TextDecoder('utf-8', { fatal: true }).decode(plain);
}

describe('a certificate of sealed input', () => {
  it('verifies, and the verdict says the input was sealed to which key statement, and what was inside', async () => {
    const doc = caseDoc('valid-sealed-input');
    const verdict = await verifyCertificateText(caseBytes('valid-sealed-input'), options);
    expect(verdict.status).toBe('trusted');
    expect(verdict.input).toEqual({ mode: 'sealed', ...doc.dataset.submission });
    expect(verdict.input).toMatchObject({ key_statement_hash: doc.events[0].data.submission.key_statement_hash, sealed: ['dataset', 'api_key'] });
    expect(verdict.sealed_result).toBeNull();
    expect(formatVerdict(verdict)).toContain(`  input sealed to key statement ${doc.dataset.submission.key_statement_hash} (dataset, api_key)\n`);
    expect(formatVerdict(verdict)).not.toContain('result sealed');
  });

  it('of a plain run says "plain", and an invalid certificate says neither', async () => {
    const plain = await verifyCertificateText(caseBytes('valid'), options);
    expect(plain.input).toEqual({ mode: 'plain' });
    expect(formatVerdict(plain)).toContain('  input plain\n');
    const invalid = await verifyCertificateText(caseBytes('submission-out-of-order'), options);
    expect(invalid.failure?.code).toBe('EVENTS_SUBMISSION_INVALID');
    expect(invalid.failure?.field).toBe('events[0].data.submission.sealed[2]');
    expect([invalid.input, invalid.sealed_result]).toEqual([null, null]);
    expect(formatVerdict(invalid)).not.toContain('input');
  });
});

describe('a certificate of a sealed result', () => {
  it('names the recipient by fingerprint in the verdict and the CLI', async () => {
    const verdict = await verifyCertificateText(caseBytes('valid-sealed-input-and-result'), options);
    const recipient = manifest.result_key.public_key;
    expect(verdict.status).toBe('trusted');
    expect(verdict.sealed_result).toEqual({ recipient, fingerprint: keyFingerprint(recipient) });
    expect(formatVerdict(verdict)).toContain(`  result sealed to ${keyFingerprint(recipient)} (x25519 ${recipient})\n`);
  });

  it('shows nothing of the result, and its key file opens it to a canonical plaintext that hashes to result_hash', async () => {
    const doc = caseDoc('valid-sealed-input-and-result');
    expect(doc.result).toMatchObject({ output: '', bytes: 0, truncated: false, json: null });
    const plain = await openWithHpke(doc, manifest.result_key.private_key);
    expect(hashUtf8(plain)).toBe(doc.result.result_hash);
    const opened = JSON.parse(plain);
    expect(canonicalize(opened)).toBe(plain);
    expect(opened.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(opened.result).toEqual((richEvents()[12] as EventEnvelope<'execution.completed'>).data.result);
    expect(opened.stderr_tail).toBeNull();
  });

  it('of a failed script carries the stderr tail inside the ciphertext only', async () => {
    const doc = caseDoc('valid-sealed-result-failed-run');
    expect(doc.result.stderr_tail).toBeUndefined();
    const opened = JSON.parse(await openWithHpke(doc, manifest.result_key.private_key));
    expect(opened.stderr_tail.text).toContain('KeyError');
  });

  it("opens with the seal library's openSealedResult too (docs/sealed.md §5 as src/seal implements it)", async () => {
    const doc = caseDoc('valid-sealed-input-and-result');
    const opened = await openSealedResult(doc as never, parseResultKeyFile(JSON.stringify(manifest.result_key)), nodeSealCrypto);
    expect(opened.result).toEqual((richEvents()[12] as EventEnvelope<'execution.completed'>).data.result);
    const failed = await openSealedResult(caseDoc('valid-sealed-result-failed-run') as never, parseResultKeyFile(JSON.stringify(manifest.result_key)));
    expect(failed.stderr_tail?.text).toContain('KeyError');
  });

  it('is bound to its execution: the same ciphertext does not open under another execution id', async () => {
    const doc = caseDoc('valid-sealed-input-and-result');
    await expect(openWithHpke({ ...doc, execution_id: '01JD7ZX3Q4M5N6P7R8S9T0VWXZ' }, manifest.result_key.private_key)).rejects.toThrow();
  });
});

describe('the sealing rules', () => {
  it('refuse a certificate that calls input sealed whose dataset came from a URL (a sealed request cannot name one)', async () => {
    const doc = caseDoc('valid-sealed-input');
    ev(doc, 0).data.dataset_source = 'url';
    reseal(doc);
    expect(doc.dataset).toMatchObject({ source: 'url', submission: { mode: 'sealed' } });
    const verdict = await verifyCertificateText(utf8(JSON.stringify(doc)), options);
    expect(verdict.failure).toMatchObject({ code: 'EVENTS_SUBMISSION_INVALID', field: 'events[0].data.dataset_source' });
  });

  it("hold in the executor's own read-back (verifyStream), not only in the verifier", () => {
    const doc = caseDoc('valid-sealed-input-and-result');
    expect(() => verifyStream(doc.events, EXECUTION_ID)).not.toThrow();
    ev(doc, 12).data.result.output = 'leaked';
    reseal(doc);
    expect(() => verifyStream(doc.events, EXECUTION_ID)).toThrow(expect.objectContaining({ code: 'EVENTS_SEALED_RESULT_NOT_EMPTY' }));
  });
});
