package cli_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/cli"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// daemonCLI runs the illico command line with the environment in env and
// returns its exit code, stdout and stderr.
func daemonCLI(t testing.TB, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Run(t.Context(), cli.Build{}, args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	code := cli.ExitCode(err, &stderr)
	return code, stdout.String(), stderr.String()
}

// daemonEnv is the environment that points the command line at d with token.
func daemonEnv(d *servertest.Daemon, token string) map[string]string {
	return map[string]string{"ILLICO_SERVER": d.URL, "ILLICO_TOKEN": token}
}

func TestTokenCommand(t *testing.T) {
	d := servertest.Start(t, servertest.Options{})
	admin := daemonEnv(d, d.AdminToken)

	code, out, errOut := daemonCLI(t, admin, "token", "create", "ci", "--role", "operator")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, "illico_") || strings.Contains(secret, "\n") {
		t.Errorf("create printed %q, want the secret alone", out)
	}
	if !strings.Contains(errOut, "token 2 (ci, role operator) created") {
		t.Errorf("create said %q", errOut)
	}
	if code, _, _ := daemonCLI(t, daemonEnv(d, secret), "hosts"); code != 0 {
		t.Errorf("the new token does not work: exit %d", code)
	}

	code, out, _ = daemonCLI(t, admin, "token", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[2], "ci") || !strings.Contains(lines[2], "operator") || !strings.Contains(lines[2], "active") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if strings.Contains(out, secret) {
		t.Error("list shows a secret")
	}
	code, out, _ = daemonCLI(t, admin, "token", "list", "--json")
	var list api.Tokens
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Tokens) != 2 {
		t.Errorf("list --json: exit %d, %v\n%s", code, err, out)
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		says string
	}{
		{"revoke", admin, []string{"token", "revoke", "2"}, 0, "token 2 (ci) revoked"},
		{"revoke again", admin, []string{"token", "revoke", "2"}, 1, "already revoked"},
		{"revoke the last admin", admin, []string{"token", "revoke", "1"}, 1, "last active admin token"},
		{"revoke unknown", admin, []string{"token", "revoke", "99"}, 1, "no token with id 99"},
		{"revoke not a number", admin, []string{"token", "revoke", "ci"}, 2, `token id "ci" is not a positive number`},
		{"create without a name", admin, []string{"token", "create"}, 2, "usage: illico token create NAME"},
		{"create with a bad role", admin, []string{"token", "create", "x", "--role", "root"}, 2, `unknown role "root"`},
		{"unknown subcommand", admin, []string{"token", "rotate"}, 2, `unknown token command "rotate"`},
		{"no subcommand", admin, []string{"token"}, 2, "usage: illico token"},
		{"revoked token", daemonEnv(d, secret), []string{"token", "list"}, 4, "was revoked"},
		{"no token", map[string]string{"ILLICO_SERVER": d.URL}, []string{"token", "list"}, 4, "no token: set ILLICO_TOKEN"},
		{"bad server", map[string]string{"ILLICO_SERVER": "localhost:8080", "ILLICO_TOKEN": "x"}, []string{"token", "list"}, 2, "set ILLICO_SERVER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := daemonCLI(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.says) {
				t.Errorf("exit %d, output:\n%s%s\nwant exit %d saying %q", code, out, errOut, tc.code, tc.says)
			}
		})
	}

	reader := createReader(t, d)
	if code, _, errOut := daemonCLI(t, daemonEnv(d, reader), "token", "list"); code != 4 || !strings.Contains(errOut, "this needs admin") {
		t.Errorf("a reader lists tokens: exit %d %s", code, errOut)
	}
	d.CheckNoSecrets(t)
}

func createReader(t testing.TB, d *servertest.Daemon) string {
	t.Helper()
	code, out, errOut := daemonCLI(t, daemonEnv(d, d.AdminToken), "token", "create", "reader")
	if code != 0 {
		t.Fatalf("create a reader: exit %d %s", code, errOut)
	}
	return strings.TrimSpace(out)
}

func TestTokenCommandDaemonDown(t *testing.T) {
	d := servertest.Start(t, servertest.Options{})
	env := daemonEnv(d, d.AdminToken)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := daemonCLI(t, env, "token", "list")
	if code != 3 || !strings.Contains(errOut, "cannot reach the illico daemon at "+d.URL+" (set ILLICO_SERVER") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
