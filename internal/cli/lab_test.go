package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
)

func labCLI(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Build{}, append([]string{"lab"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return ExitCode(err, &errOut), out.String(), errOut.String()
}

func TestLabCommandUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, exitUsage, "Usage: illico lab COMMAND"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown lab command "frobnicate"`},
		{"up without dir", []string{"up"}, exitUsage, "--dir is required"},
		{"bad sites", []string{"up", "--dir", dir, "--sites", "gra"}, exitUsage, `"gra" is not datacenter=site`},
		{"site of an unknown datacenter", []string{"up", "--dir", dir, "--datacenters", "gra", "--sites", "sbg=x"}, exitUsage, `"sbg" is not one of the datacenters`},
		{"bad reboot range", []string{"up", "--dir", dir, "--reboot-seconds", "5-2"}, exitUsage, "--reboot-seconds"},
		{"every problem at once", []string{"up", "--dir", dir, "--hosts", "-1", "--datacenters", "a,a"}, exitUsage, `hosts: -1 is not between 1 and 5000; datacenter "a" is listed twice`},
		{"no host", []string{"up", "--dir", dir, "--hosts", "0"}, exitUsage, "--hosts must be at least 1"},
		{"up with an argument", []string{"up", "--dir", dir, "extra"}, exitUsage, `unexpected argument "extra"`},
		{"fault without a kind", []string{"fault", "--dir", dir, "web-gra-01"}, exitUsage, "lab fault --dir DIR TARGET"},
		{"heal without dir", []string{"heal", "web-gra-01"}, exitUsage, "--dir is required"},
		{"status of no lab", []string{"status", "--dir", dir}, exitFailure, "no lab in"},
		{"down without dir", []string{"down"}, exitUsage, "lab down --dir DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := labCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestLabSummary(t *testing.T) {
	info := &lab.Info{
		Dir: "/srv/lab", User: "root", SSHPort: 2222, SitePort: 8080,
		Hosts: []lab.HostInfo{
			{Name: "web-gra-01", Address: "127.77.0.1", Datacenter: "gra"},
			{Name: "web-sbg-01", Address: "127.77.0.2", Datacenter: "sbg"},
		},
		Frontends: map[string]string{"web-01": "http://127.0.0.1:3001/"},
		Files:     lab.Files{Inventory: "/srv/lab/inventory.yaml", Identity: "/srv/lab/id_ed25519", KnownHosts: "/srv/lab/known_hosts"},
		Options:   lab.Settings{Datacenters: []string{"gra", "sbg"}},
	}
	var b bytes.Buffer
	printLabSummary(&b, info, 1500*time.Millisecond)
	for _, want := range []string{
		"Lab up in 1.5s: 2 hosts in 2 datacenters (gra, sbg), 1 group, in /srv/lab",
		"web-gra-01 (127.77.0.1) .. web-sbg-01 (127.77.0.2), ssh port 2222, site port 8080",
		"web-01 http://127.0.0.1:3001/",
		"ssh -i /srv/lab/id_ed25519 -o UserKnownHostsFile=/srv/lab/known_hosts -p 2222 root@127.77.0.1 labpkg list",
		"illico lab down --dir /srv/lab",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary does not say %q:\n%s", want, b.String())
		}
	}
}

// TestLabCommandsOnALiveLab drives an in-process lab through the command
// line, as another terminal would.
func TestLabCommandsOnALiveLab(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 2, RebootMin: time.Second, RebootMax: time.Second})
	dir := l.Dir()

	steps := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"fault", "--dir", dir, "web-gra-01", "freeze"}, exitOK, "freeze: web-gra-01"},
		{[]string{"status", "--dir", dir}, exitOK, "web-gra-01  frozen"},
		{[]string{"fault", "--dir", dir, "datacenter=sbg", "no-return"}, exitOK, "no-return: web-sbg-01"},
		{[]string{"status", "--dir", dir}, exitOK, "next reboot never returns"},
		{[]string{"status", "--dir", dir, "--json"}, exitOK, `"state": "frozen"`},
		{[]string{"heal", "--dir", dir, "site=gra"}, exitOK, "healed: web-gra-01"},
		{[]string{"fault", "--dir", dir, "web-gra-09", "crash"}, exitFailure, `did you mean`},
		{[]string{"fault", "--dir", dir, "web-gra-01", "melt"}, exitUsage, `unknown fault "melt"`},
		{[]string{"down", "--dir", dir}, exitOK, "is down"},
		{[]string{"status", "--dir", dir}, exitUnavailable, "no lab is running"},
	}
	for _, s := range steps {
		code, out, errOut := labCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(out+errOut, s.wantOut) {
			t.Errorf("illico lab %s: exit %d, %q; want exit %d and %q", strings.Join(s.args, " "), code, out+errOut, s.wantCode, s.wantOut)
		}
	}
	select {
	case <-l.Done():
	case <-time.After(10 * time.Second):
		t.Error("the lab did not stop on lab down")
	}
}
