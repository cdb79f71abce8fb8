package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/store"
)

// runServe is `illico serve`: the control plane, until ctx ends (Ctrl-C or
// SIGTERM through main).
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "serve [--config FILE] [--listen ADDR] [--public-listen ADDR] [--data DIR] [--db DSN]")
	configFile := fs.String("config", "", "the config `file` (YAML; every key is in docs/config.md)")
	listen := fs.String("listen", "", "listen on `address` host:port (default 127.0.0.1:8080)")
	publicListen := fs.String("public-listen", "", "serve the public status page on `address` host:port (default 127.0.0.1:8081)")
	data := fs.String("data", "", "the data `directory`, for the SQLite database (default ./illico-data)")
	db := fs.String("db", "", "the database: sqlite:PATH or postgres://… (default SQLite in the data directory)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico serve takes no arguments, got %q", rest[0])
	}
	cfg := server.Defaults()
	if *configFile != "" {
		if cfg, err = server.LoadConfig(*configFile); err != nil {
			return err
		}
	}
	if *listen != "" {
		if err := server.CheckListen(*listen); err != nil {
			return usageErrorf("--listen: %v", err)
		}
		cfg.Listen = *listen
	}
	if *publicListen != "" {
		if err := server.CheckListen(*publicListen); err != nil {
			return usageErrorf("--public-listen: %v", err)
		}
		cfg.PublicListen = *publicListen
	}
	if *data != "" {
		cfg.Data = *data
	}
	if *db != "" {
		cfg.DB = fleet.Secret(*db)
	}
	log := cfg.Log.Logger(e.stderr)

	if cfg.DB == "" {
		// SQLite creates the file, not its directory.
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return fleet.Errorf(fleet.KindInvalid, "create the data directory: %v", err)
		}
	}
	st, err := store.Open(ctx, cfg.DSN(), store.OneDaemon())
	if err != nil {
		return fmt.Errorf("open the store: %w", err)
	}
	defer st.Close()
	srv, err := server.New(server.Options{
		Logger:         log,
		Store:          st,
		Listen:         cfg.Listen,
		PublicListen:   cfg.PublicListen,
		Advertise:      cfg.Advertise,
		Inventory:      cfg.Inventory,
		AdminTokenFile: cfg.AdminTokenFile,
		AdminTokenOut:  e.stderr,
		Getenv:         e.getenv,
		Alerts:         cfg.Alerts,
		Subscribers:    cfg.Subscribers(),
		StatusPage:     cfg.StatusPage.Page(),
		TrustedProxies: cfg.TrustedProxies,
		Version:        e.build.Version,
		Commit:         e.build.Commit,
		BuildDate:      e.build.Date,
	})
	if err != nil {
		return err
	}
	return srv.Run(ctx) // logs "illico serving on http://ADDR" once it does
}
