package labels

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MatchOp is how a matcher compares a label with its value.
type MatchOp string

const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher selects by one label, as Alertmanager's matchers do: a
// missing label is the empty string, and a regular expression must match
// the whole value.
type Matcher struct {
	Name  string
	Op    MatchOp
	Value string
	re    *regexp.Regexp
}

// ParseMatcher reads `name=value`, `name!=value`, `name=~regex` or
// `name!~regex`; the value may be double-quoted.
func ParseMatcher(s string) (Matcher, error) {
	rest := strings.TrimSpace(s)
	end := 0
	for end < len(rest) && isNameByte(rest[end], end == 0) {
		end++
	}
	if end == 0 {
		return Matcher{}, fmt.Errorf("matcher %q: expected a label name first", s)
	}
	m := Matcher{Name: rest[:end]}
	rest = strings.TrimLeft(rest[end:], " ")
	for _, op := range []MatchOp{MatchRegexp, MatchNotRegexp, MatchNotEqual, MatchEqual} {
		if strings.HasPrefix(rest, string(op)) {
			m.Op = op
			rest = strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if m.Op == "" {
		return Matcher{}, fmt.Errorf("matcher %q: expected one of = != =~ !~ after %q", s, m.Name)
	}
	if strings.HasPrefix(rest, `"`) {
		v, err := strconv.Unquote(rest)
		if err != nil {
			return Matcher{}, fmt.Errorf("matcher %q: the quoted value does not end with its quote, or has a bad escape", s)
		}
		rest = v
	}
	m.Value = rest
	if m.Op == MatchRegexp || m.Op == MatchNotRegexp {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return Matcher{}, fmt.Errorf("matcher %q: %w", s, err)
		}
		m.re = re
	}
	return m, nil
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// UnmarshalText reads a matcher from a config file.
func (m *Matcher) UnmarshalText(b []byte) error {
	v, err := ParseMatcher(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Matches reports whether l has the label as the matcher asks.
func (m *Matcher) Matches(l Set) bool {
	v := l[m.Name]
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re.MatchString(v)
	case MatchNotRegexp:
		return !m.re.MatchString(v)
	}
	return false
}

func (m Matcher) String() string { return m.Name + string(m.Op) + strconv.Quote(m.Value) }

// Matchers match labels when every one of them does: a route's, a
// silence's, or a plan's pause_on_alerts.
type Matchers []Matcher

// ParseMatchers reads matchers as ParseMatcher reads one.
func ParseMatchers(ss []string) (Matchers, error) {
	out := make(Matchers, 0, len(ss))
	for _, s := range ss {
		m, err := ParseMatcher(s)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Match reports whether every matcher matches l.
func (ms Matchers) Match(l Set) bool {
	for i := range ms {
		if !ms[i].Matches(l) {
			return false
		}
	}
	return true
}
