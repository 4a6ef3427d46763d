import { describe, expect, it } from 'vitest';
import { EventChain } from './envelope.js';
import { DEFAULT_LEASE_MS, streamState } from './stream-state.js';
import { runEvents } from './testing/stream.js';

describe('streamState', () => {
  const open = runEvents().slice(0, 3);
  const requested = Date.parse(open[0]!.at);
  const timeout = (open[0]!.data as { sandbox: { limits: { timeout_seconds: number } } }).sandbox.limits.timeout_seconds;
  const deadline = Math.max(Date.parse(open.at(-1)!.at), requested + timeout * 1000);

  it('names an aborted stream by its last event, whatever the time', () => {
    const aborted = [...open, EventChain.resume(open.at(-1)!).next('execution.aborted', { reason: 'executor_restarted', last_seq: 2, error_code: null })];
    expect(streamState(aborted, deadline + 10 * DEFAULT_LEASE_MS)).toBe('aborted');
  });

  it('keeps an open stream running until its declared deadline plus the lease, then calls it abandoned', () => {
    expect(timeout).toBeGreaterThan(0);
    expect(streamState(open, deadline + DEFAULT_LEASE_MS)).toBe('running');
    expect(streamState(open, deadline + DEFAULT_LEASE_MS + 1)).toBe('abandoned');
    expect(streamState(open, deadline + 10, 10)).toBe('running');
    expect(streamState(open, deadline + 11, 10)).toBe('abandoned');
  });

  it('counts from the last event when a run was heard from after its deadline (sealing, destruction)', () => {
    const late = Date.parse(open.at(-1)!.at) + 1;
    expect(streamState(open, Math.max(late, deadline) + 5, 10)).toBe('running');
  });
});
