package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
	// The tests' zones do not depend on the machine's time zone database.
	_ "time/tzdata"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

func TestStatusCommand(t *testing.T) {
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	admin := daemonEnv(d, d.AdminToken)

	code, out, errOut := daemonCLI(t, admin, "status")
	if code != 0 || !strings.Contains(out, "web-cluster-01") || !strings.Contains(out, "Web cluster 01") ||
		!strings.Contains(out, "operational") || !strings.Contains(out, "No open incident.") {
		t.Fatalf("status: exit %d: %s\n%s", code, errOut, out)
	}

	code, out, errOut = daemonCLI(t, admin, "status", "incident", "open", "--title", "Pannes réseau",
		"--component", "web-cluster-01", "--status", "identified", "--body", "Un lien est coupé.", "--lang", "fr")
	if code != 0 {
		t.Fatalf("incident open: exit %d: %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if len(id) != 12 || !strings.Contains(errOut, "incident "+id+" opened (identified, impact minor)") {
		t.Errorf("incident open printed %q, said %q", out, errOut)
	}

	code, out, errOut = daemonCLI(t, admin, "status", "incident", "update", id, "--status", "monitoring", "--body", "Fixed, watching.")
	if code != 0 || out != "incident "+id+": monitoring\n" {
		t.Errorf("incident update: exit %d: %q %s", code, out, errOut)
	}

	code, out, _ = daemonCLI(t, admin, "status", "--json")
	var page api.StatusPage
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, out)
	}
	if len(page.Incidents) != 1 || page.Incidents[0].ID != id || page.Incidents[0].Status != "monitoring" ||
		page.Incidents[0].Name["fr"] != "Pannes réseau" || len(page.Incidents[0].Updates) != 2 ||
		page.Incidents[0].Updates[1].Body["en"] != "Fixed, watching." {
		t.Errorf("status --json: %+v", page.Incidents)
	}
	if len(page.Components) != 1 || page.Components[0].ID != "web-cluster-01" {
		t.Errorf("status --json components: %+v", page.Components)
	}

	code, out, _ = daemonCLI(t, admin, "status")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "Pannes réseau") || !strings.Contains(out, "web-cluster-01") {
		t.Errorf("status after open: exit %d\n%s", code, out)
	}
	// A page without a zone is in UTC, and says so.
	if !strings.HasPrefix(out, "Times in UTC, the page's time zone.\n") || !strings.Contains(out, page.Incidents[0].CreatedAt.UTC().Format("2006-01-02 15:04")) {
		t.Errorf("status after open: not in UTC\n%s", out)
	}

	// Resolved incidents leave the listing.
	if code, _, errOut := daemonCLI(t, admin, "status", "incident", "update", id, "--status", "resolved", "--body", "Done."); code != 0 {
		t.Fatalf("resolve: exit %d: %s", code, errOut)
	}
	if code, out, _ := daemonCLI(t, admin, "status"); code != 0 || strings.Contains(out, id) || !strings.Contains(out, "No open incident.") {
		t.Errorf("status after resolve: exit %d\n%s", code, out)
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown component", []string{"status", "incident", "open", "--title", "T", "--component", "nope", "--body", "B"}, 2, `no component "nope" on the page`},
		{"bad status", []string{"status", "incident", "open", "--title", "T", "--status", "panicking", "--body", "B"}, 2, `status "panicking" is not one of`},
		{"bad language", []string{"status", "incident", "open", "--title", "T", "--body", "B", "--lang", "es"}, 2, `no language "es" on the page`},
		{"no title", []string{"status", "incident", "open", "--body", "B"}, 2, "needs --title"},
		{"no body", []string{"status", "incident", "update", id, "--status", "resolved"}, 2, "needs --body"},
		{"no id", []string{"status", "incident", "update", "--status", "resolved", "--body", "B"}, 2, "takes one ID"},
		{"unknown incident", []string{"status", "incident", "update", "000000000000", "--status", "resolved", "--body", "B"}, 1, "no incident 000000000000"},
		{"unknown maintenance", []string{"status", "maintenance", "update", "000000000000", "--status", "completed", "--body", "B"}, 1, "no maintenance 000000000000"},
		{"maintenance bad status", []string{"status", "maintenance", "update", "000000000000", "--status", "resolved", "--body", "B"}, 2, `status "resolved" is not one of scheduled`},
		{"maintenance open", []string{"status", "maintenance", "open"}, 2, `unknown status maintenance command "open" (expected schedule or update`},
		{"unknown command", []string{"status", "incidnet"}, 2, `unknown status command "incidnet"`},
		{"no token", []string{"status"}, 4, "no token: set ILLICO_TOKEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := admin
			if tc.name == "no token" {
				env = map[string]string{"ILLICO_SERVER": d.URL}
			}
			code, _, errOut := daemonCLI(t, env, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.stderr)
			}
		})
	}
	d.CheckNoSecrets(t)
}

