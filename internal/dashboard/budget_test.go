package dashboard_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
)

// between is s from the first start to the end that follows it, or "".
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j]
}

// group is a group's section of the budgets page.
func group(p answer, name string) string { return between(p.body, `id="g-`+name+`"`, "</section>") }

// member is a member's row in a group's section.
func member(section, host string) string {
	return between(section[max(strings.Index(section, "<strong>"+host+"</strong>")-60, 0):], `<li class="row`, "</li>")
}

// drain sends the drain form of host.
func (b *browser) drain(token, host, reason string, force bool) answer {
	b.t.Helper()
	f := url.Values{"csrf": {token}, "reason": {reason}}
	if force {
		f.Set("force", "yes")
	}
	return b.post("/dashboard/hosts/"+host+"/drain", f)
}

// In testdata's fleet nothing answers at the hosts' addresses, so that
// their probes hold every host out: an operator's drain is refused with
// the budget's reason, and a forced one takes the host with the budget it
// broke as a warning. The page shows who holds the host out and why, the
// operator's reason escaped, and each message once.
func TestDrainAndUndrainOnTheBudgets(t *testing.T) {
	d := start(t)
	op := fmt.Sprintf("token %d (operator)", d.operatorID)
	b := d.browser(t)
	b.login(d.operator)
	// The probes start with the daemon: until they have their targets,
	// nothing holds a host out.
	var p answer
	for range 200 {
		if p = b.get("/dashboard/budget"); strings.Contains(group(p, "db-01"), "2 of 1 allowed out") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p.status != http.StatusOK {
		t.Fatalf("the budgets: %d\n%s", p.status, p.body)
	}
	db := group(p, "db-01")
	for _, want := range []string{"2 of 1 allowed out", "Over its budget", "probe ssh", `action="/dashboard/hosts/db-rbx-01/drain"`, `name="force"`} {
		if !strings.Contains(db, want) {
			t.Errorf("db-01 on the budgets lacks %q:\n%s", want, db)
		}
	}
	if !strings.Contains(p.body, `<a href="/dashboard/budget">Budgets</a>`) {
		t.Errorf("the navigation does not link to the budgets")
	}
	token := csrf(t, p)

	p = b.drain(token, "db-rbx-01", "kernel panics", false)
	if want := `class="refused" role="alert">db-rbx-01 stays in service: partner db-rbx-02 is not known to be up: its probe ssh`; p.url != "/dashboard/budget" || !strings.Contains(p.body, want) {
		t.Fatalf("a drain past the budget: %d at %s, the page lacks %q\n%s", p.status, p.url, want, p.body)
	}
	if row := member(group(p, "db-01"), "db-rbx-01"); strings.Contains(row, "Drained by") {
		t.Errorf("a refused drain took db-rbx-01:\n%s", row)
	}

	p = b.drain(token, "db-rbx-01", "  <b>disk</b> errors ", true)
	if p.status != http.StatusOK || p.url != "/dashboard/budget" {
		t.Fatalf("a forced drain: %d at %s\n%s", p.status, p.url, p.body)
	}
	for _, want := range []string{`class="done" role="status">db-rbx-01 is drained: out of service, leased to ` + op + ` since `,
		`class="notice" role="alert">The drain was forced past a budget: partner db-rbx-02 is not known to be up: its probe ssh`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after a forced drain, the page lacks %q:\n%s", want, p.body)
		}
	}
	row := member(group(p, "db-01"), "db-rbx-01")
	for _, want := range []string{"out of service", "Drained by " + op, "for less than a minute: <q class=\"reason\">&lt;b&gt;disk&lt;/b&gt; errors</q>", `action="/dashboard/hosts/db-rbx-01/undrain"`} {
		if !strings.Contains(row, want) {
			t.Errorf("db-rbx-01's row lacks %q:\n%s", want, row)
		}
	}
	if strings.Contains(p.body, "<b>disk</b>") || strings.Contains(row, "/drain") {
		t.Errorf("the reason is not escaped, or a drained host is offered a drain:\n%s", row)
	}
	d.clock.advance(75 * time.Minute)
	p = b.get("/dashboard/budget")
	if strings.Contains(p.body, "is drained") {
		t.Errorf("the message is shown again on the next page")
	}
	if row := member(group(p, "db-01"), "db-rbx-01"); !strings.Contains(row, "for 1 h 15 min") {
		t.Errorf("75 minutes on, db-rbx-01's row does not say so:\n%s", row)
	}

	p = b.drain(token, "db-rbx-02", "also", false)
	if want := `class="refused" role="alert">db-rbx-02 stays in service: partner db-rbx-01 is drained by ` + op + ` since `; !strings.Contains(p.body, want) {
		t.Errorf("the partner's drain: the page lacks %q\n%s", want, p.body)
	}

	p = b.post("/dashboard/hosts/db-rbx-01/undrain", url.Values{"csrf": {token}})
	if want := `class="done" role="status">db-rbx-01 is back in service; its lease, held by ` + op + ` since `; !strings.Contains(p.body, want) {
		t.Fatalf("undrain: %d, the page lacks %q\n%s", p.status, want, p.body)
	}
	if row := member(group(p, "db-01"), "db-rbx-01"); strings.Contains(row, "Drained by") || !strings.Contains(row, "/drain") {
		t.Errorf("db-rbx-01 after its undrain:\n%s", row)
	}
	for _, tc := range []struct{ path, want string }{
		{"/dashboard/hosts/db-rbx-01/undrain", "db-rbx-01 holds no lease"},
		{"/dashboard/hosts/nope/undrain", "no host nope in the inventory"},
		{"/dashboard/hosts/nope/drain", "no host nope in the inventory"},
	} {
		if p := b.post(tc.path, url.Values{"csrf": {token}}); !strings.Contains(p.body, `class="refused" role="alert">`+tc.want) {
			t.Errorf("%s: %d, the page lacks %q\n%s", tc.path, p.status, tc.want, p.body)
		}
	}
}

