package dashboard

import (
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/store"
)

// lastEvents is how many of a rollout's events its page shows.
const lastEvents = 30

// maxEventPages bounds the reading of a long rollout's events to find its
// last ones.
const maxEventPages = 50

// hostStates orders a rollout's hosts on its page: those that need eyes
// first.
var hostStates = []string{"failed", "stuck", "rolling_back", "running", "pending", "rolled_back", "done"}

func (d *Dashboard) rollouts(w http.ResponseWriter, r *http.Request, s *session) {
	var list api.Rollouts
	if err := d.call(r, s, http.MethodGet, api.Prefix+"/rollouts?limit=50", nil, &list); err != nil {
		d.apiFailed(w, r, s, err)
		return
	}
	d.render(w, r, http.StatusOK, "rollouts", s, map[string]any{"Rollouts": list.Rollouts})
}

// hostGroup is the hosts of a rollout in one state.
type hostGroup struct {
	State string
	Hosts []api.RolloutHost
}

func (d *Dashboard) rollout(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var ro api.Rollout
	if err := d.call(r, s, http.MethodGet, rolloutPath(id), nil, &ro); err != nil {
		d.apiFailed(w, r, s, err)
		return
	}
	events, err := d.lastEvents(r, s, id)
	if err != nil {
		d.apiFailed(w, r, s, err)
		return
	}
	var groups []hostGroup
	for _, state := range hostStates {
		g := hostGroup{State: state}
		for _, h := range ro.Hosts {
			if h.State == state {
				g.Hosts = append(g.Hosts, h)
			}
		}
		if len(g.Hosts) > 0 {
			groups = append(groups, g)
		}
	}
	var after int64
	if len(events) > 0 {
		after = events[len(events)-1].ID
	}
	slices.Reverse(events) // the newest first
	ended := fleet.RolloutState(ro.State).Ended()
	d.render(w, r, http.StatusOK, "rollout", s, map[string]any{
		"Rollout": ro, "Groups": groups, "Events": events, "Ended": ended, "After": after,
		"CanPause": ro.State == string(fleet.RolloutRunning), "CanResume": ro.State == string(fleet.RolloutPaused),
		"CanAbort": ro.State == string(fleet.RolloutRunning) || ro.State == string(fleet.RolloutPaused),
		"ETA":      eta(ro),
	})
}

// eta says when a rollout that has not ended should finish, or that it
// cannot as things stand.
func eta(ro api.Rollout) string {
	if fleet.RolloutState(ro.State).Ended() {
		return ""
	}
	if !ro.Finishes {
		return "It cannot finish as the fleet stands: see why the hosts wait."
	}
	left := time.Duration(ro.ETASeconds * float64(time.Second)).Round(time.Second)
	perHost := time.Duration(ro.PerHostSeconds * float64(time.Second)).Round(time.Second)
	if ro.PerHostGuessed {
		return fmt.Sprintf("About %s left (%s per host, guessed from the plan's steps until a host is done).", left, perHost)
	}
	return fmt.Sprintf("About %s left (%s per host).", left, perHost)
}

// lastEvents reads a rollout's events, oldest first, and keeps the last.
func (d *Dashboard) lastEvents(r *http.Request, s *session, id string) ([]api.Event, error) {
	var all []api.Event
	var after int64
	for range maxEventPages {
		var page api.Events
		path := fmt.Sprintf("%s/events?limit=%d&after=%d", rolloutPath(id), store.MaxEventLimit, after)
		if err := d.call(r, s, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if len(all) > lastEvents {
			all = all[len(all)-lastEvents:]
		}
		if len(page.Events) < store.MaxEventLimit {
			break
		}
		after = page.Events[len(page.Events)-1].ID
	}
	return all, nil
}

func rolloutPath(id string) string { return api.Prefix + "/rollouts/" + url.PathEscape(id) }

// rolloutEvents streams a rollout's events to the page's script, through
// the API's stream: the browser's EventSource cannot send a bearer token.
func (d *Dashboard) rolloutEvents(w http.ResponseWriter, r *http.Request, s *session) {
	path := rolloutPath(r.PathValue("id")) + "/events"
	if after := r.URL.Query().Get("after"); after != "" {
		path += "?after=" + url.QueryEscape(after)
	}
	req, err := d.apiRequest(r, s, http.MethodGet, path, nil)
	if err != nil {
		d.fail(w, r, s, http.StatusInternalServerError, "The event stream could not start.")
		return
	}
	req.Header.Set("Accept", "text/event-stream")
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	d.api.ServeHTTP(&unnamed{w: w}, req)
}

var orders = []string{"pause", "resume", "abort"}

func (d *Dashboard) orderRollout(w http.ResponseWriter, r *http.Request, s *session) {
	id, order := r.PathValue("id"), r.PathValue("order")
	if !slices.Contains(orders, order) {
		d.fail(w, r, s, http.StatusNotFound, "A rollout can be paused, resumed or aborted, nothing else.")
		return
	}
	if err := d.call(r, s, http.MethodPost, rolloutPath(id)+"/"+order, nil, nil); err != nil {
		d.apiFailed(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/dashboard/rollouts/"+url.PathEscape(id), http.StatusSeeOther)
}

// apiFailed shows why the API refused; a token revoked or an account
// removed or disabled since the login ends the session.
func (d *Dashboard) apiFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	kind := fleet.KindOf(err)
	if kind == fleet.KindUnauthorized {
		d.log.Info("dashboard session ended", "reason", err.Error())
		d.endSession(w, r)
		http.Redirect(w, r, "/dashboard/login?expired=1", http.StatusSeeOther)
		return
	}
	msg := err.Error()
	if kind == fleet.KindInternal {
		d.log.Error("dashboard", "path", r.URL.Path, "err", err)
		msg = "Something went wrong inside the daemon; its log says what."
	}
	d.fail(w, r, s, httpjson.Status(kind), msg)
}

func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	d.render(w, r, status, "error", s, map[string]any{"Message": msg, "Status": status, "StatusText": http.StatusText(status)})
}

// render writes a page; data gets the session's name, role and CSRF
// token for the layout and the forms.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, s *session, data map[string]any) {
	if s != nil {
		p := s.principal
		data["Session"] = map[string]any{"Name": p.Name, "Kind": string(p.Kind), "Role": string(p.Role), "CSRF": s.csrf, "CanAct": s.canAct()}
	}
	var buf strings.Builder
	if err := d.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		d.log.Error("dashboard: render", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "The page could not be shown; the daemon's log says why.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

var funcs = template.FuncMap{
	"text": func(t fleet.Text) string { return t.In("en", "en") },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	// at and atp show a time in its own zone, which the status editor
	// puts its times in; its abbreviation tells the two 02:30 of an
	// autumn night apart.
	"at": func(t time.Time) string { return t.Format("2006-01-02 15:04 MST") },
	"atp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format("2006-01-02 15:04 MST")
	},
	"words":    func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"has":      slices.Contains[[]string],
	"dashpath": url.PathEscape,
	// langs lists the languages a text is written in.
	"langs": func(t fleet.Text) string { return strings.Join(slices.Sorted(maps.Keys(t)), ", ") },
	// dict hands a sub-template several values.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: %d arguments, not pairs", len(kv))
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// parsePages builds each page on the layout.
func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "account", "rollouts", "rollout", "budget", "status", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
