/**
 * The `ephemera` command. Each subcommand lives in src/cli/<name>.ts and
 * returns its exit code.
 */
import { EXIT, reportError } from './cli/common.js';
import { runCommand } from './cli/run.js';
import { verifyCommand } from './cli/verify.js';
import { trustCommand } from './cli/trust.js';
import { serveCommand } from './cli/serve.js';
import { buildInfoCommand } from './cli/build-info.js';
import { certsCommand, migrateCommand, projectionsCommand, replayCommand, statsCommand } from './cli/projections.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: 'run --dataset FILE --sandbox SANDBOX.json [--format csv|json|txt] [--out CERT.json] [--json]' },
  verify: {
    run: verifyCommand,
    help: 'verify CERT.json|CERT_ID [--trust-key K]… [--at TIME] [--max-events N] [--max-bytes N] [--trusted-compose-hashes H,…] [--allowed-tcb-statuses S,…] [--json]   (exit 0 trusted, 4 valid but untrusted, 1 invalid, 2 unusable input)',
  },
  trust: { run: trustCommand, help: 'trust ls | add KEY [--note TEXT] | rm KEY | pin URL [--expect-fingerprint F] [--json]' },
  certs: {
    run: certsCommand,
    help: 'certs ls|search [--status S] [--model M] [--tool T] [--dataset-hash H] [--sandbox-hash H] [--fingerprint F] [--from T] [--to T] [--q TEXT] [--sort requested_at|sealed_at|execution_time_ms] [--order asc|desc] [--limit N] [--cursor C] [--json]',
  },
  replay: { run: replayCommand, help: 'replay CERT_ID [--json]' },
  stats: { run: statsCommand, help: 'stats [--from T] [--to T] [--json]' },
  migrate: { run: migrateCommand, help: 'migrate' },
  projections: { run: projectionsCommand, help: 'projections rebuild' },
  'build-info': { run: buildInfoCommand, help: 'build-info [--compose APP-COMPOSE.json] [--json]' },
  serve: { run: serveCommand, help: 'serve [--port N] [--host ADDR]' },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(
      `usage: ephemera <command>\n${Object.values(COMMANDS)
        .map((c) => `  ephemera ${c.help}`)
        .join('\n')}\n`,
    );
    return name === undefined || name === '--help' || name === 'help' ? EXIT.ok : EXIT.badInput;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    return reportError(error, rest.includes('--json'));
  }
}

process.exitCode = await main(process.argv.slice(2));
