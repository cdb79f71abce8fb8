package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Subject is what a condition looks at: one of the bracketed placeholders.
type Subject string

const (
	SubjectStatus       Subject = "STATUS"
	SubjectResponseTime Subject = "RESPONSE_TIME"
	SubjectBody         Subject = "BODY"
	SubjectCertificate  Subject = "CERTIFICATE_EXPIRATION"
	SubjectConnected    Subject = "CONNECTED"
	SubjectBootID       Subject = "BOOT_ID"
	SubjectExitCode     Subject = "EXIT_CODE"
	SubjectStdout       Subject = "STDOUT"
)

// subjectKinds says which probe kinds observe each subject, so a definition
// can be refused at load time rather than fail forever at run time.
var subjectKinds = map[Subject][]Kind{
	SubjectStatus:       {KindHTTP},
	SubjectResponseTime: {KindHTTP, KindTCP, KindSSH, KindCommand},
	SubjectBody:         {KindHTTP},
	SubjectCertificate:  {KindHTTP},
	SubjectConnected:    {KindHTTP, KindTCP, KindSSH, KindCommand},
	SubjectBootID:       {KindSSH},
	SubjectExitCode:     {KindCommand},
	SubjectStdout:       {KindCommand},
}

// valueType is the type a subject holds, which decides the literals and
// operators it accepts.
type valueType int

const (
	typeNumber   valueType = iota // a plain number
	typeDuration                  // milliseconds when written as a bare number
	typeString
	typeBool
	typeJSON // a value found in the body by a JSON path: known only at run time
)

func (s Subject) valueType() valueType {
	switch s {
	case SubjectStatus, SubjectExitCode:
		return typeNumber
	case SubjectResponseTime, SubjectCertificate:
		return typeDuration
	case SubjectConnected:
		return typeBool
	}
	return typeString
}

// Op is a comparison operator.
type Op string

const (
	OpEq Op = "=="
	OpNe Op = "!="
	OpLt Op = "<"
	OpLe Op = "<="
	OpGt Op = ">"
	OpGe Op = ">="
)

// ops is ordered so that two-character operators are tried first.
var ops = []Op{OpEq, OpNe, OpLe, OpGe, OpLt, OpGt}

// PathStep is one step of a JSON path into the body: a key, or an index
// into an array when Key is empty.
type PathStep struct {
	Key   string
	Index int
}

// literal is the right-hand side of a condition.
type literal struct {
	kind     valueType // typeNumber, typeDuration, typeString or typeBool
	num      float64
	dur      time.Duration
	str      string
	boolean  bool
	pattern  bool // pat(...): str is a glob
	durGiven bool // written as a duration (48h) rather than a number
}

// Condition is one parsed condition, such as `[STATUS] == 200`.
type Condition struct {
	Subject Subject
	// Path is the JSON path after [BODY], empty for the body as text.
	Path  []PathStep
	Op    Op
	value literal
	// source is the text it was parsed from, shown when it fails.
	source string
}

