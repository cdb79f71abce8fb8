package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// alertmanagerVersions are the releases whose webhook payloads
// testdata/alertmanager holds, a firing one and its resolved one each:
// 0.32 adds notification_reason, 0.34 routeLabels.
var alertmanagerVersions = []string{"0.25", "0.27", "0.32", "0.34"}

func payload(t testing.TB, version, status string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "alertmanager", version+"-"+status+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// gatedPlan runs one step on each host that waits until the file gate
// exists: its rollout holds a host in that step for as long as a test
// needs.
func gatedPlan(gate, strategy string) api.StartRollout {
	plan := fmt.Sprintf(`name: Gated
steps:
  - run: "until [ -e %s ]; do sleep 0.1; done"
    timeout: 5m
strategy:
  pause_on_alerts: ['severity="critical"', 'alertname=~"NodeFilesystem.*"']
%s`, gate, strategy)
	return api.StartRollout{PlanFile: "gated.yaml", Plan: plan}
}

// The payloads of every Alertmanager release pause a matching rollout
// running on a lab, and their resolved notices are told in its events and
// resume it, as its plan says; a plan that does not say so stays paused.
func TestAlertmanagerReleasesOnALab(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 4})
	d := start(t, sqlite, servertest.Options{Inventory: l.Info().Files.Inventory})
	am := createToken(t, d, d.AdminToken, "alertmanager", "operator").Secret
	// Two hosts of different groups: the rollouts on them run at once
	// (on both halves of a pair, the second would wait on the first).
	hosts := l.Info().Hosts[:1]
	for _, h := range l.Info().Hosts {
		if h.Group != hosts[0].Group {
			hosts = append(hosts, h)
			break
		}
	}
	gate := filepath.Join(t.TempDir(), "gate")
	// However the test ends, the hosts leave their step, and the daemon
	// stops without waiting for the step's timeout.
	t.Cleanup(func() { os.WriteFile(gate, nil, 0o600) })

	startOn := func(host, strategy string) api.Rollout {
		t.Helper()
		p := gatedPlan(gate, strategy)
		p.Selector = host
		a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, p)
		if a.status != http.StatusCreated {
			t.Fatalf("start: %d %s", a.status, a.body)
		}
		var ro api.Rollout
		a.decode(t, &ro)
		return waitRollout(t, d, d.AdminToken, ro.ID, 30*time.Second, func(ro api.Rollout) bool { return ro.Counts["running"] == 1 })
	}
	send := func(version, status string) api.Paused {
		t.Helper()
		a := call(t, d, "POST", "/api/v1/alertmanager", am, payload(t, version, status))
		if a.status != http.StatusOK {
			t.Fatalf("Alertmanager %s, %s: %d %s", version, status, a.status, a.body)
		}
		var out api.Paused
		a.decode(t, &out)
		return out
	}
	state := func(id string) string {
		t.Helper()
		return waitRollout(t, d, d.AdminToken, id, time.Second, func(api.Rollout) bool { return true }).State
	}
	events := func(id, kind string) []api.Event {
		t.Helper()
		var evs api.Events
		call(t, d, "GET", "/api/v1/rollouts/"+id+"/events", d.AdminToken, nil).decode(t, &evs)
		var out []api.Event
		for _, e := range evs.Events {
			if e.Kind == kind {
				out = append(out, e)
			}
		}
		return out
	}

	ro := startOn(hosts[0].Name, "  resume_when_resolved: true\n")
	for i, v := range alertmanagerVersions {
		t.Run(v, func(t *testing.T) {
			got := send(v, "firing")
			if len(got.Rollouts) != 1 || got.Rollouts[0].ID != ro.ID || !strings.Contains(got.Rollouts[0].Alert, `severity="critical"`) {
				t.Fatalf("paused %+v, want %s by the critical alert", got.Rollouts, ro.ID)
			}
			if st := state(ro.ID); st != "paused" {
				t.Fatalf("after the firing alert, the rollout is %s", st)
			}
			got = send(v, "resolved")
			if len(got.Resolved) != 1 || got.Resolved[0].ID != ro.ID || !got.Resolved[0].Resumed {
				t.Fatalf("resolved %+v, want %s resumed", got.Resolved, ro.ID)
			}
			if st := state(ro.ID); st != "running" {
				t.Fatalf("after the resolved notice, the rollout is %s", st)
			}
			paused, resolved := events(ro.ID, "rollout.alert"), events(ro.ID, "rollout.alert_resolved")
			if len(paused) != i+1 || len(resolved) != i+1 {
				t.Fatalf("events: %d alert, %d alert_resolved, want %d each", len(paused), len(resolved), i+1)
			}
			if e := resolved[i]; !strings.Contains(e.Message, "NodeFilesystemAlmostOutOfSpace") || !strings.Contains(e.Message, "resumes") {
				t.Errorf("the resolved event says %q", e.Message)
			}
		})
	}

	// Without resume_when_resolved, the alert's end is told and the
	// rollout stays paused, while the one whose plan says so resumes.
	other := startOn(hosts[1].Name, "")
	if got := send("0.34", "firing"); len(got.Rollouts) != 2 {
		t.Fatalf("paused %+v, want both rollouts", got.Rollouts)
	}
	got := send("0.34", "resolved")
	resumed := map[string]bool{}
	for _, r := range got.Resolved {
		resumed[r.ID] = r.Resumed
	}
	if len(got.Resolved) != 2 || !resumed[ro.ID] || resumed[other.ID] {
		t.Fatalf("resolved %+v, want %s resumed and %s not", got.Resolved, ro.ID, other.ID)
	}
	if st := state(other.ID); st != "paused" {
		t.Errorf("a plan without resume_when_resolved: the rollout is %s", st)
	}
	if evs := events(other.ID, "rollout.alert_resolved"); len(evs) != 1 || strings.Contains(evs[0].Message, "resumes") ||
		!strings.Contains(evs[0].Message, "receiver illico-rollouts") {
		t.Errorf("its resolved events: %+v", evs)
	}

	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if a := call(t, d, "POST", "/api/v1/rollouts/"+other.ID+"/resume", d.AdminToken, nil); a.status != http.StatusOK {
		t.Fatalf("resume: %d %s", a.status, a.body)
	}
	for _, id := range []string{ro.ID, other.ID} {
		if end := waitRollout(t, d, d.AdminToken, id, 30*time.Second, func(ro api.Rollout) bool { return ro.Ended != nil }); end.State != "done" {
			t.Errorf("rollout %s ended %s (%s)", id, end.State, end.Reason)
		}
	}
}

