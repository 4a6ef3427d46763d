/**
 * Reads a certificate by folding its events from the log (the projection
 * without a store). Untrusted by design: whoever reads it verifies it.
 */
import { EphemeraError } from '../../errors.js';
import type { EventEnvelope, EventLog } from '../../events/index.js';
import { deriveCertificate, executionIdOf, type Certificate } from '../../verify/index.js';

export interface CertificateReader {
  /** The certificate, or null when no such execution is in the log. */
  get(certificateId: string): Promise<Certificate | null>;
  /** An execution's stored events, in order (none: no such execution here). */
  readStream(executionId: string): Promise<EventEnvelope[]>;
}

/** Reads certificates from anything that returns an execution's stream: the log itself, or a mirror of it. */
export function certificatesFromLog(log: Pick<EventLog, 'readStream'>): CertificateReader {
  return {
    async get(certificateId) {
      const executionId = executionIdOf(certificateId);
      if (!executionId) throw new EphemeraError('CERTIFICATE_ID_INVALID', 'certificate id must be cert_<ULID>', { fields: { field: 'params.id' } });
      const events = await log.readStream(executionId);
      return events.length === 0 ? null : deriveCertificate(events);
    },
    readStream: (executionId) => log.readStream(executionId),
  };
}

/** A certificate is what the events say; `projectCertificate` is the fold the stores use. */
export { deriveCertificate as projectCertificate };
