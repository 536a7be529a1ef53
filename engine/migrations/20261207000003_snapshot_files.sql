-- Files in a snapshot, measured with its total and unique size (engine::files::measure).
ALTER TABLE snapshots ADD COLUMN size_files INTEGER;
