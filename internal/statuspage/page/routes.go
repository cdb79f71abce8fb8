package page

import (
	"net/http"
)

// routes is every endpoint of the public page; all of them read only.
func (h *handler) routes() http.Handler {
	h.langs = h.cat.languages()
	const (
		pageCache = "public, max-age=10"
		jsonType  = "application/json; charset=utf-8"
	)
	json := func(doc func(v2) v2Doc) func(*view, *locale) ([]byte, error) {
		return func(v *view, l *locale) ([]byte, error) { return renderJSON(doc(v2{v: v, l: l})) }
	}
	h.endpoints = []endpoint{
		{path: "/{$}", contentType: "text/html; charset=utf-8", cacheControl: pageCache, render: h.renderHTML},
		{path: "/history.atom", contentType: "application/atom+xml; charset=utf-8", cacheControl: pageCache, cors: true, render: renderAtom},
		{path: "/api/v2/summary.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.summary)},
		{path: "/api/v2/status.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.statusDoc)},
		{path: "/api/v2/components.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.componentsDoc)},
		{path: "/api/v2/incidents.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.incidentsDoc)},
		{path: "/api/v2/incidents/unresolved.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.unresolvedDoc)},
		{path: "/api/v2/scheduled-maintenances.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.maintenanceDoc)},
		{path: "/api/v2/scheduled-maintenances/upcoming.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.upcomingDoc)},
		{path: "/api/v2/scheduled-maintenances/active.json", contentType: jsonType, cacheControl: pageCache, cors: true, render: json(v2.activeDoc)},
	}
	mux := http.NewServeMux()
	for i, ep := range h.endpoints {
		mux.Handle("GET "+ep.path, h.serve(i))
		if ep.cors {
			mux.HandleFunc("OPTIONS "+ep.path, preflight)
		}
	}
	mux.HandleFunc("GET "+cssPath, func(w http.ResponseWriter, r *http.Request) { writeEntry(w, r, h.css) })
	return mux
}

// preflight answers a browser's CORS preflight, for widgets on other sites
// that send a header beyond the simple ones (If-None-Match, to poll): any
// origin may read, and only read. The answer names no other method, and
// the page has no handler for one.
func preflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", readMethods)
	h.Set("Access-Control-Allow-Headers", "Accept, Accept-Language, Cache-Control, Content-Language, Content-Type, If-Modified-Since, If-None-Match")
	// Browsers cap it lower (Chromium at two hours); a day asks for the most.
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Allow", readMethods)
	w.WriteHeader(http.StatusNoContent)
}

const readMethods = "GET, HEAD, OPTIONS"
