/**
 * `ephemera replay`: re-derive a certificate from the log (the source of
 * truth), verify it, and compare it column by column with what the ClickHouse
 * projection serves. The projection is outside the trust boundary; a
 * difference means it is stale or was altered, and `projections rebuild` fixes it.
 */
import type { Certificate, VerifyOptions } from '../../verify/index.js';
import { verifyCertificate } from '../../verify/index.js';
import type { CertificateReader } from '../certificates/index.js';
import { certificateRow } from '../projector.js';
import { rows, type Store } from '../store/clickhouse.js';

export interface ProjectionDiff {
  field: string;
  log: unknown;
  projection: unknown;
}

/**
 * Every column the projector writes, compared after ClickHouse's JSON
 * rendering is undone (64-bit integers arrive as strings, arrays as arrays).
 * A missing row is one difference on the pseudo-field `(row)`.
 */
export function diffProjection(certificate: Certificate, stored: Record<string, unknown> | undefined): ProjectionDiff[] {
  if (!stored) return [{ field: '(row)', log: 'present', projection: 'missing' }];
  const expected = certificateRow(certificate);
  const canon = (v: unknown): string => (Array.isArray(v) ? JSON.stringify(v.map(canon)) : v === null || v === undefined ? 'null' : String(v));
  return Object.keys(expected)
    .filter((field) => canon(expected[field]) !== canon(stored[field]))
    .map((field) => ({ field, log: expected[field], projection: stored[field] ?? null }));
}

export interface ReplayReport {
  certificate: Certificate;
  valid: boolean;
  failure: { code: string; field: string | null; message: string } | null;
  projection_diff: ProjectionDiff[];
}

/** Null when the log has no such execution. */
export async function replayAgainstProjection(
  deps: { certificates: CertificateReader; store: Store; verifyOptions: VerifyOptions },
  certificateId: string,
): Promise<ReplayReport | null> {
  const certificate = await deps.certificates.get(certificateId);
  if (!certificate) return null;
  const verdict = await verifyCertificate(certificate, deps.verifyOptions);
  const [stored] = await rows<Record<string, unknown>>(deps.store, 'SELECT * FROM certificates FINAL WHERE certificate_id = {id:String}', {
    id: certificate.certificate_id,
  });
  return { certificate, valid: verdict.valid, failure: verdict.failure ?? null, projection_diff: diffProjection(certificate, stored) };
}
