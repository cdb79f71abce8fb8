package httpjson_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
)

type payload struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Ratio float64           `json:"ratio"`
	Items []item            `json:"items"`
	Tags  map[string]string `json:"tags"`
}

type item struct {
	Labels map[string]string `json:"labels"`
	At     time.Time         `json:"at"`
	On     bool              `json:"on"`
}

func decode(body string, limit int64) error {
	return decodeWith(httpjson.Decode, body, limit)
}

func decodeWith(f func(*http.Request, any) error, body string, limit int64) error {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
	var v payload
	return f(r, &v)
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // in the error; empty for none
	}{
		{"ok", `{"name": "a", "count": 2}`, ""},
		{"empty", ``, "request body is empty"},
		{"syntax", `{"name": }`, "not valid JSON (at byte"},
		{"truncated", `{"name": "a"`, "ends too early"},
		{"type", `{"count": "two"}`, `request body: field "count": expected a whole number, got a string`},
		{"not an object", `[1]`, "request body: expected an object, got an array"},
		{"unknown field", `{"nmae": "a"}`, `unknown field "nmae"`},
		{"two values", `{} {}`, "found more after it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := decode(tc.body, 64)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want == "":
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			case fleet.KindOf(err) != fleet.KindInvalid:
				t.Errorf("error of kind %v, want invalid", fleet.KindOf(err))
			}
		})
	}
}

// A body over its bound is of its own kind, answered 413, with the bound.
func TestDecodeTooLarge(t *testing.T) {
	for name, f := range map[string]func(*http.Request, any) error{"strict": httpjson.Decode, "lenient": httpjson.DecodeLenient} {
		t.Run(name, func(t *testing.T) {
			err := decodeWith(f, `{"name": "`+strings.Repeat("a", 100)+`"}`, 64)
			if fleet.KindOf(err) != fleet.KindTooLarge || !strings.Contains(err.Error(), "larger than 64 bytes") {
				t.Errorf("error %v of kind %v, want too_large saying the bound", err, fleet.KindOf(err))
			}
			if got := httpjson.Status(fleet.KindOf(err)); got != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", got)
			}
		})
	}
}

// A type error names the value by its place in the document, and what was
// expected there and found, in JSON's words: never a Go type.
func TestDecodeTypeErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"field", `{"name": 3}`, `field "name": expected a string, got a number`},
		{"array element", `{"items": [{}, {}, {}, {"labels": "x"}]}`, `field "items[3].labels": expected an object, got a string`},
		{"map value", `{"items": [{"labels": {"a": "b", "host": 1}}]}`, `field "items[0].labels.host": expected a string, got a number`},
		{"odd key", `{"tags": {"a b": {}}}`, `field "tags[\"a b\"]": expected a string, got an object`},
		{"spaces", "{ \"items\" : [ { \"on\" : \"yes\" } ] }", `field "items[0].on": expected true or false, got a string`},
		{"array for object", `{"items": {"labels": {}}}`, `field "items": expected an array, got an object`},
		{"fraction", `{"count": 1.5}`, `field "count": expected a whole number, got 1.5`},
		{"out of range", `{"ratio": 1e400}`, `field "ratio": expected a number, got a number out of range`},
		{"after nested values", `{"items": [{"labels": {"a": "b"}, "on": true}], "tags": {"x": "y"}, "count": true}`, `field "count": expected a whole number, got true or false`},
		{"time", `{"items": [{"at": "yesterday"}]}`, `"yesterday" is not a time: expected one like "2026-03-12T03:00:00Z" (RFC 3339)`},
		{"time not a string", `{"items": [{"at": 3}]}`, `expected a time as a string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := decode(tc.body, 1<<10)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if fleet.KindOf(err) != fleet.KindInvalid {
				t.Errorf("error of kind %v, want invalid", fleet.KindOf(err))
			}
			if goType(err.Error()) {
				t.Errorf("error %q names a Go type", err)
			}
		})
	}
}

// goType reports whether msg names a Go type or Go's decoder.
func goType(msg string) bool {
	for _, s := range []string{"Go ", "json:", "httpjson_test", "map[", "time.Time", "UnmarshalJSON", "float64", "bool"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// DecodeLenient ignores the fields it does not know, and refuses the rest
// as Decode does.
func TestDecodeLenient(t *testing.T) {
	if err := decodeWith(httpjson.DecodeLenient, `{"name": "a", "notification_reason": "first", "new": {"x": [1]}}`, 1<<10); err != nil {
		t.Errorf("unknown fields refused: %v", err)
	}
	if err := decode(`{"name": "a", "notification_reason": "first"}`, 1<<10); err == nil {
		t.Error("Decode accepted an unknown field")
	}
	for _, body := range []string{``, `{"name": 3}`, `{} {}`, `{"name": `} {
		if err := decodeWith(httpjson.DecodeLenient, body, 1<<10); fleet.KindOf(err) != fleet.KindInvalid {
			t.Errorf("body %q: error %v, want one of kind invalid", body, err)
		}
	}
}

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	httpjson.Write(rec, http.StatusCreated, struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}{Name: "a"})
	if rec.Code != http.StatusCreated || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("answered %d with %v", rec.Code, rec.Header())
	}
	if want := "{\n  \"name\": \"a\",\n  \"count\": 0\n}\n"; rec.Body.String() != want {
		t.Errorf("body %q, want %q", rec.Body.String(), want)
	}
}

func TestOptionalTime(t *testing.T) {
	if httpjson.OptionalTime(time.Time{}) != nil {
		t.Error("a zero time is not nil")
	}
	now := time.Now()
	if got := httpjson.OptionalTime(now); got == nil || !got.Equal(now) {
		t.Errorf("got %v, want %v", got, now)
	}
}

// FuzzDecode: whatever the body, an error is of kind invalid and names
// no Go type.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name": "a", "count": 2}`, ``, `{"count": 1e400}`, `{"name": "\u00"}`, `null`,
		`{"items": [{"labels": {"a": 1}}]}`, `{"tags": {"k": []}}`, `{"items": [{"at": "x"}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, dec := range []func(*http.Request, any) error{httpjson.Decode, httpjson.DecodeLenient} {
			err := decodeWith(dec, s, 1<<10)
			if err == nil {
				continue
			}
			if k := fleet.KindOf(err); k != fleet.KindInvalid && k != fleet.KindTooLarge {
				t.Errorf("error of kind %v: %v", k, err)
			}
			if msg := err.Error(); strings.Contains(msg, "Go ") || strings.Contains(msg, "httpjson_test") {
				t.Errorf("error %q names a Go type", msg)
			}
		}
	})
}
