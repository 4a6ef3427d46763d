/**
 * The sequencer's candidates from ClickHouse (chDB) and the `tlog_leaves`
 * index: an index row lost (a failed insert) must not keep the oldest logged
 * certificates at the head of every answer, starving everything sealed after
 * them until a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { createServices, type Services } from '../../services.js';
import { richEvents } from '../../verify/testing/conformance.js';
import { sealEvents } from '../../verify/testing/forge.js';

describe('the candidates of the sequencer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-tlog-candidates-'));
  let services: Services;
  const certificate = (n: number) => sealEvents(richEvents(`01JD7ZX3Q4M5N6P7R8S9T0VWX${'ABCDEFGH'[n]}`, `2026-02-01T13:${10 + n}:00.000Z`));

  beforeAll(async () => {
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'data'), EPHEMERA_TLOG_BATCH_MAX: '2', EPHEMERA_TLOG_INTERVAL_MS: '3600000' }));
  });
  afterAll(async () => {
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes on to the certificates sealed later when the index lost the rows of logged ones', async () => {
    const sequencer = services.tlog!.sequencer!;
    for (const n of [0, 1]) await services.log.append(certificate(n).events as never);
    expect(await sequencer.tick()).toBe(2);
    // The index insert failed (ClickHouse down for a moment): the log holds both, tlog_leaves neither.
    await (await services.readModel.store()).command({ query: 'TRUNCATE TABLE tlog_leaves' });
    for (const n of [2, 3]) await services.log.append(certificate(n).events as never);
    let logged = 0;
    for (let round = 0; round < 3 && logged < 2; round++) logged += await sequencer.tick();
    expect(logged).toBe(2);
    expect(services.tlog!.projection.size).toBe(4);
    for (const n of [0, 1, 2, 3]) expect(services.tlog!.projection.isLogged(certificate(n).certificate_id)).toBe(true);
  });
});
