/**
 * Build-info documents as the verifier reads them (hostile input, read strictly), and the `build` check: a
 * TDX certificate's build is the one its quote's compose hash names, and the tools its sandbox recorded must be
 * that build's, no more and no fewer.
 */
import { describe, expect, it } from 'vitest';
import {
  BUILD_INFO_FORMAT,
  MAX_BUILD_INFO_BYTES,
  RUNTIME_FORMAT,
  parseBuildInfo,
  parseBuildInfos,
  runtimeDifferences,
  verifyCertificate,
  verifyCertificateText,
  type BuildInfo,
} from './index.js';
import { conformanceCases, richEvents } from './testing/conformance.js';
import { VECTOR_PUBLIC_KEY, sealEvents, type Doc } from './testing/forge.js';

const PYTHON = { path: '/usr/bin/python3', version: 'Python 3.11.2', sha256: `sha256:${'ab'.repeat(32)}` } as const;
const COMPOSE = `c0ffee${'00'.repeat(29)}`;
const build = (tools: BuildInfo['runtime']['tools'] = { python3: PYTHON }, over: Partial<BuildInfo> = {}): BuildInfo => ({
  format: BUILD_INFO_FORMAT,
  version: '0.1.0',
  commit: 'a'.repeat(40),
  bundle: {
    sha256: `sha256:${'12'.repeat(32)}`,
    source_date_epoch: 1_764_806_400,
    build_env: { node: 'v20.20.2', npm: '11.19.1', cc: null, cxx: null, platform: 'linux-x64' },
  },
  image: `ghcr.io/ephemera/ephemera@sha256:${'34'.repeat(32)}`,
  compose_hash: COMPOSE,
  runtime: { format: RUNTIME_FORMAT, base: 'Debian GNU/Linux 12 (bookworm)', packages: { 'python3.11-minimal': '3.11.2-6+deb12u6' }, tools },
  ...over,
});
const valid = () => sealEvents(richEvents()) as unknown as Doc;
const tdxBytes = () => conformanceCases().find((c) => c.name === 'tdx-simulated-quote')!.bytes;
/** Stands in for Intel's signature, which no quote over these events can carry: the quote's own checks are attest/'s tests. */
const tdxPasses = { tdx: () => [{ name: 'dcap', status: 'pass' as const }] };

describe('parseBuildInfo', () => {
  it('reads what build-info prints, and refuses anything else with BUILD_INFO_MALFORMED', () => {
    expect(parseBuildInfo(JSON.stringify(build()))).toEqual(build());
    const refused = [
      JSON.stringify({ ...build(), extra: 1 }),
      JSON.stringify({ ...build(), commit: 'A'.repeat(40) }),
      JSON.stringify(build({ python3: { ...PYTHON, sha256: 'sha256:ab' as `sha256:${string}` } })),
      JSON.stringify({ ...build(), format: 'ephemera.build-info/2' }),
      `${JSON.stringify(build()).slice(0, -1)},"version":"0.2.0"}`,
      `\uFEFF${JSON.stringify(build())}`,
      JSON.stringify({ ...build(), version: 'x'.repeat(MAX_BUILD_INFO_BYTES) }),
      '[]',
    ];
    for (const text of refused) expect(() => parseBuildInfo(text), text.slice(0, 80)).toThrow(expect.objectContaining({ code: 'BUILD_INFO_MALFORMED' }));
  });
});

describe('parseBuildInfos (the web policy: one document or an array)', () => {
  it('reads one or several, and refuses a duplicate member inside the array, or more than 16', () => {
    expect(parseBuildInfos('')).toEqual([]);
    expect(parseBuildInfos(JSON.stringify(build()))).toEqual([build()]);
    expect(parseBuildInfos(JSON.stringify([build(), build(undefined, { commit: 'b'.repeat(40) })]))).toHaveLength(2);
    const text = JSON.stringify(build());
    const duplicated = `[${text.slice(0, -1)},"compose_hash":"${'bb'.repeat(32)}"}]`;
    expect(() => parseBuildInfos(duplicated)).toThrow(expect.objectContaining({ code: 'BUILD_INFO_MALFORMED' }));
    expect(() => parseBuildInfos(JSON.stringify(Array(17).fill(build())))).toThrow(/at most 16/);
    expect(() => parseBuildInfos(JSON.stringify([build(), { ...build(), extra: 1 }]))).toThrow(/build-info\[1\]\.extra/);
  });
});

describe('runtimeDifferences', () => {
  it('names each tool that is missing, extra, or another path, version or file', () => {
    const manifest = build().runtime;
    expect(runtimeDifferences(manifest, { python3: PYTHON })).toEqual([]);
    expect(runtimeDifferences(manifest, {})).toEqual(['python3: not recorded, but the build installs it']);
    expect(runtimeDifferences(manifest, { python3: PYTHON, bash: { ...PYTHON, path: '/bin/bash' } })).toEqual([
      'bash: recorded, but the build does not install it',
    ]);
    expect(runtimeDifferences(manifest, { python3: { ...PYTHON, version: 'Python 3.12.0', sha256: `sha256:${'cd'.repeat(32)}` } })).toEqual([
      'python3: version "Python 3.12.0" where the build has "Python 3.11.2"',
      `python3: sha256 "sha256:${'cd'.repeat(32)}" where the build has "sha256:${'ab'.repeat(32)}"`,
    ]);
    expect(runtimeDifferences(manifest, JSON.parse('{"__proto__": {"path": "x"}}'))).toContain('python3: not recorded, but the build installs it');
  });
});