func TestStatusMaintenanceAndComponentCommands(t *testing.T) {
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	admin := daemonEnv(d, d.AdminToken)
	from := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	in := func(d time.Duration) string { return from.Add(d).In(time.FixedZone("CET", 3600)).Format(time.RFC3339) }

	code, out, errOut := daemonCLI(t, admin, "status", "maintenance", "schedule", "--name", "Changement de commutateur",
		"--component", "web-cluster-01", "--from", in(0), "--until", in(2*time.Hour), "--body", "Nous changeons un commutateur.", "--lang", "fr")
	if code != 0 {
		t.Fatalf("schedule: exit %d: %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if len(id) != 12 || !strings.Contains(errOut, "maintenance "+id+" scheduled, from "+from.Format(time.RFC3339)) {
		t.Errorf("schedule printed %q, said %q", out, errOut)
	}
	code, out, _ = daemonCLI(t, admin, "status")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "Changement de commutateur") || !strings.Contains(out, "scheduled") {
		t.Errorf("status lists no scheduled maintenance: exit %d\n%s", code, out)
	}

	code, out, errOut = daemonCLI(t, admin, "status", "maintenance", "update", id, "--status", "scheduled",
		"--body", "Later by an hour.", "--until", in(3*time.Hour), "--json")
	var m api.Maintenance
	if err := json.Unmarshal([]byte(out), &m); code != 0 || err != nil {
		t.Fatalf("update --until: exit %d, %v: %s %s", code, err, out, errOut)
	}
	if !m.ScheduledUntil.Equal(from.Add(3*time.Hour)) || len(m.Updates) != 2 || m.Updates[1].Body["en"] != "Later by an hour." {
		t.Errorf("after update --until: %+v", m)
	}

	code, out, errOut = daemonCLI(t, admin, "status", "component", "set", "web-cluster-01", "--status", "partial_outage")
	if code != 0 || out != "component web-cluster-01: partial_outage (set by hand)\n" {
		t.Errorf("component set: exit %d: %q %s", code, out, errOut)
	}
	code, out, errOut = daemonCLI(t, admin, "status", "component", "set", "web-cluster-01", "--status", "auto")
	if code != 0 || out != "component web-cluster-01: operational (from its hosts)\n" {
		t.Errorf("component set auto: exit %d: %q %s", code, out, errOut)
	}

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no name", []string{"status", "maintenance", "schedule", "--component", "web-cluster-01", "--from", in(0), "--until", in(time.Hour), "--body", "B"}, 2, "needs --name"},
		{"no component", []string{"status", "maintenance", "schedule", "--name", "N", "--from", in(0), "--until", in(time.Hour), "--body", "B"}, 2, "needs --component"},
		{"no window", []string{"status", "maintenance", "schedule", "--name", "N", "--component", "web-cluster-01", "--body", "B"}, 2, "needs --from TIME and --until TIME"},
		{"a time without its offset", []string{"status", "maintenance", "schedule", "--name", "N", "--component", "web-cluster-01", "--from", "2026-03-14 22:00", "--until", in(time.Hour), "--body", "B"}, 2, `--from "2026-03-14 22:00": expected a time with its offset`},
		{"backwards", []string{"status", "maintenance", "schedule", "--name", "N", "--component", "web-cluster-01", "--from", in(time.Hour), "--until", in(0), "--body", "B"}, 2, "is not after scheduled_for"},
		{"unknown component", []string{"status", "maintenance", "schedule", "--name", "N", "--component", "mail", "--from", in(0), "--until", in(time.Hour), "--body", "B"}, 2, `no component "mail"`},
		{"set a bad status", []string{"status", "component", "set", "web-cluster-01", "--status", "down"}, 2, `status "down" is not one of auto`},
		{"set an unknown component", []string{"status", "component", "set", "mail", "--status", "auto"}, 1, "no component mail"},
		{"set without status", []string{"status", "component", "set", "web-cluster-01"}, 2, "needs --status"},
		{"component what", []string{"status", "component", "override"}, 2, `unknown status component command "override"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := daemonCLI(t, admin, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.stderr)
			}
		})
	}
	d.CheckNoSecrets(t)
}

// startInZone starts a daemon whose status page is in zone, and returns
// the environment that points the command line at it as an operator.
func startInZone(t testing.TB, zone *time.Location) map[string]string {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, secret, err := st.CreateToken(t.Context(), "ops", fleet.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.DiscardHandler), Store: st, Inventory: "../server/testdata/inventory.yaml",
		Listen: "127.0.0.1:0", AdminTokenOut: io.Discard, StatusPage: page.Page{TimeZone: zone},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return map[string]string{"ILLICO_SERVER": "http://" + srv.Addr(), "ILLICO_TOKEN": secret.Reveal()}
}

func TestStatusInThePageTimeZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	ops := startInZone(t, paris)
	// A window that crosses midnight in Paris, but not in UTC.
	from := time.Date(time.Now().Year()+1, time.July, 1, 22, 0, 0, 0, paris)
	until := from.Add(3 * time.Hour)
	code, out, errOut := daemonCLI(t, ops, "status", "maintenance", "schedule", "--name", "Switch replacement",
		"--component", "web-cluster-01", "--from", from.UTC().Format(time.RFC3339), "--until", until.UTC().Format(time.RFC3339), "--body", "B")
	if code != 0 {
		t.Fatalf("schedule: exit %d: %s %s", code, out, errOut)
	}
	code, out, errOut = daemonCLI(t, ops, "status", "incident", "open", "--title", "Slow DNS", "--body", "Looking.", "--json")
	var in api.Incident
	if err := json.Unmarshal([]byte(out), &in); code != 0 || err != nil {
		t.Fatalf("incident open: exit %d, %v: %s", code, err, errOut)
	}

	code, out, errOut = daemonCLI(t, ops, "status")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	first, _, _ := strings.Cut(out, "\n")
	if first != "Times in Europe/Paris, the page's time zone." || strings.Count(out, "Europe/Paris") != 1 {
		t.Errorf("the header does not name the zone once:\n%s", out)
	}
	for _, want := range []string{
		from.Format("2006-01-02") + " 22:00 → " + until.Format("2006-01-02") + " 01:00",
		in.CreatedAt.In(paris).Format("2006-01-02 15:04"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q, in Paris time:\n%s", want, out)
		}
	}
	code, out, _ = daemonCLI(t, ops, "status", "--json")
	var page api.StatusPage
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || page.TimeZone != "Europe/Paris" {
		t.Errorf("status --json: exit %d, %v, time_zone %q, want Europe/Paris", code, err, page.TimeZone)
	}
}
