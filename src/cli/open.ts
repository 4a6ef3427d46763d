/**
 * ephemera open CERT.json --key KEYFILE [--trust-key K]… [--json] (declared in cli.ts)
 * Opens a sealed result (docs/sealed.md §5) on this machine: the certificate
 * is verified first (it must be valid; whom it is trusted by is reported as
 * `verify` does), then the result is decrypted with the key file and checked
 * against the certificate's commitment, result_hash. The key file never
 * leaves this machine; the output goes to stdout only.
 * Exit: 0 opened, certificate valid and trusted; 4 opened, but its signer is
 * not trusted; 1 the certificate is invalid (nothing opened); an error its code's.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { EphemeraError } from '../errors.js';
import { parseStrictJson } from '../events/index.js';
import { openSealedResult } from '../seal/index.js';
import { nodeSealCrypto } from '../seal/node-aead.js';
import { DEFAULT_VERIFY_LIMITS, verifyCertificateText, type Certificate } from '../verify/index.js';
import { configOf, EXIT, printJson, terminalSafe } from './common.js';
import { readInput } from './files.js';
import { readResultKeyFile } from './result-key-file.js';
import { readerVerifyOptions, type TrustFlags } from './policy.js';
import { exitCodeOf, formatVerdict } from './verify.js';

export interface OpenOptions extends TrustFlags {
  key: string;
  json?: boolean;
}

export async function open(target: string, options: OpenOptions, command: Command): Promise<number> {
  const config = configOf(command);
  const key = readResultKeyFile(options.key);
  // Bounded before it is read into memory (the verifier bounds it again, with the same limit).
  if (existsSync(target) && statSync(target).size > DEFAULT_VERIFY_LIMITS.maxBytes)
    throw new EphemeraError('VERIFY_TOO_LARGE', `${target} is larger than ${DEFAULT_VERIFY_LIMITS.maxBytes} bytes (the limit)`);
  const bytes = readInput(target, 'certificate');
  const verdict = await verifyCertificateText(bytes, readerVerifyOptions(command, config, options));
  if (!verdict.valid) {
    if (options.json) printJson({ verification: verdict, opened: null });
    else process.stdout.write(formatVerdict(verdict));
    process.stderr.write('nothing opened: the certificate is invalid, so its result_hash commits to nothing\n');
    return EXIT.invalid;
  }
  const certificate = parseStrictJson(bytes.toString('utf8')) as Certificate;
  if (!certificate.result.sealed)
    throw new EphemeraError('CLI_USAGE', `${target}: its result is not sealed; it is in the certificate itself, in the clear (ephemera verify shows it)`);
  const opened = await openSealedResult(certificate, key, nodeSealCrypto);
  if (options.json)
    printJson({
      certificate_id: certificate.certificate_id,
      verification: { valid: verdict.valid, trusted: verdict.trusted, status: verdict.status, key: verdict.key, trust: verdict.trust },
      result_hash: certificate.result.result_hash,
      opened,
    });
  else {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(formatVerdict(verdict).split('\n')[0]!);
    out(`  trust ${verdict.trust.reason}`);
    out(`result      ${terminalSafe(opened.result.output).trimEnd().split('\n').join('\n            ')}`);
    if (opened.stderr_tail?.text) out(`stderr      ${terminalSafe(opened.stderr_tail.text).trimEnd().split('\n').join('\n            ')}`);
    out(`opened      matches the certificate's commitment result_hash ${certificate.result.result_hash}`);
    out('            (to show it to someone: ephemera open --json prints salt, result and stderr_tail; their JCS hashes to it)');
  }
  return exitCodeOf(verdict);
}
