package probe

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/openssh/opensshtest"
	"github.com/illico-dev/illico/internal/sshx"
)

// def returns a defaulted definition of kind with the given conditions.
func def(t testing.TB, kind Kind, target string, conds ...string) *Definition {
	t.Helper()
	d := &Definition{Name: "p", Kind: kind, Target: target, Timeout: 500 * time.Millisecond}
	for _, s := range conds {
		c, err := ParseCondition(s)
		if err != nil {
			t.Fatal(err)
		}
		d.Conditions = append(d.Conditions, c)
	}
	d.SetDefaults()
	return d
}

// blackHole accepts connections and never answers, like a hung server.
func blackHole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

func TestProbeHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok","host":"` + r.Host + `","x":"` + r.Header.Get("X-Probe") + `"}`))
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/health", http.StatusFound) })
	mux.HandleFunc("POST /post", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	plain := httptest.NewServer(mux)
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewTLSServer(mux)
	t.Cleanup(tlsSrv.Close)
	hung := blackHole(t)

	p := NewProber(tlsSrv.Client(), nil, time.Now)
	follow := def(t, KindHTTP, plain.URL+"/moved", "[STATUS] == 200", `[BODY].status == "ok"`)
	follow.FollowRedirects = true
	headers := def(t, KindHTTP, plain.URL+"/health", `[BODY].host == "shop.example"`, `[BODY].x == "1"`)
	headers.Headers = map[string]string{"Host": "shop.example", "X-Probe": "1"}
	post := def(t, KindHTTP, plain.URL+"/post", "[STATUS] == 202")
	post.Method = http.MethodPost

	tests := []struct {
		name   string
		def    *Definition
		ok     bool
		reason string
	}{
		{"status and json", def(t, KindHTTP, plain.URL+"/health", "[STATUS] == 200", `[BODY].status == "ok"`, "[RESPONSE_TIME] < 400"), true, ""},
		{"wrong status", def(t, KindHTTP, plain.URL+"/nope"), false, "[STATUS] == 200 (saw 404)"},
		{"redirect not followed", def(t, KindHTTP, plain.URL+"/moved", "[STATUS] == 302"), true, ""},
		{"redirect followed when asked", follow, true, ""},
		{"headers and host", headers, true, ""},
		{"method", post, true, ""},
		{"certificate", def(t, KindHTTP, tlsSrv.URL+"/health", "[CERTIFICATE_EXPIRATION] > 7d"), true, ""},
		{"certificate too close", def(t, KindHTTP, tlsSrv.URL+"/health", "[CERTIFICATE_EXPIRATION] > 36500d"), false, "[CERTIFICATE_EXPIRATION] > 36500d (saw"},
		{"no certificate over http", def(t, KindHTTP, plain.URL+"/health", "[CERTIFICATE_EXPIRATION] > 1h"), false, "no certificate"},
		{"timeout", def(t, KindHTTP, "http://"+hung+"/"), false, "context deadline exceeded"},
		{"timeout still not connected", def(t, KindHTTP, "http://"+hung+"/", "[CONNECTED] == false"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.def.Expand(&fleet.Host{Name: "h", Address: "127.0.0.1"})
			o := p.Probe(t.Context(), &tg)
			ok, reason := Verdict(tt.def, &o)
			if ok != tt.ok || !strings.Contains(reason, tt.reason) {
				t.Errorf("Verdict = %v %q, want %v with %q (err %v)", ok, reason, tt.ok, tt.reason, o.Err)
			}
			if o.Duration <= 0 || o.Duration > 2*time.Second {
				t.Errorf("duration %s", o.Duration)
			}
		})
	}
}

func TestProbeTCP(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { open.Close() })
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	p := NewProber(http.DefaultClient, nil, time.Now)
	tests := []struct {
		name   string
		target string
		ok     bool
	}{
		{"open", open.Addr().String(), true},
		{"closed", closedAddr, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := def(t, KindTCP, tt.target)
			tg := d.Expand(&fleet.Host{Name: "h"})
			o := p.Probe(t.Context(), &tg)
			if ok, reason := Verdict(d, &o); ok != tt.ok {
				t.Errorf("Verdict = %v %q, want %v", ok, reason, tt.ok)
			}
		})
	}
}

func TestProbeSSH(t *testing.T) {
	opensshtest.Require(t)
	f := opensshtest.New(t)
	srv := f.Start(t, nil)
	up := f.Host("up", srv)
	ip, port := opensshtest.FreeAddr(t)
	down := &fleet.Host{Name: "down", Address: ip, SSH: f.SSH()}
	down.SSH.Port = port
	down.SSH.ConnectTimeout = 300 * time.Millisecond
	pool := sshx.NewPool(sshx.Options{})
	t.Cleanup(pool.Close)
	p := NewProber(http.DefaultClient, pool, time.Now)

	timeout := func(d *Definition) *Definition { d.Timeout = 10 * time.Second; return d }
	tests := []struct {
		name   string
		def    *Definition
		host   *fleet.Host
		ok     bool
		reason string
	}{
		{"boot id", timeout(def(t, KindSSH, "", "[CONNECTED] == true", `[BOOT_ID] != ""`)), up, true, ""},
		{"unreachable", timeout(def(t, KindSSH, "")), down, false, "[CONNECTED] == true (saw false)"},
		{"command", timeout(def(t, KindCommand, "echo ${name} is active", "[EXIT_CODE] == 0", `[STDOUT] == "up is active\n"`)), up, true, ""},
		{"command exit code", timeout(def(t, KindCommand, "exit 3")), up, false, "[EXIT_CODE] == 0 (saw 3)"},
		{"command unreachable", timeout(def(t, KindCommand, "true")), down, false, "no answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.def.Expand(tt.host)
			o := p.Probe(t.Context(), &tg)
			ok, reason := Verdict(tt.def, &o)
			if ok != tt.ok || !strings.Contains(reason, tt.reason) {
				t.Errorf("Verdict = %v %q, want %v with %q (err %v)", ok, reason, tt.ok, tt.reason, o.Err)
			}
		})
	}
}
