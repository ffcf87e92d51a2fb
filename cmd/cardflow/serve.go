package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"cardflow/bot/operator"
	"cardflow/config"
	"cardflow/internal/app"
	"cardflow/internal/gctune"
	"cardflow/internal/logging"
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
	cfg, err := app.LoadConfig(*path)
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
	a, err := app.New(cfg, master, log, app.Options{})
	if err != nil {
		log.Error().Err(err).Msg("start failed")
		fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
		return 1
	}
	ops := app.NewOperatorLayer(a, cfg, operator.AnyOf{operator.NewOperators(cfg.Operators)})
	if cfg.Telegram.Enabled() {
		if err := ops.AddTelegram(cfg.Telegram); err != nil {
			a.Stop()
			log.Error().Err(err).Msg("start failed")
			fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
			return 1
		}
	}
	if cfg.QQ.Enabled() {
		if err := ops.AddQQ(cfg.QQ); err != nil {
			a.Stop()
			log.Error().Err(err).Msg("start failed")
			fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
			return 1
		}
	}
	ops.Wire()
	if err := a.Start(ctx, nil, nil); err != nil {
		a.Stop()
		log.Error().Err(err).Msg("start failed")
		fmt.Fprintf(os.Stderr, "cardflow: %v\n", err)
		return 1
	}
	runCtx, stopOps := context.WithCancel(ctx)
	ops.Run(runCtx)
	shutdown := func() { // chats first (they read the store), then the app
		stopOps()
		ops.Wait()
		a.Stop()
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
		case err := <-a.Err():
			log.Error().Err(err).Msg("server stopped")
			shutdown()
			return 1
		case <-hup:
			a.ReloadRules(path)
		}
	}
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
	cfg, err := app.LoadConfig(*path)
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
