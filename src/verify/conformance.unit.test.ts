/**
 * The conformance suite (test-vectors/certificates/): the files are exactly
 * what the generator produces, there are enough of them in every class, and
 * the Node verifier gives every case its verdict when reading the file's
 * bytes, whole (TextDecoder) and in small chunks (the Node decoder). The browser runs the same cases
 * (web/browser.e2e.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tdxVerifier } from '../attest/node.js';
import { nodeSha256 } from '../events/node.js';
import { verifyCertificateChunks, verifyCertificateText, type VerifyOptions } from './index.js';
import { nodeUtf8Decoder } from './node-utf8.js';
import { conformanceCases, conformanceManifest, type CaseOptions } from './testing/conformance.js';

const DIR = join(import.meta.dirname, '../../test-vectors/certificates');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as ReturnType<typeof conformanceManifest>;

/** The options a case is verified with: the suite's defaults, then the case's own. */
function suiteOptions(options: CaseOptions = {}): VerifyOptions {
  const d = manifest.defaults;
  return {
    trustedKeys: options.trusted_keys ?? d.trusted_keys,
    limits: options.limits,
    logKeys: options.log_keys,
    witnesses: options.witnesses,
    witnessesRequired: options.witnesses_required,
    requireLog: options.require_log,
    attestationVerifiers: { tdx: tdxVerifier({ trustedComposeHashes: d.tdx.trusted_compose_hashes, allowedTcbStatuses: d.tdx.allowed_tcb_statuses }) },
  };
}

describe('test-vectors/certificates', () => {
  it('are exactly what the generator produces (run `npm run vectors` after a format change)', () => {
    const produced = conformanceCases();
    expect(manifest).toEqual(JSON.parse(JSON.stringify(conformanceManifest(produced))));
    for (const c of produced) expect(Buffer.compare(readFileSync(join(DIR, 'cases', `${c.name}.json`)), Buffer.from(c.bytes)), c.name).toBe(0);
  });

  it('hold at least 150 cases, every class with several, valid and invalid ones', () => {
    expect(manifest.cases.length).toBeGreaterThanOrEqual(150);
    const byClass = new Map<string, number>();
    for (const c of manifest.cases) byClass.set(c.class, (byClass.get(c.class) ?? 0) + 1);
    for (const [cls, n] of byClass) expect(n, cls).toBeGreaterThanOrEqual(3);
    expect(manifest.cases.filter((c) => c.expected.valid).length).toBeGreaterThanOrEqual(10);
    expect(manifest.cases.filter((c) => c.expected.valid && !c.expected.trusted).length).toBeGreaterThanOrEqual(3);
  });

  describe.each(manifest.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bytes = readFileSync(join(DIR, c.file));
    it(`gets ${c.expected.code ?? (c.expected.trusted ? 'valid, trusted' : 'valid, untrusted')}`, async () => {
      const verdict = await verifyCertificateText(bytes, suiteOptions(c.options));
      expect({ valid: verdict.valid, trusted: verdict.trusted, code: verdict.failure?.code ?? null }).toEqual(c.expected);
      expect(verdict.status).toBe(c.expected.valid ? (c.expected.trusted ? 'trusted' : 'untrusted') : 'invalid');
      expect(verdict.checks.filter((check) => !check.name.includes('.') && check.status === 'fail').length).toBe(c.expected.valid ? 0 : 1);
    });
    it('gets the same verdict read in 97-byte chunks as a file is read (node:crypto hashing, the Node UTF-8 decoder)', async () => {
      const chunks = Array.from({ length: Math.ceil(bytes.length / 97) }, (_, i) => bytes.subarray(i * 97, (i + 1) * 97));
      const verdict = await verifyCertificateChunks(chunks, { ...suiteOptions(c.options), sha256: nodeSha256 }, { decode: nodeUtf8Decoder() });
      expect({ valid: verdict.valid, trusted: verdict.trusted, code: verdict.failure?.code ?? null }).toEqual(c.expected);
    });
  });
});
