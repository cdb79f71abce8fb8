package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
)

// answer holds what the API wrote for one in-process call.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

func (a *answer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}

// apiRequest is a request to the API as the session's principal, on
// behalf of r (its context, and its peer and X-Forwarded-For, for the
// client in the daemon's log).
func (d *Dashboard) apiRequest(r *http.Request, s *session, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(r.Context(), method, path, body)
	if err != nil {
		return nil, fmt.Errorf("build API request %s %s: %w", method, path, err)
	}
	req = d.as(req, s.principal)
	req.RemoteAddr, req.Host = r.RemoteAddr, r.Host
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		req.Header["X-Forwarded-For"] = xff
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call sends one request to the API as the session's principal and decodes a
// success into out (unless nil). A refusal comes back as a *fleet.Error of
// the kind the API said.
func (d *Dashboard) call(r *http.Request, s *session, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode API request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := d.apiRequest(r, s, method, path, body)
	if err != nil {
		return err
	}
	a := &answer{header: http.Header{}}
	d.api.ServeHTTP(a, req)
	if a.status >= 300 {
		var eb api.ErrorBody
		if err := json.Unmarshal(a.body.Bytes(), &eb); err != nil || eb.Error.Message == "" {
			return &fleet.Error{Kind: httpjson.KindOfStatus(a.status), Msg: fmt.Sprintf("%s %s answered %d", method, path, a.status)}
		}
		kind := httpjson.ParseKind(eb.Error.Kind)
		if eb.Error.Kind == "" {
			kind = httpjson.KindOfStatus(a.status)
		}
		return &fleet.Error{Kind: kind, Msg: eb.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(a.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// unnamed passes a Server-Sent Events stream on without its "event:"
// lines, but the one that ends it: a browser's EventSource hands unnamed
// events to one onmessage, whatever their kinds, and the page only needs
// to know that something happened.
type unnamed struct {
	w       http.ResponseWriter
	pending []byte
}

func (u *unnamed) Header() http.Header         { return u.w.Header() }
func (u *unnamed) WriteHeader(code int)        { u.w.WriteHeader(code) }
func (u *unnamed) Unwrap() http.ResponseWriter { return u.w }

func (u *unnamed) Write(b []byte) (int, error) {
	u.pending = append(u.pending, b...)
	for {
		i := bytes.IndexByte(u.pending, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := u.pending[:i+1]
		if !bytes.HasPrefix(line, []byte("event:")) || bytes.Equal(bytes.TrimSpace(line), []byte("event: "+api.EventEnd)) {
			if _, err := u.w.Write(line); err != nil {
				return 0, err
			}
		}
		u.pending = u.pending[i+1:]
	}
}

func (u *unnamed) FlushError() error {
	err := http.NewResponseController(u.w).Flush()
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}
