/**
 * ephemera run --dataset FILE --sandbox SANDBOX.json [--format csv|json|txt] [--out CERT.json] [--json]
 * Runs in-process on the configured stores. Exit 0: certified and the
 * computation exited 0; 3: certified but it failed; 2: bad input; 1: internal
 * error, no certificate. In SANDBOX.json a script may be given as
 * {"file": "path"} (relative to SANDBOX.json); it is read into the request.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { EphemeraError } from '../errors.js';
import { createServices } from '../services.js';
import { execute, executeSummary, parseExecuteRequest } from '../commands/execute/index.js';
import { certificateJson, verifyCertificate } from '../verify/index.js';
import { EXIT, parse, printJson, progress } from './common.js';

export async function runCommand(argv: string[]): Promise<number> {
  const args = parse(argv, { dataset: { type: 'string' }, sandbox: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } });
  const datasetPath = args.values.dataset as string | undefined;
  const sandboxPath = args.values.sandbox as string | undefined;
  if (!datasetPath || !sandboxPath)
    throw new EphemeraError('CLI_USAGE', 'usage: ephemera run --dataset FILE --sandbox SANDBOX.json [--format csv|json|txt] [--out CERT.json] [--json]');
  const format = (args.values.format as string | undefined) ?? extname(datasetPath).slice(1);
  const sandbox = readSandbox(sandboxPath);
  const dataset = readInput(datasetPath, 'dataset');
  const request = parseExecuteRequest({ dataset: { data: `base64:${dataset.toString('base64')}`, format }, sandbox });
  dataset.fill(0);

  const services = await createServices(args.config());
  try {
    progress(`running once in a sandbox (${services.attestor.kind} TEE, ${services.log.kind} log)…`);
    const { certificate } = await execute(request, services);
    const verdict = await verifyCertificate(certificate, services.verifyOptions);
    if (args.values.out) writeFileSync(args.values.out as string, certificateJson(certificate, 2));
    if (args.json)
      printJson({
        ...executeSummary(certificate),
        verification: { valid: verdict.valid, trusted: verdict.trusted, status: verdict.status, key: verdict.key, failure: verdict.failure },
      });
    else {
      process.stdout.write(`certificate ${certificate.certificate_id}\n`);
      process.stdout.write(
        `status      ${certificate.status}${certificate.result.error_code ? ` (${certificate.result.error_code})` : ''}, exit code ${certificate.result.exit_code}\n`,
      );
      process.stdout.write(`result      ${certificate.result.output.trim().split('\n').slice(0, 20).join('\n            ')}\n`);
      process.stdout.write(
        `verified    ${verdict.valid ? `yes, ${verdict.trust.basis === 'local-key' ? "signed by this machine's own key" : verdict.trusted ? 'trusted' : 'NOT trusted'}` : `NO — ${verdict.failure?.code} at ${verdict.failure?.field}`} (${verdict.tee} attestation${verdict.tee === 'simulated' ? ', not hardware-backed' : ''})\n`,
      );
      if (verdict.key) process.stdout.write(`key         ${verdict.key.fingerprint} (readers pin it: ephemera trust add ${verdict.key.fingerprint})\n`);
    }
    if (!verdict.valid) return EXIT.internal;
    return certificate.status === 'completed' ? EXIT.ok : EXIT.computationFailed;
  } finally {
    await services.close();
  }
}

function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    throw new EphemeraError('CLI_USAGE', `cannot read the ${what} file ${path}`);
  }
}

function readSandbox(path: string): unknown {
  let sandbox: unknown;
  try {
    sandbox = JSON.parse(readInput(path, 'sandbox').toString('utf8'));
  } catch (cause) {
    if (cause instanceof EphemeraError) throw cause;
    throw new EphemeraError('REQUEST_INVALID', `${path} is not valid JSON`);
  }
  const scripts = (sandbox as { scripts?: Record<string, unknown> })?.scripts;
  if (scripts && typeof scripts === 'object') {
    for (const [name, value] of Object.entries(scripts)) {
      const file = (value as { file?: unknown })?.file;
      if (typeof file === 'string') scripts[name] = readInput(resolve(dirname(path), file), `script ${name}`).toString('utf8');
    }
  }
  return sandbox;
}
