package dashboard

import (
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// The editor speaks the status page's time zone: customers read the page
// in it, so an operator who types 22:00 means the 22:00 they will see. A
// browser's own zone is the operator's, not the customers'.

// editorZone is the page's time zone, as the editor names it.
type editorZone struct {
	loc *time.Location
	// label names it with its offset at the time of the request, like
	// "Europe/Paris, UTC+01:00", or "UTC".
	label string
}

// newEditorZone loads the zone the API names. A name this process cannot
// load (the daemon loaded it, so only a machine whose time zone database
// went away since) falls back to UTC, which the label then says: the times
// are the right instants, in a zone the operator is told.
func newEditorZone(name string, now time.Time, log *slog.Logger) editorZone {
	loc, err := time.LoadLocation(name)
	if err != nil {
		log.Error("dashboard: the status page's time zone, shown in UTC instead", "zone", name, "err", err)
		loc = time.UTC
	}
	return editorZone{loc: loc, label: zoneLabel(loc, now)}
}

// zoneLabel is how the editor names loc at now.
func zoneLabel(loc *time.Location, now time.Time) string {
	if loc == time.UTC {
		return "UTC"
	}
	_, off := now.In(loc).Zone()
	return loc.String() + ", " + utcOffset(off)
}

// utcOffset writes an offset east of UTC, in seconds, like UTC+05:30.
func utcOffset(off int) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off%3600/60)
}

// wallClock reads the date and clock of w, whatever its location, as a
// time in loc. A time the clocks skip as they go forward is an error
// saying the gap; one they show twice as they go back is the first, and
// twice says so. time.Date picks either in both cases.
func wallClock(w time.Time, loc *time.Location) (t time.Time, twice bool, err error) {
	w = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
	// The offsets around w: a transition near w is between the one of the
	// day before and the one of the day after.
	var found []time.Time
	var before int
	for i, probe := range []time.Duration{-36 * time.Hour, 0, 36 * time.Hour} {
		_, off := w.Add(probe).In(loc).Zone()
		if i == 0 {
			before = off
		}
		c := w.Add(-time.Duration(off) * time.Second)
		if sameClock(c.In(loc), w) && !slices.ContainsFunc(found, c.Equal) {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		c := w.Add(-time.Duration(before) * time.Second)
		start, _ := c.In(loc).ZoneBounds()
		return time.Time{}, false, fmt.Errorf("the clocks go from %s straight to %s that night",
			start.In(time.FixedZone("", before)).Format("15:04"), start.In(loc).Format("15:04"))
	}
	slices.SortFunc(found, time.Time.Compare)
	return found[0], len(found) > 1, nil
}

// sameClock says whether a and b show the same date and clock.
func sameClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute() &&
		a.Second() == b.Second() && a.Nanosecond() == b.Nanosecond()
}
