/**
 * The log's ClickHouse side (migration 007): the `tlog_leaves` index the
 * projection writes, and the sequencer's question "which sealed certificates
 * are not logged yet", answered from the `certificates` projection, oldest
 * sealed_at first. Both best effort: the in-memory index of the projection is
 * the authority on what is logged (a candidate already logged is skipped).
 */
import type { CertificateReader } from '../certificates/index.js';
import type { ReadModel } from '../read-model.js';
import { rows } from '../store/clickhouse.js';
import type { LoggableCertificate } from '../../tlog/index.js';
import type { LeafIndexRow } from './log-projection.js';

/** Inserts a batch's leaves; a failure is reported and the rows dropped (the next start re-inserts every batch). */
export function leafIndexWriter(readModel: ReadModel, onError: (error: unknown) => void): (rows: LeafIndexRow[]) => Promise<void> {
  return async (values) => {
    try {
      const store = await readModel.store();
      await store.insert({ table: 'tlog_leaves', values, format: 'JSONEachRow' });
    } catch (error) {
      onError(error);
    }
  };
}

/** Sealed certificates (completed or failed) not in tlog_leaves, oldest sealed_at first, read back from the event log. */
export function unloggedCertificates(readModel: ReadModel, certificates: CertificateReader): (limit: number) => Promise<LoggableCertificate[]> {
  return async (limit) => {
    const ids = await readModel.query((store) =>
      rows<{ certificate_id: string }>(
        store,
        `SELECT certificate_id FROM certificates FINAL
         WHERE status IN ('completed', 'failed') AND sealed_at IS NOT NULL
           AND certificate_id NOT IN (SELECT certificate_id FROM tlog_leaves)
         ORDER BY sealed_at, certificate_id LIMIT {limit:UInt32}`,
        { limit },
      ),
    );
    const found: LoggableCertificate[] = [];
    for (const { certificate_id } of ids) {
      const certificate = await certificates.get(certificate_id);
      // Sealed means the last event is certificate.sealed (leafOfCertificate checks it again).
      if (certificate && certificate.events.at(-1)?.type === 'certificate.sealed') found.push(certificate as unknown as LoggableCertificate);
    }
    return found;
  };
}
