-- pgkv's own tables, recorded in kv_migrations (the caller's files are
-- recorded in schema_migrations).

-- Bucket sequence numbers (NextSequence): one row per bucket that has one;
-- sub is the nested bucket's name, '' at the top level.
CREATE TABLE kv_sequences (
	tbl text NOT NULL,
	sub bytea NOT NULL,
	seq bigint NOT NULL,
	PRIMARY KEY (tbl, sub)
);

-- One row per committed Update, written in its transaction, so that a
-- commit whose answer was lost with the connection can be looked up. The id
-- is the commit's unix nanoseconds (8 bytes, big-endian) and 8 random
-- bytes: old markers are pruned by a range of the primary key.
CREATE TABLE kv_commits (
	id bytea PRIMARY KEY
);
