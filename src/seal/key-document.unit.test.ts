/**
 * Key documents (docs/sealed.md §2): a document made as the server makes it verifies when its
 * simulated key is pinned (or is this machine's), is untrusted otherwise, and every tampering
 * class is refused with its own code. A real TDX quote that does not bind the statement is
 * refused by the TDX verifier the certificate verifier uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519';
import { describe, expect, it } from 'vitest';
import { bytesToHex, canonicalize, hexToBytes } from '../events/index.js';
import { parseTdxQuote, trimQuote, withReport } from '../attest/index.js';
import { tdxVerifier, type TdxPolicy } from '../attest/verify-tdx.js';
import { keyFingerprint, type AttestationVerifier } from '../verify/index.js';
import { checkKeyDocument, parseKeyDocument } from './key-document.js';
import { keyReportData, keyStatementHash } from './key-statement.js';
import { NOW, SIGNING_PUBLIC_KEY, SIGNING_SEED, documentFor, makeKeyDocument, statementFor } from './testing/key-documents.js';
import type { KeyDocument, KeyPolicy, KeyStatement } from './types.js';
import { codeOf } from './testing/code-of.js';

const OTHER_SEED = hexToBytes('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
const OTHER_PUBLIC_KEY = bytesToHex(ed25519.getPublicKey(OTHER_SEED));
const PINNED: KeyPolicy = { trustedKeys: [SIGNING_PUBLIC_KEY], now: () => NOW };
const { document: GOOD } = await makeKeyDocument();
const X25519_KEY = GOOD.statement.public_key;

const clone = (doc: KeyDocument): KeyDocument => structuredClone(doc);
/** Another statement, hashed, bound and signed properly by `seed`. */
const resigned = (change: Partial<KeyStatement>, seed = SIGNING_SEED) => documentFor({ ...GOOD.statement, ...change } as KeyStatement, seed);

const checked = (doc: KeyDocument, policy: KeyPolicy = PINNED) => codeOf(() => checkKeyDocument(doc, policy));
const parsed = (text: string) => codeOf(() => parseKeyDocument(text));

describe('keyReportData', () => {
  it('is the statement hash, then SHA-256 of the key-statement tag and the hash (not a certificate report)', () => {
    const hash = keyStatementHash(GOOD.statement);
    const report = keyReportData(hash);
    expect(report).toHaveLength(64);
    expect(`sha256:${bytesToHex(report.subarray(0, 32))}`).toBe(hash);
    expect(bytesToHex(report.subarray(32))).not.toBe(bytesToHex(report.subarray(0, 32)));
    expect(keyReportData(keyStatementHash({ ...GOOD.statement, node: 'other' }))).not.toEqual(report);
  });
});

describe('a simulated key document made as the server makes it', () => {
  it('parses from its JSON text and verifies with its key pinned', async () => {
    const doc = parseKeyDocument(JSON.stringify(GOOD));
    const verified = await checkKeyDocument(doc, PINNED);
    expect(verified.trust.basis).toBe('pinned-key');
    expect(verified.document.statement_hash).toBe(GOOD.statement_hash);
  });

  it('verifies with its key pinned by fingerprint, and as this machine’s own key', async () => {
    const fingerprint = keyFingerprint(SIGNING_PUBLIC_KEY);
    expect((await checkKeyDocument(GOOD, { trustedKeys: [fingerprint], now: () => NOW })).trust.basis).toBe('pinned-key');
    expect((await checkKeyDocument(GOOD, { localKeys: [SIGNING_PUBLIC_KEY], now: () => NOW })).trust.basis).toBe('local-key');
  });

  it('is untrusted when nobody pinned its key (anyone can make a key and sign)', async () => {
    expect(await checked(GOOD, { now: () => NOW })).toBe('SEAL_KEY_UNTRUSTED');
    expect(await checked(GOOD, { trustedKeys: [OTHER_PUBLIC_KEY], now: () => NOW })).toBe('SEAL_KEY_UNTRUSTED');
  });

  it('verifies an X-Wing statement too', async () => {
    const { document } = await makeKeyDocument('xwing-aes256gcm');
    expect((await checkKeyDocument(document, PINNED)).document.statement.suite).toBe('xwing-aes256gcm');
  });
});

