package page

import (
	"strings"
	"testing"
	"time"
)

func TestNotices(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	n, err := NewNotices(paris)
	if err != nil {
		t.Fatal(err)
	}
	p := Progress{
		Components: []string{"Web cluster A", "Mail"},
		Start:      testNow, ETA: testNow.Add(90 * time.Minute),
		Done: 7, Total: 24,
	}
	for _, kind := range NoticeKinds {
		t.Run(kind, func(t *testing.T) {
			text, err := n.Text(kind, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, lang := range []string{"en", "fr", "de"} {
				s := text[lang]
				if s == "" {
					t.Fatalf("no %s text", lang)
				}
				if !strings.Contains(s, "Web cluster A") && !strings.Contains(s, "7") {
					t.Errorf("%s: %q names neither the components nor the progress", lang, s)
				}
			}
		})
	}
	text, err := n.Text(MaintenanceProgress, p)
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{
		"en": "7 of 24 servers done. We now expect to finish by March 14, 2026, 13:00 CET.",
		"fr": "7 serveurs sur 24 sont traités. Fin désormais prévue : 14 mars 2026 à 13:00 CET.",
		"de": "7 von 24 Servern sind fertig. Voraussichtliches Ende jetzt: 14. März 2026, 13:00 Uhr CET.",
	} {
		if !strings.Contains(text[lang], want) {
			t.Errorf("%s: %q does not say %q", lang, text[lang], want)
		}
	}
	started, _ := n.Text(MaintenanceStarted, p)
	if !strings.Contains(started["fr"], "Web cluster A et Mail") || !strings.Contains(started["de"], "Web cluster A und Mail") {
		t.Errorf("lists: %v", started)
	}
	if _, err := n.Text("no such notice", p); err == nil {
		t.Error("an unknown notice gave no error")
	}
}

func TestCatalog(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.languages(), " "); got != "de en fr" {
		t.Errorf("languages %q", got)
	}
	for _, code := range c.languages() {
		l := c.locale(code)
		for _, key := range []string{"indicator.", "component."} {
			values := Indicators
			if key == "component." {
				values = []string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
			}
			for _, v := range values {
				if l.T(key+v) == key+v {
					t.Errorf("%s: no message %s%s", code, key, v)
				}
			}
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	c, err := loadCatalog()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "de;q=x", ",,;", "*", "en;q=-1", "fr;q=NaN"} {
		f.Add("", s, s)
	}
	f.Fuzz(func(t *testing.T, query, accept, encoding string) {
		if got := c.negotiate(query, accept, "en"); c.locale(got) == nil {
			t.Fatalf("negotiate(%q, %q) = %q, not a language we have", query, accept, got)
		}
		acceptsGzip(encoding)
		matchesETag(encoding, `"x"`)
	})
}