// On a lab, whose hosts answer, an operator drains a host out of its
// load balancer; its partner's drain is refused; the undrain puts it back.
func TestDrainOnALab(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 2})
	d := startWith(t, server.Options{Inventory: l.Info().Files.Inventory})
	op := fmt.Sprintf("token %d (operator)", d.operatorID)
	balancer := func(host string) string {
		for _, s := range l.Status(t.Context()) {
			if s.Name == host {
				return s.Balancer
			}
		}
		return ""
	}
	b := d.browser(t)
	token := csrf(t, b.login(d.operator))
	p := b.drain(token, "web-gra-01", "disk errors", false)
	if !strings.Contains(p.body, `class="done" role="status">web-gra-01 is drained`) || strings.Contains(p.body, `class="notice"`) {
		t.Fatalf("drain: %d at %s\n%s", p.status, p.url, p.body)
	}
	if s := balancer("web-gra-01"); s != "MAINT" {
		t.Errorf("web-gra-01 is %q in HAProxy after its drain, want MAINT", s)
	}
	web := group(p, "web-01")
	if !strings.Contains(web, "1 of 1 allowed out") || !strings.Contains(member(web, "web-gra-01"), "disk errors") {
		t.Errorf("web-01 after the drain:\n%s", web)
	}
	p = b.drain(token, "web-sbg-01", "", false)
	if !strings.Contains(p.body, `class="refused" role="alert">web-sbg-01 stays in service: partner web-gra-01 is drained by `+op) {
		t.Errorf("the partner's drain:\n%s", p.body)
	}
	p = b.post("/dashboard/hosts/web-gra-01/undrain", url.Values{"csrf": {token}})
	if !strings.Contains(p.body, "web-gra-01 is back in service") || !strings.Contains(group(p, "web-01"), "0 of 1 allowed out") {
		t.Errorf("undrain:\n%s", p.body)
	}
	if s := balancer("web-gra-01"); s != "UP" {
		t.Errorf("web-gra-01 is %q in HAProxy after its undrain, want UP", s)
	}
}

// A reader sees the budgets without a form, and a form sent anyway is
// refused as the API refuses it; a forged form is refused before it.
func TestBudgetsFormsRefused(t *testing.T) {
	d := start(t)
	reader := d.browser(t)
	reader.login(d.reader)
	p := reader.get("/dashboard/budget")
	if p.status != http.StatusOK || !strings.Contains(p.body, "db-rbx-01") {
		t.Fatalf("a reader's budgets: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, "/drain") || strings.Contains(p.body, "/undrain") {
		t.Errorf("a reader is shown a drain or undrain form")
	}
	token := csrf(t, p)
	for _, path := range []string{"/dashboard/hosts/db-rbx-01/drain", "/dashboard/hosts/db-rbx-01/undrain"} {
		if p := reader.post(path, url.Values{"csrf": {token}, "reason": {"reader"}}); p.status != http.StatusForbidden {
			t.Errorf("a reader's %s: %d, want 403", path, p.status)
		}
	}

	op := d.browser(t)
	token = csrf(t, op.login(d.operator))
	for _, tc := range []struct {
		name   string
		csrf   string
		header []string
	}{
		{"no CSRF token", "", nil},
		{"a wrong CSRF token", strings.Repeat("0", len(token)), nil},
		{"from another site", token, []string{"Origin", "http://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := op.post("/dashboard/hosts/db-rbx-01/drain", url.Values{"csrf": {tc.csrf}, "reason": {"forged"}}, tc.header...); p.status != http.StatusForbidden {
				t.Errorf("answered %d, want 403", p.status)
			}
		})
	}
	if p := op.get("/dashboard/budget"); strings.Contains(group(p, "db-01"), "Drained by") {
		t.Errorf("a refused form drained a host:\n%s", group(p, "db-01"))
	}
}
