#!/bin/sh
# Is this extract safe to share? A k-anonymity check (k = 5) over the quasi-identifiers
# birth decade and condition, and a count of direct identifiers and of minors, in one
# read-only SQL query over the dataset (the `sql` command: docs/sql-tool.md §7).
# Every query is a call of its own in the certificate; only this report leaves.
set -eu
sql --max-rows 1 "$(cat <<'SQL'
WITH groups AS (
  SELECT substr(birth_date, 1, 3) || '0s' AS decade, coalesce(condition, '') AS condition, count(*) AS n
  FROM dataset
  GROUP BY decade, condition
)
SELECT json_object(
  'records', (SELECT count(*) FROM dataset),
  'k', 5,
  'groups', (SELECT count(*) FROM groups),
  'groups_below_k', (SELECT count(*) FROM groups WHERE n < 5),
  'records_below_k', (SELECT coalesce(sum(n), 0) FROM groups WHERE n < 5),
  'records_with_ssn', (SELECT count(*) FROM dataset WHERE ssn IS NOT NULL),
  'minors_on_2026_01_01', (SELECT count(*) FROM dataset WHERE birth_date > date('2026-01-01', '-18 years')),
  'k_anonymous', json(CASE WHEN (SELECT count(*) FROM groups WHERE n < 5) = 0 THEN 'true' ELSE 'false' END)
) AS report
SQL
)" | python3 -c 'import json, sys; print(json.load(sys.stdin)["rows"][0][0])'
