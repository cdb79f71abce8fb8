package site

import (
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestSyncComponents(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	inv := &fleet.Inventory{Groups: []*fleet.Group{
		{Name: "web-01", Component: "Web cluster 01", ComponentGroup: "Shared hosting", Members: []string{"a", "b"},
			Balancer: &fleet.Membership{LoadBalancer: "lb"}},
		{Name: "web-02", Component: "Web cluster 02", ComponentGroup: "Shared hosting", Members: []string{"c"}},
		{Name: "web-01-extra", Component: "Web cluster 01", ComponentGroup: "Shared hosting", Members: []string{"b", "d"}},
		{Name: "db", Component: "Databases", Members: []string{"e"}},
		{Name: "bastion", Members: []string{"f"}},
	}}
	var st fleet.Status
	syncComponents(&st, inv, t0)

	type comp struct {
		id, group string
		hosts     int
		redundant bool
	}
	want := []comp{{"web-cluster-01", "group-shared-hosting", 3, true}, {"web-cluster-02", "group-shared-hosting", 1, false}, {"databases", "", 1, false}}
	if len(st.Components) != len(want) {
		t.Fatalf("components %+v, want %d", st.Components, len(want))
	}
	for i, w := range want {
		c := st.Components[i]
		if c.ID != w.id || c.Group != w.group || len(c.Hosts) != w.hosts || c.Redundant != w.redundant || c.Position != i+1 {
			t.Errorf("component %d = %+v, want %+v at position %d", i, c, w, i+1)
		}
	}
	if len(st.Groups) != 1 || st.Groups[0].ID != "group-shared-hosting" || st.Groups[0].Name != "Shared hosting" {
		t.Fatalf("groups %+v, want one: Shared hosting", st.Groups)
	}

	// A reload keeps what the page made before, and drops a heading no
	// group names any more.
	st.Components[0].Override = fleet.MajorOutage
	inv.Groups[1].ComponentGroup = ""
	inv.Groups[0].ComponentGroup, inv.Groups[2].ComponentGroup = "", ""
	syncComponents(&st, inv, t0.Add(time.Hour))
	if len(st.Groups) != 0 {
		t.Errorf("groups %+v after the inventory named none", st.Groups)
	}
	if c := st.Components[0]; c.Group != "" || c.Override != fleet.MajorOutage || !c.CreatedAt.Equal(t0) {
		t.Errorf("component after reload = %+v: want no group, its override and its creation time kept", c)
	}
}
