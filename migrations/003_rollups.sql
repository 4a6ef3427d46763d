-- Per-certificate rollups for analytics: tool use and model use. Keyed so a
-- re-projection replaces, never adds.
CREATE TABLE IF NOT EXISTS tool_uses (
  certificate_id String,
  requested_at DateTime64(3, 'UTC'),
  tool String,
  caller LowCardinality(String),
  calls UInt32,
  failures UInt32,
  duration_ms UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (certificate_id, tool, caller);

CREATE TABLE IF NOT EXISTS model_uses (
  certificate_id String,
  requested_at DateTime64(3, 'UTC'),
  model String,
  calls UInt32,
  input_tokens UInt64,
  output_tokens UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (certificate_id, model);

-- Where the projector is in each log (SQLite position; Kafka uses its consumer group).
CREATE TABLE IF NOT EXISTS projector_checkpoints (
  name String,
  position UInt64,
  updated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY name;
