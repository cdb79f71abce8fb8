package fleet

import (
	"slices"
	"strings"
)

// Language is one of the languages customers read the status page and its
// messages in, and its name in itself, as a language menu shows it.
type Language struct {
	Code, Name string
}

// ReferenceLanguage is the language every other follows: the status page's
// catalogue of texts has its keys, and it stands in for a language a text
// lacks.
const ReferenceLanguage = "en"

// Languages are the languages customers read, the reference first, in the
// order forms list them. This is the one list: the status page's catalogue
// of texts, the operators' forms, the subscribers and the store take it.
func Languages() []Language {
	return []Language{{"en", "English"}, {"fr", "Français"}, {"de", "Deutsch"}}
}

// LanguageCodes are the codes of Languages, in their order.
func LanguageCodes() []string {
	var out []string
	for _, l := range Languages() {
		out = append(out, l.Code)
	}
	return out
}

// IsLanguage reports whether code is one of Languages.
func IsLanguage(code string) bool { return slices.Contains(LanguageCodes(), code) }

// LanguageName is the name of language code in itself, or code when it is
// not one of Languages.
func LanguageName(code string) string {
	for _, l := range Languages() {
		if l.Code == code {
			return l.Name
		}
	}
	return code
}

// LanguageChoice lists the codes of Languages as a sentence does: "en, fr
// or de".
func LanguageChoice() string {
	codes := LanguageCodes()
	return strings.Join(codes[:len(codes)-1], ", ") + " or " + codes[len(codes)-1]
}
