-- The write clock: every Update that writes advances n in its own
-- transaction and records which DB handle wrote (a random id per Open; 0 for
-- a migration). A process whose cache was true at (n, writer) knows nothing
-- was written since while the clock still reads that.
CREATE TABLE kv_clock (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	n bigint NOT NULL,
	writer bigint NOT NULL
);
INSERT INTO kv_clock (n, writer) VALUES (0, 0);
