/**
 * Shared set-up of the projection int suites: a data dir, services and app
 * over a fresh ClickHouse (chDB always; also a server when CLICKHOUSE_URL is
 * set, its database truncated first), and N varied sealed certificates in the
 * SQLite log, not yet projected. Test support only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SimulatedAttestor } from '../../attest/node.js';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { createServices, type Services } from '../../services.js';
import type { Certificate } from '../../verify/index.js';
import { truncateProjections } from '../projector.js';
import { openClickHouse, rows, type Store } from '../store/clickhouse.js';
import { variedCertificate } from './sample-streams.js';

export const N = 24;

/** Every suite runs on each target. */
export const TARGETS: { name: string; url: string | undefined }[] = [
  { name: 'chDB in-process', url: undefined },
  ...(process.env.CLICKHOUSE_URL ? [{ name: 'a ClickHouse server (CLICKHOUSE_URL)', url: process.env.CLICKHOUSE_URL }] : []),
];

/**
 * On a server, each suite gets its own database (`<db>_test_<suite>`, created
 * here): vitest runs files in parallel, and suites truncate what they use.
 * chDB needs nothing: each test file is its own process with its own data dir.
 */
export async function isolatedUrl(url: string | undefined, suite: string): Promise<string | undefined> {
  if (!url) return undefined;
  if (!/^[a-z0-9_]+$/.test(suite)) throw new Error(`suite name ${suite} must be [a-z0-9_]+`);
  const parsed = new URL(url);
  const database = `${parsed.pathname.replace(/^\//, '') || 'default'}_test_${suite}`;
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`database name ${database} must be [A-Za-z0-9_]+`);
  const admin = openClickHouse({ url, dataDir: tmpdir() });
  // Identifiers cannot be bound parameters in CREATE DATABASE; the name is checked above and comes from the test.
  await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` }).finally(() => admin.close());
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface ProjectionFixture {
  dir: string;
  services: Services;
  app: FastifyInstance;
  store: Store;
  certs: Certificate[];
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON a route answers
  get(path: string): Promise<{ status: number; body: any }>;
  /** Every projection table, ordered: equal snapshots mean equal projections. */
  snapshot(): Promise<Record<string, unknown[]>>;
}

/** Registers beforeAll/afterAll in the calling describe; `project` runs the catch-up once the log is filled. */
export function useProjectionFixture(url: string | undefined, suite: string, options: { project?: boolean } = {}): ProjectionFixture {
  const f = { dir: mkdtempSync(join(tmpdir(), 'ephemera-projections-')) } as ProjectionFixture;
  f.get = async (path) => {
    const response = await f.app.inject({ url: path });
    return { status: response.statusCode, body: response.json() };
  };
  f.snapshot = async () => ({
    events: await rows(f.store, 'SELECT execution_id, seq, hash FROM events FINAL ORDER BY execution_id, seq'),
    certificates: await rows(f.store, 'SELECT * FROM certificates FINAL ORDER BY certificate_id'),
    tool_uses: await rows(f.store, 'SELECT * FROM tool_uses FINAL ORDER BY certificate_id, tool, caller'),
    model_uses: await rows(f.store, 'SELECT * FROM model_uses FINAL ORDER BY certificate_id, model'),
  });
  beforeAll(async () => {
    const server = await isolatedUrl(url, suite);
    f.services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: f.dir, ...(server ? { CLICKHOUSE_URL: server } : {}) }));
    f.store = await f.services.readModel.store();
    // A server may hold rows from an earlier run; the suites need empty projections.
    await truncateProjections(f.store);
    f.app = await buildApp(f.services);
    const attestor = new SimulatedAttestor(f.dir);
    f.certs = [];
    for (let i = 0; i < N; i++) f.certs.push(await variedCertificate(i, attestor));
    for (const c of f.certs) await f.services.log.append(c.events);
    if (options.project) await f.services.readModel.refresh();
  });
  afterAll(async () => {
    await f.app?.close();
    await f.services?.close();
    rmSync(f.dir, { recursive: true, force: true });
  });
  return f;
}
