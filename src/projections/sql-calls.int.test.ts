/**
 * SQL calls in search and analytics (docs/sql-tool.md §8): a certificate with one sql call by the model and two
 * made by a script's processes (nested) is found by tool=sql, and tool-usage counts its calls per caller, beside
 * the varied certificates of the projection fixture, none of which calls sql.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedAttestor } from '../attest/node.js';
import type { Certificate } from '../verify/index.js';
import { TARGETS, useProjectionFixture } from './testing/projection-fixture.js';
import { sqlCertificate } from './testing/sample-streams.js';

describe.each(TARGETS)('SQL calls in search and analytics on $name', ({ url }) => {
  const f = useProjectionFixture(url, 'sql_calls');
  let sqlCert: Certificate;
  beforeAll(async () => {
    sqlCert = await sqlCertificate(new SimulatedAttestor(f.dir));
    await f.services.log.append(sqlCert.events);
    await f.services.readModel.refresh();
  });

  it('finds the certificate by tool=sql, and only it', async () => {
    expect(f.certs.some((c) => c.execution_trace.tool_uses.some((u) => u.tool === 'sql'))).toBe(false);
    const { status, body } = await f.get('/certificates?tool=sql&limit=100');
    expect(status).toBe(200);
    expect(body.items.map((r: { certificate_id: string }) => r.certificate_id)).toEqual([sqlCert.certificate_id]);
    expect(body.items[0]).toMatchObject({ tools: ['scan.py', 'sql'], tool_calls: 4 });
  });

  it('counts 1 sql call by the model and 2 by the script in tool-usage, failures and time summed', async () => {
    const { status, body } = await f.get('/analytics/tool-usage');
    expect(status).toBe(200);
    expect(body.items.filter((r: { tool: string }) => r.tool === 'sql')).toEqual([
      { tool: 'sql', caller: 'script', calls: 2, failures: 0, duration_ms: 40 },
      { tool: 'sql', caller: 'llm', calls: 1, failures: 0, duration_ms: 20 },
    ]);
  });

  it('serves the certificate with its sql sums, and it verifies', async () => {
    const served = (await f.get(`/certificate/${sqlCert.certificate_id}`)).body as Certificate;
    expect(served.execution_trace.tool_uses.map((u) => [u.tool, u.caller, u.count, u.sql])).toEqual([
      ['scan.py', 'script', 1, undefined],
      ['sql', 'script', 2, { rows: 1012, bytes: 65_300, truncated: 1 }],
      ['sql', 'llm', 1, { rows: 3, bytes: 40, truncated: 0 }],
    ]);
    const verdict = (await f.get(`/certificate/${sqlCert.certificate_id}/verify`)).body;
    expect([verdict.valid, verdict.failure ?? null]).toEqual([true, null]);
  });
});
