package page

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// handler serves every response from memory: a generation holds the view of
// one version of the status, and each response of that version, in each
// language, is rendered and compressed once, the first time it is asked for.
type handler struct {
	opts      Options
	cat       *catalog
	tmpl      *template.Template
	langs     []string
	endpoints []endpoint
	css       *entry
	cssPath   string

	mu  sync.Mutex // one generation is built at a time
	gen atomic.Pointer[generation]
	// failed is when the Source last failed to read a newer status, zero
	// since it last read one; guarded by mu. Until readRetry has passed,
	// no request asks again: a page under every customer's refresh must
	// not turn each into a call to a database that does not answer.
	failed time.Time
}

type endpoint struct {
	path, contentType, cacheControl string
	cors                            bool
	render                          func(*view, *locale) ([]byte, error)
}

type generation struct {
	version uint64
	expires time.Time
	// staleSince is the view's: when the Source was last checked if that
	// is longer ago than StaleAfter, else zero. A generation that no longer
	// says the truth of it is built again, status changed or not.
	staleSince time.Time
	view       *view
	mu         sync.Mutex // one response is rendered at a time
	entries    []atomic.Pointer[entry]
	// prev is the generation this one replaced: its responses are served
	// while this one's are rendered, for no reader to wait on a render.
	prev atomic.Pointer[generation]
}

// entry is one response, ready to write: its body plain and gzipped, and
// its headers.
type entry struct {
	body, gz         []byte
	etag, etagGz     string
	header, headerGz http.Header
}

