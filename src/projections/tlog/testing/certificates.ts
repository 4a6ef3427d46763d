/** Test and bench support: sealed certificates as the log reads them (no runs needed). */
import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { LoggableCertificate } from '../../../tlog/index.js';

const hash = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** A sealed certificate of `fingerprint` (one of a few, by name), sealed at `at`. */
export function sealedCertificate(fingerprint: string, at: Date = new Date(), status: 'completed' | 'failed' = 'completed'): LoggableCertificate {
  const id = `cert_${ulid(at.getTime())}`;
  return {
    certificate_id: id,
    status,
    fingerprint: hash(`fingerprint ${fingerprint}`),
    dataset_hash: hash(`dataset ${fingerprint}`),
    sandbox_hash: hash(`sandbox ${fingerprint}`),
    result: { result_hash: status === 'completed' ? hash(`result ${id}`) : null },
    events: [{ type: 'certificate.sealed', hash: hash(`sealed ${id}`) as never, at: at.toISOString() }],
  };
}

/** A candidate source over a list the test adds to (what the ClickHouse query answers in serve). */
export function listSource(list: LoggableCertificate[]): (limit: number) => Promise<LoggableCertificate[]> {
  return async () => list;
}
