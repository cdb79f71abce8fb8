package dashboard

import (
	"strings"
	"testing"
	"time"
	// The tests' zones do not depend on the machine's time zone database.
	_ "time/tzdata"
)

func location(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestWallClock(t *testing.T) {
	for _, tc := range []struct {
		zone, clock string
		want        string // the instant, in UTC; empty for a gap
		twice       bool
		gap         string
	}{
		{"UTC", "2026-03-29T02:30", "2026-03-29T02:30:00Z", false, ""},
		{"Europe/Paris", "2026-07-01T22:00", "2026-07-01T20:00:00Z", false, ""},
		{"Europe/Paris", "2026-01-15T09:00", "2026-01-15T08:00:00Z", false, ""},
		{"Europe/Paris", "2026-03-29T01:59", "2026-03-29T00:59:00Z", false, ""},
		{"Europe/Paris", "2026-03-29T02:30", "", false, "from 02:00 straight to 03:00"},
		{"Europe/Paris", "2026-03-29T03:00", "2026-03-29T01:00:00Z", false, ""},
		{"Europe/Paris", "2026-10-25T02:30", "2026-10-25T00:30:00Z", true, ""},
		{"Europe/Paris", "2026-10-25T03:00", "2026-10-25T02:00:00Z", false, ""},
		{"America/New_York", "2026-03-08T02:30", "", false, "from 02:00 straight to 03:00"},
		{"America/New_York", "2026-11-01T01:30", "2026-11-01T05:30:00Z", true, ""},
		// Summer time of half an hour.
		{"Australia/Lord_Howe", "2026-10-04T02:15", "", false, "from 02:00 straight to 02:30"},
		{"Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-04T14:45:00Z", true, ""},
	} {
		t.Run(tc.zone+" "+tc.clock, func(t *testing.T) {
			w, err := time.Parse(localFormats[0], tc.clock)
			if err != nil {
				t.Fatal(err)
			}
			got, twice, err := wallClock(w, location(t, tc.zone))
			switch {
			case tc.gap != "":
				if err == nil || !strings.Contains(err.Error(), tc.gap) {
					t.Errorf("read %v, error %v; want a gap %s", got, err, tc.gap)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case got.UTC().Format(time.RFC3339) != tc.want || twice != tc.twice:
				t.Errorf("read %s, twice %v; want %s, twice %v", got.UTC().Format(time.RFC3339), twice, tc.want, tc.twice)
			}
		})
	}
}

func TestZoneLabel(t *testing.T) {
	for _, tc := range []struct {
		zone string
		now  string
		want string
	}{
		{"UTC", "2026-01-15T12:00:00Z", "UTC"},
		{"Europe/Paris", "2026-01-15T12:00:00Z", "Europe/Paris, UTC+01:00"},
		{"Europe/Paris", "2026-07-15T12:00:00Z", "Europe/Paris, UTC+02:00"},
		{"America/St_Johns", "2026-01-15T12:00:00Z", "America/St_Johns, UTC-03:30"},
		{"Asia/Kolkata", "2026-01-15T12:00:00Z", "Asia/Kolkata, UTC+05:30"},
	} {
		t.Run(tc.zone+" "+tc.now, func(t *testing.T) {
			now, err := time.Parse(time.RFC3339, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := zoneLabel(location(t, tc.zone), now); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
