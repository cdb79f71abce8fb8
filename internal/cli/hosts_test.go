package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/server/servertest"
)

func TestHostsCommand(t *testing.T) {
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	reader := createReader(t, d)
	env := daemonEnv(d, reader)

	code, out, errOut := daemonCLI(t, env, "hosts")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := [][]string{
		{"NAME", "ADDRESS", "DATACENTER", "SITE", "GROUPS"},
		{"web-gra-01", "127.0.10.1", "gra", "gra", "web-01"},
		{"web-rbx-01", "127.0.10.2", "rbx1", "rbx", "web-01"},
		{"db-rbx-01", "127.0.10.3", "rbx1", "rbx", "db-01"},
		{"db-rbx-02", "127.0.10.4", "rbx2", "rbx", "db-01"},
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		if got := strings.Fields(l); strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d: %q, want %q", i, got, want[i])
		}
	}

	code, out, _ = daemonCLI(t, env, "hosts", "--json")
	var hosts api.Hosts
	if err := json.Unmarshal([]byte(out), &hosts); code != 0 || err != nil || len(hosts.Hosts) != 4 || hosts.Hosts[0].Labels["role"] != "web" {
		t.Errorf("--json: exit %d, %v\n%s", code, err, out)
	}
	if code, _, errOut := daemonCLI(t, env, "hosts", "extra"); code != 2 || !strings.Contains(errOut, "takes no arguments") {
		t.Errorf("an argument: exit %d %s", code, errOut)
	}
}
