/**
 * Where a read command (certs, stats, replay) reads from:
 *   server    `ephemera serve` runs on this data directory and answers: ask it over HTTP
 *             (embedded chDB is locked by that process; discovery.ts).
 *   snapshot  a live serve claims the directory but does not answer: the SQLite log opened
 *             read-only, projected into a throwaway embedded ClickHouse under the temp dir
 *             (removed after; a full replay, so slower on a large log).
 *   local     nothing else holds the directory: the configured stores, as `serve` opens them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EphemeraError } from '../errors.js';
import { SqliteEventLog } from '../events/sqlite.js';
import { readSimulatedPublicKey } from '../attest/node.js';
import { createServices } from '../services.js';
import { verifyOptionsFor } from '../verify-options.js';
import { ReadModel } from '../projections/read-model.js';
import { certificatesFromLog, type CertificateReader } from '../projections/certificates/index.js';
import type { VerifyOptions } from '../verify/index.js';
import { configOf, existingDataDir, note } from './common.js';
import { findServer } from './discovery.js';

export interface LocalReadSide {
  kind: 'local' | 'snapshot';
  log: 'sqlite' | 'kafka';
  readModel: ReadModel;
  certificates: CertificateReader;
  verifyOptions: VerifyOptions;
}

export type ReadSide = { kind: 'server'; url: string } | LocalReadSide;

export async function withReadSide<T>(command: Command, body: (side: ReadSide) => Promise<T>): Promise<T> {
  const config = configOf(command);
  if (config.log === 'sqlite' && config.clickhouseUrl === null) existingDataDir(config);
  const server = await findServer(config.dataDir);
  if (server.url) return body({ kind: 'server', url: server.url });
  // A ClickHouse server has no directory lock: only the embedded store needs the snapshot.
  if (server.held && config.clickhouseUrl === null) {
    if (config.log !== 'sqlite')
      throw new EphemeraError('PROJECTIONS_UNAVAILABLE', `ephemera serve (see ${config.dataDir}/serve.json) holds the embedded store and does not answer`);
    note('ephemera serve holds this data directory but does not answer; reading a snapshot projected from the log');
    const log = new SqliteEventLog(join(config.dataDir, 'events.sqlite'), { readonly: true });
    const scratch = mkdtempSync(join(tmpdir(), 'ephemera-snapshot-'));
    const readModel = new ReadModel({ clickhouseUrl: null, dataDir: scratch }, log);
    const localKey = readSimulatedPublicKey(config.dataDir);
    try {
      return await body({
        kind: 'snapshot',
        log: 'sqlite',
        readModel,
        certificates: certificatesFromLog(log),
        verifyOptions: verifyOptionsFor(config, {}, localKey ? [localKey] : []),
      });
    } finally {
      await readModel.close();
      await log.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const services = await createServices({ ...config, tee: 'simulated' });
  try {
    const { readModel, certificates, verifyOptions } = services;
    return await body({ kind: 'local', log: services.log.kind, readModel, certificates, verifyOptions });
  } finally {
    await services.close();
  }
}
