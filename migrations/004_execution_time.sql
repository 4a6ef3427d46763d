-- execution_time_ms means one thing everywhere (docs/design.md §API): the column
-- takes the API's name, and is NULL for a run that never reached
-- execution.completed/failed (aborted), instead of a 0 that reads as "instant".
-- Rows projected before this migration keep 0 for such runs until
-- `ephemera projections rebuild`.
ALTER TABLE certificates RENAME COLUMN IF EXISTS duration_ms TO execution_time_ms;
ALTER TABLE certificates MODIFY COLUMN execution_time_ms Nullable(UInt64);
