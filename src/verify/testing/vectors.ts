/**
 * The language-neutral certificate vectors (test-vectors/certificates): one
 * valid certificate and one file per mutation, with the expected verdict.
 * `npm run vectors` rewrites them; verify.unit.test.ts checks both that the
 * files are what this code produces and that the verifier answers each.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedAttestor, SIMULATED_KEY_FILE } from '../../attest/node.js';
import type { Certificate } from '../certificate.js';
import { MUTATIONS } from './mutations.js';
import { OTHER_EXECUTION_ID, VECTOR_KEY_SEED_HEX, ed25519PemFromSeed, sampleEvents, sealSample } from './sample-certificate.js';

export interface CertificateVector {
  description: string;
  expected: { valid: boolean; code: string | null };
  certificate: unknown;
}

export async function vectorAttestor(): Promise<SimulatedAttestor> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-vector-key-'));
  try {
    writeFileSync(join(dir, SIMULATED_KEY_FILE), ed25519PemFromSeed(VECTOR_KEY_SEED_HEX), { mode: 0o600 });
    return new SimulatedAttestor(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function sampleCertificates(): Promise<{ valid: Certificate; other: Certificate }> {
  const attestor = await vectorAttestor();
  return {
    valid: await sealSample(sampleEvents(), attestor),
    other: await sealSample(sampleEvents(OTHER_EXECUTION_ID, Date.parse('2026-03-01T09:00:00.000Z')), attestor),
  };
}

export async function certificateVectors(): Promise<Record<string, CertificateVector>> {
  const { valid, other } = await sampleCertificates();
  const vectors: Record<string, CertificateVector> = {
    valid: { description: 'a valid certificate (simulated attestation, fixed test key)', expected: { valid: true, code: null }, certificate: valid },
  };
  for (const mutation of MUTATIONS) {
    const doc = structuredClone(valid) as Certificate & Record<string, unknown>;
    mutation.mutate(doc, structuredClone(other) as Certificate & Record<string, unknown>);
    vectors[mutation.name] = { description: mutation.name.replaceAll('-', ' '), expected: { valid: false, code: mutation.code }, certificate: doc };
  }
  return vectors;
}
