/**
 * Sealing, fail closed (docs/verification.md §10). The Merkle root kept while
 * appending, the execution id, the tree size and the sealing time go into the
 * report data; the attestor signs it (or the TEE quotes it); the certificate
 * is derived and verified exactly as a reader would verify it, and only then
 * is the seal appended. A certificate that would not verify is never issued:
 * the stream ends with execution.aborted naming the verifier's code instead.
 *
 * One retry: a TDX quote's collateral is fetched after the quote, and if Intel
 * issued new collateral in between, it is "not yet valid" at the sealing time.
 * The second attempt seals later than that collateral was issued.
 */
import { EphemeraError } from '../../errors.js';
import { bytesToHex, type Hash } from '../../events/index.js';
import { reportData, type Attestor } from '../../attest/index.js';
import { deriveCertificate, verifyCertificate, type Certificate, type VerifyOptions } from '../../verify/index.js';
import type { StreamRecorder } from './recorder.js';

const RETRY_ON = new Set(['ATTEST_COLLATERAL_EXPIRED', 'ATTEST_COLLATERAL_INVALID']);

export async function sealVerified(recorder: StreamRecorder, attestor: Attestor, selfCheck: VerifyOptions): Promise<Certificate> {
  const { size, root } = recorder.merkle();
  for (let attempt = 1; ; attempt++) {
    const at = recorder.now();
    const report = reportData(root, recorder.executionId, size, at);
    const attestation = await attestor.attest(report);
    const sealed = recorder.draft(
      'certificate.sealed',
      { tree_size: size, merkle_root: `sha256:${bytesToHex(root)}` as Hash, report_data: bytesToHex(report), attestation },
      at,
    );
    const certificate = deriveCertificate([...recorder.events, sealed]);
    const verdict = await verifyCertificate(certificate, selfCheck);
    if (verdict.valid && verdict.trusted) {
      await recorder.appendDraft(sealed);
      return certificate;
    }
    const code = verdict.failure?.code ?? 'VERIFY_UNTRUSTED_SELF';
    if (attempt < 2 && RETRY_ON.has(code)) continue;
    const last = recorder.events[recorder.events.length - 1]!;
    await recorder.record(['execution.aborted', { reason: 'certificate_rejected', last_seq: last.seq, error_code: code }]);
    throw new EphemeraError(
      'CERTIFICATE_REJECTED',
      `the certificate failed its own verification (${code}${verdict.failure?.field ? ` at ${verdict.failure.field}` : ''}); none was issued`,
      {
        fields: { execution_id: recorder.executionId, verifier_code: code },
      },
    );
  }
}