// manyAlerts is a notification of Alertmanager listing n alerts with the
// labels and annotations of a Kubernetes cluster's, as 0.34 sends it.
func manyAlerts(t testing.TB, n int) []byte {
	t.Helper()
	common := map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning", "cluster": "prod-dc1", "prometheus": "monitoring/k8s"}
	msg := map[string]any{
		"receiver": "illico", "status": "firing", "notification_reason": "new alerts added",
		"groupLabels": map[string]string{"alertname": "KubePodCrashLooping"}, "commonLabels": common,
		"commonAnnotations": map[string]string{"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"},
		"routeLabels":       map[string]string{"team": "platform"},
		"externalURL":       "http://alertmanager.monitoring.svc.cluster.local:9093",
		"version":           "4", "groupKey": `{}/{severity=~"warning|critical"}:{alertname="KubePodCrashLooping"}`, "truncatedAlerts": 0,
	}
	start := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	alerts := make([]api.AlertmanagerAlert, n)
	for i := range alerts {
		ns, pod := fmt.Sprintf("tenant-%04d", i/10), fmt.Sprintf("api-%08x-%05x", i*2654435761, i)
		alerts[i] = api.AlertmanagerAlert{
			Status: "firing",
			Labels: map[string]string{
				"alertname": "KubePodCrashLooping", "severity": "warning", "cluster": "prod-dc1", "prometheus": "monitoring/k8s",
				"container": "api", "endpoint": "http", "instance": fmt.Sprintf("10.42.%d.%d:8080", i/250, i%250),
				"job": "kube-state-metrics", "namespace": ns, "pod": pod, "reason": "CrashLoopBackOff",
				"service": "kube-state-metrics", "uid": fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, i%65536, i%4096, i%4096, i),
			},
			Annotations: map[string]string{
				"description": fmt.Sprintf("Pod %s/%s (api) is in waiting state (reason: \"CrashLoopBackOff\") on cluster prod-dc1.", ns, pod),
				"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
				"summary":     "Pod is crash looping.",
			},
			StartsAt:     start.Add(time.Duration(i) * time.Second),
			GeneratorURL: "http://prometheus-k8s-0:9090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%7Breason%3D%22CrashLoopBackOff%22%2Cjob%3D%22kube-state-metrics%22%2Cnamespace%3D~%22.%2A%22%7D%5B5m%5D%29+%3E%3D+1&g0.tab=1",
			Fingerprint:  fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
		}
	}
	msg["alerts"] = alerts
	data, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The receiver's bound on a notification's size: 2,000 alerts fit, and
