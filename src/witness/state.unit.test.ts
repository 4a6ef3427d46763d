import { codeOfAsync } from '../tlog/testing/code-of.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBase64 } from '../tlog/lines.js';
import { loadWitnessKey, lockStateDir } from './key.js';
import { type CosignedCheckpoint, WitnessState } from './state.js';
import { TestLog } from './testing/test-log.js';

const root = mkdtempSync(join(tmpdir(), 'ephemera-witness-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `w${n++}`);

const log = new TestLog('example.test/state').append(10);
const entry = (l = log): CosignedCheckpoint => ({ size: l.size, rootHash: l.root(), note: l.checkpoint(), cosignedAt: 1_800_000_000 });

describe('WitnessState', () => {
  it('starts empty, and a commit is on disk (and read back by a new instance) once it resolves', async () => {
    const dir = freshDir();
    const state = await WitnessState.open(dir);
    expect(state.latest(log.origin)).toBeNull();
    await state.commit(log.origin, entry());
    const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    expect(file).toEqual({
      type: 'ephemera.witness-state',
      v: 1,
      logs: { [log.origin]: { size: 10, root_hash: encodeBase64(log.root()), checkpoint: log.checkpoint(), cosigned_at: 1_800_000_000 } },
    });
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    const again = await WitnessState.open(dir);
    expect(again.latest(log.origin)).toMatchObject({ size: 10, note: log.checkpoint() });
    expect(again.latest(log.origin)?.rootHash).toEqual(log.root());
    // No temporary file is left behind.
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps every origin when one is updated, and removes the temporary files a crash left', async () => {
    const dir = freshDir();
    const other = new TestLog('example.test/other').append(3);
    const state = await WitnessState.open(dir);
    await state.commit(log.origin, entry());
    await state.commit(other.origin, entry(other));
    log.append(5);
    await state.commit(log.origin, entry());
    writeFileSync(join(dir, '.state.json.0123456789abcdef.tmp'), 'half a write');
    const again = await WitnessState.open(dir);
    expect(again.latest(log.origin)?.size).toBe(15);
    expect(again.latest(other.origin)?.size).toBe(3);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    ['not JSON', '{'],
    ['another type', JSON.stringify({ type: 'x', v: 1, logs: {} })],
    ['an extra member', JSON.stringify({ type: 'ephemera.witness-state', v: 1, logs: {}, more: 1 })],
    ['logs not an object', JSON.stringify({ type: 'ephemera.witness-state', v: 1, logs: [] })],
  ])('refuses to start on a state file that is %s (TLOG_WITNESS_STATE_INVALID)', async (_, text) => {
    const dir = freshDir();
    await WitnessState.open(dir);
    writeFileSync(join(dir, 'state.json'), text);
    expect(await codeOfAsync(() => WitnessState.open(dir))).toBe('TLOG_WITNESS_STATE_INVALID');
  });

  it('refuses an entry whose checkpoint is not the recorded size, root or origin, or a malformed member', async () => {
    const ten = new TestLog(log.origin).append(10);
    const good = { size: 10, root_hash: encodeBase64(ten.root()), checkpoint: ten.checkpoint(), cosigned_at: 1 };
    const control = freshDir();
    await WitnessState.open(control);
    writeFileSync(join(control, 'state.json'), JSON.stringify({ type: 'ephemera.witness-state', v: 1, logs: { [log.origin]: good } }));
    expect((await WitnessState.open(control)).latest(log.origin)?.size).toBe(10);
    const cases: Record<string, unknown>[] = [
      { ...good, size: 9 },
      { ...good, root_hash: encodeBase64(new Uint8Array(32)) },
      { ...good, checkpoint: 'not a note' },
      { ...good, cosigned_at: '1' },
      { size: 10 },
    ];
    for (const bad of cases) {
      const dir = freshDir();
      await WitnessState.open(dir);
      writeFileSync(join(dir, 'state.json'), JSON.stringify({ type: 'ephemera.witness-state', v: 1, logs: { [log.origin]: bad } }));
      expect(await codeOfAsync(() => WitnessState.open(dir)), JSON.stringify(bad)).toBe('TLOG_WITNESS_STATE_INVALID');
    }
    const dir = freshDir();
    await WitnessState.open(dir);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ type: 'ephemera.witness-state', v: 1, logs: { 'example.test/elsewhere': good } }));
    expect(await codeOfAsync(() => WitnessState.open(dir))).toBe('TLOG_WITNESS_STATE_INVALID');
  });

  it('keeps evidence under a name of the size and content hash: different conflicts never overwrite, the same one is kept once', async () => {
    const dir = freshDir();
    const state = await WitnessState.open(dir);
    const conflict = (note: string) => ({
      code: 'TLOG_WITNESS_INCONSISTENT',
      origin: log.origin,
      cosigned: entry(),
      submitted: { oldSize: 10, proof: [new Uint8Array(32)], note },
      submittedSize: 20,
    });
    const a = await state.keepEvidence(conflict('first\n'));
    const b = await state.keepEvidence(conflict('second\n'));
    const again = await state.keepEvidence(conflict('first\n'));
    expect(a).not.toBe(b);
    expect(again).toBe(a);
    expect(readdirSync(join(dir, 'evidence')).sort()).toEqual([a, b].map((p) => p.split('/').at(-1)).sort());
    expect(JSON.parse(readFileSync(a, 'utf8'))).toMatchObject({
      type: 'ephemera.witness-evidence',
      code: 'TLOG_WITNESS_INCONSISTENT',
      cosigned: { size: log.size, checkpoint: log.checkpoint() },
      submitted: { size: 20, old_size: 10, proof: [encodeBase64(new Uint8Array(32))], checkpoint: 'first\n' },
    });
  });
});

