package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/internal/gctune"
	"cardflow/internal/logging"
	"cardflow/processor"
	"cardflow/processor/rules"
	"cardflow/storage"
)

func cmdServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "", "path to the TOML config file (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(os.Stderr, "cardflow serve: -config PATH is required (see config.toml.example)")
		return 2
	}
	cfg, err := config.Load(*path)
	if err == nil {
		if ps := rules.Problems(cfg, compileErrors(cfg)); len(ps) > 0 {
			err = ps
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	master, err := cfg.MasterKey()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow serve: %v\n", err)
		return 2
	}
	log, err := logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format, cfg.Secrets())
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow serve: %v\n", err)
		return 2
	}
	for _, w := range cfg.Warnings() {
		log.Warn().Str("config", *path).Msg(w)
	}
	gctune.LogMemoryLimit(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntilDone(ctx, *path, cfg, master, log)
}

func serveUntilDone(ctx context.Context, path string, cfg *config.Config, master []byte, log zerolog.Logger) int {
	a, err := newApp(cfg, master, log, appOptions{})
	if err != nil {
		log.Error().Err(err).Msg("start failed")
		fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
		return 1
	}
	ops := newOperatorLayer(a, cfg, bot.AnyOf{bot.NewOperators(cfg.Operators)})
	if cfg.Telegram.Enabled() {
		if err := ops.addTelegram(cfg.Telegram); err != nil {
			a.stop()
			log.Error().Err(err).Msg("start failed")
			fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
			return 1
		}
	}
	if cfg.QQ.Enabled() {
		if err := ops.addQQ(cfg.QQ); err != nil {
			a.stop()
			log.Error().Err(err).Msg("start failed")
			fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
			return 1
		}
	}
	ops.wire()
	if err := a.start(ctx, nil, nil); err != nil {
		a.stop()
		log.Error().Err(err).Msg("start failed")
		fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
		return 1
	}
	runCtx, stopOps := context.WithCancel(ctx)
	ops.run(runCtx)
	shutdown := func() { // chats first (they read the store), then the app
		stopOps()
		ops.wait()
		a.stop()
	}
	log.Info().Str("version", version).Msg("ready")
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			shutdown()
			return 0
		case err := <-a.errc:
			log.Error().Err(err).Msg("server stopped")
			shutdown()
			return 1
		case <-hup:
			a.reloadRules(path)
		}
	}
}

// reloadRules re-reads the config file's [[rules]] (SIGHUP). A file that
// does not load, or a rule that does not compile, changes nothing: the old
// rules stay and an alert says why.
func (a *app) reloadRules(path string) {
	alert := storage.Alert{Key: processor.AlertConfigReload, Type: processor.AlertConfigReload, Target: path}
	cfg, err := config.Load(path)
	if err == nil {
		if errs := rules.Problems(cfg, compileErrors(cfg)); len(errs) > 0 {
			err = errs
		}
	}
	if err == nil {
		err = a.rules.Reload(cfg.Rules)
	}
	if err != nil {
		a.log.Error().Err(err).Str("config", path).Msg("rules not reloaded; the old rules stay")
		alert.Detail = firstLine(err.Error())
	} else {
		a.log.Info().Int("rules", len(cfg.Rules)).Msg("rules reloaded")
		alert.Resolved = true
	}
	if aerr := a.engine.RaiseAlert(alert); aerr != nil {
		a.log.Error().Err(aerr).Msg("raise reload alert")
	}
}

func compileErrors(cfg *config.Config) []error {
	_, errs := rules.CompileAll(cfg.Rules)
	return errs
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func cmdCheck(args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := fs.String("config", "", "path to the TOML config file (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(os.Stderr, "cardflow check: -config PATH is required")
		return 2
	}
	cfg, err := config.Load(*path)
	if err == nil {
		if ps := rules.Problems(cfg, compileErrors(cfg)); len(ps) > 0 {
			err = ps
		}
	}
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			fmt.Fprintf(os.Stderr, "%v\n%d problem(s) in %s\n", err, len(ps), *path)
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		return 1
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(os.Stderr, "%s: warning: %s\n", *path, w)
	}
	if _, err := cfg.MasterKey(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: master key: %v\n", *path, err)
		return 1
	}
	fmt.Printf("%s: ok (%d storefronts, %d suppliers, %d products)\n", *path, len(cfg.Storefronts), len(cfg.Suppliers), len(cfg.Products))
	return 0
}
