-- Several nodes, one ledger (docs/projections.md "Several nodes"):
-- `executor` names who ran the execution (projections/executor.ts: a key
-- fingerprint sha256:…, or compose:…/mrtd:… under dstack), searchable;
-- open executions get a row too (status 'incomplete', replaced by the
-- finished row, which has more events), with `silent_after`: when their
-- executor had last to be heard from. Whether such a run is `running` or
-- `abandoned` is decided where it is read, from that time, the lease and the
-- clock: nothing stored depends on when it was projected.
-- Rows projected before this migration keep executor '' until
-- `ephemera projections rebuild`.
ALTER TABLE certificates ADD COLUMN IF NOT EXISTS executor String DEFAULT '';
ALTER TABLE certificates ADD COLUMN IF NOT EXISTS silent_after Nullable(DateTime64(3, 'UTC'));