describe('a tampered key document', () => {
  it.each<[string, (d: KeyDocument) => void]>([
    ['a statement member changed (node)', (d) => void (d.statement.node = 'node-evil')],
    ['the public key swapped for another (key_id kept)', (d) => void (d.statement.public_key = 'ab'.repeat(32))],
    ['not_after pushed later', (d) => void (d.statement.not_after = '2027-12-03T17:10:00.000Z')],
    ['statement_hash changed', (d) => void (d.statement_hash = `sha256:${'0'.repeat(64)}`)],
    ['report_data changed', (d) => void (d.report_data = `${'0'.repeat(2)}${d.report_data.slice(2)}`)],
  ])('is refused when %s: SEAL_KEY_DOCUMENT_MALFORMED', async (_what, tamper) => {
    const doc = clone(GOOD);
    tamper(doc);
    expect(await checked(doc)).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
  });

  it('is refused when the signature has one bit flipped: ATTEST_SIGNATURE_INVALID', async () => {
    const doc = clone(GOOD);
    const signature = hexToBytes(doc.attestation.type === 'simulated' ? doc.attestation.signature : '');
    signature[32]! ^= 1; // the low byte of s: still canonical, no longer the signature
    (doc.attestation as { signature: string }).signature = bytesToHex(signature);
    expect(await checked(doc)).toBe('ATTEST_SIGNATURE_INVALID');
  });

  it('is refused when its attestation is another key’s valid signature over another statement: ATTEST_SIGNATURE_INVALID', async () => {
    const other = resigned({ node: 'node-other' }, OTHER_SEED);
    const doc = clone(GOOD);
    doc.attestation = other.attestation;
    expect(await checked(doc, { trustedKeys: [SIGNING_PUBLIC_KEY, OTHER_PUBLIC_KEY], now: () => NOW })).toBe('ATTEST_SIGNATURE_INVALID');
  });

  it('is refused when re-signed by another key that tee does not name: SEAL_KEY_DOCUMENT_MALFORMED', async () => {
    expect(await checked(resigned({}, OTHER_SEED), { trustedKeys: [SIGNING_PUBLIC_KEY, OTHER_PUBLIC_KEY], now: () => NOW })).toBe(
      'SEAL_KEY_DOCUMENT_MALFORMED',
    );
  });

  it('is untrusted when re-signed, consistently, by a key nobody pinned: SEAL_KEY_UNTRUSTED', async () => {
    const doc = documentFor(statementFor(X25519_KEY, 'x25519-aes256gcm', OTHER_PUBLIC_KEY), OTHER_SEED);
    expect(await checked(doc)).toBe('SEAL_KEY_UNTRUSTED');
  });

  it('is refused when its key_id is not the hash of its public key: SEAL_KEY_DOCUMENT_MALFORMED', async () => {
    expect(await checked(resigned({ key_id: `sha256:${'1'.repeat(64)}` }))).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
  });

  it('is refused when its public key is not of its suite’s size: SEAL_KEY_DOCUMENT_MALFORMED', async () => {
    const short = X25519_KEY.slice(0, 62);
    expect(await checked(resigned({ public_key: short, key_id: documentFor({ ...GOOD.statement, public_key: short }).statement.key_id }))).toBe(
      'SEAL_KEY_DOCUMENT_MALFORMED',
    );
    const { document: xwing } = await makeKeyDocument('xwing-aes256gcm');
    expect(await checked(resigned({ suite: 'x25519-aes256gcm', public_key: xwing.statement.public_key, key_id: xwing.statement.key_id }))).toBe(
      'SEAL_KEY_DOCUMENT_MALFORMED',
    );
  });

  it('is refused when not_after is not after not_before: SEAL_KEY_DOCUMENT_MALFORMED', async () => {
    expect(await checked(resigned({ not_after: GOOD.statement.not_before }))).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
  });
});

