package lab

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// maxHang bounds how long a frozen host's site holds a request: a frozen host
// never answers, but the lab must not pile up goroutines forever.
const maxHang = 5 * time.Minute

// site is a host's customer site while the host is up: a listener of its own
// on the host's address, closed (connection refused) when the host goes down.
type site struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// startSite serves h on ln until close.
func startSite(ln net.Listener, h http.Handler, log *slog.Logger) *site {
	s := &site{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("site stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return s
}

// close drops every connection and stops listening; requests held by a
// freeze are released through done.
func (s *site) close() {
	close(s.done)
	// The listener is closed here, not only by srv.Close: a Serve that has
	// not started yet would close it later, and a host booted again at once
	// (a crash healed) could not listen on its address.
	s.ln.Close()
	s.srv.Close()
}

// ServeHTTP is the customer site of a host: its greeting on every path,
// "ok" on /healthz, 500 everywhere once a bad package version runs, and 500
// everywhere but /healthz under the errors fault.
func (h *host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	thaw, s := h.thaw, h.site
	h.mu.Unlock()
	if thaw != nil && s != nil {
		if !hang(w, r, thaw, s.done) {
			return
		}
	}
	h.mu.Lock()
	bootID, running, failing := h.bootID, h.running, h.errors
	h.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if pkg, ver, bad := running.bad(h.w.repo); bad {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s: error: %s %s is broken\n", h.spec.Name, pkg, ver)
		return
	}
	if r.URL.Path == "/healthz" {
		fmt.Fprintln(w, "ok")
		return
	}
	if failing {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s: error: the application fails\n", h.spec.Name)
		return
	}
	fmt.Fprintf(w, "%s: hello (boot %s, openssl %s)\n", h.spec.Name, bootID, running["openssl"])
}

// hang holds a request the way a frozen machine does: the connection is open
// and nothing comes back. It reports whether the host thawed in time to answer.
func hang(w http.ResponseWriter, r *http.Request, thaw, done <-chan struct{}) bool {
	t := time.NewTimer(maxHang)
	defer t.Stop()
	select {
	case <-thaw:
		return true
	case <-r.Context().Done():
		return false
	case <-done:
		return false
	case <-t.C:
	}
	// Close without a word, as a peer that vanished would.
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
	}
	return false
}