// SyntaxError is a condition that cannot be parsed. Col is 1-based, within
// the condition's text; the caller knows the file and line.
type SyntaxError struct {
	Col int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// ParseCondition parses one condition: a placeholder, an operator and a
// value (docs/probes.md).
func ParseCondition(s string) (Condition, error) {
	p := &parser{src: s}
	c, err := p.condition()
	if err != nil {
		return Condition{}, err
	}
	c.source = strings.TrimSpace(s)
	return c, nil
}

// String is the condition as written.
func (c Condition) String() string { return c.source }

type parser struct {
	src string
	pos int // byte offset
}

func (p *parser) errorf(at int, format string, args ...any) error {
	// Columns count characters, not bytes, for an editor to land on them.
	return &SyntaxError{Col: len([]rune(p.src[:min(at, len(p.src))])) + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) condition() (Condition, error) {
	var c Condition
	p.space()
	if p.pos >= len(p.src) {
		return c, p.errorf(p.pos, "empty condition: expected a placeholder like [STATUS]")
	}
	if p.src[p.pos] != '[' {
		return c, p.errorf(p.pos, "expected a placeholder like [STATUS] at the start")
	}
	start := p.pos
	end := strings.IndexByte(p.src[p.pos:], ']')
	if end < 0 {
		return c, p.errorf(p.pos, "placeholder is not closed with ]")
	}
	name := p.src[p.pos+1 : p.pos+end]
	c.Subject = Subject(name)
	if _, ok := subjectKinds[c.Subject]; !ok {
		return c, p.errorf(start, "unknown placeholder [%s]%s", name, suggestSubject(name))
	}
	p.pos += end + 1
	if c.Subject == SubjectBody {
		path, err := p.path()
		if err != nil {
			return c, err
		}
		c.Path = path
	}
	p.space()
	opAt := p.pos
	for _, op := range ops {
		if strings.HasPrefix(p.src[p.pos:], string(op)) {
			c.Op = op
			p.pos += len(op)
			break
		}
	}
	if c.Op == "" {
		if p.pos >= len(p.src) {
			return c, p.errorf(p.pos, "expected an operator (== != < <= > >=) after [%s]", name)
		}
		return c, p.errorf(opAt, "expected an operator (== != < <= > >=), found %q", p.word())
	}
	p.space()
	valAt := p.pos
	v, err := p.literal()
	if err != nil {
		return c, err
	}
	c.value = v
	p.space()
	if p.pos < len(p.src) {
		return c, p.errorf(p.pos, "unexpected %q after the value", p.src[p.pos:])
	}
	return c, check(&c, p, opAt, valAt)
}

// word is the text from the position to the next space, for messages.
func (p *parser) word() string {
	rest := p.src[p.pos:]
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func (p *parser) path() ([]PathStep, error) {
	var steps []PathStep
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '.':
			p.pos++
			start := p.pos
			for p.pos < len(p.src) && isKeyByte(p.src[p.pos]) {
				p.pos++
			}
			if p.pos == start {
				return nil, p.errorf(start, "expected a key after . in the JSON path")
			}
			steps = append(steps, PathStep{Key: p.src[start:p.pos]})
		case '[':
			start := p.pos
			end := strings.IndexByte(p.src[p.pos:], ']')
			if end < 0 {
				return nil, p.errorf(start, "index is not closed with ]")
			}
			n, err := strconv.Atoi(p.src[p.pos+1 : p.pos+end])
			if err != nil || n < 0 || n > 1<<20 {
				return nil, p.errorf(start+1, "expected an array index (0, 1, …), found %q", p.src[p.pos+1:p.pos+end])
			}
			steps = append(steps, PathStep{Index: n})
			p.pos += end + 1
		default:
			return steps, nil
		}
	}
	return steps, nil
}

func isKeyByte(b byte) bool {
	return b == '_' || b == '-' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func (p *parser) literal() (literal, error) {
	rest := p.src[p.pos:]
	start := p.pos
	switch {
	case rest == "":
		return literal{}, p.errorf(p.pos, "expected a value after the operator")
	case rest[0] == '"':
		s, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return literal{}, p.errorf(start, "string is not closed with \" (or holds a bad escape)")
		}
		p.pos += len(s)
		u, _ := strconv.Unquote(s) // QuotedPrefix has validated it
		return literal{kind: typeString, str: u}, nil
	case strings.HasPrefix(rest, "pat("):
		end := strings.LastIndexByte(rest, ')')
		if end < 0 {
			return literal{}, p.errorf(start, "pat( is not closed with )")
		}
		glob := rest[len("pat("):end]
		if _, err := path.Match(glob, ""); err != nil {
			return literal{}, p.errorf(start+len("pat("), "bad pattern %q: %v", glob, err)
		}
		p.pos += end + 1
		return literal{kind: typeString, str: glob, pattern: true}, nil
	}
	w := p.word()
	p.pos += len(w)
	switch w {
	case "true", "false":
		return literal{kind: typeBool, boolean: w == "true"}, nil
	}
	if f, err := strconv.ParseFloat(w, 64); err == nil && !strings.ContainsAny(w, "xXpPnNiI_") {
		return literal{kind: typeNumber, num: f}, nil
	}
	if d, err := time.ParseDuration(w); err == nil {
		return literal{kind: typeDuration, dur: d, durGiven: true}, nil
	}
	if days, ok := strings.CutSuffix(w, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n < 100000 {
			return literal{kind: typeDuration, dur: time.Duration(n) * 24 * time.Hour, durGiven: true}, nil
		}
	}
	return literal{}, p.errorf(start, "expected a number, a duration (300ms, 48h, 7d), a quoted string, true, false or pat(…), found %q", w)
}

// check refuses a value or operator that does not fit the subject.
func check(c *Condition, p *parser, opAt, valAt int) error {
	v := &c.value
	want := c.Subject.valueType()
	if c.Subject == SubjectBody && len(c.Path) > 0 {
		want = typeJSON
	}
	ordered := c.Op != OpEq && c.Op != OpNe
	switch want {
	case typeNumber:
		if v.kind != typeNumber {
			return p.errorf(valAt, "[%s] is a number; compare it with a number", c.Subject)
		}
	case typeDuration:
		switch v.kind {
		case typeNumber:
			v.kind, v.dur = typeDuration, time.Duration(v.num*float64(time.Millisecond))
		case typeDuration:
		default:
			return p.errorf(valAt, "[%s] is a duration; compare it with a duration (300ms, 48h) or a number of milliseconds", c.Subject)
		}
	case typeBool:
		if v.kind != typeBool {
			return p.errorf(valAt, "[%s] is true or false", c.Subject)
		}
		if ordered {
			return p.errorf(opAt, "[%s] is true or false: use == or !=", c.Subject)
		}
	case typeString:
		if v.kind != typeString {
			return p.errorf(valAt, "[%s] is text; compare it with a quoted string or pat(…)", c.Subject)
		}
		if ordered {
			return p.errorf(opAt, "[%s] is text: use == or !=", c.Subject)
		}
	case typeJSON:
		if v.kind == typeDuration {
			return p.errorf(valAt, "a JSON value is compared with a number, a quoted string, true, false or pat(…)")
		}
		if ordered && v.kind != typeNumber {
			return p.errorf(opAt, "%s compares numbers only", c.Op)
		}
	}
	return nil
}

func suggestSubject(name string) string {
	names := make([]string, 0, len(subjectKinds))
	for s := range subjectKinds {
		names = append(names, string(s))
	}
	upper := strings.ToUpper(name)
	for _, n := range names {
		if n == upper {
			return fmt.Sprintf(" (did you mean [%s]?)", n)
		}
	}
	if g := closestName(name, names); g != "" {
		return fmt.Sprintf(" (did you mean [%s]?)", g)
	}
	return ""
}

// Eval reports whether the observation meets the condition and, when it does
// not, what was seen instead.
func (c Condition) Eval(o *Observation) (bool, string) {
	if o.Err != nil && c.Subject != SubjectConnected && c.Subject != SubjectResponseTime {
		return false, fmt.Sprintf("%s: no answer (%v)", c.source, o.Err)
	}
	var ok bool
	var seen string
	switch c.Subject {
	case SubjectStatus:
		ok, seen = compareNum(float64(o.Status), c.Op, c.value.num), strconv.Itoa(o.Status)
	case SubjectExitCode:
		ok, seen = compareNum(float64(o.ExitCode), c.Op, c.value.num), strconv.Itoa(o.ExitCode)
	case SubjectResponseTime:
		ok, seen = compareNum(float64(o.Duration), c.Op, float64(c.value.dur)), o.Duration.Round(time.Millisecond).String()
	case SubjectCertificate:
		if o.CertExpiry.IsZero() {
			return false, c.source + ": no certificate (not https?)"
		}
		left := o.CertExpiry.Sub(o.Start)
		ok, seen = compareNum(float64(left), c.Op, float64(c.value.dur)), left.Round(time.Minute).String()
	case SubjectConnected:
		ok, seen = (o.Connected == c.value.boolean) == (c.Op == OpEq), strconv.FormatBool(o.Connected)
	case SubjectBootID:
		ok, seen = compareStr(o.BootID, c.Op, c.value), strconv.Quote(o.BootID)
	case SubjectStdout:
		ok, seen = compareStr(o.Stdout, c.Op, c.value), quoteShort(o.Stdout)
	case SubjectBody:
		if len(c.Path) == 0 {
			ok, seen = compareStr(string(o.Body), c.Op, c.value), quoteShort(string(o.Body))
			break
		}
		ok, seen = c.evalJSON(o.Body)
	}
	if ok {
		return true, ""
	}
	return false, c.source + " (saw " + seen + ")"
}

func (c Condition) evalJSON(body []byte) (bool, string) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return false, "a body that is not JSON"
	}
	for _, step := range c.Path {
		switch cur := v.(type) {
		case map[string]any:
			next, found := cur[step.Key]
			if step.Key == "" || !found {
				return false, "no " + pathString(c.Path)
			}
			v = next
		case []any:
			if step.Key != "" || step.Index >= len(cur) {
				return false, "no " + pathString(c.Path)
			}
			v = cur[step.Index]
		default:
			return false, "no " + pathString(c.Path)
		}
	}
	lit := c.value
	switch got := v.(type) {
	case json.Number:
		f, err := got.Float64()
		if lit.kind == typeNumber && err == nil {
			return compareNum(f, c.Op, lit.num), got.String()
		}
		if lit.kind == typeString {
			return compareStr(got.String(), c.Op, lit), got.String()
		}
		return false, got.String()
	case string:
		if lit.kind == typeString {
			return compareStr(got, c.Op, lit), strconv.Quote(got)
		}
		return false, strconv.Quote(got)
	case bool:
		if lit.kind == typeBool {
			return (got == lit.boolean) == (c.Op == OpEq), strconv.FormatBool(got)
		}
		return false, strconv.FormatBool(got)
	case nil:
		return false, "null"
	}
	return false, "an object or array"
}

func pathString(steps []PathStep) string {
	var b strings.Builder
	b.WriteString("[BODY]")
	for _, s := range steps {
		if s.Key != "" {
			b.WriteString("." + s.Key)
		} else {
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		}
	}
	return b.String()
}

func compareNum(a float64, op Op, b float64) bool {
	switch op {
	case OpEq:
		return a == b
	case OpNe:
		return a != b
	case OpLt:
		return a < b
	case OpLe:
		return a <= b
	case OpGt:
		return a > b
	case OpGe:
		return a >= b
	}
	return false
}

func compareStr(s string, op Op, lit literal) bool {
	eq := s == lit.str
	if lit.pattern {
		// A glob spans lines too: path.Match's * stops at /, so / is
		// swapped out on both sides first.
		eq, _ = path.Match(strings.ReplaceAll(lit.str, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	}
	return eq == (op == OpEq)
}

func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}