describe('the build check', () => {
  it('is not run, and the verdict names no build, when the reader gives none', async () => {
    const verdict = await verifyCertificate(valid(), { trustedKeys: [VECTOR_PUBLIC_KEY] });
    expect(verdict.checks.map((c) => c.name)).not.toContain('build');
    expect(verdict.build).toBeNull();
  });

  it('passes a certificate whose sandbox recorded exactly the build’s tools, and says the build is not measured without a quote', async () => {
    const verdict = await verifyCertificate(valid(), { trustedKeys: [VECTOR_PUBLIC_KEY], builds: [build()] });
    const tools = (valid().events as Doc[]).find((e) => e.type === 'sandbox.created')!.data.runtime.tools;
    expect(tools).toEqual({ python3: PYTHON });
    expect(verdict).toMatchObject({ valid: true, trusted: true });
    expect(verdict.checks.at(-1)).toMatchObject({
      name: 'build',
      status: 'pass',
      detail: `the sandbox's tools are those of build ${'a'.repeat(12)} (not measured: no TDX quote)`,
    });
    expect(verdict.build).toEqual({
      commit: 'a'.repeat(40),
      version: '0.1.0',
      reproducible: true,
      bundle_sha256: `sha256:${'12'.repeat(32)}`,
      measured: false,
      compose_hash: COMPOSE,
      runtime_matches: true,
      differences: [],
    });
  });

  it('fails a certificate whose tools are not the build’s with VERIFY_BUILD_RUNTIME_MISMATCH, naming each difference', async () => {
    const other = build({ python3: { ...PYTHON, sha256: `sha256:${'ef'.repeat(32)}` } });
    const verdict = await verifyCertificate(valid(), { trustedKeys: [VECTOR_PUBLIC_KEY], builds: [other] });
    expect(verdict).toMatchObject({
      valid: false,
      status: 'invalid',
      failure: { code: 'VERIFY_BUILD_RUNTIME_MISMATCH', field: expect.stringMatching(/^events\[\d+\]\.data\.runtime\.tools$/) },
    });
    expect(verdict.build).toMatchObject({ runtime_matches: false, differences: [expect.stringMatching(/^python3: sha256 /)] });
  });

  it('takes, of several builds, the one whose tools the sandbox recorded', async () => {
    const wrong = build({ python3: { ...PYTHON, version: 'Python 3.12.0' } }, { commit: 'b'.repeat(40) });
    const verdict = await verifyCertificate(valid(), { trustedKeys: [VECTOR_PUBLIC_KEY], builds: [wrong, build()] });
    expect(verdict).toMatchObject({ valid: true, build: { commit: 'a'.repeat(40), runtime_matches: true } });
  });

  it.each([
    ['valid-failed-before-sandbox', 'no sandbox was created'],
    ['v1-valid', 'format version 1'],
  ])('is skipped, the certificate still valid, for %s: it records no tools to compare', async (name, why) => {
    const bytes = conformanceCases().find((c) => c.name === name)!.bytes;
    const verdict = await verifyCertificateText(bytes, { trustedKeys: [VECTOR_PUBLIC_KEY], builds: [build()] });
    expect(verdict).toMatchObject({ valid: true, build: null });
    expect(verdict.checks.at(-1)).toMatchObject({ name: 'build', status: 'skipped', detail: expect.stringContaining(why) });
  });

  it('is skipped when the certificate is already invalid', async () => {
    const doc = valid();
    doc.result.exit_code = 99;
    const verdict = await verifyCertificate(doc, { trustedKeys: [VECTOR_PUBLIC_KEY], builds: [build()] });
    expect(verdict.failure?.code).toBe('VERIFY_FIELD_MISMATCH');
    expect(verdict.checks.at(-1)).toEqual({ name: 'build', status: 'skipped' });
  });

  describe('for a TDX certificate', () => {
    it('is the build whose compose hash the quote’s event log names: measured', async () => {
      const elsewhere = build(undefined, { compose_hash: 'ff'.repeat(32), commit: 'c'.repeat(40) });
      const verdict = await verifyCertificateText(tdxBytes(), { attestationVerifiers: tdxPasses, builds: [elsewhere, build()] });
      expect(verdict).toMatchObject({ valid: true, hardware_backed: true, build: { commit: 'a'.repeat(40), measured: true, runtime_matches: true } });
      expect(verdict.checks.at(-1)).toMatchObject({ name: 'build', status: 'pass', detail: expect.stringContaining('measured by the quote') });
    });

    it('names no build when none of the reader’s has its compose hash (another build’s tools are never compared)', async () => {
      const elsewhere = build(undefined, { compose_hash: 'ff'.repeat(32) });
      const verdict = await verifyCertificateText(tdxBytes(), { attestationVerifiers: tdxPasses, builds: [elsewhere] });
      expect(verdict).toMatchObject({ valid: true, build: null });
      expect(verdict.checks.at(-1)).toMatchObject({ name: 'build', status: 'skipped', detail: expect.stringContaining(COMPOSE) });
    });

    it('fails when the measured build’s tools are not the ones the sandbox recorded', async () => {
      const verdict = await verifyCertificateText(tdxBytes(), {
        attestationVerifiers: tdxPasses,
        builds: [build({ python3: PYTHON, bash: { ...PYTHON, path: '/bin/bash' } })],
      });
      expect(verdict.failure?.code).toBe('VERIFY_BUILD_RUNTIME_MISMATCH');
      expect(verdict.build).toMatchObject({ measured: true, differences: ['bash: not recorded, but the build installs it'] });
    });
  });
});
