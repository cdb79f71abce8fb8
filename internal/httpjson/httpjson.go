// Package httpjson reads and writes the JSON bodies of illico's HTTP
// endpoints, the daemon's API and the public status site alike, so that
// both answer a bad body with the same sentences.
package httpjson

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Write answers with v as JSON.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // the client went away, or v is ours and encodes
}

// Decode reads the request body into v strictly: one JSON value, no
// unknown fields. Its errors are of kind invalid, worded for the client;
// the caller bounds the body's size (http.MaxBytesReader).
func Decode(r *http.Request, v any) error {
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

// OptionalTime is t for a JSON field that is null when t is zero.
func OptionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
