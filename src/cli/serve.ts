/** ephemera serve [--port N] [--host ADDR]: listens until SIGINT/SIGTERM; read commands on the same data dir find it (discovery.ts). */
import type { Command } from 'commander';
import { serve } from '../server.js';
import { configOf, note } from './common.js';
import { assertDataDirFree, writeDiscovery } from './discovery.js';

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the API and the web pages (read commands on the same data directory then go through it)')
    .addHelpText('after', '\nListen address: --port and --host (PORT, EPHEMERA_HOST). Writes serve.json in the data directory while it runs.')
    .action(async (_options: unknown, command: Command) => {
      const config = configOf(command);
      // Two servers on one data directory would fight over the embedded stores, and the second would hide the first from the CLI.
      await assertDataDirFree(config.dataDir);
      const { url } = await serve(config);
      const forget = writeDiscovery(config.dataDir, url);
      // 'exit' runs on the signal handlers' process.exit too; a SIGKILL leaves the file, and readers check the pid.
      process.once('exit', forget);
      note(`ephemera listening on ${url}`);
      await new Promise(() => undefined);
    });
}
