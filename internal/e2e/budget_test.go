package e2e

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/store"
)

// TestDrainOnTheDashboard is an operator taking a host out by hand on the
// dashboard's Budgets page: the host is drained in HAProxy and listed as
// out with the reason given, its partner's drain is refused with the
// budget's reason, and the undrain puts it back.
func TestDrainOnTheDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: a lab fleet and a browser")
	}
	exe := chromium(t)
	l := labtest.Start(t, lab.Options{Hosts: 2})
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const password = "correct horse battery"
	if _, err := db.CreateAccount(t.Context(), "alice", fleet.RoleOperator, password); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.DiscardHandler), Store: db, Listen: "127.0.0.1:0", PublicListen: "127.0.0.1:0",
		Inventory: l.Info().Files.Inventory, AdminTokenOut: &strings.Builder{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	base := "http://" + srv.Addr()
	balancer := func(host string) string {
		t.Helper()
		for _, s := range l.Status(t.Context()) {
			if s.Name == host {
				return s.Balancer
			}
		}
		return ""
	}

	bctx, shoot := browser(t, exe, 1100, 1000, 2*time.Minute)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: the text of %s: %v", sel, err)
		}
		return s
	}
	drain := func(host, reason string) []chromedp.Action[chromedp.Void] {
		form := `form[action="/dashboard/hosts/` + host + `/drain"]`
		return []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(form+` input[name="reason"]`), reason),
			chromedp.Click(chromedp.CSS(form + ` button[type="submit"]`)),
		}
	}

	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/dashboard/login"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form[aria-labelledby="with-account"] button`)),
		chromedp.WaitVisible(chromedp.CSS("nav")),
		chromedp.Click(chromedp.CSS(`nav a[href="/dashboard/budget"]`)),
		chromedp.WaitVisible(chromedp.CSS("#g-web-01")),
	); err != nil {
		t.Fatalf("log in and open the budgets: %v", err)
	}
	if s := text("#g-web-01"); !strings.Contains(s, "0 of 1 allowed out") || !strings.Contains(s, "web-gra-01") || !strings.Contains(s, "web-sbg-01") {
		t.Fatalf("web-01 on the budgets:\n%s", s)
	}

	if err := chromedp.Do(bctx, append(drain("web-gra-01", "disk errors on sdb"), chromedp.WaitVisible(chromedp.CSS("p.done")))...); err != nil {
		t.Fatalf("drain web-gra-01: %v", err)
	}
	shoot("dashboard-budget-drained")
	if s := text("p.done"); !strings.Contains(s, "web-gra-01 is drained") {
		t.Errorf("after the drain, the page says %q", s)
	}
	if s := text("#g-web-01"); !strings.Contains(s, "1 of 1 allowed out") {
		t.Errorf("web-01 after the drain:\n%s", s)
	}
	if s := text("#g-web-01 li.out"); !strings.Contains(s, "web-gra-01") || !strings.Contains(s, "Drained by account alice") || !strings.Contains(s, "disk errors on sdb") {
		t.Errorf("web-gra-01 is not listed as out with its reason:\n%s", s)
	}
	if s := balancer("web-gra-01"); s != "MAINT" {
		t.Errorf("web-gra-01 is %q in HAProxy after its drain, want MAINT", s)
	}

	if err := chromedp.Do(bctx, append(drain("web-sbg-01", "also"), chromedp.WaitVisible(chromedp.CSS("p.refused")))...); err != nil {
		t.Fatalf("drain web-sbg-01: %v", err)
	}
	shoot("dashboard-budget-refused")
	if s := text("p.refused"); !strings.Contains(s, "web-sbg-01 stays in service: partner web-gra-01 is drained by account alice since") {
		t.Errorf("the partner's drain: the page says %q", s)
	}
	if s := balancer("web-sbg-01"); s != "UP" {
		t.Errorf("a refused drain left web-sbg-01 %q in HAProxy", s)
	}

	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`form[action="/dashboard/hosts/web-gra-01/undrain"] button`)),
		chromedp.WaitVisible(chromedp.CSS("p.done")),
	); err != nil {
		t.Fatalf("undrain web-gra-01: %v", err)
	}
	shoot("dashboard-budget-undrained")
	if s := text("p.done"); !strings.Contains(s, "web-gra-01 is back in service") {
		t.Errorf("after the undrain, the page says %q", s)
	}
	if s := text("#g-web-01"); !strings.Contains(s, "0 of 1 allowed out") || strings.Contains(s, "Drained by") {
		t.Errorf("web-01 after the undrain:\n%s", s)
	}
	if s := balancer("web-gra-01"); s != "UP" {
		t.Errorf("web-gra-01 is %q in HAProxy after its undrain, want UP", s)
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	shoot("dashboard-budget-phone")
}
