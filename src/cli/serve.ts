/** ephemera serve (declared in cli.ts): listens until SIGINT/SIGTERM; read commands on the same data dir find it (discovery.ts). */
import type { Command } from 'commander';
import { readSimulatedPublicKey } from '../attest/simulated.js';
import { INSTANCE_ID } from '../health.js';
import { LOG_KEY_DOCUMENT_PATH } from '../tlog/index.js';
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
  await noteLogKey(url);
  return new Promise<never>(() => undefined);
}

/**
 * What a witness operator needs to follow this log, and readers to pin it (README "Running a witness"): asked of the
 * server itself, as anyone would, so a follower without the log key or a log turned off simply prints nothing.
 */
async function noteLogKey(url: string): Promise<void> {
  try {
    const response = await fetch(new URL(LOG_KEY_DOCUMENT_PATH, url), { signal: AbortSignal.timeout(5000), redirect: 'error' });
    if (response.status !== 200) return void (await response.body?.cancel());
    const { statement } = (await response.json()) as { statement?: { origin?: unknown; vkey?: unknown } };
    const { origin, vkey } = statement ?? {};
    if (typeof origin !== 'string' || typeof vkey !== 'string') return;
    note(
      `transparency log ${origin}: witnesses follow it with ephemera witness --origin ${origin} --log-key ${vkey} …; readers pin it with ephemera trust add ${vkey}`,
    );
  } catch {
    // Only a hint: the server runs the same without it.
  }
}
