/**
 * Composes the services from the configuration: the event log, the attestor,
 * the sandbox factory, the certificate reader and the verifier's options.
 * One instance per process; `close` awaits every pending write.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import type { EventLog } from './events/index.js';
import { SqliteEventLog } from './events/node.js';
import type { Attestor } from './attest/index.js';
import { SimulatedAttestor } from './attest/node.js';
import { createSandbox } from './sandbox/index.js';
import type { Sandbox, SandboxSpec } from './sandbox/types.js';
import { certificatesFromLog, type CertificateReader } from './projections/certificates/index.js';
import type { VerifyOptions } from './verify/index.js';

export interface Services {
  config: Config;
  log: EventLog;
  attestor: Attestor;
  createSandbox: (spec: SandboxSpec) => Promise<Sandbox>;
  certificates: CertificateReader;
  verifyOptions: VerifyOptions;
  close(): Promise<void>;
}

export async function createServices(config: Config): Promise<Services> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const log = await openLog(config);
  const attestor = await openAttestor(config);
  return {
    config,
    log,
    attestor,
    createSandbox,
    certificates: certificatesFromLog(log),
    verifyOptions: {},
    async close() {
      await log.close();
    },
  };
}

async function openLog(config: Config): Promise<EventLog> {
  return new SqliteEventLog(join(config.dataDir, 'events.sqlite'));
}

async function openAttestor(config: Config): Promise<Attestor> {
  return new SimulatedAttestor(config.dataDir);
}
