package fleet_test

import (
	"slices"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestLanguages(t *testing.T) {
	if got := fleet.LanguageCodes(); !slices.Equal(got, []string{"en", "fr", "de"}) {
		t.Errorf("LanguageCodes() = %v, want en fr de", got)
	}
	if got := fleet.LanguageCodes()[0]; got != fleet.ReferenceLanguage {
		t.Errorf("the first language is %s, want the reference, %s", got, fleet.ReferenceLanguage)
	}
	for code, want := range map[string]string{"en": "English", "fr": "Français", "de": "Deutsch", "it": "it"} {
		if got := fleet.LanguageName(code); got != want {
			t.Errorf("LanguageName(%q) = %q, want %q", code, got, want)
		}
	}
	if fleet.IsLanguage("it") || !fleet.IsLanguage("fr") {
		t.Error("IsLanguage: want fr and not it")
	}
	if got := fleet.LanguageChoice(); got != "en, fr or de" {
		t.Errorf("LanguageChoice() = %q", got)
	}
}
