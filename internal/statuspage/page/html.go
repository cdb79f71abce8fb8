package page

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/style.css
var styleCSS []byte

func parseTemplates() (*template.Template, error) {
	t, err := template.New("").Option("missingkey=error").ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	return t, nil
}

type pageData struct {
	L                        *locale
	Page                     Page
	Title, Brand, CSS        string
	Langs                    []langLink
	Indicator, IndicatorText string
	Updated                  string
	// Stale says since when the page could not read the status, when
	// that is long enough to warn of; empty otherwise.
	Stale            string
	Incidents        []eventView
	Active, Upcoming []eventView
	Groups           []groupView
	History          []eventView
}

type langLink struct {
	Code, Name string
	Current    bool
}

type eventView struct {
	ID, Kind, Name, Status string
	Window, Affects        string
	Latest                 string
	Updates                []updateView
}

type updateView struct{ Status, When, ISO, Body string }

type groupView struct {
	Name, Status, StatusText string
	Components               []componentView
}

type componentView struct {
	ID, Name, Description, Status, StatusText string
	Showcase                                  bool
	Bars                                      []barView
	Uptime, Summary                           string
}

type barView struct{ Class, Title string }

// html renders the page of one view in one language.
type html struct {
	v     *view
	l     *locale
	cat   *catalog
	css   string
	tmpl  *template.Template
	langs []string
}

func (h html) render() ([]byte, error) {
	v, l := h.v, h.l
	d := pageData{
		L: l, Page: v.page, CSS: h.css,
		Title:         pageTitle(l, v.page),
		Brand:         pageName(l, v.page),
		Indicator:     v.indicate,
		IndicatorText: l.T("indicator." + v.indicate),
		Updated:       l.Tf("updated", l.DateTime(h.local(v.status.UpdatedAt))),
	}
	if !v.staleSince.IsZero() {
		d.Stale = l.Tf("stale", l.DateTime(h.local(v.staleSince)))
	}
	for _, code := range h.langs {
		d.Langs = append(d.Langs, langLink{Code: code, Name: fleet.LanguageName(code), Current: code == l.Code})
	}
	for _, in := range v.unresolved {
		d.Incidents = append(d.Incidents, h.incident(in))
	}
	for _, m := range v.active {
		d.Active = append(d.Active, h.maintenance(m))
	}
	for _, m := range v.upcoming {
		d.Upcoming = append(d.Upcoming, h.maintenance(m))
	}
	d.Groups = h.groups()
	d.History = h.history()
	var b bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&b, "page", d); err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	return b.Bytes(), nil
}

func (h html) local(t time.Time) time.Time { return t.In(h.v.page.TimeZone) }

