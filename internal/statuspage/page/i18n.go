package page

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/texts"
)

// referenceLanguage stands in for a language a text lacks.
const referenceLanguage = fleet.ReferenceLanguage

// catalog holds every language of the page, from the one catalogue of
// package texts.
type catalog struct {
	locales map[string]*locale
}

// locale is one language's messages, and how it writes dates and lists.
type locale struct {
	Code    string
	msgs    map[string]string
	months  []string
	notices map[string]*template.Template
}

func loadCatalog() (*catalog, error) {
	all, err := texts.Load()
	if err != nil {
		return nil, err
	}
	c := &catalog{locales: map[string]*locale{}}
	for _, code := range fleet.LanguageCodes() {
		name := "messages/" + code + ".json"
		msgs := all.Messages(code)
		l := &locale{Code: code, msgs: msgs, notices: map[string]*template.Template{}}
		l.months = strings.Split(msgs["months"], ",")
		if len(l.months) != 12 {
			return nil, fmt.Errorf("%s: months: want 12 names, have %d", name, len(l.months))
		}
		for k, v := range msgs {
			if !strings.HasPrefix(k, "notice.") {
				continue
			}
			t, err := template.New(k).Option("missingkey=error").Parse(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", name, k, err)
			}
			l.notices[k] = t
		}
		c.locales[l.Code] = l
	}
	return c, nil
}

func (c *catalog) locale(code string) *locale { return c.locales[code] }

// languages are the language codes, sorted.
func (c *catalog) languages() []string { return slices.Sorted(maps.Keys(c.locales)) }

// T is the message key in the locale's language.
func (l *locale) T(key string) string {
	if s, ok := l.msgs[key]; ok {
		return s
	}
	return key
}

// Tf is the message key with its %s verbs filled in.
func (l *locale) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// Name is a Text in the locale's language, or in English.
func (l *locale) Name(t fleet.Text) string { return t.In(l.Code, referenceLanguage) }

// Date writes t's day in the locale's manner.
func (l *locale) Date(t time.Time) string {
	return strings.NewReplacer(
		"{day}", strconv.Itoa(t.Day()),
		"{month}", l.months[t.Month()-1],
		"{year}", strconv.Itoa(t.Year()),
	).Replace(l.T("fmt.date"))
}

// DateTime writes t's day and time in the locale's manner, with the zone.
func (l *locale) DateTime(t time.Time) string {
	return strings.NewReplacer(
		"{day}", strconv.Itoa(t.Day()),
		"{month}", l.months[t.Month()-1],
		"{year}", strconv.Itoa(t.Year()),
		"{hh}", fmt.Sprintf("%02d", t.Hour()),
		"{mm}", fmt.Sprintf("%02d", t.Minute()),
		"{zone}", t.Format("MST"),
	).Replace(l.T("fmt.datetime"))
}

// Percent writes an availability from 0 to 1 as a percentage with two
// decimals, in the locale's manner.
func (l *locale) Percent(a float64) string {
	n := strconv.FormatFloat(a*100, 'f', 2, 64)
	if l.Code != referenceLanguage {
		n = strings.Replace(n, ".", ",", 1)
	}
	return strings.Replace(l.T("fmt.percent"), "{n}", n, 1)
}

// List joins names as "a, b and c".
func (l *locale) List(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + l.T("list.and") + " " + names[len(names)-1]
}