// twice as many, for margin; a body over the bound is refused with 413
// and says the bound, as a body over the API's own bound is.
func TestAlertmanagerBodyBound(t *testing.T) {
	d := start(t, sqlite, servertest.Options{})
	two := manyAlerts(t, 2000)
	t.Logf("2,000 alerts: %d bytes (%.1f MiB)", len(two), float64(len(two))/(1<<20))
	for _, n := range []int{2000, 4000} {
		body := two
		if n != 2000 {
			body = manyAlerts(t, n)
		}
		if a := call(t, d, "POST", "/api/v1/alertmanager", d.AdminToken, string(body)); a.status != http.StatusOK {
			t.Errorf("%d alerts, %d bytes: %d %.200s", n, len(body), a.status, a.body)
		}
	}
	over := manyAlerts(t, 10000)
	a := call(t, d, "POST", "/api/v1/alertmanager", d.AdminToken, string(over))
	e := a.apiError(t)
	if a.status != http.StatusRequestEntityTooLarge || e.Kind != "too_large" || !strings.Contains(e.Message, "request body is larger than") {
		t.Fatalf("%d bytes: %d %+v, want 413", len(over), a.status, e)
	}
	var bound int
	fmt.Sscanf(e.Message[strings.Index(e.Message, "than ")+5:], "%d", &bound)
	t.Logf("the bound: %d bytes, %.1f times 2,000 alerts", bound, float64(bound)/float64(len(two)))
	if bound < 4*len(two) {
		t.Errorf("the bound, %d bytes, leaves no margin over 2,000 alerts (%d bytes)", bound, len(two))
	}
}

