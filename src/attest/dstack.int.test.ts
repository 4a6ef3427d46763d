/**
 * The dstack path end to end without TDX hardware: the real dstack SDK against
 * a local guest-agent stand-in, a local PCCS stand-in serving real collateral,
 * a real sandbox run, and the verifier. The quote is structurally real with our
 * report data patched in, so its Intel signature cannot hold: the verifier
 * must never call such a certificate valid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { verifyOptionsFor } from '../verify-options.js';
import { computeEventHash, hexToBytes } from '../events/index.js';
import { parseTdxQuote } from './tdx-quote.js';
import { execute, parseExecuteRequest } from '../commands/execute/index.js';
import { createSandbox } from '../sandbox/index.js';
import { limitsFor } from '../commands/execute/index.js';
import { verifyCertificate, type Certificate } from '../verify/index.js';
import { SIMULATED_COMPOSE_HASH, startDstackSimulator, startPccsStandIn } from './testing/dstack-standins.js';

const request = () =>
  parseExecuteRequest({
    dataset: { data: 'base64:aGVsbG8K', format: 'txt' },
    sandbox: { tools: ['bash'], scripts: { 'main.sh': 'wc -c < "$DATASET_PATH"' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
  });

describe('dstack attestation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-dstack-'));
  let simulator: Awaited<ReturnType<typeof startDstackSimulator>>;
  let pccs: Awaited<ReturnType<typeof startPccsStandIn>>;
  let services: Services;
  let first: Certificate;
  let second: Certificate;

  beforeAll(async () => {
    simulator = await startDstackSimulator();
    pccs = await startPccsStandIn();
    services = await createServices(
      loadConfig({
        EPHEMERA_DATA_DIR: dir,
        EPHEMERA_TEE: 'dstack',
        DSTACK_SIMULATOR_ENDPOINT: simulator.url,
        EPHEMERA_PCCS_URL: pccs.url,
        EPHEMERA_TRUSTED_COMPOSE_HASHES: SIMULATED_COMPOSE_HASH,
      }),
    );
    first = (await execute(request(), services)).certificate;
    second = (await execute(request(), services)).certificate;
  });
  afterAll(async () => {
    await services?.close();
    await simulator?.close();
    await pccs?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when a run is sealed through the dstack SDK', () => {
    it('carries exactly what its verification covers: the quote without padding, the RTMR3 runtime events, the collateral DCAP reads', () => {
      expect(simulator.quotes).toBe(2);
      const attestation = first.proof!.attestation as Record<string, unknown>;
      expect(Object.keys(attestation).sort()).toEqual(['collateral', 'event_log', 'quote', 'type']);
      expect(Object.keys(attestation.collateral as object).sort()).toEqual([
        'pck_crl',
        'pck_crl_issuer_chain',
        'qe_identity',
        'qe_identity_issuer_chain',
        'qe_identity_signature',
        'root_ca_crl',
        'tcb_info',
        'tcb_info_issuer_chain',
        'tcb_info_signature',
      ]);
      expect((attestation.event_log as { imr: number }[]).map((e) => e.imr)).toEqual([3, 3, 3]);
      expect(parseTdxQuote(hexToBytes(attestation.quote as string)).length).toBe((attestation.quote as string).length / 2);
      const created = first.events.find((e) => e.type === 'sandbox.created')!;
      expect(created.data).toMatchObject({ runtime: { tee: { type: 'dstack', app_id: 'ab'.repeat(20), compose_hash: SIMULATED_COMPOSE_HASH } } });
    });

    it('binds report data, replays RTMR3 and trusts the compose hash, but fails DCAP with ATTEST_QUOTE_SIGNATURE_INVALID: never valid', async () => {
      // The stand-in PCCS serves 2025 collateral: verify inside its window, as the offline verifier would at sealing time.
      const verdict = await verifyCertificate(first, verifyOptionsFor(services.config, { atSeconds: 1750400000 }));
      const status = Object.fromEntries(verdict.checks.map((c) => [c.name, c.status]));
      expect(status).toMatchObject({
        events: 'pass',
        merkle: 'pass',
        report_data: 'pass',
        'attestation.report_data': 'pass',
        'attestation.rtmr3': 'pass',
        'attestation.compose_hash': 'pass',
        'attestation.dcap': 'fail',
      });
      expect(verdict).toMatchObject({ valid: false, hardware_backed: false, failure: { code: 'ATTEST_QUOTE_SIGNATURE_INVALID' } });
    });
  });

  describe('when the binding is attacked (THREATS E37, F43)', () => {
    it('an old quote on a new certificate fails with ATTEST_REPORT_DATA_MISMATCH', async () => {
      const forged = structuredClone(second);
      const sealed = forged.events.at(-1)!;
      (sealed.data as { attestation: unknown }).attestation = structuredClone(first.events.at(-1)!.data as { attestation: unknown }).attestation;
      sealed.hash = computeEventHash(sealed);
      forged.proof = { ...forged.proof!, attestation: (sealed.data as { attestation: Record<string, unknown> }).attestation };
      const verdict = await verifyCertificate(forged, services.verifyOptions);
      expect(verdict.checks.find((c) => c.name === 'attestation.report_data')).toMatchObject({ status: 'fail', code: 'ATTEST_REPORT_DATA_MISMATCH' });
      expect(verdict.valid).toBe(false);
    });

    it('an untrusted build fails with ATTEST_COMPOSE_HASH_UNTRUSTED', async () => {
      const verdict = await verifyCertificate(first, verifyOptionsFor(loadConfig({})));
      expect(verdict.checks.find((c) => c.name === 'attestation.compose_hash')).toMatchObject({ status: 'fail', code: 'ATTEST_COMPOSE_HASH_UNTRUSTED' });
    });
  });

  describe('when the guest agent quotes other report data than the executor asked for', () => {
    it("issues no certificate: the run ends in execution.aborted with the verifier's code (fail closed)", async () => {
      const lying = await startDstackSimulator(SIMULATED_COMPOSE_HASH, { corruptReportData: true });
      const liar = await createServices(
        loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'liar'), EPHEMERA_TEE: 'dstack', DSTACK_SIMULATOR_ENDPOINT: lying.url, EPHEMERA_PCCS_URL: pccs.url }),
      );
      try {
        const error = await execute(request(), liar).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'CERTIFICATE_REJECTED', fields: { verifier_code: 'ATTEST_REPORT_DATA_MISMATCH' } });
        const executionId = (error as { fields: { execution_id: string } }).fields.execution_id;
        const stream = await liar.log.readStream(executionId);
        expect(stream.at(-1)).toMatchObject({ type: 'execution.aborted', data: { reason: 'certificate_rejected', error_code: 'ATTEST_REPORT_DATA_MISMATCH' } });
        expect(stream.some((e) => e.type === 'certificate.sealed')).toBe(false);
        expect(await liar.certificates.get(executionId)).toMatchObject({ status: 'aborted', proof: null });
      } finally {
        await liar.close();
        await lying.close();
      }
    });
  });

  describe('when dstack is required but no guest agent answers', () => {
    it('refuses to start with ATTEST_UNAVAILABLE', async () => {
      await expect(
        createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, EPHEMERA_TEE: 'dstack', DSTACK_SIMULATOR_ENDPOINT: 'http://127.0.0.1:1' })),
      ).rejects.toMatchObject({ code: 'ATTEST_UNAVAILABLE' });
    });
  });

  describe('when the guest agent socket exists on the host (THREATS A9, A10)', () => {
    it('is not present inside the sandbox and cannot be connected to; outside it can', async () => {
      const path = `/run/ephemera-test-agent-${randomBytes(4).toString('hex')}.sock`;
      const agent = createServer((s) => s.end('quote'));
      await new Promise<void>((resolve) => agent.listen(path, resolve));
      try {
        const outside = await new Promise<boolean>((resolve) =>
          connect(path)
            .on('connect', () => resolve(true))
            .on('error', () => resolve(false)),
        );
        expect(outside).toBe(true);
        const sandbox = await createSandbox({
          executionId: '01JD7ZX3Q4M5N6P7R8S9T0VWX1',
          dataset: new Uint8Array(1),
          datasetFile: 'd.txt',
          scripts: [],
          limits: limitsFor({ timeout_seconds: 10, max_memory_mb: 64 }),
          networkAllow: [],
        });
        const probe = await sandbox.run({
          kind: 'python',
          code: `import socket,os\nprint(os.path.exists(${JSON.stringify(path)}), os.path.exists('/var/run/dstack.sock'))\ns=socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(${JSON.stringify(path)}); print('connected')\nexcept OSError as e:\n    print('refused', type(e).__name__)\n`,
        });
        await sandbox.destroy();
        expect(Buffer.from(probe.stdout).toString()).toBe('False False\nrefused FileNotFoundError\n');
      } finally {
        agent.close();
      }
    });
  });
});
