/**
 * Full trees and inclusion proofs, built with merkletreejs where proofs are
 * served (audit replay, verification). Configured per docs/design.md §5: leaves are
 * pre-hashed with the 0x00 prefix and the node hash prefixes 0x01, which makes
 * merkletreejs produce RFC 6962 roots and proofs (checked in merkle.unit.test).
 * Node only (merkletreejs works on Buffers).
 */
import { createHash } from 'node:crypto';
import { MerkleTree } from 'merkletreejs';
import { hashToBytes, type Hash } from '../events/index.js';
import { leafHash } from './merkle.js';

const rfc6962Node = (data: Buffer) =>
  createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(data)
    .digest();

export class EventMerkleTree {
  private readonly tree: MerkleTree;
  readonly size: number;

  constructor(eventHashes: readonly Hash[]) {
    const leaves = eventHashes.map((h) => Buffer.from(leafHash(hashToBytes(h))));
    this.tree = new MerkleTree(leaves, rfc6962Node, { hashLeaves: false, sortPairs: false, duplicateOdd: false, isBitcoinTree: false });
    this.size = eventHashes.length;
  }

  root(): Uint8Array {
    return new Uint8Array(this.tree.getRoot());
  }

  /** Audit path for the leaf at `index`, bottom-up, as RFC 9162 orders it. */
  inclusionProof(index: number): Uint8Array[] {
    return this.tree.getProof(this.tree.getLeaves()[index]!, index).map((step) => new Uint8Array(step.data));
  }
}
