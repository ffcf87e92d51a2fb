-- What each Update changed, one row per commit (n is the clock's count it
-- left), as one record (changelog.go): the keys it wrote, by table and
-- nested bucket, whether it deleted them, and the value it put if small;
-- an empty key stands for the bucket's sequence number. It replaces
-- kv_changes, whose five arrays the server sent element by element. The
-- record is stored as it is, without compression: it is read once or twice
-- within seconds and pruned.
--
-- kv_changes stays for processes of the version before, still running
-- while an upgrade goes through: they go on writing it, and find there
-- none of the commits of the new version's processes, whose own caches
-- find none of theirs here; either way a cache that finds commits missing
-- starts afresh. A later migration drops it.
CREATE TABLE kv_changelog (
	n bigint PRIMARY KEY,
	rec bytea NOT NULL
);
ALTER TABLE kv_changelog ALTER COLUMN rec SET STORAGE EXTERNAL;
