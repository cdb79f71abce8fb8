package dashboard

import (
	"net/url"
	"testing"
	"time"
)

// FuzzStatusForm feeds the editor's reading of a form anything a client
// may send: it never panics, and a time is either read, in UTC, or has an
// error beside its field.
func FuzzStatusForm(f *testing.F) {
	for _, s := range []string{"2026-03-14T22:00", "2026-03-14T22:00:59", " 2026-02-30T25:61 ", "", "tomorrow", "\x00", "0001-01-01T00:00"} {
		f.Add(s, "Mail cluster upgrade")
	}
	f.Fuzz(func(t *testing.T, when, name string) {
		form := &statusForm{Key: "new-m", values: url.Values{"from": {when}, "name_fr": {name}}}
		got := form.time("from", "start", false)
		text := form.text("name", "name")
		failed := form.Error("from") != ""
		switch {
		case failed == !got.IsZero():
			t.Errorf("from %q: read %v, error %q", when, got, form.Error("from"))
		case !failed && got.Location() != time.UTC:
			t.Errorf("from %q: read %v, not in UTC", when, got)
		case (len(text) == 0) == (form.Error("name") == ""):
			t.Errorf("name %q: text %v, error %q", name, text, form.Error("name"))
		}
	})
}
