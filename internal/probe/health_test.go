package probe

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/openssh/opensshtest"
	"github.com/illico-dev/illico/internal/sshx"
)

// A host's fresh look runs its group's check with its conditions and its
// ssh probe, against a real HTTP server and a real sshd.
func TestHealth(t *testing.T) {
	opensshtest.Require(t)
	f := opensshtest.New(t)
	srv := f.Start(t, nil)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/degraded" {
			w.Write([]byte(`{"status":"degraded"}`))
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(site.Close)

	inv := &fleet.Inventory{Groups: []*fleet.Group{{Name: "web", Checks: []fleet.Check{{
		Name: "site", Kind: fleet.CheckHTTP, Target: site.URL + "/${name}", Conditions: []string{"[STATUS] == 200", `[BODY].status == "ok"`},
	}}}}}
	healthy, degraded := f.Host("healthy", srv), f.Host("degraded", srv)
	ip, port := opensshtest.FreeAddr(t)
	gone := &fleet.Host{Name: "gone", Address: ip, SSH: f.SSH()}
	gone.SSH.Port, gone.SSH.ConnectTimeout = port, 300*time.Millisecond
	for _, h := range []*fleet.Host{healthy, degraded, gone} {
		h.Groups = []string{"web"}
	}
	pool := sshx.NewPool(sshx.Options{})
	t.Cleanup(pool.Close)
	hc := NewHealth(NewProber(http.DefaultClient, pool, time.Now).Probe, 10*time.Second)

	tests := []struct {
		host *fleet.Host
		want string
	}{
		{healthy, ""},
		{degraded, `probe site: [BODY].status == "ok" (saw "degraded")`},
		{gone, "probe ssh: [CONNECTED] == true (saw false)"},
	}
	for _, tt := range tests {
		t.Run(tt.host.Name, func(t *testing.T) {
			err := hc.Host(t.Context(), inv, tt.host)
			if got := errText(err); got != tt.want {
				t.Errorf("Host = %q, want %q", got, tt.want)
			}
		})
	}
	got := hc.Down(t.Context(), inv, []*fleet.Host{healthy, degraded, gone})
	want := map[string]string{
		"degraded": `failing probe site: [BODY].status == "ok" (saw "degraded")`,
		"gone":     "failing probe ssh: [CONNECTED] == true (saw false)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Down = %q, want %q", got, want)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
