package server_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/server"
)

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "illico.yaml")
	for _, tc := range []struct {
		name string
		yaml string
		want func(c server.Config) string // what is wrong, or ""
	}{
		{"empty file is the defaults", "", func(c server.Config) string {
			if c.Listen != "127.0.0.1:8080" || c.Data != "illico-data" || c.Log.Level != "info" || c.Log.Format != "text" {
				return "not the defaults"
			}
			if c.DSN() != "sqlite:"+filepath.Join("illico-data", "illico.db") {
				return "DSN " + c.DSN()
			}
			return ""
		}},
		{"relative paths follow the file", "data: data\ninventory: inv/fleet.yaml\nadmin_token_file: admin.token\n", func(c server.Config) string {
			if c.Data != filepath.Join(dir, "data") || c.Inventory != filepath.Join(dir, "inv/fleet.yaml") || c.AdminTokenFile != filepath.Join(dir, "admin.token") {
				return "paths " + c.Data + " " + c.Inventory + " " + c.AdminTokenFile
			}
			if c.DSN() != "sqlite:"+filepath.Join(dir, "data", "illico.db") {
				return "DSN " + c.DSN()
			}
			return ""
		}},
		{"absolute paths stay", "data: /var/lib/illico\n", func(c server.Config) string {
			if c.Data != "/var/lib/illico" {
				return "data " + c.Data
			}
			return ""
		}},
		{"everything", "listen: :9090\ndb: postgres://illico:pw@db/illico\nlog: {level: debug, format: json}\n", func(c server.Config) string {
			if c.Listen != ":9090" || c.DSN() != "postgres://illico:pw@db/illico" || c.Log.Level != "debug" || c.Log.Format != "json" {
				return "got " + c.Listen + " " + c.Log.Level
			}
			return ""
		}},
		{"trusted proxies", "trusted_proxies: [127.0.0.1, 10.0.0.0/8, 'fd00::/8']\n", func(c server.Config) string {
			if got := fmt.Sprint(c.TrustedProxies); got != "[127.0.0.1/32 10.0.0.0/8 fd00::/8]" {
				return "trusted proxies " + got
			}
			return ""
		}},
		{"no proxy trusted by default", "", func(c server.Config) string {
			if len(c.TrustedProxies) != 0 {
				return fmt.Sprint("trusted proxies ", c.TrustedProxies)
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := server.ParseConfig(file, []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.want(c); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown key", "listen: 127.0.0.1:8080\nlistn: x\n", []string{`illico.yaml:2:1: unknown key "listn" (did you mean "listen"?)`}},
		{"unknown nested key", "log:\n  levle: debug\n", []string{`illico.yaml:2:3: unknown key "levle" (did you mean "level"?)`}},
		{"every problem at once", "listen: nowhere\nlog:\n  level: loud\n  format: xml\n", []string{
			`illico.yaml:1:9: listen address "nowhere" is not HOST:PORT`,
			`illico.yaml:3:10: unknown log level "loud"`,
			`illico.yaml:4:11: unknown log format "xml"`,
		}},
		{"bad port", "listen: 127.0.0.1:99999\n", []string{`illico.yaml:1:9: listen address "127.0.0.1:99999": port "99999"`}},
		{"empty path", "inventory: ''\n", []string{"illico.yaml:1:12: inventory is empty"}},
		{"wrong type", "data: [a, b]\n", []string{"illico.yaml:1:7: expected a text value, got a list"}},
		{"syntax", "listen: [\n", []string{"illico.yaml:"}},
		{"bad trusted proxies", "trusted_proxies:\n  - 10.0.0.0/8\n  - 10.1.2.3/8\n  - proxy.example.net\n  - 0.0.0.0/0\n", []string{
			`illico.yaml:3:5: trusted proxy "10.1.2.3/8": bits are set past the prefix length; did you mean 10.0.0.0/8?`,
			`illico.yaml:4:5: trusted proxy "proxy.example.net": expected an IP address or a CIDR`,
			`illico.yaml:5:5: trusted proxy "0.0.0.0/0": that is every address`,
		}},
		{"trusted proxies not a list", "trusted_proxies: 10.0.0.0/8\n", []string{"illico.yaml:1:18: expected a list"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ParseConfig("illico.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error\n%s\ndoes not say\n%s", err, want)
				}
			}
			// A head line, then one line per problem.
			if got := strings.Count(err.Error(), "\n"); got != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", got, len(tc.want), err)
			}
		})
	}
}

func TestConfigHidesTheDatabasePassword(t *testing.T) {
	c, err := server.ParseConfig("illico.yaml", []byte("db: postgres://illico:hunter2@db/illico\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.DB.String(), strings.Join(strings.Fields(sprint(c)), " ")} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the config prints its password: %s", s)
		}
	}
}

func TestLoadConfigMissing(t *testing.T) {
	_, err := server.LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"", "listen: 127.0.0.1:8080\n", "log: {level: debug}\n", "data: [\n", "db: &a x\ninventory: *a\n",
		"listen: ':'\n", "admin_token_file: ~\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		c, err := server.ParseConfig("fuzz.yaml", []byte(data))
		if err == nil && server.CheckListen(c.Listen) != nil {
			t.Errorf("accepted listen address %q", c.Listen)
		}
	})
}

func sprint(c server.Config) string { return fmt.Sprintf("%v %+v %#v", c, c, c) }
