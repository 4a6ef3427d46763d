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

/** What the candidate source asks of the log itself: the authority on what is logged, and its index rows. */
export interface LoggedIndex {
  isLogged(certificateId: string): boolean;
  indexRowsOf(certificateIds: readonly string[]): Promise<LeafIndexRow[]>;
}

/**
 * Sealed certificates (completed or failed) not in tlog_leaves, oldest sealed_at first, read back from the event log.
 * A certificate the query names that the log already holds is one whose index row was lost (a failed insert): its
 * row is written again here, else the oldest such rows would fill every answer (LIMIT) and nothing new be logged.
 */
export function unloggedCertificates(
  readModel: ReadModel,
  certificates: CertificateReader,
  log?: LoggedIndex,
  onError: (error: unknown) => void = () => undefined,
): (limit: number) => Promise<LoggableCertificate[]> {
  const reindex = leafIndexWriter(readModel, onError);
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
    const stale: string[] = [];
    for (const { certificate_id } of ids) {
      if (log?.isLogged(certificate_id)) {
        stale.push(certificate_id);
        continue;
      }
      const certificate = await certificates.get(certificate_id);
      // Sealed means the last event is certificate.sealed (leafOfCertificate checks it again).
      if (certificate && certificate.events.at(-1)?.type === 'certificate.sealed') found.push(certificate as unknown as LoggableCertificate);
    }
    if (log && stale.length > 0) await reindex(await log.indexRowsOf(stale).catch((error: unknown) => (onError(error), [])));
    return found;
  };
}
