package config

import (
	"github.com/jackc/pgx/v5/pgconn"
)

// storage checks [storage].
func (v *validator) storage() {
	c, st := v.c, v.c.Storage
	v.oneOf("storage.backend", st.Backend, BackendBolt, BackendPostgres)
	ref := secretRef{"storage.dsn", &c.Storage.DSN, st.DSNEnv, st.DSNFile}
	if !st.Postgres() {
		if st.DSN != "" || st.DSNEnv != "" || st.DSNFile != "" {
			v.add(ref.source(), `is only read with backend = "postgres"; set backend = "postgres" to keep the state in PostgreSQL, or remove it`)
		}
		return
	}
	switch {
	case c.failed[ref.key]:
	case st.DSN == "":
		v.add(ref.source(), "must give the PostgreSQL connection string, like postgres://cardflow:PASSWORD@db.internal:5432/cardflow")
	default:
		if _, err := pgconn.ParseConfig(st.DSN.Reveal()); err != nil {
			// The parser's message may quote the string, password and all.
			v.add(ref.source(), "is not a PostgreSQL URL (postgres://user:password@host:5432/dbname) or key=value connection string (host=... dbname=...)")
		}
	}
	if st.MaxConnections < minDatabaseConnections || st.MaxConnections > 1000 {
		v.add("storage.max_connections", "%d is out of range; use %d to 1000 (default %d)", st.MaxConnections, minDatabaseConnections, DefaultDatabaseConnections)
	}
}

// minDatabaseConnections: the writer, the leases that elect and watch
// processes, and reads beside them.
const minDatabaseConnections = 4

// dsnPassword is the password inside a PostgreSQL connection string, for
// the log redactor: the string as a whole is a secret, but a driver's
// message may quote the password alone.
func dsnPassword(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return ""
	}
	return cfg.Password
}
