import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_ID_PATTERN, nodeIdOf, projectionGroupOf } from './node-identity.js';

describe('node identity', () => {
  it('is made once and kept in the data directory, so a restarted node is the same node', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ephemera-node-'));
    const first = nodeIdOf({ nodeId: null, dataDir });
    expect(first).toMatch(NODE_ID_PATTERN);
    expect(nodeIdOf({ nodeId: null, dataDir })).toBe(first);
    expect(readFileSync(join(dataDir, 'node-id'), 'utf8').trim()).toBe(first);
    expect(nodeIdOf({ nodeId: 'node-a', dataDir })).toBe('node-a');
  });

  it('refuses a stored id it did not make', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ephemera-node-'));
    writeFileSync(join(dataDir, 'node-id'), '../../etc\n');
    expect(() => nodeIdOf({ nodeId: null, dataDir })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('gives each node its own projection consumer group', () => {
    expect(projectionGroupOf('node-a')).not.toBe(projectionGroupOf('node-b'));
  });
});
