/**
 * This node's name among the nodes that share one Kafka log: EPHEMERA_NODE_ID,
 * or a random id made once and kept in the data directory, so a restarted
 * node is the same node (it finds its own unfinished runs, its projection
 * consumer group resumes where it stopped).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EphemeraError } from './errors.js';

export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NODE_ID_FILE = 'node-id';

export function nodeIdOf(config: { nodeId: string | null; dataDir: string }): string {
  if (config.nodeId !== null) return config.nodeId;
  const path = join(config.dataDir, NODE_ID_FILE);
  let stored: string;
  try {
    stored = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    stored = `node-${randomBytes(6).toString('hex')}`;
    // wx: two processes starting on one fresh data dir cannot both write a name; the loser reads the winner's.
    try {
      writeFileSync(path, `${stored}\n`, { flag: 'wx', mode: 0o600 });
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      stored = readFileSync(path, 'utf8').trim();
    }
  }
  if (!NODE_ID_PATTERN.test(stored))
    throw new EphemeraError('CONFIG_INVALID', `${path} does not hold a node id (${NODE_ID_PATTERN.source}): delete it or set EPHEMERA_NODE_ID`);
  return stored;
}

/** Every node projects every partition into its own read model: one consumer group per node. */
export const projectionGroupOf = (nodeId: string) => `ephemera-projections.${nodeId}`;
