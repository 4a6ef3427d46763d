/**
 * ephemera run --dataset FILE --sandbox SANDBOX.json [--format csv|json|txt] [--out CERT.json]
 *              [--rows input|none|sorted:KEY] [--row-secret FILE] [--quiet] [--json]
 * Runs in-process on the configured stores. Exit 0: certified and the
 * computation exited 0; 3: certified but it failed; 2: bad input (or the
 * certificate could not be written to --out: it is kept in the data
 * directory, and the message says where); 1: internal error, no certificate.
 * In SANDBOX.json a script may be given as {"file": "path"} (relative to
 * SANDBOX.json); it is read into the request.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { errorInfo } from '../error-codes.js';
import { createServices, type Services } from '../services.js';
import { execute, executeSummary, parseExecuteRequest } from '../commands/execute/index.js';
import { certificateJson, verifyCertificate, type Certificate } from '../verify/index.js';
import { configOf, datasetFormatOf, EXIT, note, printJson, progressReporter } from './common.js';
import { keepCertificate, readInput } from './files.js';
import { reportSteps } from './steps.js';
import { printCertificateSummary, readSandbox } from './summary.js';
import { reserveRowSecret } from './row-secret.js';
import { SECRET_BYTES, sortKeyFits } from '../rows/index.js';
import type { RowsRequest } from '../seal/index.js';

export interface RunOptions {
  dataset: string;
  sandbox: string;
  format?: string;
  out?: string;
  allowEmpty?: boolean;
  rows?: RowsRequest;
  rowSecret?: string;
  quiet?: boolean;
  json?: boolean;
}

/** The `run` command (declared in cli.ts); its exit code. */
export async function run(options: RunOptions, command: Command): Promise<number> {
  const format = datasetFormatOf(options.dataset, options.format);
  const progress = progressReporter(options.quiet);
  const config = configOf(command);
  const sandbox = readSandbox(options.sandbox);
  const dataset = readInput(options.dataset, 'dataset');
  progress(`read the dataset (${dataset.length} bytes)`);
  const request = parseExecuteRequest({
    dataset: {
      data: `base64:${dataset.toString('base64')}`,
      format,
      ...(options.allowEmpty ? { allow_empty: true } : {}),
      ...(options.rows === undefined ? {} : { rows: options.rows }),
    },
    sandbox,
  });
  // A run is spent once: a sort key the data does not have would only come back as rows_absent sort_key_invalid.
  const rows = options.rows;
  if (typeof rows === 'object' && format !== 'txt' && !sortKeyFits(format, dataset, rows.sorted_by))
    throw new EphemeraError(
      'CLI_USAGE',
      `--rows sorted:${JSON.stringify(rows.sorted_by)}: ${format === 'csv' ? 'the header does not name that column exactly once' : 'the first record has no string member of that name'}; nothing was run`,
    );
  dataset.fill(0);
  // Drawn here, kept (hex) only to be written to --row-secret: the run zeroes its own copy with the dataset.
  const rowSecret = randomBytes(SECRET_BYTES);
  const rowSecretHex = options.rowSecret === undefined ? null : rowSecret.toString('hex');
  const secretFile = reserveRowSecret(options.rowSecret, options.rows, options.out);

  const services = await createServices(config).catch((error: unknown) => {
    secretFile.release();
    throw error;
  });
  try {
    progress(`running once in a sandbox (${services.attestor.kind} TEE, ${services.log.kind} log)`);
    const certificate = await withTransparency(
      services,
      (await execute(request, { ...services, rowSecret, onEvents: (batch) => reportSteps(batch, progress) })).certificate,
      progress,
    );
    const verdict = await verifyCertificate(certificate, services.verifyOptions);
    if (rowSecretHex !== null && certificate.dataset.rows) {
      secretFile.write(rowSecretHex);
      progress(`wrote the row secret to ${options.rowSecret} (mode 0600): ephemera prove makes row proofs with it`);
    } else if (certificate.dataset.rows) progress("the run's row secret was not kept (give --row-secret FILE to prove rows of a run later)");
    else if (certificate.dataset.rows_absent && certificate.dataset.rows_absent.reason !== 'not_requested')
      progress(`the records are not committed (${certificate.dataset.rows_absent.reason}): the dataset is committed by its hash alone`);
    const kept = keepCertificate(certificateJson(certificate, 2), certificate.certificate_id, options.out, config.dataDir);
    const onStdout = kept.error !== null && kept.path === null;
    if (options.json)
      printJson({
        ...executeSummary(certificate),
        verification: { valid: verdict.valid, trusted: verdict.trusted, status: verdict.status, key: verdict.key, failure: verdict.failure },
        rows: verdict.rows,
        row_secret_file: certificate.dataset.rows && options.rowSecret !== undefined ? options.rowSecret : null,
        certificate_file: kept.path,
        ...(kept.error ? { out_error: { code: kept.error.code, message: kept.error.message } } : {}),
        ...(onStdout ? { certificate } : {}),
      });
    else {
      printCertificateSummary(certificate, verdict, kept.path);
      if (onStdout) process.stdout.write(`${certificateJson(certificate, 2)}\n`);
    }
    if (kept.error) note(`error ${kept.error.code}: ${kept.error.message}`);
    if (!verdict.valid) return EXIT.internal;
    if (kept.error) return errorInfo(kept.error.code).exit;
    return certificate.status === 'completed' ? EXIT.ok : EXIT.computationFailed;
  } finally {
    secretFile.release();
    await services.close();
  }
}

/**
 * The certificate with its inclusion proof, when this process sequences the log (the embedded default): one round
 * of the sequencer, then the proof (docs/transparency.md §12), so the file written is the offline bundle. A log that
 * cannot take it now leaves it to the next `serve` or `run`, which logs every sealed certificate not yet logged.
 */
async function withTransparency(services: Services, certificate: Certificate, progress: (line: string) => void): Promise<Certificate> {
  const tlog = services.tlog;
  if (!tlog?.sequencer || certificate.events.at(-1)?.type !== 'certificate.sealed') return certificate;
  try {
    await tlog.sequencer.tick();
    const transparency = await tlog.transparencyOf(certificate.certificate_id);
    if (!transparency) return certificate;
    progress(
      `logged as leaf ${transparency.leaf_index} of the transparency log ${transparency.leaf.prev === null ? '' : `(the previous run: leaf ${transparency.leaf.prev})`}`.trim(),
    );
    return { ...certificate, transparency };
  } catch (error) {
    note(`not logged yet (${isEphemeraError(error) ? error.code : 'INTERNAL'}): the next ephemera serve or run logs it`);
    return certificate;
  }
}
