-- Every event envelope, as the log holds it. Ordered by execution and seq;
-- a duplicate (execution_id, seq) collapses (ReplacingMergeTree, read with FINAL).
CREATE TABLE IF NOT EXISTS events (
  execution_id String,
  seq UInt32,
  type LowCardinality(String),
  at DateTime64(3, 'UTC'),
  hash String,
  envelope String
) ENGINE = ReplacingMergeTree
ORDER BY (execution_id, seq);