describe('the key’s time', () => {
  const at = (iso: string): KeyPolicy => ({ ...PINNED, now: () => new Date(iso) });

  it.each([
    ['expired (now = not_after)', '2026-12-03T17:10:00.000Z'],
    ['from the future (not_before more than 5 minutes ahead)', '2026-12-03T15:54:59.999Z'],
  ])('is SEAL_KEY_STALE when %s', async (_what, now) => {
    expect(await checked(GOOD, at(now))).toBe('SEAL_KEY_STALE');
  });

  it('accepts a not_before up to 5 minutes ahead (clock skew) and just before not_after', async () => {
    expect(await checked(GOOD, at('2026-12-03T15:55:00.000Z'))).toBeNull();
    expect(await checked(GOOD, at('2026-12-03T17:09:59.999Z'))).toBeNull();
  });

  it('is SEAL_KEY_STALE when older than the maximum key age', async () => {
    expect(await checked(GOOD, { ...PINNED, maxKeyAgeMs: 29 * 60 * 1000 })).toBe('SEAL_KEY_STALE');
    expect(await checked(GOOD, { ...PINNED, maxKeyAgeMs: 30 * 60 * 1000 })).toBeNull();
  });
});

describe('the suite', () => {
  it('is SEAL_SUITE_UNSUPPORTED when the (validly signed) statement names one this client lacks', async () => {
    expect(await checked(resigned({ suite: 'kyber-chacha' as KeyStatement['suite'] }))).toBe('SEAL_SUITE_UNSUPPORTED');
  });
});

