/**
 * Audit replay: an execution's stream in order, each event with its RFC 6962
 * inclusion proof against the sealed root (the sealed event itself is not a
 * leaf). Anyone can check each proof with only the event hash and the root.
 */
import { bytesToHex, type EventEnvelope } from '../../events/index.js';
import { EventMerkleTree } from '../../attest/node.js';

export interface ReplayedEvent {
  event: EventEnvelope;
  leaf_index: number | null;
  inclusion_proof: string[] | null;
}

export function replayWithProofs(events: readonly EventEnvelope[]): { tree_size: number; root: string; events: ReplayedEvent[] } {
  const leaves = events.filter((e) => e.type !== 'certificate.sealed');
  const tree = new EventMerkleTree(leaves.map((e) => e.hash));
  return {
    tree_size: tree.size,
    root: `sha256:${bytesToHex(tree.root())}`,
    events: events.map((event, i) =>
      event.type === 'certificate.sealed'
        ? { event, leaf_index: null, inclusion_proof: null }
        : { event, leaf_index: i, inclusion_proof: tree.inclusionProof(i).map((p) => bytesToHex(p)) },
    ),
  };
}
