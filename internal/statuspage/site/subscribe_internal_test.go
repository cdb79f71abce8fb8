package site

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
	"github.com/illico-dev/illico/internal/statuspage/texts"
)

// TestPublicError checks that the subscription endpoints answer an error
// with the status code of its kind, and say only what the client may read.
func TestPublicError(t *testing.T) {
	cat, err := texts.Load()
	if err != nil {
		t.Fatal(err)
	}
	s := &Site{log: slog.New(slog.DiscardHandler), subs: &subscriptions{texts: cat}}
	tests := []struct {
		name   string
		err    error
		lang   string
		status int
		body   string
	}{
		{"invalid", fleet.Errorf(fleet.KindInvalid, "webhook URL: expected http(s)://host/path"), "en", http.StatusBadRequest, "webhook URL: expected http(s)://host/path"},
		{"not found, in French", fleet.Errorf(fleet.KindNotFound, "no such token"), "fr-CH,fr;q=0.9", http.StatusNotFound, "Ce lien est inconnu ou a déjà servi."},
		{"rate limited", fmt.Errorf("subscribe: %w", subscribers.ErrRateLimited), "en", http.StatusTooManyRequests, "too many subscription requests from this address: try again in a few minutes"},
		{"unavailable", fleet.Errorf(fleet.KindUnavailable, "the store is unreachable"), "en", http.StatusServiceUnavailable, "the store is unreachable"},
		{"internal", fmt.Errorf("disk on fire"), "en", http.StatusInternalServerError, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/subscriptions", nil)
			r.Header.Set("Accept-Language", tt.lang)
			w := httptest.NewRecorder()
			s.publicError(w, r, tt.err)
			if w.Code != tt.status || strings.TrimSpace(w.Body.String()) != tt.body {
				t.Errorf("answered %d %q, want %d %q", w.Code, w.Body.String(), tt.status, tt.body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q, want plain text", ct)
			}
		})
	}
}
