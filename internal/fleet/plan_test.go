package fleet

import (
	"testing"
	"time"
	_ "time/tzdata" // the test needs Europe/Paris's rules wherever it runs
)

// TestWindowAcrossDST holds Window.Open to its promise: the window follows
// the wall clock of its zone, so "09:00" is 09:00 on the days the clocks
// change too. In Europe/Paris in 2026, clocks spring forward on Sunday
// 29 March (02:00 CET becomes 03:00 CEST: 02:xx never happens) and fall
// back on Sunday 25 October (03:00 CEST becomes 02:00 CET: 02:xx happens
// twice). Instants are given in UTC, so that each one is unambiguous.
func TestWindowAcrossDST(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	sunday := func(from, to time.Duration) *Window {
		w := &Window{Location: paris, Start: from, End: to}
		w.Days[time.Sunday] = true
		return w
	}
	saturdayNight := &Window{Location: paris, Start: 22 * time.Hour, End: 3 * time.Hour}
	saturdayNight.Days[time.Saturday] = true
	utc := func(month time.Month, day, hour, min int) time.Time {
		return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
	}
	tests := []struct {
		name string
		w    *Window
		at   time.Time
		open bool
	}{
		// Spring forward: Paris is UTC+1 until 01:00 UTC, UTC+2 after.
		{"spring: 09:00 opens at 09:00 CEST", sunday(9*time.Hour, 12*time.Hour), utc(time.March, 29, 7, 0), true},
		{"spring: not an hour early, as a fixed offset would be", sunday(9*time.Hour, 12*time.Hour), utc(time.March, 29, 6, 59), false},
		{"spring: 12:00 closes at 12:00 CEST", sunday(9*time.Hour, 12*time.Hour), utc(time.March, 29, 10, 0), false},
		{"spring: the week before, 09:00 is 09:00 CET", sunday(9*time.Hour, 12*time.Hour), utc(time.March, 22, 8, 0), true},
		{"spring: the week before, not at 09:00 CEST's instant", sunday(9*time.Hour, 12*time.Hour), utc(time.March, 22, 7, 30), false},
		{"spring: 01:00-04:00 open at 01:59 CET", sunday(1*time.Hour, 4*time.Hour), utc(time.March, 29, 0, 59), true},
		{"spring: 01:00-04:00 open at 03:00 CEST, the next instant", sunday(1*time.Hour, 4*time.Hour), utc(time.March, 29, 1, 0), true},
		{"spring: 01:00-04:00 closed at 04:00 CEST, after two hours", sunday(1*time.Hour, 4*time.Hour), utc(time.March, 29, 2, 0), false},
		{"spring: a start in the skipped hour opens at 03:00", sunday(2*time.Hour+30*time.Minute, 5*time.Hour), utc(time.March, 29, 1, 0), true},
		{"spring: ...and not before", sunday(2*time.Hour+30*time.Minute, 5*time.Hour), utc(time.March, 29, 0, 59), false},
		{"spring: a window wholly in the skipped hour does not open", sunday(2*time.Hour, 2*time.Hour+45*time.Minute), utc(time.March, 29, 1, 0), false},
		{"spring: across midnight, open at 01:30 CET", saturdayNight, utc(time.March, 29, 0, 30), true},
		{"spring: across midnight, closed at 03:00 CEST", saturdayNight, utc(time.March, 29, 1, 0), false},
		{"spring: across midnight, open at 22:00 CET on Saturday", saturdayNight, utc(time.March, 28, 21, 0), true},

		// Fall back: Paris is UTC+2 until 01:00 UTC, UTC+1 after.
		{"fall: 09:00 opens at 09:00 CET", sunday(9*time.Hour, 12*time.Hour), utc(time.October, 25, 8, 0), true},
		{"fall: not an hour late, as a fixed offset would be", sunday(9*time.Hour, 12*time.Hour), utc(time.October, 25, 7, 59), false},
		{"fall: 12:00 closes at 12:00 CET", sunday(9*time.Hour, 12*time.Hour), utc(time.October, 25, 11, 0), false},
		{"fall: 02:00-02:30 open the first time, in CEST", sunday(2*time.Hour, 2*time.Hour+30*time.Minute), utc(time.October, 25, 0, 15), true},
		{"fall: 02:00-02:30 closed between the two", sunday(2*time.Hour, 2*time.Hour+30*time.Minute), utc(time.October, 25, 0, 45), false},
		{"fall: 02:00-02:30 open the second time, in CET", sunday(2*time.Hour, 2*time.Hour+30*time.Minute), utc(time.October, 25, 1, 15), true},
		{"fall: 01:00-04:00 still open at 03:30 CET, four hours on", sunday(1*time.Hour, 4*time.Hour), utc(time.October, 25, 2, 30), true},
		{"fall: 01:00-04:00 closed at 04:00 CET", sunday(1*time.Hour, 4*time.Hour), utc(time.October, 25, 3, 0), false},
		{"fall: across midnight, open at 02:59 CET", saturdayNight, utc(time.October, 25, 1, 59), true},
		{"fall: across midnight, closed at 03:00 CET", saturdayNight, utc(time.October, 25, 2, 0), false},
		{"fall: across midnight, closed at 22:00 CET on Sunday", saturdayNight, utc(time.October, 25, 21, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.Open(tt.at); got != tt.open {
				t.Errorf("Open(%s, %s in Paris) = %v, want %v", tt.at.Format(time.RFC3339), tt.at.In(paris).Format("Mon 15:04 MST"), got, tt.open)
			}
		})
	}
}
