// Package texts is the one catalogue of what the status page's family
// writes to customers by itself: the page and its feed, the notices of the
// rollouts, the subscription answers and mails, and the subjects of the
// notifications, in each of fleet.Languages, the one list of languages.
//
// The catalogue is one JSON file per language in messages/, each with the
// keys of English, the reference; Load refuses a catalogue where a
// language of the list has no file or lacks a key of English, or has one
// English does not, and a file of no language of the list.
package texts

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
)

//go:embed messages/*.json
var messageFiles embed.FS

// Catalogue holds the messages of every language.
type Catalogue struct {
	msgs map[string]map[string]string
}

// Load reads the embedded catalogue and checks that it has every language
// of fleet.Languages, and in each every key of the reference and no other.
func Load() (*Catalogue, error) {
	c := &Catalogue{msgs: map[string]map[string]string{}}
	var errs []error
	for _, code := range fleet.LanguageCodes() {
		name := path.Join("messages", code+".json")
		b, err := messageFiles.ReadFile(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("message catalogue: no %s for %s", name, fleet.LanguageName(code)))
			continue
		}
		var msgs map[string]string
		if err := json.Unmarshal(b, &msgs); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.msgs[code] = msgs
	}
	files, err := messageFiles.ReadDir("messages")
	if err != nil {
		return nil, fmt.Errorf("read message catalogue: %w", err)
	}
	for _, f := range files {
		if code := strings.TrimSuffix(f.Name(), ".json"); !fleet.IsLanguage(code) {
			errs = append(errs, fmt.Errorf("messages/%s: %q is not one of the languages (%s)", f.Name(), code, strings.Join(fleet.LanguageCodes(), ", ")))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	ref := c.msgs[fleet.ReferenceLanguage]
	for _, code := range fleet.LanguageCodes() {
		msgs := c.msgs[code]
		for _, k := range slices.Sorted(maps.Keys(ref)) {
			if _, ok := msgs[k]; !ok {
				errs = append(errs, fmt.Errorf("messages/%s.json: missing %q", code, k))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(msgs)) {
			if _, ok := ref[k]; !ok {
				errs = append(errs, fmt.Errorf("messages/%s.json: %q is not in %s.json", code, k, fleet.ReferenceLanguage))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Messages are the messages of language code, keyed like the reference;
// nil when code is not one of fleet.Languages. The map is the caller's.
func (c *Catalogue) Messages(code string) map[string]string {
	msgs, ok := c.msgs[code]
	if !ok {
		return nil
	}
	return maps.Clone(msgs)
}

// Lookup is message key in language code, in the reference when code is
// not one of fleet.Languages; false when there is no such key.
func (c *Catalogue) Lookup(code, key string) (string, bool) {
	msgs, ok := c.msgs[code]
	if !ok {
		msgs = c.msgs[fleet.ReferenceLanguage]
	}
	s, ok := msgs[key]
	return s, ok
}

// T is message key in language code, in the reference when code is not
// one of Languages, and the key itself when there is no such message.
func (c *Catalogue) T(code, key string) string {
	if s, ok := c.Lookup(code, key); ok {
		return s
	}
	return key
}

// Tf is T with its %s verbs filled in.
func (c *Catalogue) Tf(code, key string, args ...any) string {
	return fmt.Sprintf(c.T(code, key), args...)
}
