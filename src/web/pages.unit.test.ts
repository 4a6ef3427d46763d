/**
 * The page's words for what the verifier reports: every check the verifier
 * can name has plain words, and a run's outcome is read from a certificate
 * file without reading the whole file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_ORDER } from '../verify/index.js';
import { verifyTdxAttestation } from '../attest/verify-tdx.js';
import { trimQuote } from '../attest/tdx-quote.js';
import { TDX_TESTDATA } from '../attest/testing/dstack-standins.js';
import { plainCheckName } from '../../web/src/check-names.js';
import { describeOutcome, outcomeOf, readOutcome } from '../../web/src/outcome.js';

describe('plainCheckName', () => {
  it('has plain words for every check the verifier and the TDX verifier report, and shows an unknown id as it is', () => {
    const read = (f: string) => readFileSync(join(TDX_TESTDATA, f));
    const quote = Buffer.from(trimQuote(read('tdx_quote')));
    // The real quote at its pinned time runs every TDX check (the compose hash fails: no log names it).
    const tdx = verifyTdxAttestation(
      { type: 'tdx', quote: quote.toString('hex'), collateral: JSON.parse(read('tdx_quote_collateral.json').toString()), event_log: [] },
      quote.subarray(48 + 520, 48 + 584),
      { trustedComposeHashes: [], allowedTcbStatuses: [], atSeconds: 1750400000 },
    ).map((c) => `attestation.${c.name}`);
    expect(tdx).toHaveLength(8);
    for (const id of [...CHECK_ORDER, ...tdx]) expect(plainCheckName(id), id).not.toBe(id);
    expect(plainCheckName('events')).toBe('Events link into one unbroken chain, in the order a run goes');
    expect(plainCheckName('attestation.future_check')).toBe('attestation.future_check');
    expect(plainCheckName('__proto__')).toBe('__proto__');
  });
});

describe('describeOutcome', () => {
  it('names the failure code with its meaning and the exit code', () => {
    const outcome = outcomeOf({ status: 'failed', result: { exit_code: 3, error_code: 'EXECUTION_NONZERO_EXIT' } as never });
    expect(describeOutcome(outcome)).toBe('failed — EXECUTION_NONZERO_EXIT (the entry script exited with a non-zero status), exit code 3');
  });

  it('takes no prose from the certificate: an unknown code is shown bare, and a missing exit code said so', () => {
    const outcome = outcomeOf({ status: 'failed', result: { exit_code: null, error_code: 'toString' } as never });
    expect(describeOutcome(outcome)).toBe('failed — toString, no exit code');
  });
});

/** A file as a stream of chunks that counts how many were read. */
function countingFile(chunks: string[]): { file: Blob; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled === chunks.length) return controller.close();
        controller.enqueue(new TextEncoder().encode(chunks[pulled]!));
        pulled += 1;
      },
    },
    { highWaterMark: 0 },
  );
  return { file: { stream: () => stream } as unknown as Blob, pulled: () => pulled };
}

const HEAD = '{"certificate_id":"cert_x","status":"failed",';
const RESULT = '"result":{"exit_code":3,"error_code":"EXECUTION_NONZERO_EXIT","output":"half done\\n"},';
const EVENTS = ['"events":[', '{"seq":0},', '{"seq":1},', '{"seq":2}', ']}'];

describe('readOutcome', () => {
  it('reads status and result and stops there, before the events', async () => {
    const { file, pulled } = countingFile([HEAD, RESULT, ...EVENTS]);
    expect(await readOutcome(file)).toEqual({ status: 'failed', exitCode: 3, errorCode: 'EXECUTION_NONZERO_EXIT' });
    expect(pulled()).toBe(2);
  });

  it('finds them after the events too', async () => {
    const { file } = countingFile(['{"events":[{"seq":0},', '{"seq":1}],', RESULT, '"status":"completed"}']);
    expect(await readOutcome(file)).toEqual({ status: 'completed', exitCode: 3, errorCode: 'EXECUTION_NONZERO_EXIT' });
  });

  it('gives null for a file that is not strict JSON or lacks either member', async () => {
    expect(await readOutcome(countingFile(['{"status":"failed","status":"completed",', RESULT, '"events":[]}']).file)).toBeNull();
    expect(await readOutcome(countingFile([HEAD, '"events":[]}']).file)).toBeNull();
    expect(await readOutcome(countingFile(['not json']).file)).toBeNull();
  });
});
