package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/cli"
	"github.com/illico-dev/illico/internal/server/servertest"
)

var servingRE = regexp.MustCompile(`illico serving on (http://127\.0\.0\.1:\d+)`)

// serve runs `illico serve args...` until the test cancels it: it returns
// the daemon's URL, its stderr, and a function that stops it and returns
// the exit code.
func serve(t *testing.T, args ...string) (string, *servertest.Buffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stderr := &servertest.Buffer{}
	done := make(chan int, 1)
	go func() {
		err := cli.Run(ctx, cli.Build{}, append([]string{"serve"}, args...), func(string) string { return "" }, strings.NewReader(""), &servertest.Buffer{}, stderr)
		done <- cli.ExitCode(err, stderr)
	}()
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(time.Minute):
			t.Fatal("illico serve did not stop within a minute")
			return -1
		}
	}
	for range 1000 {
		if m := servingRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stderr, stop
		}
		select {
		case code := <-done:
			t.Fatalf("illico serve exited %d:\n%s", code, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("illico serve did not say where it serves:\n%s", stderr)
	return "", nil, nil
}

func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	inv, err := os.ReadFile("../server/testdata/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), inv, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "illico.yaml")
	err = os.WriteFile(config, []byte("listen: 127.0.0.1:0\ndata: state\ninventory: fleet.yaml\nadmin_token_file: admin.token\nlog: {format: json}\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	url, stderr, stop := serve(t, "--config", config)
	token, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(token))
	if n := strings.Count(stderr.String(), secret); n != 1 || !strings.Contains(stderr.String(), "admin token (shown once)") {
		t.Errorf("the admin token shows %d times on stderr, want once in its box:\n%s", n, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "illico.db")); err != nil {
		t.Errorf("no database in the data directory next to the config: %v", err)
	}
	env := map[string]string{"ILLICO_SERVER": url, "ILLICO_TOKEN": secret}
	if code, out, errOut := daemonCLI(t, env, "hosts"); code != 0 || strings.Count(out, "\n") != 5 {
		t.Errorf("hosts: exit %d\n%s%s", code, out, errOut)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited %d after its context ended:\n%s", code, stderr)
	}

	// Flags override the file; the store is the same, so no new token.
	url, stderr, stop = serve(t, "--config", config, "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "state"))
	if strings.Contains(stderr.String(), "admin token") {
		t.Errorf("a restart shows an admin token:\n%s", stderr)
	}
	env["ILLICO_SERVER"] = url
	if code, _, errOut := daemonCLI(t, env, "token", "list"); code != 0 {
		t.Errorf("the first admin token does not work after a restart: %s", errOut)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, stderr)
	}
}

func TestServeCommandErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	typo := write("typo.yaml", "listen: 127.0.0.1:0\nlisten_adress: x\nlog:\n  levl: debug\n")
	badInv := write("bad-inventory.yaml", "listen: 127.0.0.1:0\ndata: d\ninventory: fleet.yaml\n")
	write("fleet.yaml", "hosts:\n  web-1: {address: 127.0.0.1, datacenter: nowhere}\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		says []string
	}{
		{"unknown keys", []string{"--config", typo}, 2, []string{
			typo + `:2:1: unknown key "listen_adress"`, typo + `:4:3: unknown key "levl" (did you mean "level"?)`}},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml")}, 2, []string{"nope.yaml"}},
		{"bad inventory", []string{"--config", badInv}, 2, []string{filepath.Join(dir, "fleet.yaml") + ":", "nowhere"}},
		{"bad listen flag", []string{"--listen", "nowhere", "--data", filepath.Join(dir, "d")}, 2, []string{`--listen: listen address "nowhere"`}},
		{"an argument", []string{"now"}, 2, []string{"takes no arguments"}},
		{"bad database", []string{"--db", "mysql://x", "--listen", "127.0.0.1:0"}, 2, []string{"expected sqlite:PATH or a postgres:// URL"}},
		{"database down", []string{"--db", "postgres://illico:hunter2@127.0.0.1:1/illico?connect_timeout=2", "--listen", "127.0.0.1:0"}, 3, []string{"cannot reach PostgreSQL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := daemonCLI(t, nil, append([]string{"serve"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.says {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr does not say %q:\n%s", s, errOut)
				}
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("stderr shows a password:\n%s", errOut)
			}
		})
	}
}
