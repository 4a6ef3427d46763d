/**
 * The projections' store contract: what the projector, search and the digest
 * rely on from ClickHouse, embedded (chDB) or a server. Every target runs the
 * same suite (store.int.test.ts: chDB always; `npm run test:clickhouse` with
 * CLICKHOUSE_URL against a server), so a server deployment stays honest.
 * Test support only.
 */
import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { SimulatedAttestor } from '../../attest/node.js';
import { sampleStream } from '../../events/eventlog.contract.js';
import { EventChain, type EventEnvelope } from '../../events/index.js';
import { readModelDigest } from '../digest.js';
import { migrate } from '../migrate/migrate.js';
import { project, truncateProjections } from '../projector.js';
import { searchCertificates } from '../search/search.js';
import { variedCertificate } from '../testing/sample-streams.js';
import { rows, type Store } from './clickhouse.js';

export interface StoreSubject {
  /** A migrated store with empty projections, and a directory for a signing key. */
  open(): Promise<{ store: Store; dir: string }>;
}

export function describeStoreContract(name: string, subject: StoreSubject): void {
  describe(`projections store contract: ${name}`, () => {
    const withStore = async (body: (store: Store, dir: string) => Promise<void>) => {
      const { store, dir } = await subject.open();
      try {
        await truncateProjections(store);
        await body(store, dir);
      } finally {
        await store.close();
      }
    };

    it('migrates once: a second run applies nothing', () =>
      withStore(async (store) => {
        expect(await migrate(store)).toEqual([]);
        const versions = await rows<{ version: number }>(store, 'SELECT version FROM schema_migrations FINAL ORDER BY version');
        expect(versions.length).toBeGreaterThanOrEqual(5);
      }));

    it('keeps one row per key however often a batch is projected (N nodes writing the same rows is safe)', () =>
      withStore(async (store, dir) => {
        const attestor = new SimulatedAttestor(dir);
        const streams: EventEnvelope[][] = [];
        for (let i = 0; i < 4; i++) streams.push((await variedCertificate(i, attestor)).events);
        for (const stream of streams) await project(store, stream);
        const once = await readModelDigest(store);
        // Three "nodes" writing the same rows again, in another order.
        for (let node = 0; node < 3; node++) for (const stream of [...streams].reverse()) await project(store, stream);
        expect(await readModelDigest(store)).toEqual(once);
        expect(once.rows.certificates).toBe(4);
      }));

    it("replaces an open run's row by its finished one, whichever is written last", () =>
      withStore(async (store) => {
        const open = sampleStream(ulid(), () => new Date());
        const aborted = [
          ...open,
          EventChain.resume(open.at(-1)!).next('execution.aborted', { reason: 'executor_restarted', last_seq: open.length - 1, error_code: null }),
        ];
        await project(store, aborted);
        await project(store, open); // a late redelivery of the open part
        const clock = { now: Date.now(), leaseMs: 60_000 };
        const { items } = await searchCertificates(store, {}, clock);
        expect(items.map((r) => [r.certificate_id, r.status])).toEqual([[`cert_${open[0]!.execution_id}`, 'aborted']]);
      }));

    it('reads an open run as running within its lease and abandoned after it, from the clock it is given', () =>
      withStore(async (store) => {
        const open = sampleStream(ulid(), () => new Date('2026-02-01T13:15:00.000Z'));
        await project(store, open);
        const lastAt = Date.parse(open.at(-1)!.at);
        const status = async (now: number) => (await searchCertificates(store, {}, { now, leaseMs: 1000 })).items[0]!.status;
        expect(await status(lastAt + 500)).toBe('running');
        expect(await status(lastAt + 1001 + 60_000)).toBe('abandoned'); // past the run's 30 s timeout and the lease
      }));
  });
}
