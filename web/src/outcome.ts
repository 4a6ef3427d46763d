/**
 * How the run went, as a certificate records it (`status` and `result`), apart
 * from whether the certificate itself holds: a valid certificate of a failed
 * run is an honest record of a failure, not a success.
 */
import type { Certificate } from '../../src/verify/index.js';
import { ERROR_REGISTRY } from '../../src/error-codes.js';
import { StrictObjectStream, parseStrictJson } from '../../src/events/index.js';

export interface RunOutcome {
  status: string;
  exitCode: number | null;
  errorCode: string | null;
}

export function outcomeOf(certificate: Pick<Certificate, 'status' | 'result'>): RunOutcome {
  const result = (certificate.result ?? {}) as Partial<Certificate['result']>;
  return {
    status: typeof certificate.status === 'string' ? certificate.status : 'unknown',
    exitCode: typeof result.exit_code === 'number' ? result.exit_code : null,
    errorCode: typeof result.error_code === 'string' ? result.error_code : null,
  };
}

/** What a failure code means in plain words, for codes this page knows (the certificate's text is never taken as prose). */
export function failureMeaning(code: string | null): string | null {
  return code !== null && Object.hasOwn(ERROR_REGISTRY, code) ? ERROR_REGISTRY[code as keyof typeof ERROR_REGISTRY].message : null;
}

/** One line: "failed — EXECUTION_NONZERO_EXIT (the entry script exited with a non-zero status), exit code 1". */
export function describeOutcome(outcome: RunOutcome): string {
  const meaning = failureMeaning(outcome.errorCode);
  const parts = [
    outcome.errorCode ? `${outcome.errorCode}${meaning ? ` (${meaning})` : ''}` : null,
    outcome.exitCode === null ? 'no exit code' : `exit code ${outcome.exitCode}`,
  ].filter((x): x is string => x !== null);
  return `${outcome.status} — ${parts.join(', ')}`;
}

/**
 * Reads `status` and `result` from a certificate file, strictly, and stops
 * as soon as both are seen (they come before `events` in what Ephemera
 * writes), so a large file is not read twice. Only called once the file
 * verified, which means those members match the events.
 */
export async function readOutcome(file: Blob): Promise<RunOutcome | null> {
  const members = new Map<string, string>();
  const stream = new StrictObjectStream('events', {
    name: () => undefined,
    member: (name, text) => {
      if (name === 'status' || name === 'result') members.set(name, text);
    },
    arrayOpened: () => undefined,
    elementStarting: () => undefined,
    element: () => undefined,
  });
  const reader = file.stream().getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    while (members.size < 2) {
      const { done, value } = await reader.read();
      if (done) break;
      stream.push(decoder.decode(value, { stream: true }));
    }
  } catch {
    return null;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (members.size < 2) return null;
  return outcomeOf({
    status: parseStrictJson(members.get('status')!) as Certificate['status'],
    result: parseStrictJson(members.get('result')!) as Certificate['result'],
  });
}
