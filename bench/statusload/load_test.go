package main

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOptionsCheck(t *testing.T) {
	good := options{url: "http://127.0.0.1:8081/api/v2/summary.json", clients: 64, duration: time.Second, revalidate: 0.25}
	tests := []struct {
		name   string
		change func(*options)
		want   string
	}{
		{"good", func(*options) {}, ""},
		{"no port", func(o *options) { o.url = "http://127.0.0.1/" }, "expected http://HOST:PORT/PATH"},
		{"https", func(o *options) { o.url = "https://127.0.0.1:8443/" }, "expected http://HOST:PORT/PATH"},
		{"not loopback", func(o *options) { o.url = "http://192.0.2.1:8081/" }, "loopback"},
		{"a name", func(o *options) { o.url = "http://status.example.net:80/" }, "loopback"},
		{"no clients", func(o *options) { o.clients = 0 }, "-clients 0"},
		{"too long", func(o *options) { o.duration = time.Hour }, "-duration 1h0m0s"},
		{"share", func(o *options) { o.revalidate = 1.5 }, "-revalidate 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.change(&o)
			err := o.check()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("check: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("check = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// page serves body gzipped with an ETag, and 304 to a client that has it,
// as the status page does; plain says to leave out the gzip.
func page(tb testing.TB, body string, plain bool) *httptest.Server {
	tb.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(body)); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1-gz"`)
		if r.Header.Get("If-None-Match") == `"v1-gz"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if plain {
			_, _ = w.Write([]byte(body))
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz.Bytes())
	}))
	tb.Cleanup(srv.Close)
	return srv
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name       string
		plain      bool
		revalidate float64
		wantOK     bool
		wantNotMod bool
		wantErrors bool
	}{
		{name: "gzip, no revalidation", wantOK: true},
		{name: "gzip, half revalidate", revalidate: 0.5, wantOK: true, wantNotMod: true},
		{name: "not gzipped", plain: true, wantErrors: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := page(t, strings.Repeat(`{"status":"operational"}`, 50), tt.plain)
			r, err := load(t.Context(), options{url: srv.URL + "/api/v2/summary.json", clients: 4, duration: 300 * time.Millisecond, revalidate: tt.revalidate})
			if err != nil {
				t.Fatal(err)
			}
			if (r.ok > 0) != tt.wantOK || (r.notMod > 0) != tt.wantNotMod || (r.errors > 0) != tt.wantErrors {
				t.Fatalf("ok %d, not modified %d, errors %d (first: %s); want ok %v, 304s %v, errors %v",
					r.ok, r.notMod, r.errors, r.firstErr, tt.wantOK, tt.wantNotMod, tt.wantErrors)
			}
			if len(r.latencies) != r.ok+r.notMod {
				t.Errorf("%d latencies for %d answers", len(r.latencies), r.ok+r.notMod)
			}
		})
	}
}

func TestRunPrintsOneLine(t *testing.T) {
	srv := page(t, "{}", false)
	var out, errs strings.Builder
	err := run(t.Context(), []string{"-url", srv.URL + "/api/v2/summary.json", "-clients", "2", "-duration", "100ms"}, &out, &errs)
	if err != nil {
		t.Fatalf("run: %v (%s)", err, errs.String())
	}
	line := strings.TrimSpace(out.String())
	for _, key := range []string{"path=/api/v2/summary.json ", "clients=2 ", "rps=", "p99_ms=", "not_modified=", "errors=0 ", "gomaxprocs=", "cpu_s="} {
		if !strings.Contains(line, key) {
			t.Errorf("output %q has no %q", line, key)
		}
	}
	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("output is not one line: %q", out.String())
	}
}
