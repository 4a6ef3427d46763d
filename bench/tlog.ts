/**
 * The transparency log's tiles (src/tlog, docs/transparency.md §5–6): building tiles from leaf hashes
 * (leaves per second, against CompactRange's incremental root over the same leaves, the least work an
 * append-only Merkle tree does), and reading a checkpoint's tree from tiles held in memory: verifying the
 * root (the right edge's partial tiles), and inclusion proofs at 1e6 leaves (quick: 1e5), each by a fresh
 * TiledTree (every tile read and authenticated again) and by one that keeps its authenticated tiles.
 * Target (issue 20): an inclusion proof from tiles in under 1 ms. SHA-256 through node:crypto, as the
 * log would run on Node; the noble rows are what a browser's client pays.
 */
import { CompactRange, leafHash } from '../src/attest/index.js';
import { nobleSha256, type Sha256 } from '../src/events/index.js';
import { nodeSha256 } from '../src/events/node.js';
import { formatTilePath, TileBuilder, TiledTree } from '../src/tlog/index.js';
import { transparencyVerificationRows } from './tlog-verify.js';
import { againstFloor, type BenchOptions, type BenchRow, median, timed, withGoal } from './types.js';

export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const size = quick ? 100_000 : 1_000_000;
  const label = quick ? '1e5' : '1e6';
  const leaves = Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`), nodeSha256));
  const rows: BenchRow[] = [];

  // Building: the whole tree in batches of 1000 appends, as a log that persists its tiles per batch.
  const build = (hash: Sha256) => {
    const builder = new TileBuilder(hash);
    const tiles = new Map<string, Uint8Array>();
    for (let i = 0; i < size; i += 1000) for (const tile of builder.append(leaves.slice(i, i + 1000))) tiles.set(formatTilePath(tile), tile.data);
    return { tiles, root: builder.root() };
  };
  const compact = (hash: Sha256) => {
    const range = new CompactRange(hash);
    for (const leaf of leaves) range.appendLeaf(leaf);
    return range.root();
  };
  for (const [name, hash] of [
    ['node:crypto', nodeSha256],
    ['@noble/hashes', nobleSha256],
  ] as const) {
    const built = await timed(() => build(hash));
    const floor = await timed(() => compact(hash));
    rows.push(
      againstFloor(
        { name: `tiles built from ${label} leaf hashes (${name})`, value: Math.round(size / (built.ms / 1000)), unit: 'leaves/s' },
        { name: `CompactRange root over the same leaves (${name})`, value: Math.round(size / (floor.ms / 1000)), unit: 'leaves/s' },
      ),
    );
  }

  const { tiles, root } = build(nodeSha256);
  const read = async (path: string) => tiles.get(path)!;
  let seed = 20;
  const randomIndex = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % size;
  };
  const proofs = quick ? 200 : 1000;
  for (const [name, hash] of [
    ['node:crypto', nodeSha256],
    ['@noble/hashes', nobleSha256],
  ] as const) {
    const rootMs = await median(quick ? 20 : 100, () => new TiledTree({ size, root }, read, hash).verifyRoot());
    rows.push({ name: `checkpoint root verified from its partial tiles, ${label} leaves (${name})`, value: +rootMs.toFixed(3), unit: 'ms' });
    const cold = await timed(async () => {
      for (let i = 0; i < proofs; i++) await new TiledTree({ size, root }, read, hash).inclusionProof(randomIndex());
    });
    const coldMs = cold.ms / proofs;
    rows.push({
      name: `inclusion proof from tiles in memory, ${label} leaves, fresh TiledTree each (${name})`,
      value: +coldMs.toFixed(3),
      unit: 'ms',
      note: 'reads and authenticates the right edge and the full tiles on the path every time',
      ...withGoal(coldMs, undefined, { text: '< 1 ms per proof', valueAtMost: 1 }),
    });
    const tree = new TiledTree({ size, root }, read, hash);
    await tree.verifyRoot();
    const warm = await timed(async () => {
      for (let i = 0; i < proofs; i++) await tree.inclusionProof(randomIndex());
    });
    rows.push({
      name: `inclusion proof from tiles in memory, ${label} leaves, one TiledTree keeping its tiles (${name})`,
      value: +(warm.ms / proofs).toFixed(3),
      unit: 'ms',
      note: `${proofs} random leaves in a row`,
      ...withGoal(warm.ms / proofs, undefined, { text: '< 1 ms per proof', valueAtMost: 1 }),
    });
  }
  rows.push(...(await transparencyVerificationRows(quick)));
  return rows;
}
