-- Which snapshots Mnemosynce may delete (issue 17): only those it can prove it made. `origin` is
-- 'run' for a snapshot a run promoted, 'adopted' for a folder the owner adopted with
-- `mnemosynce adopt`, NULL for a row that exists only to hold a pin. Rows written by a run before this
-- column existed have a run id.
ALTER TABLE snapshots ADD COLUMN origin TEXT;
UPDATE snapshots SET origin = 'run' WHERE run_id IS NOT NULL;

-- Every adoption, kept after the snapshot is pruned: the mirror may delete an adopted `YYYY-MM-DD`
-- folder on its side only when it is listed here.
CREATE TABLE adoptions (
    task        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    adopted_at  INTEGER NOT NULL,
    PRIMARY KEY (task, name)
);
