-- The write clock: every Update that writes advances n in its own
-- transaction and records which DB handle (a random id per Open; 0 for a
-- migration) wrote. A process whose cache was true at (n, writer) knows
-- nothing was written since while the clock still reads that.
CREATE TABLE kv_clock (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	n bigint NOT NULL,
	writer bigint NOT NULL
);
INSERT INTO kv_clock (n, writer) VALUES (0, 0);

-- What each Update changed, one row per commit (n is the clock's count it
-- left): the keys it wrote, by table and nested bucket, whether it deleted
-- them, and the value it put if small (else NULL); an empty key stands for
-- the bucket's sequence number (v: 8 bytes, big-endian). A process whose
-- cache is a few commits behind reads these to apply or forget just those
-- keys rather than all it knew. Old rows are pruned.
CREATE TABLE kv_changes (
	n bigint PRIMARY KEY,
	tbl text[] NOT NULL,
	sub bytea[] NOT NULL,
	k bytea[] NOT NULL,
	v bytea[] NOT NULL,
	del boolean[] NOT NULL
);
