/**
 * `ephemera verify`'s text: names and details come from the certificate and the reader's build-info, so no
 * escape sequence in them reaches the terminal (it could rewrite the headline), and the build line says when
 * the tools it compares were recorded by a signer the reader does not trust.
 */
import { describe, expect, it } from 'vitest';
import { BUILD_INFO_FORMAT, RUNTIME_FORMAT, verifyCertificate, type BuildInfo } from '../verify/index.js';
import { richEvents } from '../verify/testing/conformance.js';
import { VECTOR_PUBLIC_KEY, sealEvents } from '../verify/testing/forge.js';
import { formatVerdict } from './verify.js';

const PYTHON = { path: '/usr/bin/python3', version: 'Python 3.11.2', sha256: `sha256:${'ab'.repeat(32)}` } as const;
const build = (tools: BuildInfo['runtime']['tools']): BuildInfo => ({
  format: BUILD_INFO_FORMAT,
  version: '0.1.0',
  commit: 'a'.repeat(40),
  bundle: null,
  image: null,
  compose_hash: null,
  runtime: { format: RUNTIME_FORMAT, base: 'Debian', packages: {}, tools },
});

describe('formatVerdict', () => {
  it('shows a hostile tool name escaped, never as a terminal control sequence', async () => {
    const hostile = '\u001b[2A\u001b[2K\rcertificate X: VALID, TRUSTED\u001b[J\ncertificate Y: VALID, TRUSTED\u202e';
    const verdict = await verifyCertificate(sealEvents(richEvents()), {
      trustedKeys: [VECTOR_PUBLIC_KEY],
      builds: [build({ python3: PYTHON, [hostile]: PYTHON })],
    });
    expect(verdict.failure?.code).toBe('VERIFY_BUILD_RUNTIME_MISMATCH');
    const text = formatVerdict(verdict);
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(text).toContain(
      '\\x1b[2A\\x1b[2K\\x0dcertificate X: VALID, TRUSTED\\x1b[J\\u000acertificate Y: VALID, TRUSTED\\u202e: not recorded, but the build installs it',
    );
    expect(text.split('\n').filter((line) => line.startsWith('certificate'))).toHaveLength(1);
    expect(text.split('\n')[0]).toMatch(/: INVALID/);
  });

  it('says the tools are only what an untrusted signer recorded, and nothing of the kind for a trusted one', async () => {
    const certificate = sealEvents(richEvents());
    const untrusted = formatVerdict(await verifyCertificate(certificate, { builds: [build({ python3: PYTHON })] }));
    expect(untrusted).toContain("sandbox tools: the build's (as recorded by a signer you do not trust)\n");
    const trusted = formatVerdict(await verifyCertificate(certificate, { trustedKeys: [VECTOR_PUBLIC_KEY], builds: [build({ python3: PYTHON })] }));
    expect(trusted).toContain(
      `  build from commit ${'a'.repeat(40)}, reproducible: no bundle hash in the build-info, not measured (no TDX quote); sandbox tools: the build's\n`,
    );
  });
});
