package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
)

// The control API is how everything outside the lab process drives it:
// lab-reboot on the hosts (through bash's /dev/tcp) and the CLI's fault,
// heal, status and down. It listens on 127.0.0.1 only and refuses any peer
// that is not on loopback.

// routes is every route of the control API.
func (l *Lab) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/info", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, l.Info())
	})
	mux.HandleFunc("GET /v1/hosts", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, l.Status(r.Context()))
	})
	mux.HandleFunc("POST /v1/hosts/{name}/reboot", func(w http.ResponseWriter, r *http.Request) {
		h, err := l.host(r.PathValue("name"))
		if err == nil {
			err = h.Reboot()
		}
		if err != nil {
			writeError(w, err)
			return
		}
		httpjson.Write(w, http.StatusAccepted, Result{Hosts: []string{h.spec.Name}})
	})
	mux.HandleFunc("POST /v1/fault", func(w http.ResponseWriter, r *http.Request) {
		var req faultRequest
		if err := readJSON(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		hosts, err := l.Fault(req.Target, req.Kind)
		if err != nil {
			writeError(w, err)
			return
		}
		httpjson.Write(w, http.StatusOK, Result{Hosts: hosts})
	})
	mux.HandleFunc("POST /v1/heal", func(w http.ResponseWriter, r *http.Request) {
		var req faultRequest
		if err := readJSON(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		hosts, err := l.Heal(req.Target)
		if err != nil {
			writeError(w, err)
			return
		}
		httpjson.Write(w, http.StatusOK, Result{Hosts: hosts})
	})
	mux.HandleFunc("POST /v1/stop", func(w http.ResponseWriter, _ *http.Request) {
		l.requestStop()
		httpjson.Write(w, http.StatusAccepted, Result{})
	})
	return loopbackOnly(mux)
}

// loopbackOnly refuses peers that are not on this machine.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			writeError(w, fleet.Errorf(fleet.KindForbidden, "the lab's control API answers loopback only"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type faultRequest struct {
	Target string `json:"target"`
	Kind   string `json:"kind,omitempty"`
}

// Result names the hosts a request acted on.
type Result struct {
	Hosts []string `json:"hosts"`
}

// writeError answers with err in the API's error body, its status from
// the one table in package api, so the lab's errors read like the daemon's.
func writeError(w http.ResponseWriter, err error) {
	k := fleet.KindOf(err)
	httpjson.Write(w, httpjson.Status(k), api.ErrorBody{Error: api.Error{Kind: k.String(), Message: err.Error()}})
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	return httpjson.Decode(r, v)
}

// Client drives a running lab through its control API, from any process.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the control API at addr (host:port).
func NewClient(addr string, hc *http.Client) *Client {
	return &Client{base: "http://" + addr, hc: hc}
}

// Dial returns a client of the lab running in dir; it fails with
// KindUnavailable if no lab runs there.
func Dial(dir string, hc *http.Client) (*Client, error) {
	info, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if !running(dir) {
		return nil, fleet.Errorf(fleet.KindUnavailable, "no lab is running in %s (start one with illico lab up --dir %s)", info.Dir, info.Dir)
	}
	return NewClient(info.Control, hc), nil
}

// Status returns every host's state.
func (c *Client) Status(ctx context.Context) ([]HostStatus, error) {
	var out []HostStatus
	return out, c.do(ctx, http.MethodGet, "/v1/hosts", nil, &out)
}

// Info returns what lab.json holds, from the lab itself.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var out Info
	return &out, c.do(ctx, http.MethodGet, "/v1/info", nil, &out)
}

// Fault injects a fault (crash, freeze, no-return, errors) into a host or a
// datacenter=NAME and returns the hosts it hit.
func (c *Client) Fault(ctx context.Context, target, kind string) ([]string, error) {
	var out Result
	err := c.do(ctx, http.MethodPost, "/v1/fault", faultRequest{Target: target, Kind: kind}, &out)
	return out.Hosts, err
}

// Heal clears every fault of a host or a datacenter=NAME.
func (c *Client) Heal(ctx context.Context, target string) ([]string, error) {
	var out Result
	err := c.do(ctx, http.MethodPost, "/v1/heal", faultRequest{Target: target}, &out)
	return out.Hosts, err
}

// Reboot reboots a host as lab-reboot on it would.
func (c *Client) Reboot(ctx context.Context, host string) error {
	return c.do(ctx, http.MethodPost, "/v1/hosts/"+host+"/reboot", nil, nil)
}

// Stop asks the lab to shut down; it returns before the lab is gone.
func (c *Client) Stop(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/stop", nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &fleet.Error{Kind: fleet.KindUnavailable, Msg: "lab control API", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("lab control API: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e api.ErrorBody
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			return &fleet.Error{Kind: httpjson.KindOfStatus(resp.StatusCode), Msg: fmt.Sprintf("lab control API: %s %s: %s", method, path, resp.Status)}
		}
		return &fleet.Error{Kind: httpjson.ParseKind(e.Error.Kind), Msg: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("lab control API: %s %s: %w", method, path, err)
	}
	return nil
}

// serveControl serves the control API on ln until the server is closed.
func serveControl(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	return srv
}
