/**
 * `ephemera projections rebuild` on Kafka: the read model emptied and
 * re-projected from offset 0 of every partition. This node's consumer group
 * is reset to the earliest offsets (with `serve` stopped: a group with live
 * members cannot be reset), then consumed until it has caught up with the
 * offsets that existed when the rebuild started. The log stays the source of
 * truth; the result has the digest of any other node that projected it.
 */
import type { Kafka } from 'kafkajs';
import { EphemeraError } from '../../errors.js';
import type { EventEnvelope } from '../../events/index.js';
import { startKafkaFeed } from './kafka-feed.js';

export interface KafkaRebuildTarget {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Empties what the rebuild refills (the projection tables, the local event mirror). */
  clear: () => Promise<void>;
  project: (events: EventEnvelope[]) => Promise<void>;
}

export async function rebuildFromKafka(target: KafkaRebuildTarget, timeoutMs = 600_000): Promise<{ events: number }> {
  const admin = target.kafka.admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([target.groupId])).groups;
    if (group && group.state !== 'Empty' && group.state !== 'Dead')
      throw new EphemeraError(
        'PROJECTIONS_GROUP_ACTIVE',
        `consumer group ${target.groupId} has live members (${group.state}): stop ephemera serve on this node first`,
      );
    await target.clear();
    // A group that never committed has nothing to reset: it starts from the beginning anyway (fromBeginning).
    if (group && group.state === 'Empty') await admin.resetOffsets({ groupId: target.groupId, topic: target.topic, earliest: true });
  } finally {
    await admin.disconnect();
  }
  let events = 0;
  const feed = await startKafkaFeed(target.kafka, target.topic, target.groupId, async (batch) => {
    await target.project(batch);
    events += batch.length;
  });
  try {
    await feed.caughtUp(timeoutMs);
  } finally {
    await feed.stop();
  }
  return { events };
}
