/** ephemera serve (declared in cli.ts): listens until SIGINT/SIGTERM; read commands on the same data dir find it (discovery.ts). */
import type { Command } from 'commander';
import { readSimulatedPublicKey } from '../attest/simulated.js';
import { INSTANCE_ID } from '../health.js';
import { keyFingerprint } from '../verify/index.js';
import { serve as listen } from '../server.js';
import { configOf, note } from './common.js';
import { assertDataDirFree, writeDiscovery } from './discovery.js';

export async function serve(command: Command): Promise<never> {
  const config = configOf(command);
  // Two servers on one data directory would fight over the embedded stores, and the second would hide the first from the CLI.
  await assertDataDirFree(config.dataDir);
  const { url } = await listen(config);
  const forget = writeDiscovery(config.dataDir, url, INSTANCE_ID);
  // 'exit' runs on the signal handlers' process.exit too; a SIGKILL leaves the file, and readers check the pid.
  process.once('exit', forget);
  note(`ephemera listening on ${url}`);
  // What readers and submitters pin to trust this server (simulated attestor; a TDX server has its build instead).
  const key = readSimulatedPublicKey(config.dataDir);
  if (key) note(`attestor key ${keyFingerprint(key)} (simulated, not hardware-backed): readers pin it with ephemera trust add ${keyFingerprint(key)}`);
  return new Promise<never>(() => undefined);
}
