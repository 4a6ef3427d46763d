/**
 * The run's result as recorded in execution.completed / execution.failed:
 * the entry script's stdout (or the LLM's answer) as UTF-8, capped; a JSON
 * object found in it is exposed as `json`.
 *   result_hash = SHA-256(JCS(result))   over the recorded (capped) result
 * A failing entry script's stderr tail goes beside it (execution.failed.stderr_tail),
 * committed by the event's hash.
 */
import { canonicalize, hashUtf8, type Hash, type RunResult, type StderrTail } from '../../events/index.js';
import { checkJsonValue } from '../../verify/index.js';
import { PROTOCOL } from '../../sandbox/protocol.js';
import type { KilledBy } from '../../sandbox/types.js';

export const RESULT_MAX_BYTES = 64 * 1024;

export function buildResult(output: Uint8Array | string, alreadyTruncated = false): { result: RunResult; resultHash: Hash } {
  const bytes = typeof output === 'string' ? new TextEncoder().encode(output) : output;
  const capped = bytes.length > RESULT_MAX_BYTES ? bytes.subarray(0, RESULT_MAX_BYTES) : bytes;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(capped);
  const result: RunResult = { output: text, bytes: bytes.length, truncated: alreadyTruncated || capped.length < bytes.length, json: jsonObjectIn(text) };
  return { result, resultHash: hashUtf8(canonicalize(result)) };
}

/** How much of a failing script's stderr is kept: enough for a traceback's last frames and its message. */
export const STDERR_TAIL_MAX_BYTES = PROTOCOL.stderr_tail_bytes;

/**
 * The last STDERR_TAIL_MAX_BYTES of stderr (the supervisor keeps them apart from the capped head) as UTF-8, starting on
 * a character boundary (continuation bytes at the cut are dropped, never
 * decoded as U+FFFD). `bytes` is everything the script wrote to stderr;
 * `truncated` says the text is not all of it (cut here, or at the capture cap).
 */
export function stderrTail(captured: Uint8Array, totalBytes: number): StderrTail {
  let start = Math.max(0, captured.length - STDERR_TAIL_MAX_BYTES);
  // Cut inside the stream (here, or by the supervisor keeping only its end): a character's dangling continuation bytes go.
  if (start > 0 || captured.length < totalBytes) {
    const lead = start;
    while (start < captured.length && start - lead < 3 && (captured[start]! & 0xc0) === 0x80) start++;
  }
  const tail = captured.subarray(start);
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(tail), bytes: totalBytes, truncated: tail.length < totalBytes };
}

/**
 * How deep a result's own JSON may nest: well inside what any verifier reads
 * (64 levels for the whole certificate, the result's JSON starting at 6).
 */
const RESULT_JSON_LIMITS = { maxDepth: 32, maxStringLength: 1 << 20 };

/**
 * The whole output if it is a JSON object, else the last line that is one;
 * else null. A candidate a certificate could not carry as written (an
 * unpaired surrogate, a number no double holds, nesting past the bound) is
 * no candidate: the output stays text and the certificate still verifies.
 */
export function jsonObjectIn(text: string): Record<string, unknown> | null {
  const candidates = [
    text.trim(),
    ...text
      .trim()
      .split('\n')
      .reverse()
      .map((l) => l.trim()),
  ];
  const fenced = /```(?:json)?\s*(\{[\s\S]*?\})\s*```/.exec(text);
  if (fenced) candidates.splice(1, 0, fenced[1]!);
  for (const candidate of candidates) {
    if (!candidate.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(candidate);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        checkJsonValue(value, RESULT_JSON_LIMITS);
        return value as Record<string, unknown>;
      }
    } catch {
      // not JSON: keep looking (the parse error quotes its input, so it is never forwarded)
    }
  }
  return null;
}

const KILLED_CODES: Record<Exclude<KilledBy, null>, string> = {
  timeout: 'EXECUTION_TIMEOUT',
  memory: 'EXECUTION_OUT_OF_MEMORY',
  pids: 'EXECUTION_PIDS_LIMIT',
  output_limit: 'EXECUTION_OUTPUT_LIMIT',
  disk: 'EXECUTION_DISK_LIMIT',
  cpu: 'EXECUTION_CPU_LIMIT',
  sandbox_lost: 'EXECUTION_SANDBOX_LOST',
};

export function failureCode(exitCode: number | null, killedBy: KilledBy): string | null {
  if (killedBy) return KILLED_CODES[killedBy];
  return exitCode === 0 ? null : 'EXECUTION_NONZERO_EXIT';
}
