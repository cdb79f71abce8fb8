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
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func decode(body string, limit int64) error {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
	var v payload
	return httpjson.Decode(r, &v)
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
		{"type", `{"count": "two"}`, "count must be a int, got string"},
		{"not an object", `[1]`, "got array"},
		{"unknown field", `{"nmae": "a"}`, `unknown field "nmae"`},
		{"two values", `{} {}`, "found more after it"},
		{"too big", `{"name": "` + strings.Repeat("a", 100) + `"}`, "larger than 64 bytes"},
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

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	httpjson.Write(rec, http.StatusCreated, payload{Name: "a"})
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

// FuzzDecode: whatever the body, an error is of kind invalid.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name": "a", "count": 2}`, ``, `{"count": 1e400}`, `{"name": "\u00"}`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := decode(s, 1<<10); err != nil && fleet.KindOf(err) != fleet.KindInvalid {
			t.Errorf("error of kind %v: %v", fleet.KindOf(err), err)
		}
	})
}