// What the receiver refuses, it refuses in words, naming the field by its
// place and never a Go type; any method but POST is told so, with Allow.
func TestAlertmanagerRefusals(t *testing.T) {
	d := start(t, sqlite, servertest.Options{})
	reader := createToken(t, d, d.AdminToken, "grafana", "reader").Secret
	fields := `"version": "4", "receiver": "illico", "status": "firing"`
	for _, tc := range []struct {
		name, token, body string
		status            int
		want              string
	}{
		{"labels not an object", d.AdminToken, `{` + fields + `, "alerts": [{}, {}, {}, {"status": "firing", "labels": "NodeDown"}]}`,
			400, `request body: field "alerts[3].labels": expected an object, got a string`},
		{"a label not a string", d.AdminToken, `{` + fields + `, "alerts": [{"labels": {"alertname": "NodeDown", "severity": 2}}]}`,
			400, `field "alerts[0].labels.severity": expected a string, got a number`},
		{"alerts not an array", d.AdminToken, `{` + fields + `, "alerts": {"status": "firing"}}`,
			400, `field "alerts": expected an array, got an object`},
		{"truncatedAlerts not a number", d.AdminToken, `{` + fields + `, "truncatedAlerts": "3", "alerts": []}`,
			400, `field "truncatedAlerts": expected a whole number, got a string`},
		{"a bad time", d.AdminToken, `{` + fields + `, "alerts": [{"status": "firing", "startsAt": "yesterday"}]}`,
			400, `"yesterday" is not a time`},
		{"not an object", d.AdminToken, `[]`, 400, "request body: expected an object, got an array"},
		{"another version", d.AdminToken, `{"version": "5", "alerts": []}`, 400, `payload version "5": illico reads version 4`},
		{"unknown fields anywhere", d.AdminToken, `{` + fields + `, "notification_reason": "x", "routeLabels": {}, "new": [1],
			"alerts": [{"status": "firing", "labels": {"alertname": "NodeDown"}, "new": {"x": 1}}]}`, 200, `"paused": []`},
		{"a reader's token", reader, `{` + fields + `, "alerts": []}`, 403, "this needs operator"},
		{"no token", "", `{` + fields + `, "alerts": []}`, 401, "this needs an API token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d, "POST", "/api/v1/alertmanager", tc.token, tc.body)
			if a.status != tc.status || !strings.Contains(string(a.body), strings.ReplaceAll(tc.want, `"`, `\"`)) && !strings.Contains(string(a.body), tc.want) {
				t.Fatalf("got %d %s, want %d saying %s", a.status, a.body, tc.status, tc.want)
			}
			for _, s := range []string{"Go ", "api.", "json:", "map[", "uint", "time.Time"} {
				if strings.Contains(string(a.body), s) {
					t.Errorf("the answer names a Go type (%q): %s", s, a.body)
				}
			}
		})
	}
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH"} {
		t.Run(m, func(t *testing.T) {
			a := call(t, d, m, "/api/v1/alertmanager", d.AdminToken, nil)
			if e := a.apiError(t); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST" || e.Kind != "method_not_allowed" {
				t.Errorf("%s: %d, Allow %q, %+v; want 405 with Allow: POST", m, a.status, a.header.Get("Allow"), e)
			}
		})
	}
	// Other routes alike; a path no route has is still not found.
	if a := call(t, d, "DELETE", "/api/v1/rollouts", d.AdminToken, nil); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("DELETE /api/v1/rollouts: %d, Allow %q", a.status, a.header.Get("Allow"))
	}
	if a := call(t, d, "GET", "/api/v1/nothing", d.AdminToken, nil); a.status != http.StatusNotFound || a.header.Get("Allow") != "" {
		t.Errorf("GET /api/v1/nothing: %d, Allow %q", a.status, a.header.Get("Allow"))
	}
}

// The firing payloads of the releases decode to the alerts they hold,
// whatever fields a release adds.
func TestAlertmanagerPayloadsDecode(t *testing.T) {
	for _, v := range alertmanagerVersions {
		for _, status := range []string{"firing", "resolved"} {
			var all map[string]any
			if err := json.Unmarshal([]byte(payload(t, v, status)), &all); err != nil {
				t.Fatalf("%s %s: %v", v, status, err)
			}
			var m api.AlertmanagerMessage
			if err := json.Unmarshal([]byte(payload(t, v, status)), &m); err != nil {
				t.Fatalf("%s %s: %v", v, status, err)
			}
			if m.Version != "4" || m.Status != status || len(m.Alerts) == 0 || slices.ContainsFunc(m.Alerts, func(a api.AlertmanagerAlert) bool {
				return a.Status != status || a.Labels["alertname"] == "" || a.StartsAt.IsZero() || a.Fingerprint == ""
			}) {
				t.Errorf("%s %s: %+v", v, status, m)
			}
			if _, ok := all["notification_reason"]; ok != (v >= "0.32") {
				t.Errorf("%s %s: notification_reason present %v", v, status, ok)
			}
			if _, ok := all["routeLabels"]; ok != (v >= "0.34") {
				t.Errorf("%s %s: routeLabels present %v", v, status, ok)
			}
		}
	}
}
