package pgkv

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"cardflow/internal/pgtest"
)

// files makes a migration set from name and SQL pairs.
func files(nameSQL ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i < len(nameSQL); i += 2 {
		fsys[nameSQL[i]] = &fstest.MapFile{Data: []byte(nameSQL[i+1])}
	}
	return fsys
}

// scalar runs a query of one int on the database url points at.
func scalar(t *testing.T, url, sql string) int { t.Helper(); return pgtest.Int(t, url, sql) }

// openErr opens with migrations fsys and returns Open's error.
func openErr(t *testing.T, url string, fsys fstest.MapFS) error {
	t.Helper()
	db, err := Open(context.Background(), url, Options{Migrations: fsys})
	if err == nil {
		db.Close()
	}
	return err
}

func TestMigrationsAppliedByThreeOpensAtOnceRunOnce(t *testing.T) {
	url := pgtest.URL(t)
	// Neither file may run twice: CREATE TABLE would fail, the INSERTs count.
	set := files(
		"0001_first.sql", "CREATE TABLE runs (file text); INSERT INTO runs VALUES ('0001');",
		"0002_second.sql", "CREATE TABLE more (x int); INSERT INTO runs VALUES ('0002');",
		"README.md", "not a migration",
	)
	for round, fsys := range []fstest.MapFS{set, files()} {
		if round == 1 { // the next release adds a file
			fsys = set
			fsys["0003_third.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO runs VALUES ('0003');")}
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Go(func() {
				<-start
				errs[i] = openErr(t, url, fsys)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: open %d: %v", round, i, err)
			}
		}
	}
	if n := scalar(t, url, "SELECT count(*) FROM runs"); n != 3 {
		t.Errorf("the migrations ran %d times, want 3 (once per file)", n)
	}
	if n := scalar(t, url, "SELECT count(*) FROM schema_migrations"); n != 3 {
		t.Errorf("schema_migrations holds %d rows, want 3", n)
	}
	sub, err := fs.Sub(engineFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	own, err := readMigrations(sub)
	if err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, url, "SELECT count(*) FROM kv_migrations"); n != len(own) {
		t.Errorf("kv_migrations holds %d rows, want one per engine file (%d)", n, len(own))
	}
}

func TestMigrateReportsWhatItApplied(t *testing.T) {
	url := pgtest.URL(t)
	db := openDB(t, url, Options{Migrations: files()})
	fsys := files("0001_a.sql", "CREATE TABLE a (x int);", "0002_b.sql", "CREATE TABLE b (x int);")
	applied, err := Migrate(context.Background(), db.Pool(), fsys)
	if err != nil || strings.Join(applied, ",") != "0001_a.sql,0002_b.sql" {
		t.Errorf("first Migrate applied %q, %v; want both files", applied, err)
	}
	applied, err = Migrate(context.Background(), db.Pool(), fsys)
	if err != nil || len(applied) != 0 {
		t.Errorf("second Migrate applied %q, %v; want none", applied, err)
	}
}

func TestADatabaseMigratedByANewerBuildIsRefused(t *testing.T) {
	url := pgtest.URL(t)
	newer := files("0001_a.sql", "CREATE TABLE a (x int);", "0002_b.sql", "CREATE TABLE b (x int);")
	if err := openErr(t, url, newer); err != nil {
		t.Fatal(err)
	}
	older := files("0001_a.sql", "CREATE TABLE a (x int);")
	err := openErr(t, url, older)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade cardflow") || !strings.Contains(err.Error(), "0002_b") {
		t.Errorf("open by the older build = %v, want ErrNewerSchema naming 0002_b and saying to upgrade", err)
	}
	// The engine's own set is checked the same way.
	url = pgtest.URL(t)
	if err := openErr(t, url, nil); err != nil {
		t.Fatal(err)
	}
	exec(t, url, "INSERT INTO kv_migrations (version, name) VALUES (9, '0009_future')")
	if err := openErr(t, url, nil); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("open of a database whose engine tables are newer = %v, want ErrNewerSchema", err)
	}
}

func TestARecordedMigrationWhoseFileWasRenamedIsRefused(t *testing.T) {
	url := pgtest.URL(t)
	if err := openErr(t, url, files("0001_a.sql", "SELECT 1;")); err != nil {
		t.Fatal(err)
	}
	err := openErr(t, url, files("0001_renamed.sql", "SELECT 1;"))
	if err == nil || !strings.Contains(err.Error(), "0001_a") || !strings.Contains(err.Error(), "0001_renamed.sql") {
		t.Errorf("open with a renamed file = %v, want an error naming both", err)
	}
}

func TestAFailingMigrationAppliesNoneOfItsSet(t *testing.T) {
	url := pgtest.URL(t)
	err := openErr(t, url, files(
		"0001_good.sql", "CREATE TABLE good (x int);",
		"0002_bad.sql", "CREATE TABLE bad (x nosuchtype);",
	))
	if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("open = %v, want an error naming 0002_bad.sql", err)
	}
	if n := scalar(t, url, "SELECT count(*) FROM pg_tables WHERE tablename = 'good'"); n != 0 {
		t.Error("the good file's table was kept")
	}
	// Fixed, the set applies whole.
	if err := openErr(t, url, files(
		"0001_good.sql", "CREATE TABLE good (x int);",
		"0002_bad.sql", "CREATE TABLE bad (x int);",
	)); err != nil {
		t.Fatalf("open with the file fixed: %v", err)
	}
	if n := scalar(t, url, "SELECT count(*) FROM schema_migrations"); n != 2 {
		t.Errorf("schema_migrations records %d files, want 2", n)
	}
}

func TestMigrationFilesMustBeNamedByVersionAndName(t *testing.T) {
	bad := map[string]fstest.MapFS{
		"no zero padding":     files("1_short.sql", ""),
		"a dash":              files("0001-dash.sql", ""),
		"upper case":          files("0001_Upper.sql", ""),
		"no version":          files("abcd_x.sql", ""),
		"version zero":        files("0000_zero.sql", ""),
		"no name":             files("0001_.sql", ""),
		"two of one version":  files("0001_a.sql", "", "00001_b.sql", ""),
		"a space in the name": files("0001_a b.sql", ""),
	}
	for name, fsys := range bad {
		if _, err := readMigrations(fsys); err == nil {
			t.Errorf("%s: readMigrations = nil, want an error", name)
		}
	}
	ms, err := readMigrations(files("0010_ten.sql", "", "0002_two.sql", "", "notes.txt", "", "00003_three.sql", ""))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.file)
	}
	if strings.Join(got, " ") != "0002_two.sql 00003_three.sql 0010_ten.sql" {
		t.Errorf("readMigrations orders %q, want by version, other files left out", got)
	}
}

// exec runs one statement on the database url points at.
func exec(t *testing.T, url, sql string) { t.Helper(); pgtest.Exec(t, url, sql) }
