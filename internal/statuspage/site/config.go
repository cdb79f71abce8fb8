package site

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/yamlx"
)

// StatusPageConfig is the status_page section of the daemon's config file:
// what the public page says of itself.
type StatusPageConfig struct {
	// Name titles the page, like "Example Hosting".
	Name string `yaml:"name"`
	// URL is where customers reach the page, like
	// https://status.example.net: the links of its JSON and feed and of the
	// messages to subscribers point there.
	URL string `yaml:"url"`
	// TimeZone is the zone the page shows times in, like Europe/Paris; UTC
	// when empty.
	TimeZone string `yaml:"time_zone"`
	// Language is the page's language for a browser that asks for none it
	// has: en, fr or de; en when empty.
	Language string `yaml:"language"`
	Meta     yamlx.Meta
}

// Check adds the section's problems to ps.
func (c StatusPageConfig) Check(file string, ps *yamlx.Problems) {
	if c.Meta.Has("url") {
		if err := checkPageURL(c.URL); err != nil {
			ps.Add(file, c.Meta.At("url"), "status_page url %v", err)
		}
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			ps.Add(file, c.Meta.At("time_zone"), "status_page time_zone %q: not a time zone this machine knows, like Europe/Paris or UTC", c.TimeZone)
		}
	}
	if c.Language != "" && !fleet.IsLanguage(c.Language) {
		ps.Add(file, c.Meta.At("language"), "status_page language %q: expected %s", c.Language, strings.Join(pageLanguages(), ", "))
	}
}

// checkPageURL checks the address of the status page.
func checkPageURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: expected http(s)://host[/path], like https://status.example.net", s)
	}
	return nil
}

// Page is the page the section describes, once Check found no problem. Its
// ID is the store's (Site takes it), not the config's: it must not change
// with the page's name or address.
func (c StatusPageConfig) Page() page.Page {
	p := page.Page{Name: c.Name, URL: c.URL, Language: c.Language}
	if c.TimeZone != "" {
		// Check loaded it already; a zone gone since falls back to UTC.
		p.TimeZone, _ = time.LoadLocation(c.TimeZone)
	}
	return p
}

// derivedPageID is the page_id older daemons gave the page, drawn from its
// address and name: 12 lower-case letters and digits, like Statuspage's.
// A page they served keeps it, stored (store.StatusPageIdentity), for the
// widgets and feed readers that know it.
func derivedPageID(p page.Page) string {
	sum := sha256.Sum256([]byte(p.URL + "\n" + p.Name))
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	id := make([]byte, 12)
	for i := range id {
		id[i] = digits[int(sum[i])%len(digits)]
	}
	return string(id)
}