describe('the witness key and lock', () => {
  it('creates the key 0600 once, reads the same key back, and refuses one others can read', async () => {
    const dir = freshDir();
    await WitnessState.open(dir);
    expect(await codeOfAsync(() => loadWitnessKey(dir, { create: false }))).toBe('TLOG_WITNESS_STATE_INVALID');
    const made = await loadWitnessKey(dir, { create: true, name: 'witness.example/w1' });
    expect(made.vkey).toMatch(/^witness\.example\/w1\+[0-9a-f]{8}\+/);
    expect(statSync(join(dir, 'witness.key')).mode & 0o777).toBe(0o600);
    expect((await loadWitnessKey(dir, { create: true })).vkey).toBe(made.vkey);
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dir, 'witness.key'), 0o644);
    expect(await codeOfAsync(() => loadWitnessKey(dir, { create: false }))).toBe('TLOG_WITNESS_STATE_INVALID');
    chmodSync(join(dir, 'witness.key'), 0o600);
    writeFileSync(join(dir, 'witness.key'), 'PRIVATE+KEY+broken\n', { mode: 0o600 });
    const error = await loadWitnessKey(dir, { create: false }).catch((e: Error) => e);
    expect((error as { code?: string }).code).toBe('TLOG_WITNESS_STATE_INVALID');
    expect(String((error as Error).message)).not.toContain('PRIVATE');
  });

  it('locks the state directory against a live process, and takes over a stale lock', async () => {
    const dir = freshDir();
    await WitnessState.open(dir);
    const release = await lockStateDir(dir);
    expect(await codeOfAsync(() => lockStateDir(dir))).toBe('TLOG_WITNESS_STATE_LOCKED');
    await release();
    // A pid that is no process (beyond pid_max): stale.
    writeFileSync(join(dir, 'witness.pid'), '4194999\n');
    const again = await lockStateDir(dir);
    expect(readFileSync(join(dir, 'witness.pid'), 'utf8')).toBe(`${process.pid}\n`);
    await again();
  });
});
