package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// maxBody bounds request bodies; the API takes small JSON documents only.
const maxBody = 1 << 20

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // the client went away, or v is ours and encodes
}

// writeError answers with err as an api.ErrorBody, its status from the one
// table in package api. An internal error's details go to the log, and the
// client gets the request id to find them.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := fleet.KindOf(err)
	body := api.Error{Kind: kind.String(), Message: err.Error()}
	if kind == fleet.KindInternal {
		id := requestID(r.Context())
		s.log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		body.Message = fmt.Sprintf("internal error, see the daemon log (request id %s)", id)
	}
	var ps yamlx.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			body.Problems = append(body.Problems, p.String())
		}
	}
	if kind == fleet.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="illico"`)
	}
	writeJSON(w, api.Status(kind), api.ErrorBody{Error: body})
}

// decodeJSON reads the request body into v strictly: one JSON value, no
// unknown fields, at most maxBody bytes.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fleet.Errorf(fleet.KindInvalid, "request body: expected one JSON value, found more after it")
	}
	return nil
}

func bodyError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return fleet.Errorf(fleet.KindInvalid, "request body is empty: expected a JSON object")
	case errors.As(err, &tooBig):
		return fleet.Errorf(fleet.KindInvalid, "request body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &syntax):
		return fleet.Errorf(fleet.KindInvalid, "request body is not valid JSON (at byte %d): %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fleet.Errorf(fleet.KindInvalid, "request body is not valid JSON: it ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fleet.Errorf(fleet.KindInvalid, "request body: expected a JSON %s, got %s", typ.Type, typ.Value)
		}
		return fleet.Errorf(fleet.KindInvalid, "request body: %s must be a %s, got %s", typ.Field, typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no type for this one.
		return fleet.Errorf(fleet.KindInvalid, "request body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fleet.Errorf(fleet.KindInvalid, "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}