func newEntry(ep endpoint, body []byte) (*entry, error) {
	var zb bytes.Buffer
	zw, err := gzip.NewWriterLevel(&zb, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	e := &entry{body: body, gz: zb.Bytes(), etag: tag, etagGz: tag[:len(tag)-1] + `-gz"`}
	e.header = ep.headers(e.etag, len(e.body))
	e.headerGz = ep.headers(e.etagGz, len(e.gz))
	e.headerGz["Content-Encoding"] = []string{"gzip"}
	return e, nil
}

func (ep endpoint) headers(etag string, length int) http.Header {
	h := http.Header{
		"Content-Type":            {ep.contentType},
		"Content-Length":          {strconv.Itoa(length)},
		"Etag":                    {etag},
		"Cache-Control":           {ep.cacheControl},
		"Vary":                    {"Accept-Encoding, Accept-Language"},
		"Content-Security-Policy": {"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
		"X-Content-Type-Options":  {"nosniff"},
		"X-Frame-Options":         {"DENY"},
		"Referrer-Policy":         {"no-referrer"},
	}
	if ep.cors {
		// Widgets on other sites read the JSON, as they read Statuspage's.
		h["Access-Control-Allow-Origin"] = []string{"*"}
	}
	return h
}

// readRetry is how long after a failed read of a newer status the page
// serves the previous one without asking again.
const readRetry = 2 * time.Second

// current returns the generation of the status as it is now, building it
// when the status changed, the Source's copy went stale or came back, or
// the last one expired. While one request builds, the others keep serving
// the previous generation.
//
// Once a generation exists, current never fails: a Source that cannot
// read its status gets the previous generation's served, and built again
// from the same status when only its staleness changed. The one error is
// that of the first read, which the daemon does before it serves.
func (h *handler) current(ctx context.Context) (*generation, error) {
	now := h.opts.Now()
	g := h.gen.Load()
	if g.fresh(h.opts.Source.Version(), now, h.staleSince(now)) {
		return g, nil
	}
	if g == nil {
		h.mu.Lock()
	} else if !h.mu.TryLock() {
		return g, nil
	}
	defer h.mu.Unlock()
	if g = h.gen.Load(); g.fresh(h.opts.Source.Version(), now, h.staleSince(now)) {
		return g, nil
	}
	if g != nil && now.Sub(h.failed) < readRetry && g.staleSince.Equal(h.staleSince(now)) {
		return g, nil
	}
	// A client that hangs up must not fail the build for everyone else.
	ctx = context.WithoutCancel(ctx)
	st, err := h.opts.Source.Status(ctx)
	// After the read, which may have checked the copy.
	since := h.staleSince(now)
	if err != nil {
		if g == nil {
			return nil, fmt.Errorf("read status: %w", err)
		}
		if h.failed.IsZero() {
			h.opts.Logger.Error("status page: read status; serving the previous one until a read works, quietly", "err", err)
		}
		h.failed = now
		if g.staleSince.Equal(since) {
			return g, nil
		}
		st = g.view.status
	} else if !h.failed.IsZero() {
		h.opts.Logger.Info("status page: read status again")
		h.failed = time.Time{}
	}
	history := map[string][]Day{}
	if h.opts.History != nil {
		for _, c := range st.Components {
			if !c.Showcase {
				continue
			}
			days, err := h.opts.History.Daily(ctx, c.ID, Days)
			if err != nil {
				h.opts.Logger.Error("status page: read uptime history", "component", c.ID, "err", err)
				continue
			}
			history[c.ID] = days
		}
	}
	v := newView(h.opts.Page, now, st, history)
	v.staleSince = since
	ng := &generation{
		version:    st.Version,
		expires:    now.Add(h.opts.MaxAge),
		staleSince: since,
		view:       v,
		entries:    make([]atomic.Pointer[entry], len(h.endpoints)*len(h.langs)),
	}
	if g != nil {
		ng.prev.Store(g)
		g.prev.Store(nil) // keep one generation back, not the whole chain
	}
	h.gen.Store(ng)
	return ng, nil
}

func (g *generation) fresh(version uint64, now, staleSince time.Time) bool {
	return g != nil && g.version == version && now.Before(g.expires) && g.staleSince.Equal(staleSince)
}

// staleSince is when the Source last knew its status current, if that is
// longer ago than StaleAfter; else, and for a Source always current, zero.
func (h *handler) staleSince(now time.Time) time.Time {
	checked := h.opts.Source.Checked()
	if checked.IsZero() || now.Sub(checked) <= h.opts.StaleAfter {
		return time.Time{}
	}
	return checked
}

// entry returns endpoint ep in language lang, rendering it on first use.
func (h *handler) entry(g *generation, ep, lang int) (*entry, error) {
	slot := &g.entries[ep*len(h.langs)+lang]
	if e := slot.Load(); e != nil {
		return e, nil
	}
	if !g.mu.TryLock() {
		if p := g.prev.Load(); p != nil {
			if e := p.entries[ep*len(h.langs)+lang].Load(); e != nil {
				return e, nil
			}
		}
		g.mu.Lock()
	}
	defer g.mu.Unlock()
	if e := slot.Load(); e != nil {
		return e, nil
	}
	body, err := h.endpoints[ep].render(g.view, h.cat.locale(h.langs[lang]))
	if err != nil {
		return nil, fmt.Errorf("render %s in %s: %w", h.endpoints[ep].path, h.langs[lang], err)
	}
	e, err := newEntry(h.endpoints[ep], body)
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", h.endpoints[ep].path, err)
	}
	slot.Store(e)
	return e, nil
}

// serve answers with endpoint ep.
func (h *handler) serve(ep int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g, err := h.current(r.Context())
		if err != nil {
			h.opts.Logger.Error("status page", "path", r.URL.Path, "err", err)
			http.Error(w, "The status page is unavailable for a moment; please try again.", http.StatusServiceUnavailable)
			return
		}
		code := h.cat.negotiate(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"), h.opts.Page.Language)
		lang := 0
		for i, c := range h.langs {
			if c == code {
				lang = i
			}
		}
		e, err := h.entry(g, ep, lang)
		if err != nil {
			h.opts.Logger.Error("status page", "path", r.URL.Path, "err", err)
			http.Error(w, "The status page is unavailable for a moment; please try again.", http.StatusServiceUnavailable)
			return
		}
		writeEntry(w, r, e)
	}
}

func writeEntry(w http.ResponseWriter, r *http.Request, e *entry) {
	header, body := e.header, e.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		header, body = e.headerGz, e.gz
	}
	dst := w.Header()
	for k, v := range header {
		dst[k] = v
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, e.etag, e.etagGz) {
		delete(dst, "Content-Length")
		delete(dst, "Content-Type")
		delete(dst, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
