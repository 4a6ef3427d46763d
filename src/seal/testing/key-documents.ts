/**
 * Test support: key documents signed by a simulated Ed25519 key, made as
 * the server makes them (statement, hash, report data, signature), so that
 * the client's checks meet real documents and each test can tamper one part.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex, type SealSuite } from '../../events/index.js';
import { hashBytes, hexToBytes } from '../../events/index.js';
import { keyReportData, keyStatementHash } from '../key-statement.js';
import { generateSealKeyPair } from '../suites.js';
import type { KeyDocument, KeyStatement, SealCrypto } from '../types.js';

export const SIGNING_SEED = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
export const SIGNING_PUBLIC_KEY = bytesToHex(ed25519.getPublicKey(SIGNING_SEED));
export const NOW = new Date('2026-12-03T16:30:00.000Z');

/** A statement for `publicKeyHex`, valid from 30 minutes before NOW for 70 minutes. */
export function statementFor(publicKeyHex: string, suite: SealSuite, signingPublicKey = SIGNING_PUBLIC_KEY): KeyStatement {
  return {
    type: 'ephemera.key-statement',
    v: 1,
    suite,
    public_key: publicKeyHex,
    key_id: hashBytes(hexToBytes(publicKeyHex)),
    node: 'node-test',
    tee: { type: 'simulated', public_key: signingPublicKey, hardware_backed: false },
    not_before: '2026-12-03T16:00:00.000Z',
    not_after: '2026-12-03T17:10:00.000Z',
  };
}

/** Hashes, binds and signs `statement` as the server does. */
export function documentFor(statement: KeyStatement, seed = SIGNING_SEED): KeyDocument {
  const statementHash = keyStatementHash(statement);
  const reportData = keyReportData(statementHash);
  return {
    statement,
    statement_hash: statementHash,
    report_data: bytesToHex(reportData),
    attestation: { type: 'simulated', public_key: bytesToHex(ed25519.getPublicKey(seed)), signature: bytesToHex(ed25519.sign(reportData, seed)) },
  };
}

/** A fresh key pair of `suite` and its signed document. */
export async function makeKeyDocument(suite: SealSuite = 'x25519-aes256gcm', crypto?: SealCrypto) {
  const { keyPair, publicKeyHex } = await generateSealKeyPair(suite, crypto);
  const document = documentFor(statementFor(publicKeyHex, suite));
  return { keyPair, document, key: { keyPair, statementHash: document.statement_hash, suite } };
}
