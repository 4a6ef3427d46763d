/**
 * The `ephemera` command, on commander: each subcommand lives in
 * src/cli/<name>.ts and declares its own options and help. Parse errors
 * (unknown option, missing argument, a value out of range) are CLI_USAGE,
 * exit 2, reported like every other error (as JSON on stdout with --json).
 */
import { Command, CommanderError } from 'commander';
import { ERROR_REGISTRY, EXIT } from './error-codes.js';
import { EphemeraError } from './errors.js';
import { addConfigOptions, reportError } from './cli/common.js';
import { addRunCommand } from './cli/run.js';
import { addVerifyCommand } from './cli/verify.js';
import { addTrustCommand } from './cli/trust.js';
import { addServeCommand } from './cli/serve.js';
import { addBuildInfoCommand, packageVersion } from './cli/build-info.js';
import { addProjectionCommands } from './cli/projections.js';

const EXIT_CODES = `
Exit codes:
  ${EXIT.ok}  success (run: certified and the computation exited 0; verify: valid and trusted)
  ${EXIT.internal}  internal error, no certificate (verify: the certificate is invalid)
  ${EXIT.badInput}  bad input: unknown option or command, bad value, missing argument, missing or unreadable file,
     run: the certificate could not be written to --out (it is kept, the message says where)
  ${EXIT.computationFailed}  run: certified, but the computation failed
  ${EXIT.untrusted}  verify: valid, but signed by a key you do not trust
Every error code and its exit code: docs/errors.md.`;

function program(): Command {
  const root = new Command('ephemera')
    .description('Verifiable one-time computation over private data: load once, run once, delete, keep the proof.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpCommand('help [command]', 'help for a command')
    .showSuggestionAfterError()
    // Errors are ours to report (one format, one code); help and --version still print as usual.
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  addConfigOptions(root);
  addRunCommand(root);
  addVerifyCommand(root);
  addTrustCommand(root);
  addProjectionCommands(root);
  addBuildInfoCommand(root);
  addServeCommand(root);
  root.addHelpText('after', EXIT_CODES);
  for (const command of allCommands(root))
    if (command !== root) command.addHelpText('after', `\nConfiguration flags (--data-dir, …): ephemera --help.\n${EXIT_CODES}`);
  return root;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  process.exitCode = undefined;
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error, json);
    return reportError(error, json);
  }
}

/** --help and --version end with 0; a bare `ephemera` or `ephemera certs` printed its help as a usage error; anything else is CLI_USAGE. */
function commanderExit(error: CommanderError, json: boolean): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
  if (error.code === 'commander.help') return ERROR_REGISTRY.CLI_USAGE.exit;
  return reportError(new EphemeraError('CLI_USAGE', `${error.message.replace(/^error: /, '')} (see --help)`), json);
}

// Output piped into a reader that has had enough (`| head`): stop quietly, as Unix tools do, with what was printed standing.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
    throw error;
  });

process.exitCode = await main(process.argv.slice(2));
