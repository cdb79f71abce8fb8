package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/cli"
	"github.com/illico-dev/illico/internal/openssh/opensshtest"
)

// runFleet starts three real sshds, freezes the third, and writes an
// inventory that points at them.
func runFleet(t *testing.T) string {
	t.Helper()
	f := opensshtest.New(t)
	names := []string{"web-01", "web-long-name-02", "frozen"}
	var hosts strings.Builder
	for _, name := range names {
		s := f.Start(t, map[string]string{"ILLICO_HOST": name})
		// Only the frozen host gets a short connect timeout: a loaded
		// machine may take a second to answer.
		timeout := "30s"
		if name == "frozen" {
			timeout = "1s"
		}
		fmt.Fprintf(&hosts, "  %s: {address: %q, datacenter: lab, ssh: {connect_timeout: %s}}\n", name, s.Addr(), timeout)
	}
	frozen := f.Servers[2]
	if err := frozen.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { frozen.Thaw() })
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	inv := fmt.Sprintf(`datacenters:
  lab:
defaults:
  ssh:
    user: %s
    known_hosts: %s
    identity_files: [%s]
hosts:
%s`, f.User, f.KnownHosts, f.IdentityFile, hosts.String())
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunCommand(t *testing.T) {
	opensshtest.Require(t)
	inv := runFleet(t)
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantOut    []string
		wantErrOut []string
		absent     []string
	}{
		{
			name:     "streams by host",
			args:     []string{"run", "--inventory", inv, "--", "echo", "hi from $ILLICO_HOST;", "echo", "oops", ">&2"},
			wantCode: 1,
			wantOut: []string{
				"web-01           | hi from web-01\n",
				"web-long-name-02 | hi from web-long-name-02\n",
				"3 hosts: 2 ok, 0 failed, 1 unreachable in ",
				"  frozen  unreachable: ssh handshake with frozen (",
				"no answer within 1s\n",
			},
			wantErrOut: []string{"web-01           ! oops\n", "web-long-name-02 ! oops\n"},
		},
		{
			name:     "failed host, flags after the inventory from the environment",
			args:     []string{"run", "--limit", "web-01", "--", "exit 3"},
			env:      map[string]string{"ILLICO_INVENTORY": inv},
			wantCode: 1,
			wantOut:  []string{"1 host: 0 ok, 1 failed, 0 unreachable in ", "  web-01  failed: exit code 3\n"},
		},
		{
			name:     "all ok",
			args:     []string{"run", "--inventory", inv, "--limit", "web-*", "--forks", "1", "--", "true"},
			wantCode: 0,
			wantOut:  []string{"2 hosts: 2 ok, 0 failed, 0 unreachable in "},
			absent:   []string{"frozen"},
		},
		{
			name:       "json",
			args:       []string{"run", "--inventory", inv, "--json", "--", "echo $ILLICO_HOST; echo e >&2"},
			wantCode:   1,
			wantErrOut: []string{"3 hosts: 2 ok, 0 failed, 1 unreachable in "},
		},
		{name: "no command", args: []string{"run", "--inventory", inv}, wantCode: 2, wantErrOut: []string{"needs a command"}},
		{name: "no inventory", args: []string{"run", "--", "true"}, wantCode: 2, wantErrOut: []string{"ILLICO_INVENTORY"}},
		{name: "bad selector", args: []string{"run", "--inventory", inv, "--limit", "nope", "--", "true"}, wantCode: 2, wantErrOut: []string{"nope"}},
		{name: "bad forks", args: []string{"run", "--inventory", inv, "--forks", "0", "--", "true"}, wantCode: 2, wantErrOut: []string{"--forks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			err := cli.Run(t.Context(), cli.Build{}, tt.args, getenv, strings.NewReader(""), &stdout, &stderr)
			code := cli.ExitCode(err, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			for _, w := range tt.wantErrOut {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(stdout.String()+stderr.String(), a) {
					t.Errorf("output mentions %q:\n%s%s", a, &stdout, &stderr)
				}
			}
			if tt.name == "json" {
				checkRunJSON(t, stdout.String())
			}
		})
	}
}

func checkRunJSON(t *testing.T, out string) {
	t.Helper()
	type line struct {
		Host       string `json:"host"`
		Status     string `json:"status"`
		ExitCode   int    `json:"exit_code"`
		Stdout     string `json:"stdout"`
		Stderr     string `json:"stderr"`
		DurationMS *int64 `json:"duration_ms"`
		Error      string `json:"error"`
	}
	var got []line
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l line
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		got = append(got, l)
	}
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(got), out)
	}
	for i, name := range []string{"web-01", "web-long-name-02"} {
		l := got[i]
		if l.Host != name || l.Status != "ok" || l.ExitCode != 0 || l.Stdout != name+"\n" || l.Stderr != "e\n" || l.Error != "" || l.DurationMS == nil {
			t.Errorf("line %d: %+v", i, l)
		}
	}
	if l := got[2]; l.Host != "frozen" || l.Status != "unreachable" || l.ExitCode != -1 || !strings.Contains(l.Error, "no answer within 1s") {
		t.Errorf("frozen: %+v", l)
	}
}
