package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"cardflow/config"
	"cardflow/internal/logging"
	"cardflow/storage"
	"cardflow/storage/kv/pgkv"
)

const migrateUsage = "usage: cardflow migrate -config PATH [-from-bbolt FILE]"

// cmdMigrate applies the PostgreSQL schema of [storage], and with
// -from-bbolt copies a stopped bbolt store into that database.
func cmdMigrate(args []string) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	path := fs.String("config", "", `the config file; its [storage] must say backend = "postgres" (required)`)
	from := fs.String("from-bbolt", "", "copy this bbolt store (a stopped cardflow's data_dir/cardflow.db, or data_dir) into the database, which must be empty")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, migrateUsage)
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Errors of the database driver may quote the connection string.
	stdout := logging.NewRedactor(os.Stdout, cfg.Secrets())
	stderr := logging.NewRedactor(os.Stderr, cfg.Secrets())
	if !cfg.Storage.Postgres() {
		fmt.Fprintf(stderr, "cardflow migrate: %s keeps the state in %s; migrate works on PostgreSQL: set [storage] backend = %q and its connection string (dsn_env, default %s)\n",
			*path, cfg.Storage.Backend, config.BackendPostgres, config.DefaultDatabaseURLEnv)
		return 2
	}
	var master []byte
	if *from != "" {
		if master, err = cfg.MasterKey(); err != nil {
			fmt.Fprintf(stderr, "cardflow migrate: %v\n", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dsn := cfg.Storage.DSN.Reveal()
	applied, err := storage.MigratePostgres(ctx, dsn)
	if errors.Is(err, pgkv.ErrNewerSchema) {
		fmt.Fprintf(stderr, "cardflow migrate: a newer cardflow has migrated this database; use that build or a later one (%v)\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "cardflow migrate: %v\n", err)
		return 1
	}
	for _, file := range applied {
		fmt.Fprintf(stdout, "applied %s\n", file)
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "the schema is current: nothing to apply")
	}
	if *from == "" {
		return 0
	}
	return copyFromBolt(ctx, stdout, stderr, *from, dsn, master)
}

// copyFromBolt copies the bbolt store at from into the migrated database,
// with progress on stderr and the verification's table on stdout.
func copyFromBolt(ctx context.Context, stdout, stderr io.Writer, from, dsn string, master []byte) int {
	fmt.Fprintf(stderr, "copying %s into PostgreSQL\n", from)
	var shown time.Time
	progress := func(p storage.CopyProgress) {
		if p.Done < p.Total && time.Since(shown) < time.Second {
			return
		}
		shown = time.Now()
		fmt.Fprintf(stderr, "  %d of %d keys (%d%%), now in %s\n", p.Done, p.Total, 100*p.Done/max(p.Total, 1), p.Bucket)
	}
	rep, err := storage.CopyFromBolt(ctx, from, dsn, master, storage.CopyOptions{Progress: progress})
	if err == nil || errors.Is(err, storage.ErrCopyMismatch) {
		printCopyReport(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "cardflow migrate: %v\n", err)
		return 1
	}
	nested := 0
	for _, b := range rep.Buckets {
		if b.Nested != "" {
			nested++
		}
	}
	fmt.Fprintf(stdout, "verified: %d buckets and %d nested buckets, %d keys: every key, value and sequence as in the file (%s)\n",
		len(rep.Buckets)-nested, nested, rep.Keys, rep.Took.Round(time.Millisecond))
	fmt.Fprintln(stdout, "start cardflow with this config; keep the file until you are sure you will not go back")
	return 0
}

// printCopyReport writes the verification, one line per bucket and nested
// bucket.
func printCopyReport(w io.Writer, rep storage.CopyReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "bucket\tkeys in file\tin database\tsequence in file\tin database\tSHA-256 in file\tin database\t\t")
	short := func(h [32]byte) string { return hex.EncodeToString(h[:6]) }
	for _, b := range rep.Buckets {
		name := b.Name
		if b.Nested != "" {
			name += "/" + b.Nested
		}
		verdict := "ok"
		if !b.Match() {
			verdict = "DIFFERS"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", name, b.File.Keys, b.Target.Keys, b.File.Sequence, b.Target.Sequence,
			short(b.File.Hash), short(b.Target.Hash), verdict)
	}
	_ = tw.Flush()
}
