/**
 * The shapes the log answers with (docs/transparency.md §11–14): a
 * certificate's `transparency` member (also `GET /tlog/leaves/:id`) and a
 * fingerprint's history. Hashes of proofs are 64 lowercase hex digits.
 */
import type { LogLeaf } from './leaf.js';
import type { LogKeyDocument } from './log-key.js';

export interface CertificateTransparency {
  leaf_index: number;
  leaf: LogLeaf;
  /** The signed checkpoint note's text, cosignatures included. */
  checkpoint: string;
  /** RFC 6962 PATH(leaf_index, D[0:size]) to the checkpoint's size, sibling first. */
  inclusion_proof: string[];
  log_key: LogKeyDocument;
}

export interface HistoryAnswer {
  fingerprint: string;
  checkpoint: string;
  log_key: LogKeyDocument;
  /** Newest first, each proved to the checkpoint. */
  leaves: { leaf_index: number; leaf: LogLeaf; inclusion_proof: string[] }[];
}
