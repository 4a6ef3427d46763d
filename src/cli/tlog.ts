/**
 * `ephemera tlog check`: the log against the event log (docs/transparency.md
 * §10). Replays the tlog ledger into a scratch tile store (the same rules as
 * the projection), then re-derives every leaf from the event log: the
 * certificate of its certificate_id, `prev` by folding the log's order; and
 * compares with the log's entries, and the replayed root with the served
 * checkpoint's. Any difference: TLOG_CHECK_MISMATCH.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EphemeraError } from '../errors.js';
import { bytesToHex } from '../events/index.js';
import { TlogProjection } from '../projections/tlog/log-projection.js';
import { TileStore } from '../projections/tlog/tile-store.js';
import { createServices } from '../services.js';
import { encodeLeaf, leafOfCertificate, parseCheckpoint, parseNote, parseNoteVerifierKey, type LoggableCertificate } from '../tlog/index.js';
import { tileStoreDirOf, witnessVerifiersOf } from '../transparency.js';
import { configOf, printJson } from './common.js';

/** The first differences a report names; the count is of all. */
const LISTED = 20;

export async function checkTlog(options: { json?: boolean }, command: Command): Promise<void> {
  const config = configOf(command);
  const services = await createServices({ ...config, tee: config.tee === 'auto' ? 'simulated' : config.tee }, { feed: false });
  const scratch = mkdtempSync(join(tmpdir(), 'ephemera-tlog-check-'));
  try {
    const tlog = services.tlog ?? unavailable();
    const replay = new TlogProjection({
      store: new TileStore(scratch),
      origin: tlog.key.origin,
      verifier: tlog.holdsKey ? parseNoteVerifierKey(tlog.key.vkey) : undefined,
      witnesses: witnessVerifiersOf(config),
    });
    await replay.catchUp(tlog.ledger);
    const differences: { leaf_index: number; certificate_id: string; why: string }[] = [];
    const last = new Map<string, number>();
    for (let index = 0; index < replay.size; index++) {
      const leaf = await replay.leaf(index);
      const certificate = await services.certificates.get(leaf.certificate_id);
      let why: string | null = null;
      if (certificate === null) why = 'no such certificate in the event log';
      else {
        const expected = encodeLeaf(leafOfCertificate(certificate as unknown as LoggableCertificate, last.get(leaf.fingerprint) ?? null));
        if (bytesToHex(expected) !== bytesToHex(encodeLeaf(leaf))) why = "the entry is not the leaf the certificate's events give";
      }
      last.set(leaf.fingerprint, index);
      if (why) differences.push({ leaf_index: index, certificate_id: leaf.certificate_id, why });
    }
    const served = await new TileStore(tileStoreDirOf(config.dataDir)).readCheckpoint();
    const replayed = replay.latest && parseCheckpoint(parseNote(replay.latest.checkpoint).text);
    const stored = served === null ? null : parseCheckpoint(parseNote(served).text);
    if (
      stored &&
      (!replayed || stored.size > replayed.size || (stored.size === replayed.size && bytesToHex(stored.rootHash) !== bytesToHex(replayed.rootHash)))
    )
      differences.push({ leaf_index: stored.size, certificate_id: '', why: "the served checkpoint is not the replayed ledger's" });
    const report = {
      origin: tlog.key.origin,
      size: replay.size,
      root: replayed ? bytesToHex(replayed.rootHash) : null,
      ignored_records: replay.ignored,
      ignored_count: replay.ignoredCount,
      differences: differences.length,
      first_differences: differences.slice(0, LISTED),
    };
    if (options.json) printJson(report);
    else {
      process.stdout.write(`${report.origin}: ${report.size} leaves, root ${report.root ?? '(empty)'}\n`);
      if (replay.ignoredCount > 0)
        process.stdout.write(`${replay.ignoredCount} ledger records ignored (evidence), at positions ${replay.ignored.slice(0, LISTED).join(', ')}…\n`);
      for (const d of report.first_differences) process.stdout.write(`leaf ${d.leaf_index} ${d.certificate_id}: ${d.why}\n`);
    }
    if (differences.length > 0)
      throw new EphemeraError('TLOG_CHECK_MISMATCH', `${differences.length} leaves differ from the event log`, { fields: { differences: differences.length } });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await services.close();
  }
}

function unavailable(): never {
  throw new EphemeraError('TLOG_UNAVAILABLE', 'the transparency log is off (EPHEMERA_TLOG=off)');
}
