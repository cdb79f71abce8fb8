package dashboard

import (
	"slices"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
)

func TestBudgetView(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 5, 0, 0, time.UTC)
	lease := &api.Lease{Host: "db-2", Kind: "drain", Holder: "account alice", Since: now.Add(-90 * time.Second)}
	member := func(host, out string) api.MemberBudget { return api.MemberBudget{Host: host, Out: out} }
	group := func(name string, allowed, out int, members ...api.MemberBudget) api.GroupBudget {
		return api.GroupBudget{Name: name, Allowed: allowed, Out: out, Members: members}
	}
	for _, tc := range []struct {
		name    string
		in      []api.GroupBudget
		order   []string
		summary string
		full    []string
		over    []string
	}{
		{"none out", []api.GroupBudget{group("a", 1, 0, member("a-1", ""), member("a-2", "")), group("b", 0, 0, member("b-1", ""))},
			[]string{"a", "b"}, "Every host is in service.", []string{"b"}, nil},
		{"out first, in the API's order", []api.GroupBudget{
			group("a", 1, 0, member("a-1", "")),
			group("db", 1, 1, member("db-1", ""), api.MemberBudget{Host: "db-2", Out: "drained by account alice", Lease: lease}),
			group("c", 2, 0, member("c-1", "")),
			group("web", 1, 2, member("web-1", "probe ssh down"), member("web-2", "probe ssh down")),
			group("all", 3, 3, member("db-2", "drained"), member("web-1", "probe ssh down"), member("web-2", "probe ssh down")),
		}, []string{"db", "web", "all", "a", "c"}, "3 hosts out of service, in 3 groups.", []string{"db", "web", "all"}, []string{"web"}},
		{"one", []api.GroupBudget{group("a", 1, 0, member("a-1", "")), group("b", 1, 1, member("b-1", "x"))},
			[]string{"b", "a"}, "1 host out of service, in 1 group.", []string{"b"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newBudgetView(api.Budgets{Groups: tc.in}, now)
			var order, full, over []string
			for _, g := range v.Groups {
				order = append(order, g.Name)
				if g.Full {
					full = append(full, g.Name)
				}
				if g.Over {
					over = append(over, g.Name)
				}
			}
			if !slices.Equal(order, tc.order) || v.Summary != tc.summary || !slices.Equal(full, tc.full) || !slices.Equal(over, tc.over) {
				t.Errorf("order %q, summary %q, full %q, over %q; want %q, %q, %q, %q", order, v.Summary, full, over, tc.order, tc.summary, tc.full, tc.over)
			}
		})
	}
	v := newBudgetView(api.Budgets{Groups: []api.GroupBudget{group("db", 1, 1, api.MemberBudget{Host: "db-2", Out: "drained", Lease: lease})}}, now)
	if got := v.Groups[0].Members[0].For; got != "1 min" {
		t.Errorf("a lease of 90s is held for %q, want 1 min", got)
	}
}

func TestHeld(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "less than a minute"}, // the daemon's clock a little behind the store's
		{59 * time.Second, "less than a minute"},
		{time.Minute, "1 min"},
		{59*time.Minute + 59*time.Second, "59 min"},
		{time.Hour, "1 h 0 min"},
		{23*time.Hour + 5*time.Minute, "23 h 5 min"},
		{50 * time.Hour, "2 d 2 h"},
	} {
		if got := held(tc.d); got != tc.want {
			t.Errorf("held(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
