package page

import (
	"crypto/sha1"
	"encoding/hex"
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
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

// atomPerson is the feed's author, which RFC 4287 (4.1.1) wants on the feed
// or on every entry: the page.
type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
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
		ID:      v.page.feedID(),
		Title:   pageTitle(l, v.page),
		Updated: stamp(v.status.UpdatedAt),
		Author:  atomPerson{Name: pageName(l, v.page), URI: v.page.URL},
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
			ID: v.page.entryID(it.id, it.created), Title: it.name,
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

// The feed's and its entries' ids never change (RFC 4287, 4.2.6): they are
// made of the page's stored ID and of each incident's or maintenance's own,
// never of the page's name or address, which an operator may change. They
// are name-based UUIDs (RFC 9562, version 5): the feed's in illico's
// namespace, each entry's in the feed's, so that two pages never share one.
//
// A page older daemons served has the ids they made of its derived ID: the
// feed keeps its own and those of the entries created by then, for feed
// readers not to show them again as new.

// feedNamespace is illico's namespace of feed UUIDs, drawn once.
var feedNamespace = [16]byte{0xf8, 0x65, 0x0e, 0x60, 0xbf, 0xba, 0x4d, 0xd0, 0x87, 0x18, 0xf8, 0x34, 0x86, 0x31, 0x49, 0xbe}

const legacyIDPrefix = "urn:illico:statuspage:"

func (p Page) feedUUID() [16]byte { return uuid5(feedNamespace, p.ID) }

func (p Page) feedID() string {
	if !p.Adopted.IsZero() {
		return legacyIDPrefix + p.ID
	}
	return urnUUID(p.feedUUID())
}

// entryID is the id of the entry of the incident or maintenance id, created
// at created.
func (p Page) entryID(id string, created time.Time) string {
	if !p.Adopted.IsZero() && created.Before(p.Adopted) {
		return legacyIDPrefix + p.ID + ":" + id
	}
	return urnUUID(uuid5(p.feedUUID(), id))
}

// uuid5 is the name-based UUID of name in namespace ns (RFC 9562, 5.5).
func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func urnUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return "urn:uuid:" + string(b[:])
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
