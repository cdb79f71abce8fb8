package deliver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// server answers every request with status and header, and keeps the last
// one it got.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	header http.Header
	body   []byte
}

func newServer(tb testing.TB, status int, header http.Header, delay time.Duration) *server {
	tb.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.header, s.body = r.Header.Clone(), b
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	}))
	tb.Cleanup(s.Close)
	return s
}

type request struct {
	header http.Header
	body   []byte
}

func (s *server) last() request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return request{s.header, s.body}
}

func TestPostJudgesTheAnswer(t *testing.T) {
	date := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		status    int
		header    http.Header
		ok        bool
		permanent bool
		after     time.Duration
	}{
		{"200", 200, nil, true, false, 0},
		{"204", 204, nil, true, false, 0},
		{"400", 400, nil, false, true, 0},
		{"403", 403, nil, false, true, 0},
		{"404", 404, nil, false, true, 0},
		{"410 with retry-after", 410, http.Header{"Retry-After": {"30"}}, false, true, 0},
		{"408", 408, nil, false, false, 0},
		{"429 with seconds", 429, http.Header{"Retry-After": {"120"}}, false, false, 2 * time.Minute},
		{"500", 500, nil, false, false, 0},
		{"502 with a bad retry-after", 502, http.Header{"Retry-After": {"soon"}}, false, false, 0},
		{"503 with a date", 503, http.Header{"Retry-After": {date.Add(90 * time.Second).Format(http.TimeFormat)}, "Date": {date.Format(http.TimeFormat)}}, false, false, 90 * time.Second},
		{"503 with a date in the past", 503, http.Header{"Retry-After": {date.Add(-time.Hour).Format(http.TimeFormat)}, "Date": {date.Format(http.TimeFormat)}}, false, false, 0},
		{"503 with a huge wait", 503, http.Header{"Retry-After": {"99999999999999999"}}, false, false, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.status, tt.header, 0)
			err := Post(t.Context(), s.Client(), Webhook{URL: s.URL + "/hook", Body: map[string]string{"a": "b"}})
			if (err == nil) != tt.ok || IsPermanent(err) != tt.permanent || RetryAfter(err) != tt.after {
				t.Fatalf("error %v (permanent %v, retry after %v), want ok %v, permanent %v, retry after %v",
					err, IsPermanent(err), RetryAfter(err), tt.ok, tt.permanent, tt.after)
			}
			if err != nil && !strings.Contains(err.Error(), "post to 127.0.0.1:") {
				t.Errorf("error %q does not name the host", err)
			}
		})
	}
}

func TestPostSendsAndSigns(t *testing.T) {
	s := newServer(t, 200, nil, 0)
	secret := fleet.Secret("a shared secret of the hook")
	body := map[string]any{"kind": "notification", "n": 1}
	if err := Post(t.Context(), s.Client(), Webhook{URL: s.URL, Header: http.Header{"Authorization": {"Bearer tok"}}, Body: body, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	got := s.last()
	want, _ := json.Marshal(body)
	if string(got.body) != string(want) {
		t.Errorf("body %s, want %s", got.body, want)
	}
	for k, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "illico", "Authorization": "Bearer tok",
		SignatureHeader: Sign(secret, want)} {
		if got := got.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	// The known answer: HMAC-SHA256 of "{}" keyed with "key".
	if got := Sign("key", []byte("{}")); got != "sha256=a777724d943eb48dc69bca8a4a6d57a04db3f9ec7e1de4e581e860265bdf3032" {
		t.Errorf("signature %q", got)
	}
	if err := Post(t.Context(), s.Client(), Webhook{URL: s.URL, Body: body}); err != nil {
		t.Fatal(err)
	}
	if got := s.last().header.Get(SignatureHeader); got != "" {
		t.Errorf("an unsigned post carries %s: %q", SignatureHeader, got)
	}
}

// TestPostHidesTheURL checks that no error shows the parts of the URL that
// may be its credential: user, path, query.
func TestPostHidesTheURL(t *testing.T) {
	const secretPath, secretQuery, secretUser = "/services/T0/B0/s3cr3tpath", "token=s3cr3tquery", "alice:s3cr3tpassword"
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	slow := newServer(t, 200, nil, time.Minute)
	refusing := newServer(t, 403, nil, 0)
	failing := newServer(t, 503, nil, 0)
	withSecrets := func(base string) string {
		return strings.Replace(base, "http://", "http://"+secretUser+"@", 1) + secretPath + "?" + secretQuery
	}
	tests := []struct {
		name      string
		url       string
		timeout   time.Duration
		permanent bool
	}{
		{"refused connection", withSecrets(closed.URL), 0, false},
		{"timeout", withSecrets(slow.URL), 50 * time.Millisecond, false},
		{"403", withSecrets(refusing.URL), 0, true},
		{"503", withSecrets(failing.URL), 0, false},
		{"bad url", "http://a b" + secretPath + "?" + secretQuery, 0, true},
		{"no host", "http://" + secretPath + "?" + secretQuery, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Post(t.Context(), http.DefaultClient, Webhook{URL: tt.url, Body: "x", Timeout: tt.timeout})
			if err == nil || IsPermanent(err) != tt.permanent {
				t.Fatalf("error %v, permanent %v; want an error, permanent %v", err, IsPermanent(err), tt.permanent)
			}
			for _, s := range []string{"s3cr3t", "alice", "T0/B0"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows %q", err, s)
				}
			}
		})
	}
	t.Run("the error still says what it is", func(t *testing.T) {
		err := Post(t.Context(), http.DefaultClient, Webhook{URL: withSecrets(slow.URL), Body: "x", Timeout: 50 * time.Millisecond})
		var ne interface{ Timeout() bool }
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("error %v is not a timeout", err)
		}
	})
}

func TestPostEncodingFailureIsPermanent(t *testing.T) {
	err := Post(t.Context(), http.DefaultClient, Webhook{URL: "http://127.0.0.1:1/", Body: func() {}})
	if !IsPermanent(err) {
		t.Errorf("error %v, want a permanent one", err)
	}
}

func FuzzRetryAfter(f *testing.F) {
	f.Add("120", "")
	f.Add("Fri, 01 May 2026 12:01:30 GMT", "Fri, 01 May 2026 12:00:00 GMT")
	f.Add("-5", "")
	f.Add("99999999999999999999999", "")
	f.Add("Fri, 01 May 9999 12:01:30 GMT", "Mon, 01 Jan 0001 00:00:00 GMT")
	f.Fuzz(func(t *testing.T, retry, date string) {
		d := retryAfter(http.Header{"Retry-After": {retry}, "Date": {date}})
		if d < 0 || d > maxRetryAfter {
			t.Errorf("retryAfter(%q, %q) = %v, outside [0, %v]", retry, date, d, maxRetryAfter)
		}
	})
}

func BenchmarkPost(b *testing.B) {
	s := newServer(b, 204, nil, 0)
	w := Webhook{URL: s.URL, Body: map[string]string{"text": strings.Repeat("x", 1024)}, Secret: "a shared secret of the hook"}
	for b.Loop() {
		if err := Post(b.Context(), s.Client(), w); err != nil {
			b.Fatal(err)
		}
	}
}