func (h html) affects(ids []string) string {
	var names []string
	for _, id := range ids {
		if c := h.v.byID[id]; c != nil {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return h.l.T("affects") + ": " + h.l.List(names)
}

func (h html) updates(us []fleet.StatusUpdate) []updateView {
	out := make([]updateView, 0, len(us))
	for i := len(us) - 1; i >= 0; i-- {
		u := us[i]
		at := u.DisplayAt
		if at.IsZero() {
			at = u.CreatedAt
		}
		out = append(out, updateView{
			Status: statusName(h.l, u.Status), When: h.l.DateTime(h.local(at)),
			ISO: at.UTC().Format(time.RFC3339), Body: h.l.Name(u.Body),
		})
	}
	return out
}

func (h html) incident(in fleet.Incident) eventView {
	return eventView{
		ID: in.ID, Kind: "incident", Name: h.l.Name(in.Name),
		Status:  h.l.T("incident."+string(in.Status)) + " · " + h.l.T("impact."+string(in.Impact)),
		Affects: h.affects(in.Components), Updates: h.updates(in.Updates),
	}
}

func (h html) maintenance(m fleet.Maintenance) eventView {
	return eventView{
		ID: m.ID, Kind: "maintenance", Name: h.l.Name(m.Name),
		Status:  h.l.T("maintenance." + string(m.Status)),
		Window:  h.l.Tf("window", h.l.DateTime(h.local(m.ScheduledFor)), h.l.DateTime(h.local(m.ScheduledUntil))),
		Affects: h.affects(m.Components), Updates: h.updates(m.Updates),
	}
}

// history is the resolved incidents and completed maintenances, newest
// first.
func (h html) history() []eventView {
	type past struct {
		at time.Time
		ev eventView
	}
	var all []past
	for _, in := range h.v.incidents {
		if in.Status == fleet.Resolved {
			all = append(all, past{in.CreatedAt, h.incident(in)})
		}
	}
	for _, m := range h.v.maintenance {
		if m.Status == fleet.MaintenanceCompleted {
			all = append(all, past{m.ScheduledFor, h.maintenance(m)})
		}
	}
	sortDesc(all, func(p past) time.Time { return p.at })
	out := make([]eventView, 0, len(all))
	for _, p := range all[:min(len(all), listLimit)] {
		ev := p.ev
		if len(ev.Updates) > 0 {
			ev.Latest = h.l.Date(h.local(p.at))
		}
		out = append(out, ev)
	}
	return out
}

func (h html) groups() []groupView {
	var out []groupView
	// Components without a group come first, as on Statuspage.
	loose := groupView{}
	for i := range h.v.comps {
		if h.v.groupOf[h.v.comps[i].Group] == nil {
			h.add(&loose, &h.v.comps[i])
		}
	}
	if len(loose.Components) > 0 {
		out = append(out, loose)
	}
	for _, g := range h.v.groups {
		st := h.v.groupStatus(g.ID)
		gv := groupView{Name: g.Name, Status: string(st), StatusText: h.l.T("component." + string(st))}
		for i := range h.v.comps {
			if h.v.comps[i].Group == g.ID {
				h.add(&gv, &h.v.comps[i])
			}
		}
		if len(gv.Components) > 0 {
			out = append(out, gv)
		}
	}
	return out
}

func (h html) add(g *groupView, c *fleet.Component) {
	st := h.v.derived[c.ID]
	if c.OnlyShowIfDegraded && st == fleet.Operational {
		return
	}
	cv := componentView{
		ID: c.ID, Name: c.Name, Description: c.Description,
		Status: string(st), StatusText: h.l.T("component." + string(st)), Showcase: c.Showcase,
	}
	if c.Showcase {
		h.uptime(&cv, h.v.history[c.ID])
	}
	g.Components = append(g.Components, cv)
}

// uptime fills in the bars and, for those who cannot see them, a summary
// naming the days with trouble.
func (h html) uptime(cv *componentView, days []Day) {
	l := h.l
	var sum float64
	var known int
	var bad []string
	// Pad the front so that there are always Days bars, today last.
	for range Days - min(len(days), Days) {
		cv.Bars = append(cv.Bars, barView{Class: "nd"})
	}
	for _, d := range days[max(0, len(days)-Days):] {
		date := l.Date(d.Date.In(h.v.page.TimeZone))
		if d.NoData {
			cv.Bars = append(cv.Bars, barView{Class: "nd", Title: l.Tf("uptime.day.nodata", date)})
			continue
		}
		known++
		sum += d.Availability
		pct := l.Percent(d.Availability)
		cv.Bars = append(cv.Bars, barView{Class: barClass(d.Availability), Title: l.Tf("uptime.day", date, pct)})
		if d.Availability < goodDay {
			bad = append(bad, date+" ("+pct+")")
		}
	}
	if known == 0 {
		cv.Uptime = l.T("uptime.nodata")
		cv.Summary = cv.Uptime
		return
	}
	cv.Uptime = l.Percent(sum / float64(known))
	s := []string{l.Tf("uptime.summary", cv.Uptime)}
	if len(bad) > 0 {
		s = append(s, l.Tf("uptime.bad", strings.Join(bad, ", ")))
	} else {
		s = append(s, l.T("uptime.good"))
	}
	cv.Summary = strings.Join(s, " ")
}

// goodDay is the availability below which a day counts as disrupted: 99.9%
// leaves about a minute and a half of trouble.
const goodDay = 0.999

func barClass(a float64) string {
	switch {
	case a >= goodDay:
		return "ok"
	case a >= 0.99:
		return "minor"
	case a >= 0.95:
		return "major"
	}
	return "crit"
}

const cssPath = "/static/style.css"

func (h *handler) renderHTML(v *view, l *locale) ([]byte, error) {
	return html{v: v, l: l, cat: h.cat, css: h.cssPath, tmpl: h.tmpl, langs: h.langs}.render()
}

// pageName is the page's name: the operator's, or "Service status" in the
// reader's language for a page they did not name. The JSON's page name and
// the feed's author say it; pageTitle too, for an unnamed page, rather than
// "Service status status".
func pageName(l *locale, p Page) string {
	if p.Name == "" {
		return l.T("page.unnamed")
	}
	return p.Name
}

// pageTitle is the title of the HTML page and of the feed: "Example Hosting
// status", or the name of a page the operator did not name.
func pageTitle(l *locale, p Page) string {
	if p.Name == "" {
		return pageName(l, p)
	}
	return l.Tf("page.title", p.Name)
}
