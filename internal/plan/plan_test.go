package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

const good = `name: Urgent openssl patch
description: Fixes a root exploit.
steps:
  - drain
  - run: apt-get install -y openssl
    unless: dpkg -s openssl | grep -q 3.0.13
    timeout: 5m
    allowed_exit_codes: [0, 100]
  - reboot: if_required
  - wait_healthy:
    min_healthy: 20s
  - undrain:
    timeout: 1m
rollback:
  - run: apt-get install -y --allow-downgrades openssl=3.0.11
  - reboot
  - wait_healthy
  - undrain
strategy:
  canary: 2
  max_parallel: 10%
  order: datacenter_by_datacenter
  max_failures: 1
  on_failure: rollback_all
  customer_errors:
    pause_above: 0.5%
    halt_after: 2m
window:
  timezone: Europe/Paris
  days: [mon, tue, wed, thu, fri]
  hours: 09:00-18:00
`

func TestParseGood(t *testing.T) {
	p, err := Parse("p.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []fleet.StepKind{}
	for _, s := range p.Steps {
		kinds = append(kinds, s.Kind)
	}
	if len(kinds) != 5 || kinds[0] != fleet.StepDrain || kinds[4] != fleet.StepUndrain {
		t.Fatalf("steps %v", kinds)
	}
	run := p.Steps[1]
	if run.Command != "apt-get install -y openssl" || run.Unless == "" || run.Timeout != 5*time.Minute || len(run.AllowedExitCodes) != 2 {
		t.Errorf("run step %+v", run)
	}
	if !p.Steps[2].IfRequired || p.Steps[2].Timeout != defaultRebootTimeout {
		t.Errorf("reboot step %+v", p.Steps[2])
	}
	if p.Steps[3].MinHealthy != 20*time.Second || p.Steps[4].Timeout != time.Minute {
		t.Errorf("wait/undrain %+v %+v", p.Steps[3], p.Steps[4])
	}
	if p.Rollback[1].IfRequired || p.Rollback[0].AllowedExitCodes[0] != 0 {
		t.Errorf("rollback %+v", p.Rollback)
	}
	s := p.Strategy
	if s.Canary != 2 || s.MaxParallel != (fleet.Quantity{N: 10, Percent: true}) || s.Order != fleet.OrderDatacenter || s.MaxFailures.N != 1 || !s.RollbackAll {
		t.Errorf("strategy %+v", s)
	}
	want := fleet.DefaultCustomerErrors
	want.PauseAbove, want.HaltAfter = 0.005, 2*time.Minute
	if s.CustomerErrors != want {
		t.Errorf("customer_errors %+v, want %+v", s.CustomerErrors, want)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tt := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 11, 23, 10, 0, 0, 0, paris), true},  // Monday
		{time.Date(2026, 11, 23, 18, 0, 0, 0, paris), false}, // end is exclusive
		{time.Date(2026, 11, 22, 10, 0, 0, 0, paris), false}, // Sunday
		{time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC), true},
	} {
		if got := p.Window.Open(tt.at); got != tt.open {
			t.Errorf("Open(%s) = %v", tt.at, got)
		}
	}
}

func TestDefaults(t *testing.T) {
	p, err := Parse("p.yaml", []byte("name: x\nsteps:\n  - run: uptime\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Strategy.MaxParallel != (fleet.Quantity{N: 25, Percent: true}) || p.Strategy.Order != fleet.OrderSpread || p.Window != nil ||
		p.Strategy.CustomerErrors != fleet.DefaultCustomerErrors {
		t.Errorf("defaults %+v", p.Strategy)
	}
	if p.Steps[0].Timeout != defaultRunTimeout || p.Steps[0].AllowedExitCodes[0] != 0 {
		t.Errorf("run defaults %+v", p.Steps[0])
	}
}

func TestWindowAcrossMidnight(t *testing.T) {
	p, err := Parse("p.yaml", []byte("name: x\nsteps: [{run: x}]\nwindow: {days: [mon], hours: 22:00-06:00}\n"))
	if err != nil {
		t.Fatal(err)
	}
	mon := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		at   time.Duration
		open bool
	}{
		{23 * time.Hour, true},           // Monday evening
		{24*time.Hour + time.Hour, true}, // Tuesday 01:00 belongs to Monday's window
		{7 * time.Hour, false},           // Monday 07:00
		{time.Hour, false},               // Monday 01:00 belongs to Sunday's window
	} {
		if got := p.Window.Open(mon.Add(tt.at)); got != tt.open {
			t.Errorf("Open(Mon+%s) = %v, want %v", tt.at, got, tt.open)
		}
	}
}

// TestBadPlans checks every fixture in testdata/bad against its golden
// .err file: the exact messages, with file, line and column.
func TestBadPlans(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			var ps yamlx.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want problems, got %v", err)
			}
			want, rerr := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got := ps.Error() + "\n"; got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestGoodFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(good)
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse("p.yaml", []byte(src))
		var ps yamlx.Problems
		if err != nil && !errors.As(err, &ps) {
			t.Fatalf("error is not Problems: %v", err)
		}
		if err == nil && (p.Name == "" || len(p.Steps) == 0) {
			t.Fatalf("accepted a plan without name or steps: %+v", p)
		}
	})
}

func TestPauseOnAlerts(t *testing.T) {
	p, err := Parse("p.yaml", []byte("name: x\nsteps: [{run: x}]\nstrategy:\n  pause_on_alerts: ['severity=\"critical\"', 'alertname=~\"Node.*\"']\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Strategy.PauseOnAlerts) != 2 {
		t.Fatalf("%+v", p.Strategy.PauseOnAlerts)
	}
	if p.Strategy.ResumeWhenResolved {
		t.Error("resume_when_resolved is true by default")
	}
	_, err = Parse("p.yaml", []byte("name: x\nsteps: [{run: x}]\nstrategy:\n  pause_on_alerts: ['severity']\n"))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:4:") {
		t.Fatalf("a matcher without operator must be refused with its position, got %v", err)
	}
	p, err = Parse("p.yaml", []byte("name: x\nsteps: [{run: x}]\nstrategy:\n  pause_on_alerts: ['severity=\"critical\"']\n  resume_when_resolved: true\n"))
	if err != nil || !p.Strategy.ResumeWhenResolved {
		t.Fatalf("resume_when_resolved: true read as %+v, error %v", p, err)
	}
	_, err = Parse("p.yaml", []byte("name: x\nsteps: [{run: x}]\nstrategy:\n  resume_when_resolved: true\n"))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:4:25: resume_when_resolved needs pause_on_alerts") {
		t.Fatalf("resume_when_resolved without pause_on_alerts: %v", err)
	}
	_, err = Parse("p.yaml", []byte("name: x\nsteps: [{run: x}]\nstrategy:\n  pause_on_alerts: ['severity=\"critical\"']\n  resume_when_resolved: sometimes\n"))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:5:") {
		t.Fatalf("resume_when_resolved: sometimes: %v", err)
	}
}
