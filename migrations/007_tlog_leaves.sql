-- The transparency log's leaves (docs/transparency.md §10): which certificates
-- are logged, at which index, and the history chain. Written by the tlog
-- projection from the tlog ledger (re-applying a batch replaces its rows); the
-- sequencer reads it to find sealed certificates not yet logged.
CREATE TABLE IF NOT EXISTS tlog_leaves (
  leaf_index UInt64,
  certificate_id String,
  fingerprint String,
  prev Nullable(UInt64),
  entry String
) ENGINE = ReplacingMergeTree
ORDER BY leaf_index;
