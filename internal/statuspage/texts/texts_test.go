package texts_test

import (
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/texts"
)

// TestCatalogue checks that every language has every key of English, and
// no other: Load refuses the catalogue otherwise.
func TestCatalogue(t *testing.T) {
	c, err := texts.Load()
	if err != nil {
		t.Fatal(err)
	}
	ref := c.Messages(fleet.ReferenceLanguage)
	if len(ref) == 0 {
		t.Fatal("no English messages")
	}
	for _, l := range fleet.Languages() {
		msgs := c.Messages(l.Code)
		for k := range ref {
			if _, ok := msgs[k]; !ok {
				t.Errorf("%s lacks %q", l.Code, k)
			}
		}
		if len(msgs) != len(ref) {
			t.Errorf("%s has %d messages, English %d", l.Code, len(msgs), len(ref))
		}
	}
}

func TestT(t *testing.T) {
	c, err := texts.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ lang, key, want string }{
		{"fr", "subscription.button", "Se désabonner"},
		{"it", "subscription.button", "Unsubscribe"}, // the reference stands in
		{"de", "no.such.key", "no.such.key"},
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.key); got != tt.want {
			t.Errorf("T(%q, %q) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
	if got := c.Tf("en", "mail.footer", "https://x"); got != "To stop these messages, open:\nhttps://x" {
		t.Errorf("Tf = %q", got)
	}
}
