-- Sealed submissions (docs/sealed.md §4–5), searchable: how the input arrived
-- ('plain' or 'sealed', from execution.requested.submission) and whether the
-- result is sealed to its owner (an outcome event's sealed_result). Every row
-- projected before this migration is of a certificate issued before sealed
-- submissions existed: the defaults are right for it without a rebuild.
ALTER TABLE certificates ADD COLUMN IF NOT EXISTS input LowCardinality(String) DEFAULT 'plain';
ALTER TABLE certificates ADD COLUMN IF NOT EXISTS result_sealed Bool DEFAULT false;
