// Package page is illico's public status page: the components customers
// rely on, the incidents and maintenances that touch them, and their uptime,
// served as an HTML page in English, French and German, as JSON with the
// field names and values of Atlassian Statuspage's public API (so existing
// widgets and aggregators work unchanged) and as an Atom feed.
//
// The page must hold the traffic of every customer refreshing it at once, so
// each response is rendered once per change of the status, compressed once,
// and served from memory with an ETag.
//
// A page whose store cannot be read keeps answering with the status it
// last read, never with an error: customers need the page most when
// something is down. Once that copy is older than Options.StaleAfter, the
// HTML page says so in a banner, with since when. Only the HTML: the JSON
// keeps Statuspage's fields, none of which says it, and the feed tells
// incidents, not the page's health.
package page

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Source holds the status the page shows: Stored in the daemon, Memory in
// tests.
type Source interface {
	// Version changes whenever the status does. It is asked on every
	// request, so it must be cheap.
	Version() uint64
	// Status returns a copy of the current status.
	Status(ctx context.Context) (fleet.Status, error)
	// Checked is when the status was last known to be current: when the
	// source last found that the copy Status returns is the newest. The
	// zero time means always current, for a source that is the status
	// itself and has no copy to fall behind (Memory). It is asked on every
	// request, so it must be cheap.
	Checked() time.Time
}

// History gives a component's availability day by day.
type History interface {
	// Daily returns up to days days ending today, oldest first.
	Daily(ctx context.Context, component string, days int) ([]Day, error)
}

// Day is one day of a component's uptime history.
type Day struct {
	// Date is the day's midnight in the page's time zone.
	Date time.Time
	// Availability is the share of the day the component served, from 0 to
	// 1. It means nothing when NoData is set.
	Availability float64
	// NoData marks a day without health data, before monitoring started.
	NoData bool
}

// Page describes the status page itself.
type Page struct {
	// ID appears as page_id in the JSON, and the feed's ids are made of
	// it: it must never change, whatever the page's name or address. The
	// daemon draws it once and keeps it in the store; Statuspage's are 12
	// lower-case letters and digits.
	ID string
	// Adopted is set for a page older daemons served before its ID was
	// stored: when it was. The feed and its entries from before keep the
	// ids those daemons gave them.
	Adopted time.Time
	// Name is the page's name, like "Example Hosting"; a page without one
	// is called "Service status" in the reader's language.
	Name string
	// URL is where customers reach the page, without a trailing slash; it
	// makes the links of the JSON and of the feed.
	URL string
	// TimeZone is the zone the page shows times in; UTC by default.
	TimeZone *time.Location
	// Language is the language of customers whose browser asks for none we
	// have: "en", "fr" or "de"; "en" by default.
	Language string
}

// Options configure the Handler.
type Options struct {
	Page    Page
	Source  Source
	History History // may be nil: the bars then show no data
	Now     func() time.Time
	Logger  *slog.Logger
	// MaxAge bounds how long a rendered response is served after it was
	// rendered, even when the status did not change, for times such as
	// "upcoming" and the day's bar to move on; 30s by default.
	MaxAge time.Duration
	// StaleAfter is how long after the Source's last check the HTML page
	// says that what it shows may be out of date; a minute by default:
	// well above the 2 s at which the daemon looks at the store, so that a
	// slow query or two never shows the banner. The JSON and the feed never
	// say it.
	StaleAfter time.Duration
}

// Days is the length of the uptime history the page shows.
const Days = 90

// Handler returns the read-only public status page: the HTML page at /, the
// Statuspage-compatible JSON under /api/v2/ and the feed at /history.atom.
func Handler(opts Options) (http.Handler, error) {
	if opts.Source == nil {
		return nil, errors.New("status page: no source of status")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 30 * time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = time.Minute
	}
	if opts.Page.TimeZone == nil {
		opts.Page.TimeZone = time.UTC
	}
	opts.Page.URL = strings.TrimSuffix(opts.Page.URL, "/")
	cat, err := loadCatalog()
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	if opts.Page.Language == "" {
		opts.Page.Language = "en"
	}
	if cat.locale(opts.Page.Language) == nil {
		return nil, fmt.Errorf("status page: no language %q (have %s)", opts.Page.Language, strings.Join(cat.languages(), ", "))
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	h := &handler{opts: opts, cat: cat, tmpl: tmpl}
	// The style sheet's address changes with it, so browsers keep it a day.
	h.css, err = newEntry(endpoint{contentType: "text/css; charset=utf-8", cacheControl: "public, max-age=86400"}, styleCSS)
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	h.cssPath = cssPath + "?v=" + h.css.etag[1:9]
	return h.routes(), nil
}
