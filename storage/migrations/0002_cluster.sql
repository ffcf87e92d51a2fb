-- The cardflow processes sharing this database (package cluster). A member
-- writes its row once it holds the advisory lock its id names, and deletes
-- it when it leaves; a row whose lock nobody holds is a member that died,
-- whose work the leader takes over before deleting the row. seen_at is
-- refreshed every few seconds, for people: no decision reads it.
CREATE TABLE cluster_members (
	id text PRIMARY KEY,
	host text NOT NULL,
	pid integer NOT NULL,
	started_at timestamptz NOT NULL DEFAULT now(),
	seen_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cluster_members IS 'the cardflow processes that joined: id (a lock''s key in hex), host, pid, when started, when last seen';
