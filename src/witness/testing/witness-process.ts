/** `ephemera witness … --json` as a child process: resolves once it listens, with the URL and vkey it prints. Tests only. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../../..');

export interface WitnessProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  vkey: string;
  stderr: () => string;
}

export function startWitnessProcess(options: { origin: string; logKey: string; state: string }, ...extra: string[]): Promise<WitnessProcess> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/ephemera.js'),
      'witness',
      '--origin',
      options.origin,
      '--log-key',
      options.logKey,
      '--state',
      options.state,
      '--listen',
      '127.0.0.1:0',
      '--json',
      ...extra,
    ],
    { cwd: ROOT, env: { ...process.env } },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      stdout += c;
      try {
        const printed = JSON.parse(stdout) as { url: string; vkey: string } | { error: { code: string } };
        if ('error' in printed) reject(new Error(`witness refused to start: ${printed.error.code}`));
        else resolve({ child, url: printed.url, vkey: printed.vkey, stderr: () => stderr });
      } catch {
        // not all of it yet
      }
    });
    child.on('exit', (code) => reject(new Error(`witness exited ${code}: ${stderr}`)));
  });
}
