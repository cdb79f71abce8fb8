package e2e

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/store"
)

// chromium returns the path of Debian's Chromium, or skips (fails in CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed (scripts/deps installs Debian's chromium)")
	}
	t.Skip("Chromium is not installed (apt-get install chromium)")
	return ""
}

// artifacts is where screenshots go: $ILLICO_ARTIFACTS, or the test's own
// directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ILLICO_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts Chromium at exe, its window width×height, for at most
// within; shoot saves a screenshot of the whole page as name.png in the
// artifacts. The browser ends with the test.
func browser(t *testing.T, exe string, width, height int, within time.Duration) (ctx context.Context, shoot func(name string)) {
	t.Helper()
	shots := artifacts(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(bctx, within)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx, func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		path := filepath.Join(shots, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}

type daemon struct {
	api    *client.Client
	public string
}

func startDaemon(t *testing.T, l *lab.Lab) *daemon {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(dir, "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tokenFile := filepath.Join(dir, "admin.token")
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.DiscardHandler), Store: db, Listen: "127.0.0.1:0", PublicListen: "127.0.0.1:0",
		Inventory: l.Info().Files.Inventory, AdminTokenFile: tokenFile, AdminTokenOut: &strings.Builder{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	var token []byte
	for deadline := time.Now().Add(10 * time.Second); len(token) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the daemon wrote no admin token")
		}
		token, _ = os.ReadFile(tokenFile)
	}
	c, err := client.New("http://"+srv.Addr(), strings.TrimSpace(string(token)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &daemon{api: c, public: "http://" + srv.PublicAddr() + "/"}
}

func (d *daemon) start(t *testing.T, l *lab.Lab, planName, limit string) string {
	t.Helper()
	path := filepath.Join(l.Info().Files.Plans, planName)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := d.api.StartRollout(t.Context(), api.StartRollout{PlanFile: path, Plan: string(src), Selector: limit, Urgent: true})
	if err != nil {
		t.Fatal(err)
	}
	return ro.ID
}

func (d *daemon) wait(t *testing.T, id string) api.Rollout {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ro, err := d.api.Rollout(t.Context(), id)
		if err == nil && (ro.State == "done" || ro.State == "halted" || ro.State == "rolled_back" || ro.State == "aborted") {
			return ro
		}
	}
	t.Fatalf("rollout %s did not end", id)
	return api.Rollout{}
}

// TestStatusPageInABrowser is the customer's view of a maintenance: a
// rollout on one cluster shows as a maintenance of that cluster only, in
// French; a bad patch on another turns into an incident there.
func TestStatusPageInABrowser(t *testing.T) {
	exe := chromium(t)
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: 2 * time.Second, RebootMax: 3 * time.Second})
	d := startDaemon(t, l)
	bctx, shoot := browser(t, exe, 1000, 1400, 3*time.Minute)

	// read loads the page in French and returns its text.
	read := func(name string) string {
		t.Helper()
		if err := chromedp.Do(bctx,
			chromedp.Navigate(d.public+"?lang=fr"),
			chromedp.WaitVisible(chromedp.CSS("main")),
		); err != nil {
			t.Fatalf("browser: %v", err)
		}
		text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		shoot(name)
		return text
	}
	// component returns what the page's list of services says of a
	// component: its name and the status beside it.
	component := func(text, name string) string {
		_, services, _ := strings.Cut(text, "\nServices\n")
		_, rest, ok := strings.Cut(services, name)
		if !ok {
			return ""
		}
		return strings.TrimSpace(strings.SplitN(strings.TrimSpace(rest), "\n", 2)[0])
	}

	id := d.start(t, l, "urgent-openssl.yaml", "web-01")
	var text string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		text = read("1-maintenance-fr")
		if strings.Contains(text, "En maintenance") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(text, "Maintenance en cours") || !strings.Contains(text, "Web cluster 01") {
		t.Fatalf("the page does not show the maintenance in French:\n%s", text)
	}
	if c := component(text, "Web cluster 02"); c != "Opérationnel" {
		t.Errorf("Web cluster 02 is not part of the maintenance, the page says %q", c)
	}
	if c := component(text, "Web cluster 01"); c != "En maintenance" {
		t.Errorf("Web cluster 01 should be under maintenance, the page says %q", c)
	}
	if ro := d.wait(t, id); ro.State != "done" {
		t.Fatalf("the patch rollout ended %s", ro.State)
	}

	bad := d.start(t, l, "bad-openssl.yaml", "web-02")
	if ro := d.wait(t, bad); ro.State != "halted" {
		t.Fatalf("the bad rollout ended %s", ro.State)
	}
	text = read("2-incident-fr")
	_, incidents, ok := strings.Cut(text, "Incidents en cours")
	incidents, _, _ = strings.Cut(incidents, "\nServices\n")
	if !ok || !strings.Contains(incidents, "Web cluster 02") || strings.Contains(incidents, "Web cluster 01") {
		t.Fatalf("the page shows no incident on Web cluster 02 alone after the halt:\n%s", text)
	}
}
