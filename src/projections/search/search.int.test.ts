/**
 * Certificate search on the real ClickHouse engine: every filter against the
 * same filter applied to the certificates in TypeScript, pagination edges,
 * invalid input, and SQL injection attempts in every filter.
 */
import { describe, expect, it } from 'vitest';
import { modelUses, type Certificate } from '../../verify/index.js';
import { N, TARGETS, useProjectionFixture } from '../testing/projection-fixture.js';
import { executorOf } from '../executor.js';

describe.each(TARGETS)('GET /certificates on $name', ({ url }) => {
  const f = useProjectionFixture(url, 'search', { project: true });
  const ids = (list: { certificate_id: string }[]) => list.map((c) => c.certificate_id).sort();

  describe('when searching', () => {
    const expectIds = async (query: string, pick: (c: Certificate) => boolean) => {
      const { status, body } = await f.get(`/certificates?limit=100&${query}`);
      expect(status).toBe(200);
      const expected = f.certs
        .filter(pick)
        .map((c) => c.certificate_id)
        .sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(ids(body.items)).toEqual(expected);
    };

    it('answers each certificate with the columns search needs, equal to the certificate', async () => {
      const c = f.certs.find((x) => x.execution_trace.llm_calls.count > 0 && x.status === 'failed')!;
      const { body } = await f.get(`/certificates?fingerprint=${c.fingerprint}&limit=100`);
      const row = body.items.find((r: { certificate_id: string }) => r.certificate_id === c.certificate_id);
      expect(row).toEqual({
        certificate_id: c.certificate_id,
        status: 'failed',
        executor: executorOf(c.events),
        input: 'plain',
        result_sealed: false,
        // The API answers the certificate's own RFC 3339 UTC times, not ClickHouse's DateTime text.
        requested_at: c.lifecycle.requested,
        sealed_at: c.lifecycle.sealed,
        dataset_hash: c.dataset_hash,
        sandbox_hash: c.sandbox_hash,
        fingerprint: c.fingerprint,
        models: modelUses(c.execution_trace).map((m) => m.model),
        tools: c.execution_trace.tool_uses.map((u) => u.tool),
        llm_calls: c.execution_trace.llm_calls.count,
        input_tokens: c.execution_trace.llm_calls.input_tokens,
        output_tokens: c.execution_trace.llm_calls.output_tokens,
        tool_calls: c.execution_trace.resources.tool_calls,
        execution_time_ms: c.lifecycle.execution_time_ms,
        exit_code: c.result.exit_code,
        error_code: c.result.error_code,
        tee: 'simulated',
        result_preview: c.result.output,
      });
    });

    it('filters by status', () => expectIds('status=failed', (c) => c.status === 'failed'));
    // Every certificate here is plain (sealed ones: certificates/sealed.int.test.ts).
    it('filters by how the input arrived, and by sealed results', async () => {
      await expectIds('input=plain', () => true);
      await expectIds('result=clear', () => true);
      for (const query of ['input=sealed', 'result=sealed']) expect((await f.get(`/certificates?${query}`)).body.items).toEqual([]);
    });
    it('filters by model', () => expectIds('model=claude-a', (c) => modelUses(c.execution_trace).some((m) => m.model === 'claude-a')));
    it('filters by tool', () => expectIds('tool=grep', (c) => c.execution_trace.tool_uses.some((u) => u.tool === 'grep')));
    it('filters by dataset hash', () => expectIds(`dataset_hash=${f.certs[3]!.dataset_hash}`, (c) => c.dataset_hash === f.certs[3]!.dataset_hash));
    it('filters by sandbox hash', () => expectIds(`sandbox_hash=${f.certs[1]!.sandbox_hash}`, (c) => c.sandbox_hash === f.certs[1]!.sandbox_hash));
    it('filters by fingerprint', () => expectIds(`fingerprint=${f.certs[2]!.fingerprint}`, (c) => c.fingerprint === f.certs[2]!.fingerprint));
    it('filters by time range', () =>
      expectIds('from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z', (c) => c.lifecycle.requested! >= '2026-03-02' && c.lifecycle.requested! < '2026-03-03'));
    it('includes a run requested exactly at from, and excludes one requested exactly at to', async () => {
      const c = f.certs[9]!;
      const at = encodeURIComponent(c.lifecycle.requested!);
      const idsOf = async (query: string) =>
        (await f.get(`/certificates?limit=100&${query}`)).body.items.map((r: { certificate_id: string }) => r.certificate_id);
      expect(await idsOf(`from=${at}`)).toContain(c.certificate_id);
      expect(await idsOf(`to=${at}`)).not.toContain(c.certificate_id);
      expect(await idsOf(`from=${at}&to=${encodeURIComponent(new Date(Date.parse(c.lifecycle.requested!) + 1).toISOString())}`)).toEqual([c.certificate_id]);
    });
    it('filters by text in the result preview', () => expectIds('q=ROW%207%22', (c) => c.result.output.includes('row 7"')));

    it('walks every page with the cursor, in order, without repeats', async () => {
      for (const [sort, key] of [
        ['requested_at', (c: Certificate) => c.lifecycle.requested!],
        ['execution_time_ms', (c: Certificate) => String(c.lifecycle.execution_time_ms).padStart(10, '0')],
      ] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const { body } = await f.get(`/certificates?limit=5&sort=${sort}&order=asc${cursor ? `&cursor=${cursor}` : ''}`);
          expect(body.items.length).toBeLessThanOrEqual(5);
          seen.push(...body.items.map((c: { certificate_id: string }) => c.certificate_id));
          cursor = body.next_cursor;
          pages += 1;
        } while (cursor);
        expect(pages).toBe(Math.ceil(N / 5));
        expect(seen).toEqual(
          [...f.certs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.certificate_id < b.certificate_id ? -1 : 1)).map((c) => c.certificate_id),
        );
      }
    });

    it.each([[1], [6], [N], [100]])(
      'with pages of %i (default sort, newest first), covers every certificate once and ends without an empty page',
      async (limit) => {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const { status, body } = await f.get(`/certificates?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
          expect(status).toBe(200);
          expect(body.items.length).toBeGreaterThan(0);
          seen.push(...body.items.map((c: { certificate_id: string }) => c.certificate_id));
          cursor = body.next_cursor;
          pages += 1;
        } while (cursor);
        expect(pages).toBe(Math.ceil(N / limit));
        const newestFirst = [...f.certs].sort((a, b) =>
          a.lifecycle.requested! > b.lifecycle.requested!
            ? -1
            : a.lifecycle.requested! < b.lifecycle.requested!
              ? 1
              : a.certificate_id > b.certificate_id
                ? -1
                : 1,
        );
        expect(seen).toEqual(newestFirst.map((c) => c.certificate_id));
      },
    );

    it('refuses a cursor replayed with another sort or order, or forged with a value its sort cannot hold', async () => {
      const { body } = await f.get('/certificates?limit=2&sort=execution_time_ms&order=asc');
      expect((await f.get(`/certificates?limit=2&sort=execution_time_ms&order=asc&cursor=${body.next_cursor}`)).status).toBe(200);
      const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const id = f.certs[0]!.certificate_id;
      for (const query of [
        `sort=requested_at&order=asc&cursor=${body.next_cursor}`,
        `sort=execution_time_ms&order=desc&cursor=${body.next_cursor}`,
        `sort=execution_time_ms&order=asc&cursor=${forge(['execution_time_ms', 'asc', 'abc', id])}`,
        `sort=execution_time_ms&order=asc&cursor=${forge(['execution_time_ms', 'asc', '1) OR (1=1', id])}`,
        `sort=requested_at&order=desc&cursor=${forge(['requested_at', 'desc', 'zzz', id])}`,
        `sort=requested_at&order=desc&cursor=${forge(['requested_at', 'desc', '2026-03-01 10:00:00.000', "x' OR 1=1 --"])}`,
        `cursor=${forge(['2026-03-01 10:00:00.000', id])}`,
      ]) {
        const { status, body: error } = await f.get(`/certificates?${query}`);
        expect(status, query).toBe(400);
        expect(error.error.code).toBe('REQUEST_INVALID');
      }
    });

    it.each([
      ['limit=0'],
      ['limit=101'],
      ['cursor=bm9uc2Vuc2U'],
      ['status=incomplete'],
      ['dataset_hash=abc'],
      ['from=yesterday'],
      ['from=%2B275760-09-13T00:00:00Z'],
      ['to=2026-03-02T10:00'],
      ['from=1800-01-01'],
      ['to=2026-03-02T10:00:00Z%20OR%201'],
      ['extra=1'],
    ])('rejects %s with 400', async (query) => {
      const { status, body } = await f.get(`/certificates?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('REQUEST_INVALID');
    });

    it.each([
      ["model=x' OR 1=1 --"],
      ['tool=%27%29%20OR%20%281%3D1'],
      ['q=%27%3B%20DROP%20TABLE%20certificates%3B%20--'],
      ['model=%5C%27%20UNION%20SELECT%201'],
    ])('treats %s as plain text: no rows, no error, tables intact', async (query) => {
      const { status, body } = await f.get(`/certificates?${query}`);
      expect(status).toBe(200);
      expect(body.items).toEqual([]);
      expect((await f.snapshot()).certificates).toHaveLength(N);
    });

    const attack = encodeURIComponent("' OR 1=1) --");
    it.each([['status'], ['dataset_hash'], ['sandbox_hash'], ['fingerprint'], ['from'], ['to'], ['sort'], ['order'], ['limit'], ['cursor']])(
      'refuses SQL in the typed filter %s with 400 before it reaches ClickHouse, tables intact',
      async (name) => {
        const { status, body } = await f.get(`/certificates?${name}=${attack}`);
        expect(status).toBe(400);
        expect(body.error.code).toBe('REQUEST_INVALID');
        expect((await f.snapshot()).certificates).toHaveLength(N);
      },
    );

    it('matches SQL-looking text literally in the result preview', async () => {
      const c = f.certs.find((x) => x.status === 'completed')!;
      const needle = JSON.parse(c.result.output).note as string;
      const { body } = await f.get(`/certificates?limit=100&q=${encodeURIComponent(`${needle}"}`)}`);
      expect(body.items.map((r: { certificate_id: string }) => r.certificate_id)).toEqual([c.certificate_id]);
      expect((await f.get(`/certificates?q=${encodeURIComponent(`${needle}' OR '1'='1`)}`)).body.items).toEqual([]);
    });
  });
});
