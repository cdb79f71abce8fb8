package server

// The daemon's config file, read by `illico serve --config FILE`, is
// described in docs/config.md, whose example a test loads. Every key is
// optional; flags (--listen, --public-listen, --data, --db) override the
// file, and Defaults is the one place defaults are set.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/site"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Config is the daemon's configuration: the file's keys, after defaults.
type Config struct {
	Listen       string `yaml:"listen"`
	PublicListen string `yaml:"public_listen"`
	Advertise    string `yaml:"advertise"`
	Data         string `yaml:"data"`
	// DB is a secret: a PostgreSQL URL may carry a password.
	DB             fleet.Secret          `yaml:"db"`
	Inventory      string                `yaml:"inventory"`
	AdminTokenFile string                `yaml:"admin_token_file"`
	Alerts         string                `yaml:"alerts"`
	PublicURL      string                `yaml:"public_url"`
	TrustedProxies clientip.Trusted      `yaml:"trusted_proxies"`
	StatusPage     site.StatusPageConfig `yaml:"status_page"`
	SMTP           SMTPConfig            `yaml:"smtp"`
	Log            LogConfig             `yaml:"log"`
	Meta           yamlx.Meta
}

// LogConfig says how the daemon logs.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
	Meta   yamlx.Meta
}

// SMTPConfig is how the daemon mails the status page's subscribers.
type SMTPConfig struct {
	// Address is host:port.
	Address  string       `yaml:"address"`
	From     string       `yaml:"from"`
	Username string       `yaml:"username"`
	Password fleet.Secret `yaml:"password"`
	// StartTLS is always on: the mailer upgrades whenever the server
	// offers it, and sends a password over nothing else.
	StartTLS bool `yaml:"starttls"`
	Meta     yamlx.Meta
}

// Defaults is the configuration without a file; the one place defaults are set.
func Defaults() Config {
	return Config{
		Listen:       "127.0.0.1:8080",
		PublicListen: "127.0.0.1:8081",
		Data:         "illico-data",
		SMTP:         SMTPConfig{StartTLS: true},
		Log:          LogConfig{Level: "info", Format: "text"},
	}
}

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// LoadConfig reads the config file at path over the defaults. Relative paths
// in it are made absolute against the file's directory. Every problem is
// reported at once, as yamlx.Problems.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fleet.Errorf(fleet.KindInvalid, "read config: %v", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig on the contents of file.
func ParseConfig(file string, data []byte) (Config, error) {
	c := Defaults()
	var ps yamlx.Problems
	if err := yamlx.Decode(file, data, &c); err != nil {
		if !errors.As(err, &ps) {
			return Config{}, fmt.Errorf("decode config %s: %w", file, err)
		}
		return Config{}, &fleet.Error{Kind: fleet.KindInvalid, Err: &problemsError{head: "config " + file + " refused", problems: ps}}
	}
	for _, l := range []struct{ key, addr string }{{"listen", c.Listen}, {"public_listen", c.PublicListen}} {
		if !c.Meta.Has(l.key) {
			continue
		}
		if err := CheckListen(l.addr); err != nil {
			ps.Add(file, c.Meta.At(l.key), "%v", err)
		}
	}
	if c.Meta.Has("advertise") {
		if u, err := url.Parse(c.Advertise); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			ps.Add(file, c.Meta.At("advertise"), "advertise %q: expected the URL of this daemon's API for the other replicas, like http://10.0.0.5:8080", c.Advertise)
		}
	}
	if c.Meta.Has("db") && c.DB == "" {
		ps.Add(file, c.Meta.At("db"), "db is empty: leave it out for SQLite in the data directory")
	}
	c.StatusPage.Check(file, &ps)
	switch {
	case c.Meta.Has("public_url") && c.StatusPage.Meta.Has("url"):
		ps.Add(file, c.Meta.At("public_url"), "public_url is the older name of status_page.url: keep status_page.url only")
	case c.StatusPage.URL == "":
		c.StatusPage.URL = c.PublicURL
	}
	checkSubscribers(file, &c, &ps)
	if !slices.Contains(logLevels, c.Log.Level) {
		ps.Add(file, c.Log.Meta.At("level"), "unknown log level %q (expected debug, info, warn or error)", c.Log.Level)
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		ps.Add(file, c.Log.Meta.At("format"), "unknown log format %q (expected text or json)", c.Log.Format)
	}
	for _, p := range []struct {
		key string
		val *string
	}{{"data", &c.Data}, {"inventory", &c.Inventory}, {"admin_token_file", &c.AdminTokenFile}, {"alerts", &c.Alerts}} {
		if !c.Meta.Has(p.key) {
			continue
		}
		if *p.val == "" {
			ps.Add(file, c.Meta.At(p.key), "%s is empty", p.key)
			continue
		}
		if !filepath.IsAbs(*p.val) {
			*p.val = filepath.Join(filepath.Dir(file), *p.val)
		}
	}
	if len(ps) > 0 {
		return Config{}, &fleet.Error{Kind: fleet.KindInvalid, Err: &problemsError{head: "config " + file + " refused", problems: ps}}
	}
	return c, nil
}

// checkSubscribers checks public_url and smtp, which go together.
func checkSubscribers(file string, c *Config, ps *yamlx.Problems) {
	if c.Meta.Has("public_url") {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			ps.Add(file, c.Meta.At("public_url"), "public_url %q: expected http(s)://host[/path], like https://status.example.net", c.PublicURL)
		}
	}
	if !c.Meta.Has("smtp") {
		return
	}
	m := c.SMTP
	if c.StatusPage.URL == "" {
		ps.Add(file, c.Meta.At("smtp"), "smtp needs public_url or status_page.url: the links in the mails point to the status page")
	}
	if _, _, err := net.SplitHostPort(m.Address); err != nil {
		ps.Add(file, m.Meta.At("address"), "smtp address %q: expected host:port, like smtp.example.net:587", m.Address)
	}
	if a, err := mail.ParseAddress(m.From); err != nil || a.Name != "" || a.Address != m.From {
		ps.Add(file, m.Meta.At("from"), "smtp from %q: expected a plain address, like status@example.net", m.From)
	}
	if m.Password != "" && m.Username == "" {
		ps.Add(file, m.Meta.At("password"), "smtp password without a username")
	}
	if !m.StartTLS {
		ps.Add(file, m.Meta.At("starttls"), "smtp starttls: false is not supported: the mailer always upgrades when the server offers STARTTLS")
	}
}

// Subscribers is what the daemon needs to take subscribers, nil when the
// file names no SMTP server.
func (c Config) Subscribers() *site.SubscriberOptions {
	if !c.Meta.Has("smtp") || c.StatusPage.URL == "" {
		return nil
	}
	return &site.SubscriberOptions{
		PublicURL:  c.StatusPage.URL,
		Mail:       subscribers.MailConfig{Smarthost: c.SMTP.Address, From: c.SMTP.From, Username: c.SMTP.Username, Password: c.SMTP.Password},
		OldKeyFile: filepath.Join(c.Data, "link.key"),
	}
}

// CheckListen checks a listen address: a host (or nothing, for every
// address) and a port.
func CheckListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q is not HOST:PORT (like 127.0.0.1:8080)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("listen address %q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// DSN is the database to open: DB if set, else SQLite in the data directory.
func (c Config) DSN() string {
	if c.DB != "" {
		return c.DB.Reveal()
	}
	return "sqlite:" + filepath.Join(c.Data, "illico.db")
}

// Logger returns the logger the config asks for, writing to w.
func (l LogConfig) Logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
