package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad":
			w.WriteHeader(500)
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/moved":
			http.Redirect(w, r, "/", http.StatusFound)
		}
	}))
	defer srv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()

	c := NewChecker(srv.Client())
	tests := []struct {
		name    string
		chk     fleet.Check
		wantErr string
	}{
		{"http ok", fleet.Check{Kind: fleet.CheckHTTP, URL: srv.URL + "/", Status: 200}, ""},
		{"http wrong status", fleet.Check{Kind: fleet.CheckHTTP, URL: srv.URL + "/bad", Status: 200}, "answered 500, want 200"},
		{"redirect not followed", fleet.Check{Kind: fleet.CheckHTTP, URL: srv.URL + "/moved", Status: 302}, ""},
		{"http timeout", fleet.Check{Kind: fleet.CheckHTTP, URL: srv.URL + "/slow", Status: 200, Timeout: 50 * time.Millisecond}, "deadline exceeded"},
		{"tcp ok", fleet.Check{Kind: fleet.CheckTCP, Address: strings.TrimPrefix(srv.URL, "http://")}, ""},
		{"tcp refused", fleet.Check{Kind: fleet.CheckTCP, Address: closedAddr}, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.chk.Name = tt.name
			if tt.chk.Timeout == 0 {
				tt.chk.Timeout = time.Second
			}
			err := c.Run(context.Background(), tt.chk)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestChecksExpandPerHost(t *testing.T) {
	inv := &fleet.Inventory{Groups: []*fleet.Group{{Name: "web", Checks: []fleet.Check{{Name: "site", Kind: fleet.CheckHTTP, URL: "http://${address}:8080/healthz?h=${name}"}}}}}
	h := &fleet.Host{Name: "web-1", Address: "10.0.0.1", Groups: []string{"web"}, Checks: []fleet.Check{{Name: "ssh", Kind: fleet.CheckTCP, Address: "${address}:22"}}}
	got := Checks(inv, h)
	if len(got) != 2 || got[0].URL != "http://10.0.0.1:8080/healthz?h=web-1" || got[1].Address != "10.0.0.1:22" {
		t.Fatalf("%+v", got)
	}
}

func TestDown(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	chk := func(url string) []fleet.Check {
		return []fleet.Check{{Name: "site", Kind: fleet.CheckHTTP, URL: url, Status: 200, Timeout: time.Second}}
	}
	inv := &fleet.Inventory{Hosts: []*fleet.Host{
		{Name: "up", Checks: chk(ok.URL)},
		{Name: "down", Checks: chk(bad.URL)},
		{Name: "unchecked"},
	}}
	got := NewChecker(http.DefaultClient).Down(context.Background(), inv, inv.Hosts)
	if len(got) != 1 || !strings.Contains(got["down"], "answered 503") {
		t.Fatalf("got %v", got)
	}
}
