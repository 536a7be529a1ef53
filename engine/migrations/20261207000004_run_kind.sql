-- A run is a backup run (every task through its steps) or a restore (one step, `restore`).
-- The dashboard's "last run of a task" and "last good snapshot" look at backup runs only.
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'backup';
