/** `ephemera …` (bin/ephemera.js) as a child process that does not block the test, which may serve what it fetches. Tests only. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = join(import.meta.dirname, '../../..');

/** `input`: what the command reads on stdin (else stdin stays open, as a terminal's would). */
export function runCli(args: readonly string[], options: { cwd?: string; env: NodeJS.ProcessEnv; input?: string }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args], { cwd: options.cwd ?? ROOT, env: options.env });
    if (options.input !== undefined) child.stdin.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
