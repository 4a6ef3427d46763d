/** Group commit of Kafka appends: what shares a request, when a step counts as acknowledged, where it landed. */
import type { Message, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { batchLimitsFor, DEFAULT_BATCH_LIMITS, ProduceBatcher, type Placed } from './kafka-batcher.js';

/** A fake broker: records each request and lets the test acknowledge or fail it. */
function fakeBroker() {
  const requests: { messages: Message[]; ack(meta: RecordMetadata[]): void; fail(error: Error): void }[] = [];
  const offsets = new Map<number, number>();
  const send = (messages: Message[]) =>
    new Promise<RecordMetadata[]>((ack, fail) => {
      requests.push({ messages, ack, fail });
    });
  /** Acknowledges request `i` the way a broker would: one base offset per partition it carried. */
  const acknowledge = (i: number) => {
    const request = requests[i]!;
    const counts = new Map<number, number>();
    for (const m of request.messages) counts.set(m.partition!, (counts.get(m.partition!) ?? 0) + 1);
    const meta = [...counts].map(([partition, n]) => {
      const base = offsets.get(partition) ?? 0;
      offsets.set(partition, base + n);
      return { topicName: 't', partition, errorCode: 0, baseOffset: String(base) };
    });
    request.ack(meta);
  };
  return { requests, send, acknowledge };
}

const messages = (step: string, n: number): Message[] => Array.from({ length: n }, (_, i) => ({ key: step, value: `${step}-${i}` }));
const tick = () => new Promise((resolve) => setImmediate(resolve));
const state = <T>(promise: Promise<T>) => {
  const seen: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(seen, { value, settled: true }),
    (error) => Object.assign(seen, { error, settled: true }),
  );
  return seen;
};

describe('ProduceBatcher', () => {
  describe('when steps arrive while a request is in flight', () => {
    it('sends them together in the next request, each whole and in submission order', async () => {
      const broker = fakeBroker();
      const batcher = new ProduceBatcher(broker.send);
      const first = batcher.submit(0, messages('a', 2));
      await tick();
      expect(broker.requests).toHaveLength(1);
      const later = [batcher.submit(0, messages('b', 3)), batcher.submit(1, messages('c', 1)), batcher.submit(0, messages('d', 2))];
      await tick();
      expect(broker.requests).toHaveLength(1);
      broker.acknowledge(0);
      await first;
      await tick();
      expect(broker.requests).toHaveLength(2);
      expect(broker.requests[1]!.messages.map((m) => [m.partition, m.value])).toEqual([
        [0, 'b-0'],
        [0, 'b-1'],
        [0, 'b-2'],
        [1, 'c-0'],
        [0, 'd-0'],
        [0, 'd-1'],
      ]);
      broker.acknowledge(1);
      expect(await Promise.all(later)).toEqual<Placed[]>([
        { partition: 0, firstOffset: 2n },
        { partition: 1, firstOffset: 0n },
        { partition: 0, firstOffset: 5n },
      ]);
    });

    it('sends steps submitted in the same turn of the event loop in one request', async () => {
      const broker = fakeBroker();
      const batcher = new ProduceBatcher(broker.send);
      const steps = [batcher.submit(0, messages('a', 1)), batcher.submit(0, messages('b', 1))];
      await tick();
      expect(broker.requests).toHaveLength(1);
      broker.acknowledge(0);
      expect((await Promise.all(steps)).map((p) => p.firstOffset)).toEqual([0n, 1n]);
    });
  });

  describe('when the next step is submitted the moment the previous one is acknowledged', () => {
    it('sends it (a drain that just found the queue empty must not strand it)', async () => {
      const acknowledgeAtOnce = async (sent: Message[]) => [
        { topicName: 't', partition: 0, errorCode: 0, baseOffset: String(sent[0]!.value === 'a-0' ? 0 : 1) },
      ];
      const batcher = new ProduceBatcher(acknowledgeAtOnce);
      const second = batcher.submit(0, messages('a', 1)).then(() => batcher.submit(0, messages('b', 1)));
      await expect(second).resolves.toEqual({ partition: 0, firstOffset: 1n });
    }, 2000);
  });

  describe('when a request is not yet acknowledged', () => {
    it('keeps every step in it pending: a step proceeds only once acknowledged', async () => {
      const broker = fakeBroker();
      const batcher = new ProduceBatcher(broker.send);
      const step = state(batcher.submit(0, messages('a', 1)));
      for (let i = 0; i < 5; i++) await tick();
      expect(step.settled).toBe(false);
      broker.acknowledge(0);
      await tick();
      expect(step).toEqual({ settled: true, value: { partition: 0, firstOffset: 0n } });
    });
  });

  describe('when a request fails', () => {
    it('fails every step it carried, and only those; the steps queued behind it are still sent', async () => {
      const broker = fakeBroker();
      const batcher = new ProduceBatcher(broker.send);
      const failing = [batcher.submit(0, messages('a', 1)), batcher.submit(0, messages('b', 1))];
      await tick();
      const behind = batcher.submit(0, messages('c', 1));
      const broken = new Error('broker gone');
      broker.requests[0]!.fail(broken);
      for (const step of failing) await expect(step).rejects.toBe(broken);
      await tick();
      expect(broker.requests[1]!.messages.map((m) => m.value)).toEqual(['c-0']);
      broker.acknowledge(1);
      await expect(behind).resolves.toEqual({ partition: 0, firstOffset: 0n });
    });

    it('fails a step whose partition the broker acknowledged no offset for', async () => {
      const broker = fakeBroker();
      const batcher = new ProduceBatcher(broker.send);
      const step = batcher.submit(3, messages('a', 1));
      await tick();
      broker.requests[0]!.ack([{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '0' }]);
      await expect(step).rejects.toThrow(/no offset for partition 3/);
    });
  });

  describe('when the queued steps exceed the request limits', () => {
    it('splits between steps, never inside one, and sends a step above the limits alone', async () => {
      const broker = fakeBroker();
      const batcher = new ProduceBatcher(broker.send, { maxBytes: 1000, maxMessages: 4 });
      const steps = [
        batcher.submit(0, messages('a', 3)),
        batcher.submit(0, messages('b', 2)),
        batcher.submit(0, messages('c', 6)),
        batcher.submit(0, messages('d', 1)),
      ];
      const sizes: number[] = [];
      for (let i = 0; i < 4; i++) {
        await tick();
        sizes.push(broker.requests[i]!.messages.length);
        broker.acknowledge(i);
        await steps[i];
      }
      expect(sizes).toEqual([3, 2, 6, 1]);
      expect((await Promise.all(steps)).map((p) => p.firstOffset)).toEqual([0n, 3n, 5n, 11n]);
    });
  });
});

describe('batchLimitsFor', () => {
  it("keeps a request under the topic's max.message.bytes, and never above the default", () => {
    expect(batchLimitsFor(20_000)).toEqual({ ...DEFAULT_BATCH_LIMITS, maxBytes: 20_000 - 1024 });
    expect(batchLimitsFor(10 * 1024 * 1024)).toEqual(DEFAULT_BATCH_LIMITS);
    for (const unknown of [null, 0, 512, Number.NaN, 2 ** 60]) expect(batchLimitsFor(unknown)).toEqual(DEFAULT_BATCH_LIMITS);
  });
});
