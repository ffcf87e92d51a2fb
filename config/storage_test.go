package config

import (
	"slices"
	"strings"
	"testing"
)

func TestStorageIsTheBboltFileUnlessPostgresIsChosen(t *testing.T) {
	c, err := Load(writeConfig(t, readTestdata(t, "valid.toml"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.Backend != BackendBolt || c.Storage.Postgres() || c.Storage.DSNEnv != "" {
		t.Errorf("default storage %+v, want bbolt with no connection string", c.Storage)
	}
}

func TestPostgresReadsItsConnectionStringFromCardflowDatabaseURLByDefault(t *testing.T) {
	const dsn = "postgres://cardflow:s3cret-db-password@db.internal:5432/cardflow"
	t.Setenv(DefaultDatabaseURLEnv, dsn)
	c, err := Load(writeConfig(t, readTestdata(t, "valid.toml")+"\n[storage]\nbackend = \"postgres\"\n", nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.DSN.Reveal() != dsn || c.Storage.DSNEnv != DefaultDatabaseURLEnv || c.Storage.MaxConnections != DefaultDatabaseConnections {
		t.Errorf("storage %+v, want the URL from %s and %d connections", c.Storage, DefaultDatabaseURLEnv, DefaultDatabaseConnections)
	}
	secrets := c.Secrets()
	if !slices.Contains(secrets, dsn) || !slices.Contains(secrets, "s3cret-db-password") {
		t.Errorf("the log redactor is not given the connection string and its password: %d secrets", len(secrets))
	}
}

// TestStorageMistakesAreNamedAndNeverEchoTheConnectionString tries: an
// unknown backend, postgres with its environment variable unset, a string
// that is no connection string, a connection string given to bbolt, too
// few connections, and two ways of giving the string at once.
func TestStorageMistakesAreNamedAndNeverEchoTheConnectionString(t *testing.T) {
	for _, tc := range []struct {
		name, section, key, want string
		env                      map[string]string
	}{
		{"unknown backend", `backend = "mysql"`, "storage.backend", "bbolt, postgres", nil},
		{"env unset", `backend = "postgres"`, "storage.dsn_env", "CARDFLOW_DATABASE_URL is not set", map[string]string{DefaultDatabaseURLEnv: unset}},
		{"not a dsn", "backend = \"postgres\"\ndsn = \"mysql://root:hunter2-pw@x\"", "storage.dsn", "is not a PostgreSQL URL", nil},
		{"dsn for bbolt", `dsn_env = "CARDFLOW_TEST_DB"`, "storage.dsn_env", `backend = "postgres"`, map[string]string{"CARDFLOW_TEST_DB": "postgres://x@y/z"}},
		{"few connections", "backend = \"postgres\"\ndsn = \"postgres://a@b/c\"\nmax_connections = 2", "storage.max_connections", "use 4 to 1000", nil},
		{"two ways", "backend = \"postgres\"\ndsn = \"postgres://a@b/c\"\ndsn_file = \"db.url\"", "storage.dsn_file", "give the secret one way only", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, tc.env)
			ps := loadProblems(t, writeConfig(t, readTestdata(t, "valid.toml")+"\n[storage]\n"+tc.section+"\n", map[string]string{"db.url": "postgres://a@b/c"}))
			p, ok := findProblem(ps, tc.key)
			if !ok || !strings.Contains(p.Msg, tc.want) {
				t.Fatalf("problems %v; want %s: ...%s...", ps, tc.key, tc.want)
			}
			if strings.Contains(ps.Error(), "hunter2-pw") {
				t.Errorf("a problem repeats the password: %v", ps)
			}
		})
	}
}
