-- QQ's reply windows, kept in the store so that they outlive the process
-- that saw the message: after a restart or a move of the lead, the next
-- leader replies on them (storage/replywindows.go).
CREATE TABLE replywindows (sub bytea NOT NULL, k bytea NOT NULL, v bytea NOT NULL, PRIMARY KEY (sub, k));
COMMENT ON TABLE replywindows IS 'chat → the message or click a bot may reply to, until when, replies taken';
