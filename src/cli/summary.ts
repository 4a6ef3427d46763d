/**
 * What `run` and `submit` share: reading the sandbox file (scripts given as
 * {"file": …} are read in) and printing an issued certificate's summary.
 * Apart from run.ts so that `submit` does not load the services `run` needs.
 */
import { dirname, resolve } from 'node:path';
import { EphemeraError } from '../errors.js';
import { toolUseText, type Certificate, type Verdict } from '../verify/index.js';
import { terminalSafe } from './common.js';
import { readInput } from './files.js';

/** SANDBOX.json, with each {"file": path} script (relative to the file) read into the request. */
export function readSandbox(path: string): unknown {
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

/** The human summary of a certificate and its verdict, on stdout. */
export function printCertificateSummary(certificate: Certificate, verdict: Verdict, savedAt: string | null, resultKeyFile?: string): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`certificate ${certificate.certificate_id}`);
  out(
    `status      ${certificate.status}${certificate.result.error_code ? ` (${certificate.result.error_code})` : ''}, ${certificate.result.exit_code === null ? 'no exit code (killed)' : `exit code ${certificate.result.exit_code}`}`,
  );
  const sealed = certificate.result.sealed;
  if (sealed)
    out(
      `result      sealed to ${sealed.recipient} (commitment ${certificate.result.result_hash}; open it: ephemera open ${savedAt ?? 'CERT.json'} --key ${resultKeyFile ?? 'KEYFILE'})`,
    );
  else out(`result      ${terminalSafe(certificate.result.output).trim().split('\n').slice(0, 20).join('\n            ')}`);
  const tail = certificate.result.stderr_tail;
  if (tail?.text) {
    const lines = terminalSafe(tail.text).trimEnd().split('\n').slice(-20);
    if (tail.truncated) lines.push(`(the last ${Buffer.byteLength(tail.text)} of ${tail.bytes} bytes)`);
    out(`stderr      ${lines.join('\n            ')}`);
  }
  const tools = toolLines(certificate);
  if (tools.length > 0) out(`tools       ${tools.join('\n            ')}`);
  out(
    `verified    ${verdict.valid ? `yes, ${verdict.trust.basis === 'local-key' ? "signed by this machine's own key" : verdict.trusted ? 'trusted' : 'NOT trusted'}` : `NO — ${verdict.failure?.code} at ${verdict.failure?.field}`} (${verdict.tee} attestation${verdict.tee === 'simulated' ? ', not hardware-backed' : ''})`,
  );
  if (verdict.key) out(`key         ${verdict.key.fingerprint} (readers pin it: ephemera trust add ${verdict.key.fingerprint})`);
  const logged = verdict.transparency;
  if (logged)
    out(
      `logged      leaf ${logged.leaf_index} of ${logged.tree_size} in ${terminalSafe(logged.origin)}${logged.prev === null ? '' : `, the run after leaf ${logged.prev} of the same computation`}`,
    );
  const rows = rowsLine(verdict.rows);
  if (rows) out(`rows        ${rows}`);
  if (savedAt) out(`saved       ${savedAt}`);
}

/** What a certificate says of its row commitment (docs/row-proofs.md §3), one line; null when it says nothing or was not asked. */
export function rowsLine(rows: Verdict['rows']): string | null {
  if (rows === null || (!rows.committed && rows.reason === 'not_requested')) return null;
  if (!rows.committed) return `not committed (${rows.reason}): the dataset is committed by its hash alone`;
  const order = rows.sorted_by === null ? 'in input order' : `sorted by ${terminalSafe(JSON.stringify(rows.sorted_by))}`;
  return `${rows.count} ${rows.format} record${rows.count === 1 ? '' : 's'} committed ${order}, root ${rows.root} (ephemera prove proves some of them with the run's secret)`;
}

/** At most this many tool_uses rows are printed; the certificate has them all. */
const MAX_TOOL_LINES = 20;

/** One line per tool_uses row (docs/sql-tool.md §8 for sql rows), names made printable; cut after MAX_TOOL_LINES. */
export function toolLines(certificate: Certificate): string[] {
  const uses = certificate.execution_trace.tool_uses;
  const lines = uses.slice(0, MAX_TOOL_LINES).map((use) => terminalSafe(toolUseText(use)).replace(/\n/g, '\\n'));
  if (uses.length > MAX_TOOL_LINES) lines.push(`… and ${uses.length - MAX_TOOL_LINES} more (the certificate's execution_trace.tool_uses)`);
  return lines;
}