describe('parseKeyDocument', () => {
  const text = JSON.stringify(GOOD);

  it.each<[string, string]>([
    ['an unknown member at the top', text.replace('{"statement"', '{"extra":1,"statement"')],
    ['an unknown member in the statement', text.replace('"type":"ephemera.key-statement"', '"type":"ephemera.key-statement","x":1')],
    ['an unknown member in the attestation', text.replace('"type":"simulated","public_key"', '"type":"simulated","x":"y","public_key"')],
    ['a duplicate member', text.replace('{"statement"', `{"statement_hash":${JSON.stringify(GOOD.statement_hash)},"statement"`)],
    ['a missing member', JSON.stringify({ ...GOOD, report_data: undefined })],
    ['another statement type', text.replace('ephemera.key-statement', 'ephemera.key-statements')],
    ['another statement version', text.replace('"v":1', '"v":2')],
    ['a time without milliseconds', text.replace('2026-12-03T16:00:00.000Z', '2026-12-03T16:00:00Z')],
    ['uppercase hex', text.replace(GOOD.report_data, GOOD.report_data.toUpperCase())],
    ['a tee of another shape', text.replace('"hardware_backed":false', '"hardware_backed":true')],
    ['not JSON', `${text}x`],
    ['a JSON array', '[]'],
  ])('refuses %s: SEAL_KEY_DOCUMENT_MALFORMED', async (_what, input) => {
    expect(input).not.toBe(text);
    expect(await parsed(input)).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
  });

  it('refuses a document over 8 MiB before parsing it, and invalid UTF-8', async () => {
    expect(await codeOf(() => parseKeyDocument(new Uint8Array(8 * 1024 * 1024 + 1).fill(0x20)))).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
    expect(await codeOf(() => parseKeyDocument(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
  });

  it('accepts the same document in any member order (the hash is over JCS)', async () => {
    const reordered = `{"attestation":${JSON.stringify(GOOD.attestation)},"report_data":"${GOOD.report_data}","statement_hash":"${GOOD.statement_hash}","statement":${canonicalize(GOOD.statement)}}`;
    expect(await checked(parseKeyDocument(reordered))).toBeNull();
  });
});

describe('a TDX key document', () => {
  const testdata = join(import.meta.dirname, '../../test-vectors/tdx');
  const QUOTE = trimQuote(new Uint8Array(readFileSync(join(testdata, 'tdx_quote'))));
  const COLLATERAL = JSON.parse(readFileSync(join(testdata, 'tdx_quote_collateral.json'), 'utf8')) as Record<string, string>;
  /** Inside the test collateral's validity window (src/attest/verify-tdx.unit.test.ts). */
  const NOT_BEFORE = '2025-06-20T06:13:20.000Z';
  const policy = (verifier: AttestationVerifier): KeyPolicy => ({ attestationVerifiers: { tdx: verifier }, now: () => new Date('2025-06-20T06:20:00.000Z') });
  const tdxPolicy: TdxPolicy = { trustedComposeHashes: [], allowedTcbStatuses: [] };
  const statement: KeyStatement = {
    ...GOOD.statement,
    tee: {
      type: 'dstack',
      hardware_backed: true,
      app_id: null,
      instance_id: null,
      app_name: null,
      compose_hash: null,
      os_image_hash: null,
      measurements: { mrtd: null, rtmr0: null, rtmr1: null, rtmr2: null, rtmr3: null },
    },
    not_before: NOT_BEFORE,
    not_after: '2025-06-20T07:23:20.000Z',
  };
  const tdxDocument = (quote: Uint8Array): KeyDocument => {
    const hash = keyStatementHash(statement);
    return {
      statement,
      statement_hash: hash,
      report_data: bytesToHex(keyReportData(hash)),
      attestation: { type: 'tdx', quote: bytesToHex(quote), event_log: [], collateral: COLLATERAL } as unknown as KeyDocument['attestation'],
    };
  };

  it('parses (the attestation has the certificate’s tdx shape)', () => {
    expect(parseKeyDocument(JSON.stringify(tdxDocument(QUOTE))).attestation.type).toBe('tdx');
  });

  it('is refused when the real quote does not bind the statement: ATTEST_REPORT_DATA_MISMATCH', async () => {
    expect(await checked(tdxDocument(QUOTE), policy(tdxVerifier(tdxPolicy)))).toBe('ATTEST_REPORT_DATA_MISMATCH');
  });

  it('is refused when the quote is patched to bind it (Intel’s signature then fails)', async () => {
    const report = keyReportData(keyStatementHash(statement));
    const patched = withReport(QUOTE, report, parseTdxQuote(QUOTE).rtmr3);
    expect(await checked(tdxDocument(patched), policy(tdxVerifier(tdxPolicy)))).toMatch(/^ATTEST_(QUOTE_SIGNATURE_INVALID|DCAP_FAILED)$/);
  });

  it('is untrusted when the only failure is the reader’s policy (no trusted compose hash): SEAL_KEY_UNTRUSTED', async () => {
    // The real verifier, shown the quote's own report data: everything Intel signed holds, and the policy does not.
    const ownReport = parseTdxQuote(QUOTE).reportData;
    const real = tdxVerifier(tdxPolicy);
    expect(
      await checked(
        tdxDocument(QUOTE),
        policy((attestation, _report, context) => real(attestation, ownReport, context)),
      ),
    ).toBe('SEAL_KEY_UNTRUSTED');
  });

  it('is ATTEST_UNKNOWN_TYPE where no TDX verifier is given, and nothing else is tried', async () => {
    expect(await checked(tdxDocument(QUOTE), { now: () => NOW })).toBe('ATTEST_UNKNOWN_TYPE');
  });

  it('is refused when its statement names a simulated TEE: SEAL_KEY_DOCUMENT_MALFORMED', async () => {
    const doc = tdxDocument(QUOTE);
    const mixed = { ...doc, statement: { ...statement, tee: GOOD.statement.tee } };
    const hash = keyStatementHash(mixed.statement);
    const consistent = { ...mixed, statement_hash: hash, report_data: bytesToHex(keyReportData(hash)) };
    expect(await checked(consistent, policy(tdxVerifier(tdxPolicy)))).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
  });
});
