/**
 * The transparency log as the server runs it (docs/transparency.md §10–11), on the embedded ledger:
 * - appends per second: sealed certificates handed to the sequencer, which builds their leaves, signs the
 *   checkpoint, appends the batch records to the SQLite ledger (synchronous=FULL) and applies them into the tile
 *   store on disk (tiles, entry bundles, checkpoint); a round takes up to EPHEMERA_TLOG_BATCH_MAX (4,096)
 *   leaves, and a full round is followed at once by the next, so a backlog is taken at the rate of the work.
 *   Anchor (issue 20): TesseraCT's ~1,700 appends/s on three small machines.
 * - tile serving over HTTP (loopback): GET /tlog/tile/0/<N> through the real routes, 16 requests in flight,
 *   against node:http answering the same files read from disk (the floor).
 * The candidates come from memory (in serve: a ClickHouse query), so the figure is the log's own path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { SimulatedAttestor } from '../src/attest/node.js';
import { openLogKey } from '../src/commands/tlog/log-key.js';
import { Sequencer } from '../src/commands/tlog/sequencer.js';
import { SqliteTlogLedger } from '../src/events/tlog-ledger-sqlite.js';
import { TlogProjection } from '../src/projections/tlog/log-projection.js';
import { tlogRoutes } from '../src/projections/tlog/routes.js';
import { sealedCertificate } from '../src/projections/tlog/testing/certificates.js';
import { TileStore } from '../src/projections/tlog/tile-store.js';
import { formatTilePath, parseNoteVerifierKey } from '../src/tlog/index.js';
import { againstFloor, type BenchOptions, type BenchRow, timed } from './types.js';

const BATCH_MAX = 4096;
const IN_FLIGHT = 16;

export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-tlog-'));
  try {
    const count = quick ? 20_000 : 100_000;
    const key = await openLogKey(new SimulatedAttestor(dir), null);
    const ledger = new SqliteTlogLedger(join(dir, 'events.sqlite'));
    const store = new TileStore(join(dir, 'tlog'));
    const log = new TlogProjection({ store, origin: key.origin, verifier: parseNoteVerifierKey(key.vkey) });
    const start = Date.UTC(2026, 0, 1);
    const pending = Array.from({ length: count }, (_, i) => sealedCertificate(`f${i % 500}`, new Date(start + i)));
    const sequencer = new Sequencer({
      ledger,
      log,
      // What the ClickHouse query answers: the oldest not yet logged.
      candidates: async (limit) => pending.slice(log.size, log.size + limit),
      key,
      batchMax: BATCH_MAX,
      intervalMs: 1000,
    });
    const rounds: number[] = [];
    const { ms } = await timed(async () => {
      while (log.size < count) rounds.push((await timed(() => sequencer.tick())).ms);
    });
    const perSecond = Math.round(count / (ms / 1000));
    const roundMs = rounds.slice(0, -1).reduce((a, b) => a + b, 0) / Math.max(1, rounds.length - 1);
    const rows: BenchRow[] = [
      {
        name: `tlog appends (sequencer + SQLite ledger + tile store), ${count} certificates, rounds of ${BATCH_MAX}`,
        value: perSecond,
        unit: 'leaves/s',
        note: `${rounds.length} rounds, ${Math.round(roundMs)} ms per full round`,
        goal: '≥ 1,700 appends/s (TesseraCT)',
        met: perSecond >= 1700,
      },
      {
        name: `one sequencer round of ${BATCH_MAX} leaves`,
        value: Math.round(roundMs),
        unit: 'ms',
        note: 'the latency a certificate waits for its leaf beyond the interval, under a backlog',
      },
    ];

    // Tile serving: the real routes over the store just built.
    const app = Fastify();
    await app.register(tlogRoutes({ log: { projection: log, store, logKey: () => key.document() } }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const floor = createServer(async (request, response) => {
      const bytes = await readFile(join(store.dir, (request.url ?? '').replace(/^\/tlog\//, '')));
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    });
    await new Promise<void>((resolve) => floor.listen(0, '127.0.0.1', resolve));
    try {
      const fullTiles = Math.floor(count / 256);
      const paths = Array.from({ length: fullTiles }, (_, n) => `/tlog/${formatTilePath({ level: 0, index: n, width: 256 })}`);
      const serve = async (base: string) => {
        const total = quick ? 4000 : 20_000;
        let next = 0;
        let bytes = 0;
        const { ms: took } = await timed(() =>
          Promise.all(
            Array.from({ length: IN_FLIGHT }, async () => {
              while (next < total) {
                const path = paths[next++ % paths.length]!;
                const response = await fetch(`${base}${path}`);
                if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
                bytes += (await response.arrayBuffer()).byteLength;
              }
            }),
          ),
        );
        return { perSecond: Math.round(total / (took / 1000)), mbPerSecond: +(bytes / 2 ** 20 / (took / 1000)).toFixed(1) };
      };
      const address = app.server.address() as { port: number };
      const served = await serve(`http://127.0.0.1:${address.port}`);
      const bare = await serve(`http://127.0.0.1:${(floor.address() as { port: number }).port}`);
      rows.push(
        againstFloor(
          {
            name: `tile serving over HTTP (GET /tlog/tile/0/<N>, 8 KiB, ${IN_FLIGHT} in flight, loopback)`,
            value: served.perSecond,
            unit: 'tiles/s',
            note: `${served.mbPerSecond} MiB/s`,
          },
          { name: 'node:http answering the same files from disk', value: bare.perSecond, unit: 'tiles/s' },
        ),
      );
    } finally {
      await app.close();
      await new Promise<void>((resolve) => floor.close(() => resolve()));
    }
    await ledger.close();
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
