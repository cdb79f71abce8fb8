package page

import (
	"encoding/xml"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// The Atom feed (RFC 4287) of incidents and maintenances, newest change
// first, each entry's content its timeline.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Link      atomLink    `xml:"link"`
	Content   atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type feedItem struct {
	id, name, status string
	created, updated time.Time
	updates          []fleet.StatusUpdate
	components       []string
	timeLine         string
}

func renderAtom(v *view, l *locale) ([]byte, error) {
	var items []feedItem
	for _, in := range v.incidents {
		items = append(items, feedItem{id: in.ID, name: l.Name(in.Name), status: l.T("incident." + string(in.Status)),
			created: in.CreatedAt, updated: in.UpdatedAt, updates: in.Updates, components: in.Components})
	}
	for _, m := range v.maintenance {
		items = append(items, feedItem{id: m.ID, name: l.Name(m.Name), status: l.T("maintenance." + string(m.Status)),
			created: m.CreatedAt, updated: m.UpdatedAt, updates: m.Updates, components: m.Components,
			timeLine: l.Tf("window", l.DateTime(m.ScheduledFor.In(v.page.TimeZone)), l.DateTime(m.ScheduledUntil.In(v.page.TimeZone)))})
	}
	slices.SortStableFunc(items, func(a, b feedItem) int { return b.updated.Compare(a.updated) })
	items = items[:min(len(items), listLimit)]

	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	feed := atomFeed{
		Lang:    l.Code,
		ID:      "urn:illico:statuspage:" + v.page.ID,
		Title:   pageTitle(l, v.page),
		Updated: stamp(v.status.UpdatedAt),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: v.page.URL + "/history.atom?lang=" + l.Code},
			{Rel: "alternate", Type: "text/html", Href: v.page.URL + "/?lang=" + l.Code},
		},
	}
	for _, it := range items {
		var b strings.Builder
		b.WriteString(it.status)
		if it.timeLine != "" {
			b.WriteString("\n" + it.timeLine)
		}
		var names []string
		for _, id := range it.components {
			if c := v.byID[id]; c != nil {
				names = append(names, c.Name)
			}
		}
		if len(names) > 0 {
			b.WriteString("\n" + l.T("affects") + ": " + l.List(names))
		}
		for i := len(it.updates) - 1; i >= 0; i-- {
			u := it.updates[i]
			b.WriteString("\n\n" + l.DateTime(u.CreatedAt.In(v.page.TimeZone)) + " — " + statusName(l, u.Status) + "\n" + l.Name(u.Body))
		}
		feed.Entries = append(feed.Entries, atomEntry{
			ID: "urn:illico:statuspage:" + v.page.ID + ":" + it.id, Title: it.name,
			Published: stamp(it.created), Updated: stamp(it.updated),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: v.link(it.id)},
			Content: atomContent{Type: "text", Body: b.String()},
		})
	}
	out, err := xml.MarshalIndent(feed, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// statusName is an update's status in words, whether it is an incident's or
// a maintenance's.
func statusName(l *locale, status string) string {
	if fleet.IncidentStatus(status).Valid() {
		return l.T("incident." + status)
	}
	if fleet.MaintenanceStatus(status).Valid() {
		return l.T("maintenance." + status)
	}
	return status
}

// link is the address of an incident or maintenance on the page.
func (v *view) link(id string) string { return v.page.URL + "/#" + id }
