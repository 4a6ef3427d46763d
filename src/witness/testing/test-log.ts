/**
 * A small log for the witness tests: leaves `entry <i>`, tiles from
 * TileBuilder, checkpoints signed with a fresh note key, consistency proofs
 * read from its tiles by TiledTree (as the real log answers them).
 */
import { leafHash } from '../../attest/merkle.js';
import type { WitnessSubmission } from '../../commands/tlog/witness-client.js';
import { formatCheckpoint } from '../../tlog/checkpoint.js';
import { generateNoteKey, type NoteSigner, parseNoteSignerKey, signNote } from '../../tlog/note.js';
import { formatTilePath } from '../../tlog/tile-path.js';
import { TiledTree } from '../../tlog/tile-proofs.js';
import { TileBuilder } from '../../tlog/tiles.js';

export class TestLog {
  readonly vkey: string;
  private readonly signer: NoteSigner;
  private readonly builder = new TileBuilder();
  private readonly tiles = new Map<string, Uint8Array>();

  constructor(
    readonly origin: string,
    key = generateNoteKey(origin),
  ) {
    this.vkey = key.vkey;
    this.signer = parseNoteSignerKey(key.skey);
  }

  get size(): number {
    return this.builder.size;
  }

  append(count: number): this {
    const first = this.builder.size;
    const leaves = Array.from({ length: count }, (_, i) => leafHash(new TextEncoder().encode(`${this.origin} entry ${first + i}`)));
    for (const tile of this.builder.append(leaves)) this.tiles.set(formatTilePath(tile), tile.data);
    this.roots.set(this.size, this.root());
    return this;
  }

  root(): Uint8Array {
    return this.builder.root();
  }

  /** The signed checkpoint of the current tree (or of another root, to forge a fork with the same key). */
  checkpoint(rootHash: Uint8Array = this.root(), size = this.size, signer: NoteSigner = this.signer): string {
    return signNote({ text: formatCheckpoint({ origin: this.origin, size, rootHash, extensions: [] }) }, [signer]);
  }

  /** A proof from `oldSize` to the tree of `size` (default: the current one), read from the tiles. */
  consistencyProof(oldSize: number, size = this.size): Promise<Uint8Array[]> {
    const tree = new TiledTree({ size, root: size === this.size ? this.root() : this.rootAt(size) }, async (path) => {
      const data = this.tiles.get(path);
      if (!data) throw new Error(`no tile ${path}`);
      return data;
    });
    return tree.consistencyProof(oldSize);
  }

  /** The current tree as a submission; its proofs are to this size even if the log grows before they are asked for. */
  submission(checkpoint = this.checkpoint(), size = this.size): WitnessSubmission {
    const current = this.size;
    return { origin: this.origin, checkpoint, size, consistencyProof: (oldSize) => this.consistencyProof(oldSize, current) };
  }

  private readonly roots = new Map<number, Uint8Array>();

  private rootAt(size: number): Uint8Array {
    const root = this.roots.get(size);
    if (!root) throw new Error(`no root recorded for size ${size}`);
    return root;
  }
}
