package dashboard

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzUnnamed feeds the stream filter any bytes, cut anywhere: it must
// never panic, nor pass on an event's name other than the end's.
func FuzzUnnamed(f *testing.F) {
	f.Add("id: 1\nevent: host.started\ndata: {}\n\n: heartbeat\n\nevent: end\ndata: {}\n\n", 7)
	f.Add("event:x", 3)
	f.Fuzz(func(t *testing.T, stream string, cut int) {
		rec := httptest.NewRecorder()
		u := &unnamed{w: rec}
		cut = min(max(cut, 0), len(stream))
		for _, part := range []string{stream[:cut], stream[cut:]} {
			if _, err := u.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		for line := range strings.SplitSeq(rec.Body.String(), "\n") {
			if strings.HasPrefix(line, "event:") && strings.TrimSpace(line) != "event: end" {
				t.Fatalf("passed on %q", line)
			}
		}
	})
}
