package e2e

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/store"
)

// TestDashboardWithAnAccount is an operator's view of a rollout: logged in
// with an account's name and password, the rollout's page follows it live
// to its end, without a reload. Then the operator schedules a maintenance
// on the status page's editor, and customers see it coming on the public
// page.
func TestDashboardWithAnAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: a lab fleet and a browser")
	}
	exe := chromium(t)
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: 2 * time.Second, RebootMax: 3 * time.Second})
	dir := t.TempDir()
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(dir, "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const password = "correct horse battery"
	if _, err := db.CreateAccount(t.Context(), "alice", fleet.RoleOperator, password); err != nil {
		t.Fatal(err)
	}
	_, secret, err := db.CreateToken(t.Context(), "ci", fleet.RoleOperator)
	if err != nil {
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
	c, err := client.New(base, secret.Reveal(), nil)
	if err != nil {
		t.Fatal(err)
	}

	bctx, shoot := browser(t, exe, 1100, 1300, 3*time.Minute)
	text := func() string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		return s
	}

	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/dashboard/login"),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form[aria-labelledby="with-account"] button`)),
		chromedp.WaitVisible(chromedp.CSS("nav")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	if s := text(); !strings.Contains(s, "alice (operator)") {
		t.Fatalf("after the login, the page says:\n%s", s)
	}

	path := filepath.Join(l.Info().Files.Plans, "urgent-openssl.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := c.StartRollout(t.Context(), api.StartRollout{PlanFile: path, Plan: string(src), Urgent: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/dashboard/rollouts/"+ro.ID),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	); err != nil {
		t.Fatalf("the rollout's page: %v", err)
	}
	shoot("dashboard-account-rollout-live")
	if s := text(); !strings.Contains(s, ro.ID) || !strings.Contains(s, "Pause") {
		t.Fatalf("the rollout's page lacks its id or the pause button:\n%s", s)
	}
	// The page's script follows the event stream and fetches the page
	// again: the end shows without a navigation here.
	var s string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if s = text(); strings.Contains(s, "done (4)") {
			break
		}
	}
	shoot("dashboard-account-rollout-done")
	if !strings.Contains(s, "done (4)") {
		t.Fatalf("the page never showed the 4 hosts done:\n%s", s)
	}

	scheduleMaintenance(t, bctx, base, "http://"+srv.PublicAddr()+"/", shoot)
}

// scheduleMaintenance fills the editor's form to schedule a maintenance
// tomorrow, and waits for the public page to list it as upcoming.
func scheduleMaintenance(t *testing.T, bctx context.Context, base, public string, shoot func(string)) {
	t.Helper()
	const name = "Mailbox storage upgrade"
	from := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Minute)
	local := func(t time.Time) string { return t.Format("2006-01-02T15:04") }
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/dashboard/status"),
		chromedp.WaitVisible(chromedp.CSS("#f-new-m")),
		chromedp.SendKeys(chromedp.CSS("#f-new-m-name-en"), name),
		chromedp.Click(chromedp.CSS(`#f-new-m-components input[type="checkbox"]`)),
		chromedp.SetValue(chromedp.CSS("#f-new-m-from"), local(from)),
		chromedp.SetValue(chromedp.CSS("#f-new-m-until"), local(from.Add(2*time.Hour))),
		chromedp.SendKeys(chromedp.CSS("#f-new-m-body-en"), "Mail may be slow for a few minutes."),
		chromedp.Click(chromedp.CSS(`#f-new-m button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".done")),
	); err != nil {
		t.Fatalf("schedule a maintenance: %v", err)
	}
	upcoming, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#upcoming ~ article")))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	shoot("dashboard-status-scheduled")
	if !strings.Contains(upcoming, name) || !strings.Contains(upcoming, local(from)[11:]) {
		t.Fatalf("the editor does not list the maintenance as upcoming at %s:\n%s", from, upcoming)
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	shoot("dashboard-status-phone")

	var text string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if err := chromedp.Do(bctx,
			chromedp.Navigate(public),
			chromedp.WaitVisible(chromedp.CSS("main")),
		); err != nil {
			t.Fatalf("the public page: %v", err)
		}
		if text, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main"))); err != nil {
			t.Fatalf("browser: %v", err)
		}
		if _, after, ok := strings.Cut(text, "Upcoming maintenance"); ok && strings.Contains(after, name) {
			shoot("dashboard-status-public-upcoming")
			return
		}
	}
	shoot("dashboard-status-public-upcoming")
	t.Fatalf("the public page never listed %q as upcoming:\n%s", name, text)
}
