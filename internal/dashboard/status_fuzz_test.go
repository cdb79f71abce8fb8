package dashboard

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzStatusForm feeds the editor's reading of a form anything a client
// may send, in zones with and without summer time: it never panics, and a
// time is either read, showing in the page's zone the date and clock typed,
// or has an error beside its field.
func FuzzStatusForm(f *testing.F) {
	var zones []*time.Location
	for _, name := range []string{"UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"} {
		zones = append(zones, location(f, name))
	}
	for i, s := range []string{"2026-03-14T22:00", "2026-03-14T22:00:59", " 2026-02-30T25:61 ", "", "tomorrow", "\x00",
		"0001-01-01T00:00", "0001-01-01T00:09:21", "9999-12-31T23:59", "2026-03-29T02:30", "2026-10-25T02:30", "2026-03-08T02:30:00.5"} {
		f.Add(s, "Mail cluster upgrade", uint8(i))
	}
	f.Fuzz(func(t *testing.T, when, name string, zone uint8) {
		loc := zones[int(zone)%len(zones)]
		form := &statusForm{Key: "new-m", values: url.Values{"from": {when}, "name_fr": {name}}, zone: editorZone{loc: loc, label: loc.String()}}
		got := form.time("from", "start", false)
		text := form.text("name", "name")
		failed := form.Error("from") != ""
		switch {
		case failed == !got.IsZero():
			t.Errorf("from %q in %s: read %v, error %q", when, loc, got, form.Error("from"))
		case !failed && !shows(got.In(loc), strings.TrimSpace(when)):
			t.Errorf("from %q: read %v, which %s shows as %v", when, got, loc, got.In(loc))
		case (len(text) == 0) == (form.Error("name") == ""):
			t.Errorf("name %q: text %v, error %q", name, text, form.Error("name"))
		}
	})
}

// shows says whether t shows the date and clock typed.
func shows(t time.Time, typed string) bool {
	for _, layout := range localFormats {
		if w, err := time.ParseInLocation(layout, typed, time.UTC); err == nil {
			return sameClock(t, w)
		}
	}
	return false
}
