package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"

	"cardflow/config"
	"cardflow/internal/adminclient"
)

// progressFrom is the file size above which the import shows a progress bar.
const progressFrom = 1 << 20

func cmdStock(args []string) int {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(os.Stderr, "usage: cardflow stock import -sku SKU [-config PATH | -admin URL] FILE")
		return 2
	}
	fs := flag.NewFlagSet("stock import", flag.ContinueOnError)
	sku := fs.String("sku", "", "the product to import into (required)")
	cfgPath := fs.String("config", "", "read the admin address and token from this config file")
	admin := fs.String("admin", "", "admin API base URL (default http://127.0.0.1:8081, or [admin] listen from -config)")
	tokenEnv := fs.String("token-env", config.DefaultAdminTokenEnv, "environment variable holding the admin token when -config is not given")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *sku == "" || fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: cardflow stock import -sku SKU [-config PATH | -admin URL] FILE")
		return 2
	}
	client := adminclient.Client{BaseURL: "http://127.0.0.1:8081", Token: os.Getenv(*tokenEnv), Actor: localUser()}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		client.BaseURL, client.Token = "http://"+cfg.Admin.Listen, cfg.Admin.Token.Reveal()
	}
	if *admin != "" {
		client.BaseURL = *admin
	}
	if client.Token == "" {
		fmt.Fprintf(os.Stderr, "cardflow stock import: no admin token: export %s or pass -config\n", *tokenEnv)
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow stock import: %v\n", err)
		return 1
	}
	defer f.Close()
	var body io.Reader = f
	if st, err := f.Stat(); err == nil && st.Size() >= progressFrom {
		bar := progressbar.DefaultBytes(st.Size(), "importing "+*sku)
		r := progressbar.NewReader(f, bar)
		body = &r
		defer bar.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := client.ImportStock(ctx, *sku, body)
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ncardflow stock import: %v\n", err)
		return 1
	}
	fmt.Printf("\nadded %d, duplicates %d, invalid %d\n", res.Added, res.Duplicates, res.Invalid)
	if res.Batch > 0 {
		fmt.Printf("batch %d\n", res.Batch)
	}
	for _, e := range res.Errors {
		fmt.Printf("  line %d: %s\n", e.Line, e.Why)
	}
	if res.Invalid > len(res.Errors) {
		fmt.Printf("  … %d more invalid lines\n", res.Invalid-len(res.Errors))
	}
	return 0
}

// localUser is the name the CLI claims in X-Cardflow-Actor: the login name
// with anything the admin API refuses there (beyond letters, digits and
// . _ - @ \) replaced by '_', at most 64 bytes.
func localUser() string {
	u, err := user.Current()
	if err != nil || u.Username == "" {
		return "cli"
	}
	name := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@\\", r) {
			return r
		}
		return '_'
	}, u.Username)
	for len(name) > 64 {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	return name
}
