package client_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/server/servertest"
)

func newClient(t testing.TB, url, token string) *client.Client {
	t.Helper()
	c, err := client.New(url, token, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantKind(t testing.TB, err error, kind fleet.Kind, says string) {
	t.Helper()
	var fe *fleet.Error
	if !errors.As(err, &fe) {
		t.Fatalf("got %T %v, want a *fleet.Error", err, err)
	}
	if fe.Kind != kind || !strings.Contains(err.Error(), says) {
		t.Errorf("got %v %q, want %v saying %q", fe.Kind, err, kind, says)
	}
}

func TestAgainstDaemon(t *testing.T) {
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	c := newClient(t, d.URL+"/", d.AdminToken)
	ctx := t.Context()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	hosts, err := c.Hosts(ctx)
	if err != nil || len(hosts) != 4 {
		t.Fatalf("hosts %v, error %v", hosts, err)
	}
	h, err := c.Host(ctx, "db-rbx-02")
	if err != nil || h.Datacenter != "rbx2" {
		t.Fatalf("host %+v, error %v", h, err)
	}
	_, err = c.Host(ctx, "db-rbx-03")
	wantKind(t, err, fleet.KindNotFound, `no host named "db-rbx-03" (did you mean`)
	_, err = c.Host(ctx, "a/b")
	wantKind(t, err, fleet.KindNotFound, `no host named "a/b"`)
	groups, err := c.Groups(ctx)
	if err != nil || len(groups) != 2 {
		t.Fatalf("groups %v, error %v", groups, err)
	}
	if g, err := c.Group(ctx, "db-01"); err != nil || len(g.Members) != 2 {
		t.Fatalf("group %+v, error %v", g, err)
	}
	if inv, err := c.Inventory(ctx); err != nil || inv.Counts.Hosts != 4 {
		t.Fatalf("inventory %+v, error %v", inv, err)
	}
	if inv, err := c.ReloadInventory(ctx); err != nil || inv.Counts.Hosts != 4 {
		t.Fatalf("reload %+v, error %v", inv, err)
	}

	created, err := c.CreateToken(ctx, "reader", "reader")
	if err != nil || !strings.HasPrefix(created.Secret, "illico_") {
		t.Fatalf("create token: %+v, %v", created, err)
	}
	reader := newClient(t, d.URL, created.Secret)
	_, err = reader.Tokens(ctx)
	wantKind(t, err, fleet.KindForbidden, "has role reader; this needs admin")
	_, err = reader.ReloadInventory(ctx)
	wantKind(t, err, fleet.KindForbidden, "this needs operator")
	_, err = c.CreateToken(ctx, "", "reader")
	wantKind(t, err, fleet.KindInvalid, "a token needs a name")

	tokens, err := c.Tokens(ctx)
	if err != nil || len(tokens) != 2 {
		t.Fatalf("tokens %+v, error %v", tokens, err)
	}
	if tok, err := c.RevokeToken(ctx, created.Token.ID); err != nil || tok.Revoked == nil {
		t.Fatalf("revoke: %+v, %v", tok, err)
	}
	_, err = c.RevokeToken(ctx, created.Token.ID)
	wantKind(t, err, fleet.KindConflict, "already revoked")
	_, err = reader.Hosts(ctx)
	wantKind(t, err, fleet.KindUnauthorized, "was revoked")
	_, err = newClient(t, d.URL, "").Hosts(ctx)
	wantKind(t, err, fleet.KindUnauthorized, "needs an API token")
	d.CheckNoSecrets(t)
}

func TestUnreachable(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = newClient(t, "http://"+addr, "illico_x").Hosts(t.Context())
	wantKind(t, err, fleet.KindUnavailable, "cannot reach the illico daemon at http://"+addr+" (set ILLICO_SERVER")
	if strings.Contains(err.Error(), "illico_x") {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestNew(t *testing.T) {
	for _, url := range []string{"", "127.0.0.1:8080", "ftp://host", "http://", "::"} {
		_, err := client.New(url, "t", nil)
		wantKind(t, err, fleet.KindInvalid, "set ILLICO_SERVER")
	}
}

// TestAnswersWithoutErrorBody covers what a proxy in front of the daemon
// may answer.
func TestAnswersWithoutErrorBody(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   fleet.Kind
		says   string
	}{
		{"bad gateway", 502, "<html>Bad Gateway</html>", fleet.KindUnavailable, "the daemon answered 502 Bad Gateway"},
		{"plain text", 401, "go away", fleet.KindUnauthorized, "401 Unauthorized: go away"},
		{"empty", 503, "", fleet.KindUnavailable, "503"},
		{"unknown kind", 418, `{"error": {"kind": "teapot", "message": "short and stout"}}`, fleet.KindInternal, "short and stout"},
		{"no kind", 404, `{"error": {"message": "gone"}}`, fleet.KindNotFound, "gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL, "t").Hosts(t.Context())
			wantKind(t, err, tc.kind, tc.says)
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("{not json"))
	}))
	defer srv.Close()
	if _, err := newClient(t, srv.URL, "t").Hosts(t.Context()); err == nil || !strings.Contains(err.Error(), "decode the answer of GET /api/v1/hosts") {
		t.Errorf("a garbled success: %v", err)
	}
}

func FuzzErrorAnswer(f *testing.F) {
	f.Add(400, `{"error": {"kind": "invalid", "message": "x"}}`)
	f.Add(502, `<html>`)
	f.Add(200, `{"hosts": [{"name": 1}]}`)
	f.Add(500, `{"error": null}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 200 || status > 599 {
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		defer srv.Close()
		_, err := newClient(t, srv.URL, "t").Hosts(t.Context())
		if status >= 300 && err == nil {
			t.Errorf("status %d gave no error", status)
		}
	})
}
