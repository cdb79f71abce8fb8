package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/cli"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// withStdin runs the command line with stdin and returns its exit code,
// stdout and stderr.
func withStdin(t testing.TB, env map[string]string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Run(t.Context(), cli.Build{}, args, func(k string) string { return env[k] }, stdin, &stdout, &stderr)
	return cli.ExitCode(err, &stderr), stdout.String(), stderr.String()
}

func TestAccountCommand(t *testing.T) {
	d := servertest.Start(t, servertest.Options{})
	admin := daemonEnv(d, d.AdminToken)
	const password = "correct horse battery"

	code, out, errOut := withStdin(t, admin, strings.NewReader(password+"\nignored\n"), "account", "add", "alice", "--role", "operator", "--password-stdin")
	if code != 0 || !strings.Contains(out, "account alice (role operator) created") {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := d.Store.AuthenticateAccount(t.Context(), "alice", password); err != nil {
		t.Errorf("the password read from stdin does not log in: %v", err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		say   string
	}{
		{"no terminal to ask on", "", []string{"account", "add", "bob"}, 2, "--password-stdin"},
		{"empty stdin", "", []string{"account", "add", "bob", "--password-stdin"}, 2, "no password on stdin"},
		{"a short password", "short\n", []string{"account", "add", "bob", "--password-stdin"}, 2, "at least 12"},
		{"the same name", password + "\n", []string{"account", "add", "alice", "--password-stdin"}, 1, "exists already"},
		{"no name", "", []string{"account", "remove"}, 2, "usage"},
		{"unknown command", "", []string{"account", "rename"}, 2, "expected add, list"},
		{"an unknown account", "", []string{"account", "remove", "bob"}, 1, `no account named "bob"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := withStdin(t, admin, strings.NewReader(tc.stdin), tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.say) {
				t.Errorf("exit %d, want %d saying %q: %s", code, tc.code, tc.say, errOut)
			}
			if strings.Contains(errOut, "short\n") || strings.Contains(errOut, password) {
				t.Errorf("the error repeats the password: %s", errOut)
			}
		})
	}

	code, out, _ = withStdin(t, admin, nil, "account", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[1], "alice") ||
		!strings.Contains(lines[1], "operator") || !strings.Contains(lines[1], "never") || !strings.Contains(lines[1], "active") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	const next = "a brand new passphrase"
	if code, out, errOut := withStdin(t, admin, strings.NewReader(next+"\n"), "account", "passwd", "alice", "--password-stdin"); code != 0 || !strings.Contains(out, "password of account alice changed") {
		t.Errorf("passwd: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := d.Store.AuthenticateAccount(t.Context(), "alice", next); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
	if code, out, _ := withStdin(t, admin, nil, "account", "disable", "alice"); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("disable: exit %d: %s", code, out)
	}
	code, out, _ = withStdin(t, admin, nil, "account", "list", "--json")
	var list api.Accounts
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Accounts) != 1 || list.Accounts[0].Disabled == nil {
		t.Errorf("list --json: exit %d, %v\n%s", code, err, out)
	}
	if code, _, _ := withStdin(t, admin, nil, "account", "enable", "alice"); code != 0 {
		t.Errorf("enable: exit %d", code)
	}
	if code, out, _ := withStdin(t, admin, nil, "account", "remove", "alice"); code != 0 || !strings.Contains(out, "account alice removed") {
		t.Errorf("remove: exit %d: %s", code, out)
	}

	// Accounts are an admin's business.
	_, readerOut, _ := withStdin(t, admin, nil, "token", "create", "grafana", "--role", "reader")
	reader := daemonEnv(d, strings.TrimSpace(readerOut))
	if code, _, errOut := withStdin(t, reader, nil, "account", "list"); code != 4 || !strings.Contains(errOut, "needs admin") {
		t.Errorf("a reader lists accounts: exit %d: %s", code, errOut)
	}
	if strings.Contains(d.Logs.String(), password) || strings.Contains(d.Logs.String(), next) {
		t.Errorf("the daemon's log shows a password")
	}
}
