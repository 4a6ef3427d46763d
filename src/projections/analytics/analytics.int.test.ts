/**
 * Analytics on the real ClickHouse engine, each figure equal to the same
 * figure computed in TypeScript from the certificates' events.
 */
import { describe, expect, it } from 'vitest';
import { modelUses, type Certificate } from '../../verify/index.js';
import { N, TARGETS, useProjectionFixture } from '../testing/projection-fixture.js';

describe.each(TARGETS)('GET /analytics on $name', ({ url }) => {
  const f = useProjectionFixture(url, 'analytics', { project: true });
  describe('when reading analytics', () => {
    /** Every figure computed in TypeScript straight from the certificates' events. */
    const fromEvents = (subset: Certificate[]) => {
      const perDay = new Map<string, number>();
      for (const c of subset) perDay.set(c.lifecycle.requested!.slice(0, 10), (perDay.get(c.lifecycle.requested!.slice(0, 10)) ?? 0) + 1);
      const tokens = new Map<string, [number, number, number]>();
      for (const c of subset)
        for (const u of modelUses(c.execution_trace)) {
          const t = tokens.get(u.model) ?? [0, 0, 0];
          tokens.set(u.model, [t[0] + u.calls, t[1] + u.input_tokens, t[2] + u.output_tokens]);
        }
      const tools = new Map<string, number>();
      for (const c of subset)
        for (const u of c.execution_trace.tool_uses) tools.set(`${u.tool}/${u.caller}`, (tools.get(`${u.tool}/${u.caller}`) ?? 0) + u.count);
      // quantilesExactLow: the element at rank ceil(level·n) of the sorted durations.
      const durations = subset.map((c) => c.lifecycle.execution_time_ms!).sort((x, y) => x - y);
      const exactLow = (level: number) => durations[Math.max(0, Math.ceil(level * durations.length) - 1)] ?? 0;
      const failures = new Map<string, number>();
      for (const c of subset) if (c.status === 'failed') failures.set(c.result.error_code!, (failures.get(c.result.error_code!) ?? 0) + 1);
      return {
        perDay: [...perDay].sort(),
        tokens: [...tokens].sort().map(([model, [calls, input_tokens, output_tokens]]) => ({ model, calls, input_tokens, output_tokens })),
        tools,
        durations: { executions: subset.length, p50_ms: exactLow(0.5), p95_ms: exactLow(0.95), p99_ms: exactLow(0.99) },
        failures,
      };
    };
    const fromClickHouse = async (range: string) => ({
      perDay: (await f.get(`/analytics/executions-per-day${range}`)).body.items.map((r: { day: string; executions: number }) => [r.day, r.executions]),
      tokens: (await f.get(`/analytics/tokens-by-model${range}`)).body.items,
      tools: new Map(
        ((await f.get(`/analytics/tool-usage${range}`)).body.items as { tool: string; caller: string; calls: number }[]).map((u) => [
          `${u.tool}/${u.caller}`,
          u.calls,
        ]),
      ),
      durations: (await f.get(`/analytics/durations${range}`)).body,
      failures: new Map(
        (await f.get(`/analytics/failures${range}`)).body.items.map((r: { error_code: string; executions: number }) => [r.error_code, r.executions]),
      ),
    });

    it('gives the same figures as the events', async () => {
      expect(await fromClickHouse('')).toEqual(fromEvents(f.certs));
    });

    it('gives the same figures as the events within a time range', async () => {
      const inRange = f.certs.filter((c) => c.lifecycle.requested! >= '2026-03-02' && c.lifecycle.requested! < '2026-03-04');
      expect(inRange.length).toBeGreaterThan(0);
      expect(inRange.length).toBeLessThan(N);
      expect(await fromClickHouse('?from=2026-03-02&to=2026-03-04T00:00:00Z')).toEqual(fromEvents(inRange));
    });

    it('gives zeros and empty lists for a range with no runs', async () => {
      expect(await fromClickHouse('?from=2030-01-01')).toEqual(fromEvents([]));
    });

    it.each([['from=yesterday'], ['to=2026-03-02T10:00'], ['limit=5'], ["from=2026-03-02'%20OR%201=1"]])('rejects %s with 400', async (query) => {
      const { status, body } = await f.get(`/analytics/durations?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('REQUEST_INVALID');
    });
  });
});
