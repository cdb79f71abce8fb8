// Package httpjson reads and writes the JSON bodies of illico's HTTP
// endpoints, the daemon's API and the public status site alike, so that
// both answer a bad body with the same sentences.
package httpjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
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
// unknown fields, as illico's own API bodies are. Its errors are of kind
// invalid (too_large for a body over its bound), worded for the client;
// the caller bounds the body's size (http.MaxBytesReader).
func Decode(r *http.Request, v any) error { return decode(r, v, true) }

// DecodeLenient reads the request body into v as Decode does, but ignores
// the fields v does not have: for the wire formats of other tools
// (Alertmanager's webhook), whose new versions add fields that a strict
// reader would refuse.
func DecodeLenient(r *http.Request, v any) error { return decode(r, v, false) }

func decode(r *http.Request, v any, strict bool) error {
	// The whole body first: a type error is then named by its place in it.
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err, nil)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return bodyError(err, data)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fleet.Errorf(fleet.KindInvalid, "request body: expected one JSON value, found more after it")
	}
	return nil
}

// bodyError words a decoding error of data for the client: what was
// expected where, never a Go type.
func bodyError(err error, data []byte) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	var badTime *time.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return fleet.Errorf(fleet.KindInvalid, "request body is empty: expected a JSON object")
	case errors.As(err, &tooBig):
		return fleet.Errorf(fleet.KindTooLarge, "request body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &syntax):
		return fleet.Errorf(fleet.KindInvalid, "request body is not valid JSON (at byte %d): %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fleet.Errorf(fleet.KindInvalid, "request body is not valid JSON: it ends too early")
	case errors.As(err, &typ):
		want, got := expected(typ.Type), found(typ.Value)
		if strings.HasPrefix(typ.Value, "number") && strings.HasPrefix(want, "a number") {
			got = "a number out of range"
		}
		field := pathAt(data, typ.Offset)
		if field == "" {
			field = typ.Field
		}
		if field == "" {
			return fleet.Errorf(fleet.KindInvalid, "request body: expected %s, got %s", want, got)
		}
		return fleet.Errorf(fleet.KindInvalid, "request body: field %q: expected %s, got %s", field, want, got)
	case errors.As(err, &badTime):
		return fleet.Errorf(fleet.KindInvalid, "request body: %q is not a time: expected one like %q (RFC 3339)", badTime.Value, "2026-03-12T03:00:00Z")
	case strings.HasPrefix(err.Error(), "Time.UnmarshalJSON: "):
		// time.Time has no type for this one.
		return fleet.Errorf(fleet.KindInvalid, "request body: expected a time as a string like %q (RFC 3339)", "2026-03-12T03:00:00Z")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no type for this one.
		return fleet.Errorf(fleet.KindInvalid, "request body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fleet.Errorf(fleet.KindInvalid, "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// expected says in JSON's words what a value of Go type t is read from.
func expected(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "another kind of value"
}

// found words what encoding/json says it found: "string", "number 1.5".
func found(value string) string {
	switch {
	case value == "string":
		return "a string"
	case value == "bool":
		return "true or false"
	case value == "object":
		return "an object"
	case value == "array":
		return "an array"
	case value == "number":
		return "a number"
	case strings.HasPrefix(value, "number "):
		return strings.TrimPrefix(value, "number ")
	}
	return value
}

// pathAt names the value of data that encoding/json's type error at
// offset is about, as alerts[3].labels: the first value that ends at or
// after offset, as the error's offset is the end of a scalar or just past
// the bracket that opens an object or an array. It is "" for the whole
// document, or when data does not say.
func pathAt(data []byte, offset int64) string {
	if len(data) == 0 {
		return ""
	}
	type level struct {
		array bool
		index int    // in an array, of the value read now
		key   string // in an object, of the value read now
		inKey bool   // in an object, the next token is a key
	}
	var stack []level
	path := func() string {
		var b strings.Builder
		for _, l := range stack {
			switch {
			case l.array:
				b.WriteString("[" + strconv.Itoa(l.index) + "]")
			case isName(l.key):
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(l.key)
			default:
				b.WriteString("[" + strconv.Quote(l.key) + "]")
			}
		}
		return b.String()
	}
	// next moves the innermost level past the value just read.
	next := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].inKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if n := len(stack); n > 0 && stack[n-1].inKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				next()
				continue
			}
			key, _ := tok.(string) // the decoder reads only strings as keys
			stack[n-1].key, stack[n-1].inKey = key, false
			continue
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			stack = stack[:len(stack)-1]
			next()
			continue
		}
		if dec.InputOffset() >= offset {
			return path()
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, level{inKey: true})
		case json.Delim('['):
			stack = append(stack, level{array: true})
		default:
			next()
		}
	}
}

// isName reports whether key reads plainly after a dot in a path.
func isName(key string) bool {
	if key == "" {
		return false
	}
	for i, c := range key {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// OptionalTime is t for a JSON field that is null when t is zero.
func OptionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
