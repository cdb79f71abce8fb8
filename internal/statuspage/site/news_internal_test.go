package site

import (
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/texts"
)

// TestNews checks the words the notifications carry around an update, in
// every language: the status in the subject, the components after the
// body, the page's address last.
func TestNews(t *testing.T) {
	cat, err := texts.Load()
	if err != nil {
		t.Fatal(err)
	}
	s := &subscriptions{texts: cat, page: "https://status.example.net"}
	st := &fleet.Status{
		Components: []fleet.Component{{ID: "web", Name: "Web"}, {ID: "db", Name: "Databases"}},
		Maintenance: []fleet.Maintenance{{ID: "m1", Name: fleet.Text{"en": "Patching", "fr": "Mises à jour"}, Components: []string{"web", "gone"},
			Updates: []fleet.StatusUpdate{{ID: "u1", Status: "scheduled", Body: fleet.Text{"en": "We patch.", "de": "Wir patchen."}}}}},
		Incidents: []fleet.Incident{{ID: "i1", Name: fleet.Text{"en": "Outage"},
			Updates: []fleet.StatusUpdate{{ID: "u0", Status: "seen"}, {ID: "u2", Status: "odd", Body: fleet.Text{"en": "Hm."}}}}},
	}
	us := s.news(map[string]bool{"incident/i1/u0": true}, st)
	if len(us) != 2 || us[0].Key != "incident/i1/u2" || us[1].Key != "maintenance/m1/u1" {
		t.Fatalf("news %+v, want incident/i1/u2 and maintenance/m1/u1", us)
	}
	want := map[string][2]string{
		"en": {"[Scheduled maintenance] Patching", "We patch.\n\nAffected: Web, gone\nStatus page: https://status.example.net"},
		"fr": {"[Maintenance planifiée] Mises à jour", "We patch.\n\nConcerné: Web, gone\nPage d'état: https://status.example.net"},
		"de": {"[Geplante Wartung] Patching", "Wir patchen.\n\nBetroffen: Web, gone\nStatusseite: https://status.example.net"},
	}
	m := us[1]
	m.Body = s.bodyWithPage(m.Body)
	for lang, w := range want {
		if m.Subject[lang] != w[0] || m.Body[lang] != w[1] {
			t.Errorf("%s: %q / %q, want %q / %q", lang, m.Subject[lang], m.Body[lang], w[0], w[1])
		}
	}
	// A status the catalogue does not name is shown as it is.
	if got := us[0].Subject["fr"]; got != "[odd] Outage" {
		t.Errorf("subject %q, want [odd] Outage", got)
	}
}
