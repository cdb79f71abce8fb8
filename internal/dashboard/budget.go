package dashboard

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
)

// The budgets page: every group, who is out of service and why, and the
// operator's drain and undrain, through the same ledger as `illico host`.

// budgetGroup is a group as the page shows it.
type budgetGroup struct {
	Name         string
	Allowed, Out int
	Members      []budgetMember
	// Full says no other member may go out now; Over, that more are out
	// than the budget allows (a forced drain, a host down besides).
	Full, Over bool
}

// budgetMember is a member of a group; For says how long its lease has
// been held.
type budgetMember struct {
	api.MemberBudget
	For string
}

// budgetView is the page: the groups with a member out first, since those
// are what an operator comes to see, then the others, each in the API's
// order.
type budgetView struct {
	Groups []budgetGroup
	// Summary says how many hosts are out of service, counted once
	// however many groups they are in, and in how many groups.
	Summary string
}

func newBudgetView(b api.Budgets, now time.Time) budgetView {
	var v budgetView
	out, groups := map[string]bool{}, 0
	for _, g := range b.Groups {
		bg := budgetGroup{Name: g.Name, Allowed: g.Allowed, Out: g.Out, Full: g.Out >= g.Allowed, Over: g.Out > g.Allowed}
		for _, m := range g.Members {
			bm := budgetMember{MemberBudget: m}
			if m.Lease != nil {
				bm.For = held(now.Sub(m.Lease.Since))
			}
			if m.Out != "" {
				out[m.Host] = true
			}
			bg.Members = append(bg.Members, bm)
		}
		if g.Out > 0 {
			groups++
		}
		v.Groups = append(v.Groups, bg)
	}
	v.Summary = "Every host is in service."
	if len(out) > 0 {
		v.Summary = fmt.Sprintf("%s out of service, in %s.", count(len(out), "host"), count(groups, "group"))
	}
	slices.SortStableFunc(v.Groups, func(a, b budgetGroup) int {
		return cmp.Compare(min(b.Out, 1), min(a.Out, 1))
	})
	return v
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// held says how long a lease has been held, to the minute.
func held(d time.Duration) string {
	d = d.Truncate(time.Minute)
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	days := int(d.Hours()) / 24
	return fmt.Sprintf("%d d %d h", days, int(d.Hours())%24)
}

func (d *Dashboard) budgets(w http.ResponseWriter, r *http.Request, s *session) {
	var b api.Budgets
	if err := d.call(r, s, http.MethodGet, api.Prefix+"/budget", nil, &b); err != nil {
		d.apiFailed(w, r, s, err)
		return
	}
	d.render(w, r, http.StatusOK, "budget", s, map[string]any{"View": newBudgetView(b, d.now()), "Notes": s.told()})
}

func hostPath(name string) string { return api.Prefix + "/hosts/" + url.PathEscape(name) }

// drainHost sends the form to POST /api/v1/hosts/{name}/drain and goes
// back to the budgets, saying what came of it.
func (d *Dashboard) drainHost(w http.ResponseWriter, r *http.Request, s *session) {
	host := r.PathValue("name")
	in := api.Drain{Reason: strings.TrimSpace(r.PostFormValue("reason")), Force: r.PostFormValue("force") != ""}
	var out api.Drained
	if err := d.call(r, s, http.MethodPost, hostPath(host)+"/drain", in, &out); err != nil {
		d.budgetRefused(w, r, s, err)
		return
	}
	s.tell(note{"done", fmt.Sprintf("%s is drained: out of service, leased to %s since %s UTC.", out.Lease.Host, out.Lease.Holder, out.Lease.Since.UTC().Format(time.TimeOnly))})
	if out.Broke != "" {
		s.tell(note{"notice", "The drain was forced past a budget: " + out.Broke})
	}
	http.Redirect(w, r, "/dashboard/budget", http.StatusSeeOther)
}

// undrainHost sends the form to POST /api/v1/hosts/{name}/undrain.
func (d *Dashboard) undrainHost(w http.ResponseWriter, r *http.Request, s *session) {
	var l api.Lease
	if err := d.call(r, s, http.MethodPost, hostPath(r.PathValue("name"))+"/undrain", nil, &l); err != nil {
		d.budgetRefused(w, r, s, err)
		return
	}
	s.tell(note{"done", fmt.Sprintf("%s is back in service; its lease, held by %s since %s UTC, has ended.", l.Host, l.Holder, l.Since.UTC().Format(time.TimeOnly))})
	http.Redirect(w, r, "/dashboard/budget", http.StatusSeeOther)
}

// budgetRefused goes back to the budgets with the API's refusal: a budget
// that does not allow the drain, a host unknown or holding no lease. What
// is not the operator's to mend there (a session ended, a role that may
// not act, the daemon's own failure) is shown as on every page.
func (d *Dashboard) budgetRefused(w http.ResponseWriter, r *http.Request, s *session, err error) {
	switch fleet.KindOf(err) {
	case fleet.KindUnauthorized, fleet.KindForbidden, fleet.KindInternal:
		d.apiFailed(w, r, s, err)
		return
	}
	s.tell(note{"refused", err.Error()})
	http.Redirect(w, r, "/dashboard/budget", http.StatusSeeOther)
}
