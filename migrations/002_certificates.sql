-- One row per certificate (sealed or otherwise finished stream), with the
-- columns search and analytics need. Re-projecting a certificate replaces its row.
CREATE TABLE IF NOT EXISTS certificates (
  certificate_id String,
  execution_id String,
  status LowCardinality(String),
  requested_at DateTime64(3, 'UTC'),
  sealed_at Nullable(DateTime64(3, 'UTC')),
  dataset_hash String,
  sandbox_hash String,
  fingerprint String,
  dataset_bytes UInt64,
  dataset_format LowCardinality(String),
  models Array(String),
  tools Array(String),
  llm_calls UInt32,
  input_tokens UInt64,
  output_tokens UInt64,
  tool_calls UInt32,
  duration_ms UInt64,
  exit_code Nullable(Int32),
  error_code String,
  tee LowCardinality(String),
  result_preview String,
  event_count UInt32
) ENGINE = ReplacingMergeTree(event_count)
ORDER BY certificate_id;
