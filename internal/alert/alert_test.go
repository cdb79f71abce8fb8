package alert

import (
	"fmt"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/probe"
)

func TestFromChange(t *testing.T) {
	inv := fleetOf(t, 2, map[string]string{"rbx-1": "rbx"})
	inv.Hosts[0].Groups = []string{"web", "cache"}
	def := &probe.Definition{Name: "site", Kind: probe.KindHTTP, Target: "http://${address}/"}
	// A target built before the inventory changed: the inventory wins.
	stale := def.Expand(&fleet.Host{Name: "rbx-1-000", Address: "rbx-1-000.example"})
	tests := []struct {
		name     string
		from, to probe.State
		want     Status
		none     bool
	}{
		{name: "first up", from: probe.StateUnknown, to: probe.StateUp, none: true},
		{name: "down", from: probe.StateUp, to: probe.StateDown, want: StatusFiring},
		{name: "down from unknown", from: probe.StateUnknown, to: probe.StateDown, want: StatusFiring},
		{name: "back", from: probe.StateDown, to: probe.StateUp, want: StatusResolved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := FromChange(probe.Change{Target: &stale, From: tt.from, To: tt.to, At: t0, Reason: "[STATUS] == 200"}, inv)
			if ok == tt.none {
				t.Fatalf("ok = %v", ok)
			}
			if tt.none {
				return
			}
			want := labels.Set{LabelAlertname: ProbeDown, LabelHost: "rbx-1-000", LabelDatacenter: "rbx-1", LabelSite: "rbx", LabelGroup: "cache,web", LabelProbe: "site"}
			if a.Labels.String() != want.String() || a.Status() != tt.want || a.Annotations["target"] != "http://rbx-1-000.example/" {
				t.Errorf("alert %v %s %v", a.Labels, a.Status(), a.Annotations)
			}
		})
	}
	if _, ok := FromChange(probe.Change{To: probe.StateDown}, inv); ok {
		t.Error("a change without a target raised an alert")
	}
}

// BenchmarkFlush is one second of a fleet with one datacenter of n lost:
// the pipeline's work per tick.
func BenchmarkFlush(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", 3*n), func(b *testing.B) {
			bn := newBench(b)
			bn.inv = fleetOf(b, n, map[string]string{"rbx-1": "rbx", "rbx-2": "rbx", "gra-1": "gra"})
			cfg, _ := Load("alerts.yaml", []byte("route: {receiver: oncall}\nreceivers: {oncall: {webhook: {url: 'http://127.0.0.1:9/'}}}\n"))
			bn.p = New(cfg, bn.inv)
			for _, h := range bn.inv.Hosts {
				if h.Datacenter == "rbx-2" {
					bn.down(h.Name)
				}
			}
			b.ResetTimer()
			for range b.N {
				bn.now = bn.now.Add(time.Second)
				bn.p.Flush(bn.now)
			}
		})
	}
}
