package lab

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestControlLoopbackOnly(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		remote string
		want   int
	}{
		{"127.0.0.1:5000", http.StatusNoContent},
		{"127.77.0.9:5000", http.StatusNoContent},
		{"[::1]:5000", http.StatusNoContent},
		{"[::ffff:127.0.0.1]:5000", http.StatusNoContent},
		{"192.0.2.1:5000", http.StatusForbidden},
		{"[2001:db8::1]:5000", http.StatusForbidden},
		{"garbage", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/hosts", nil)
			r.RemoteAddr = tt.remote
			w := httptest.NewRecorder()
			loopbackOnly(ok).ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
		})
	}
}

func TestClientKeepsErrorKinds(t *testing.T) {
	kinds := []fleet.Kind{fleet.KindInternal, fleet.KindInvalid, fleet.KindNotFound, fleet.KindConflict,
		fleet.KindUnauthorized, fleet.KindForbidden, fleet.KindUnavailable}
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, fleet.Errorf(kind, "web-gra-01 is frozen"))
			}))
			defer srv.Close()
			_, err := NewClient(strings.TrimPrefix(srv.URL, "http://"), srv.Client()).Heal(t.Context(), "web-gra-01")
			if fleet.KindOf(err) != kind || err.Error() != "web-gra-01 is frozen" {
				t.Errorf("error %v (kind %s), want %q of kind %s", err, fleet.KindOf(err), "web-gra-01 is frozen", kind)
			}
		})
	}
	t.Run("no error body", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}))
		defer srv.Close()
		_, err := NewClient(strings.TrimPrefix(srv.URL, "http://"), srv.Client()).Heal(t.Context(), "web-gra-01")
		if fleet.KindOf(err) != fleet.KindUnavailable || !strings.Contains(err.Error(), "502") {
			t.Errorf("error %v (kind %s), want one of kind unavailable naming the status", err, fleet.KindOf(err))
		}
	})
	t.Run("no lab", func(t *testing.T) {
		_, err := Dial(t.TempDir(), http.DefaultClient)
		if fleet.KindOf(err) != fleet.KindNotFound {
			t.Errorf("Dial of an empty directory: %v", err)
		}
	})
}

func TestPidFiles(t *testing.T) {
	p := pidFiles{dir: t.TempDir()}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := p.write("sleeper", cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := p.write("me", os.Getpid()); err != nil {
		t.Fatal(err)
	}
	entries, err := p.list()
	if err != nil || len(entries) != 2 {
		t.Fatalf("list: %v, %v", entries, err)
	}
	for _, e := range entries {
		if !e.alive() {
			t.Errorf("%s not alive", e.name)
		}
		if e.name == "me" {
			e.start++
			if e.alive() {
				t.Error("a pid with another start time counts as alive: a reused pid would be killed")
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	for _, e := range entries {
		if e.name == "sleeper" && e.alive() {
			t.Error("a dead process counts as alive")
		}
	}
}
