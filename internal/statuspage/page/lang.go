package page

import (
	"strconv"
	"strings"
)

// negotiate picks the page's language: ?lang= when we have it, else the
// browser's preferred language among ours (RFC 9110 Accept-Language, by
// primary subtag: fr-CH is French), else def.
func (c *catalog) negotiate(query, accept, def string) string {
	if c.locales[query] != nil {
		return query
	}
	best, bestQ := def, 0.0
	for part := range strings.SplitSeq(accept, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		code := primary
		if primary == "*" {
			code = def
		}
		if c.locales[code] != nil && q > bestQ {
			best, bestQ = code, q
		}
	}
	return best
}

// acceptsGzip reports whether Accept-Encoding allows gzip.
func acceptsGzip(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err != nil || f == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// matchesETag reports whether an If-None-Match header names one of tags.
func matchesETag(header string, tags ...string) bool {
	for part := range strings.SplitSeq(header, ",") {
		t := strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if t == "*" {
			return true
		}
		for _, tag := range tags {
			if t == tag {
				return true
			}
		}
	}
	return false
}
