-- Run history, snapshot index and settings (SPEC §8). Times are Unix milliseconds (UTC).

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger       TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    status        TEXT    NOT NULL,
    message       TEXT,
    report_error  TEXT
);
CREATE INDEX runs_by_status ON runs (status, id);

CREATE TABLE task_runs (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    task               TEXT    NOT NULL,
    position           INTEGER NOT NULL,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    status             TEXT    NOT NULL,
    message            TEXT,
    snapshot           TEXT,
    files_total        INTEGER,
    files_transferred  INTEGER,
    bytes_total        INTEGER,
    bytes_transferred  INTEGER
);
CREATE INDEX task_runs_by_run ON task_runs (run_id);
CREATE INDEX task_runs_by_task ON task_runs (task, id);
CREATE INDEX task_runs_good_by_task ON task_runs (task, id) WHERE snapshot IS NOT NULL;
CREATE INDEX task_runs_by_task_status ON task_runs (task, status, run_id);

CREATE TABLE steps (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    task_run_id        INTEGER NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    step               TEXT    NOT NULL,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    status             TEXT    NOT NULL,
    message            TEXT,
    files_total        INTEGER,
    files_transferred  INTEGER,
    bytes_total        INTEGER,
    bytes_transferred  INTEGER,
    log_path           TEXT
);
CREATE INDEX steps_by_task_run ON steps (task_run_id);

CREATE TABLE snapshots (
    task         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    taken_at     INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'complete',
    pinned       INTEGER NOT NULL DEFAULT 0,
    run_id       INTEGER,
    size_total   INTEGER,
    size_unique  INTEGER,
    PRIMARY KEY (task, name)
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
