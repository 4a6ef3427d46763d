import { describe, expect, it } from 'vitest';
import { EphemeraError } from '../../errors.js';
import { data, streamChain } from '../../events/testing/stream.js';
import type { EventEnvelope } from '../../events/index.js';
import type { LocalRun } from '../../events/local-runs.js';
import { LiveRuns } from './live-runs.js';

const ID = '01JD7ZX3Q4M5N6P7R8S9T0LIVE';

function collector() {
  const seen: EventEnvelope[] = [];
  const ends: LocalRun[] = [];
  return { seen, ends, follower: { events: (batch: readonly EventEnvelope[]) => seen.push(...batch), end: (run: LocalRun) => ends.push(run) } };
}

describe('the registry of async runs', () => {
  it('follows a run from queued to certified: late followers get what was recorded, then each batch, then the end', () => {
    const runs = new LiveRuns({ max: 10, retentionMs: 1000 });
    const { next } = streamChain(ID);
    runs.add(ID);
    expect(runs.get(ID)).toMatchObject({ state: 'queued', events: 0, lastEvent: null });
    runs.started(ID);
    const first = next('execution.requested', data.requested());
    runs.recorded(ID, [first]);
    const late = collector();
    const followed = runs.follow(ID, late.follower)!;
    expect(followed.recorded).toEqual([first]);
    const second = next('dataset.loaded', data.loaded());
    runs.recorded(ID, [second]);
    expect(late.seen).toEqual([second]);
    expect(runs.get(ID)).toMatchObject({ state: 'running', events: 2, lastEvent: second });
    runs.certified(ID, `cert_${ID}`);
    expect(late.ends).toEqual([expect.objectContaining({ state: 'certified', certificateId: `cert_${ID}`, events: 2 })]);
    expect(runs.followerCount()).toBe(0);
    expect(runs.follow(ID, collector().follower)).toBeNull();
  });

  it('says refused for a run that recorded nothing and aborted for one that did, with the code and only safe words', () => {
    const runs = new LiveRuns({ max: 10, retentionMs: 1000 });
    runs.add('A');
    runs.failed('A', new EphemeraError('DATASET_URL_LOOPBACK', 'the dataset URL leads to loopback'));
    expect(runs.get('A')).toMatchObject({ state: 'refused', error: { code: 'DATASET_URL_LOOPBACK', message: 'the dataset URL leads to loopback' } });
    runs.add('B');
    runs.recorded('B', [streamChain(ID).next('execution.requested', data.requested())]);
    runs.failed('B', new EphemeraError('LOG_APPEND_FAILED', 'broker said secret things'));
    expect(runs.get('B')!.state).toBe('aborted');
    expect(runs.get('B')!.error!.code).toBe('LOG_APPEND_FAILED');
    expect(runs.get('B')!.error!.message).not.toContain('secret');
    runs.add('C');
    runs.failed('C', new Error('anything'));
    expect(runs.get('C')!.error!.code).toBe('INTERNAL');
  });

  it('is bounded: finished runs expire after the retention, the oldest finished run makes room, and a registry full of live runs refuses', () => {
    let now = 0;
    const runs = new LiveRuns({ max: 2, retentionMs: 100, now: () => now });
    runs.add('A');
    runs.certified('A', 'cert_A');
    now = 50;
    runs.add('B');
    runs.add('C'); // full: A (finished) makes room
    expect(runs.get('A')).toBeNull();
    expect(() => runs.add('D')).toThrow(expect.objectContaining({ code: 'EXECUTION_REGISTRY_FULL' }));
    runs.certified('B', 'cert_B');
    now = 149;
    expect(runs.get('B')).not.toBeNull();
    now = 150;
    expect(runs.get('B')).toBeNull();
  });

  it('drops a follower that stops', () => {
    const runs = new LiveRuns({ max: 2, retentionMs: 100 });
    runs.add(ID);
    const followed = runs.follow(ID, collector().follower)!;
    expect(runs.followerCount()).toBe(1);
    followed.stop();
    expect(runs.followerCount()).toBe(0);
  });
});
