-- The buckets of the kv contract's tests (storage/kv/kvtest).
CREATE TABLE items (sub bytea NOT NULL, k bytea NOT NULL, v bytea NOT NULL, PRIMARY KEY (sub, k));
CREATE TABLE nest (sub bytea NOT NULL, k bytea NOT NULL, v bytea NOT NULL, PRIMARY KEY (sub, k));
