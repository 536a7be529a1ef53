-- Whether a run's email report went out (SPEC §7): sent | not_due | disabled | failed. The reason of a
-- failure stays in runs.report_error. NULL: no report was attempted (dry runs, runs before this column).
ALTER TABLE runs ADD COLUMN report_status TEXT;
