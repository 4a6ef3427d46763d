/**
 * Audit replay: the stream with inclusion proofs that verify against the
 * sealed root, and `ephemera replay`'s diff of the certificate re-derived from
 * the log against its ClickHouse projection.
 */
import { describe, expect, it } from 'vitest';
import { hexToBytes, hashToBytes } from '../../events/index.js';
import { leafHash, verifyInclusion } from '../../attest/index.js';
import { truncateProjections } from '../projector.js';
import { rows } from '../store/clickhouse.js';
import { TARGETS, useProjectionFixture } from '../testing/projection-fixture.js';
import { replayAgainstProjection } from './index.js';

describe.each(TARGETS)('Audit replay on $name', ({ url }) => {
  const f = useProjectionFixture(url, 'replay', { project: true });
  describe('when replaying a stream for audit', () => {
    it('every event comes with an inclusion proof that verifies against the sealed root', async () => {
      const c = f.certs[5]!;
      const { status, body } = await f.get(`/certificate/${c.certificate_id}/events`);
      expect(status).toBe(200);
      expect(body.root).toBe(c.merkle!.root);
      expect(body.sealed_root).toBe(c.merkle!.root);
      const root = hashToBytes(body.root);
      for (const e of body.events.slice(0, -1))
        verifyInclusion(leafHash(hashToBytes(e.event.hash)), e.leaf_index, body.tree_size, e.inclusion_proof.map(hexToBytes), root);
      expect(body.events.at(-1)).toMatchObject({ leaf_index: null, inclusion_proof: null });
    });
  });

  describe('when a certificate is replayed against its projection', () => {
    const replay = (id: string) =>
      replayAgainstProjection({ certificates: f.services.certificates, store: f.store, verifyOptions: f.services.verifyOptions }, id);

    it('verifies it and finds no difference in an honest projection', async () => {
      expect(await replay(f.certs[4]!.certificate_id)).toMatchObject({ valid: true, failure: null, projection_diff: [] });
    });

    it('names every altered column, and a rebuild puts it right', async () => {
      const c = f.certs[4]!;
      const [row] = await rows<Record<string, unknown>>(f.store, 'SELECT * FROM certificates FINAL WHERE certificate_id = {id:String}', {
        id: c.certificate_id,
      });
      const forged = { ...row, status: c.status === 'completed' ? 'failed' : 'completed', tools: ['forged'], event_count: Number(row!.event_count) + 1 };
      await f.store.insert({ table: 'certificates', format: 'JSONEachRow', values: [forged] });
      expect((await replay(c.certificate_id))!.projection_diff.map((d) => d.field).sort()).toEqual(['event_count', 'status', 'tools']);
      await truncateProjections(f.store);
      await f.services.readModel.refresh();
      expect((await replay(c.certificate_id))!.projection_diff).toEqual([]);
    });

    it('reports a row missing from the projection', async () => {
      const c = f.certs[6]!;
      await f.store.command({ query: 'DELETE FROM certificates WHERE certificate_id = {id:String}', query_params: { id: c.certificate_id } });
      expect((await replay(c.certificate_id))!.projection_diff).toEqual([{ field: '(row)', log: 'present', projection: 'missing' }]);
      await truncateProjections(f.store);
      await f.services.readModel.refresh();
    });

    it('is null for an execution the log does not have', async () => {
      expect(await replay('cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY')).toBeNull();
    });
  });
});
