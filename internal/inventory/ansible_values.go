package inventory

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// kind is the type Ansible gives a variable's value once read: the INI
// plugin evaluates values as Python literals, the YAML loader resolves
// plain scalars by YAML 1.1's rules (yes is true, 010 is 8).
type kind uint8

const (
	kindText kind = iota
	kindInt
	kindFloat
	kindBool
	kindNull
	kindList // a list, a tuple or a set
	kindMap
)

func (k kind) String() string {
	return [...]string{"text", "integer", "float", "boolean", "null", "list", "mapping"}[k]
}

// pyLiteral reads s as Python's ast.literal_eval does, which is how
// Ansible's INI plugin reads every value: numbers, strings in any of
// Python's quotes, True, False, None, lists, tuples, sets and dicts, with
// whitespace and a # comment after them. ok is false when s is not a
// literal (a bare word, a Jinja template, [2001:db8::1]): Ansible then
// keeps s itself as text. Complex numbers and \N{name} escapes are not
// read (Ansible cannot print the one, and illico does not carry Unicode's
// name table for the other); s stays text for them.
func pyLiteral(s string) (v value, ok bool) {
	toks, ok := pyTokens(strings.TrimLeft(s, " \t"))
	if !ok {
		return value{}, false
	}
	p := &pyParser{toks: toks}
	v, ok = p.exprList()
	if !ok || p.peek().kind != tokEnd {
		return value{}, false
	}
	return v, true
}

type tokKind uint8

const (
	tokEnd tokKind = iota
	tokString
	tokBytes
	tokInt
	tokFloat
	tokName
	tokOp
)

type pyToken struct {
	kind tokKind
	text string // the string's value, the number's digits, the name or the operator
}

var (
	pyHex     = regexp.MustCompile(`^0[xX](?:_?[0-9a-fA-F])+`)
	pyOct     = regexp.MustCompile(`^0[oO](?:_?[0-7])+`)
	pyBin     = regexp.MustCompile(`^0[bB](?:_?[01])+`)
	pyFloat   = regexp.MustCompile(`^(?:(?:[0-9](?:_?[0-9])*\.(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)(?:[eE][-+]?[0-9](?:_?[0-9])*)?|[0-9](?:_?[0-9])*[eE][-+]?[0-9](?:_?[0-9])*)`)
	pyDecimal = regexp.MustCompile(`^(?:0(?:_?0)*|[1-9](?:_?[0-9])*)`)
)

// pyTokens splits s into Python tokens, as far as literals need; anything
// else (an operator a literal cannot hold, a malformed number or string)
// makes it not a literal.
func pyTokens(s string) ([]pyToken, bool) {
	var toks []pyToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			i++
			continue
		case c == '#':
			i = len(s)
			continue
		case strings.IndexByte("()[]{},:+-", c) >= 0:
			toks = append(toks, pyToken{kind: tokOp, text: s[i : i+1]})
			i++
			continue
		}
		if c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			t, n, ok := pyNumber(s[i:])
			if !ok {
				return nil, false
			}
			toks, i = append(toks, t), i+n
			continue
		}
		if r, _ := utf8.DecodeRuneInString(s[i:]); r == '_' || unicode.IsLetter(r) {
			j := i
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				j += size
			}
			if j < len(s) && (s[j] == '\'' || s[j] == '"') && isStringPrefix(s[i:j]) {
				t, n, ok := pyString(s[i:j], s[j:])
				if !ok {
					return nil, false
				}
				toks, i = append(toks, t), j+n
				continue
			}
			toks, i = append(toks, pyToken{kind: tokName, text: s[i:j]}), j
			continue
		}
		if c == '\'' || c == '"' {
			t, n, ok := pyString("", s[i:])
			if !ok {
				return nil, false
			}
			toks, i = append(toks, t), i+n
			continue
		}
		return nil, false
	}
	return toks, true
}

func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "br", "rb", "f", "fr", "rf":
		return true
	}
	return false
}

// pyNumber reads the number s starts with and its length.
func pyNumber(s string) (pyToken, int, bool) {
	t := pyToken{kind: tokInt}
	var m string
	for _, re := range []*regexp.Regexp{pyHex, pyOct, pyBin} {
		if m = re.FindString(s); m != "" {
			break
		}
	}
	if m == "" {
		if m = pyFloat.FindString(s); m != "" {
			t.kind = tokFloat
		} else {
			m = pyDecimal.FindString(s)
		}
	}
	// 010, 1abc, 1__0, 0x1f_ and 1j are errors or not literals illico reads.
	if rest := s[len(m):]; m == "" || rest != "" && (rest[0] == '_' || rest[0] == '.' || rest[0] >= '0' && rest[0] <= '9' || unicode.IsLetter(rune(rest[0]))) {
		return pyToken{}, 0, false
	}
	t.text = strings.ReplaceAll(m, "_", "")
	return t, len(m), true
}

// pyString reads the string literal s starts with (after its prefix) and
// its length.
func pyString(prefix, s string) (pyToken, int, bool) {
	p := strings.ToLower(prefix)
	if strings.Contains(p, "f") {
		return pyToken{}, 0, false // an f-string is not a literal
	}
	raw, isBytes := strings.Contains(p, "r"), strings.Contains(p, "b")
	quote := s[:1]
	if strings.HasPrefix(s, strings.Repeat(quote, 3)) {
		quote = s[:3]
	}
	var b strings.Builder
	for i := len(quote); i < len(s); {
		if strings.HasPrefix(s[i:], quote) {
			t := pyToken{kind: tokString, text: b.String()}
			if isBytes {
				t.kind = tokBytes
			}
			return t, i + len(quote), true
		}
		c := s[i]
		if isBytes && c >= utf8.RuneSelf {
			return pyToken{}, 0, false // bytes hold ASCII only
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 == len(s) {
			return pyToken{}, 0, false
		}
		if raw {
			b.WriteString(s[i : i+2]) // the backslash stays, and keeps the quote from ending the string
			i += 2
			continue
		}
		n, ok := pyEscape(&b, s[i+1:], isBytes)
		if !ok {
			return pyToken{}, 0, false
		}
		i += 1 + n
	}
	return pyToken{}, 0, false // not closed
}

// pyEscape writes what the escape after a backslash stands for and returns
// its length.
func pyEscape(b *strings.Builder, s string, isBytes bool) (int, bool) {
	simple := map[byte]string{'\\': `\`, '\'': "'", '"': `"`, 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}
	if r, ok := simple[s[0]]; ok {
		b.WriteString(r)
		return 1, true
	}
	hex := func(n int) (int, bool) {
		if len(s) < 1+n {
			return 0, false
		}
		v, err := strconv.ParseUint(s[1:1+n], 16, 32)
		if err != nil || v > unicode.MaxRune {
			return 0, false
		}
		if isBytes {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		return 1 + n, true
	}
	switch {
	case s[0] >= '0' && s[0] <= '7':
		n := 1
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(s[:n], 8, 32)
		if isBytes {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		return n, true
	case s[0] == 'x':
		return hex(2)
	case s[0] == 'u' && !isBytes:
		return hex(4)
	case s[0] == 'U' && !isBytes:
		return hex(8)
	case s[0] == 'N' && !isBytes:
		return 0, false
	}
	b.WriteByte('\\') // an unknown escape stays as it is written
	return 0, true
}

type pyParser struct {
	toks  []pyToken
	pos   int
	depth int
}

func (p *pyParser) peek() pyToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return pyToken{kind: tokEnd}
}

func (p *pyParser) next() pyToken {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *pyParser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tokOp && t.text == op
}

// exprList is an expression, or a tuple written without parentheses (1, 2).
func (p *pyParser) exprList() (value, bool) {
	v, ok := p.expr()
	if !ok || !p.isOp(",") {
		return v, ok
	}
	for p.isOp(",") {
		p.next()
		if p.peek().kind == tokEnd || p.isOp(")") {
			break
		}
		if _, ok := p.expr(); !ok {
			return value{}, false
		}
	}
	return value{kind: kindList}, true
}

func (p *pyParser) expr() (value, bool) {
	// Python refuses to nest much deeper, and illico's stack stays small.
	if p.depth++; p.depth > 100 {
		return value{}, false
	}
	defer func() { p.depth-- }()
	if p.isOp("+") || p.isOp("-") {
		neg := p.next().text == "-"
		// The operand is a number, maybe in parentheses: -(1) is -1, --1 is
		// not a literal.
		opens := 0
		for p.isOp("(") {
			p.next()
			opens++
		}
		t := p.next()
		for range opens {
			if !p.isOp(")") {
				return value{}, false
			}
			p.next()
		}
		if t.kind != tokInt && t.kind != tokFloat {
			return value{}, false
		}
		v, ok := pyNumberValue(t)
		if ok && neg {
			v = negate(v)
		}
		return v, ok
	}
	t := p.next()
	switch t.kind {
	case tokString, tokBytes:
		text := t.text
		for k := p.peek().kind; k == tokString || k == tokBytes; k = p.peek().kind {
			if k != t.kind {
				return value{}, false // bytes and str do not concatenate
			}
			text += p.next().text
		}
		return value{text: text, kind: kindText}, true
	case tokInt, tokFloat:
		return pyNumberValue(t)
	case tokName:
		switch t.text {
		case "True", "False":
			return value{text: t.text, kind: kindBool}, true
		case "None":
			return value{kind: kindNull}, true
		case "set":
			if p.isOp("(") {
				p.next()
				if p.isOp(")") {
					p.next()
					return value{kind: kindList}, true
				}
			}
		}
		return value{}, false
	case tokOp:
		switch t.text {
		case "(":
			if p.isOp(")") {
				p.next()
				return value{kind: kindList}, true
			}
			v, ok := p.exprList()
			if !ok || !p.isOp(")") {
				return value{}, false
			}
			p.next()
			return v, true
		case "[":
			if !p.items("]", false) {
				return value{}, false
			}
			return value{kind: kindList}, true
		case "{":
			if p.isOp("}") {
				p.next()
				return value{kind: kindMap}, true
			}
			if _, ok := p.expr(); !ok {
				return value{}, false
			}
			if p.isOp(":") { // a dict
				p.next()
				if _, ok := p.expr(); !ok {
					return value{}, false
				}
				if p.isOp(",") {
					p.next()
				} else if !p.isOp("}") {
					return value{}, false
				}
				if !p.items("}", true) {
					return value{}, false
				}
				return value{kind: kindMap}, true
			}
			if p.isOp(",") {
				p.next()
			} else if !p.isOp("}") {
				return value{}, false
			}
			if !p.items("}", false) {
				return value{}, false
			}
			return value{kind: kindList}, true
		}
	}
	return value{}, false
}

// items reads the rest of a list, set or dict up to its closing bracket,
// a trailing comma allowed.
func (p *pyParser) items(closing string, pairs bool) bool {
	for {
		if p.isOp(closing) {
			p.next()
			return true
		}
		if _, ok := p.expr(); !ok {
			return false
		}
		if pairs {
			if !p.isOp(":") {
				return false
			}
			p.next()
			if _, ok := p.expr(); !ok {
				return false
			}
		}
		switch {
		case p.isOp(","):
			p.next()
		case !p.isOp(closing):
			return false
		}
	}
}

func pyNumberValue(t pyToken) (value, bool) {
	if t.kind == tokFloat {
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil && !math.IsInf(f, 0) {
			return value{}, false
		}
		return value{text: pyFloatText(f), kind: kindFloat}, true
	}
	n, ok := new(big.Int).SetString(t.text, 0)
	if !ok {
		return value{}, false
	}
	return value{text: n.String(), kind: kindInt}, true
}

func negate(v value) value {
	switch {
	case v.kind == kindInt && v.text == "0":
	case strings.HasPrefix(v.text, "-"):
		v.text = v.text[1:]
	default:
		v.text = "-" + v.text
	}
	return v
}

// pyFloatText writes f as Python's str() does: the shortest digits that
// read back, with a .0 on whole numbers, and an exponent below 1e-4 and
// from 1e16 on.
func pyFloatText(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x < -4 || x >= 16 {
		sign := "+"
		if x < 0 {
			sign, x = "-", -x
		}
		return mant + "e" + sign + strconv.FormatInt(int64(100+x), 10)[1:]
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// The YAML 1.1 forms of PyYAML's resolver, which Ansible's loader uses.
var (
	yaml11Bool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yaml11Float = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yaml11Int   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yaml11Null  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
)

// yamlScalar is a YAML scalar's kind and text as PyYAML reads it: a plain
// scalar by YAML 1.1's forms, a quoted one as text, a tagged one by its
// tag.
func yamlScalar(n *yaml.Node) (kind, string) {
	tag := n.Tag
	switch {
	case n.Style&yaml.TaggedStyle != 0:
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return kindText, n.Value
	default:
		tag = ""
		switch s := n.Value; {
		case yaml11Null.MatchString(s):
			tag = "!!null"
		case yaml11Bool.MatchString(s):
			tag = "!!bool"
		case yaml11Int.MatchString(s):
			tag = "!!int"
		case yaml11Float.MatchString(s):
			tag = "!!float"
		}
	}
	switch tag {
	case "!!null":
		return kindNull, ""
	case "!!bool":
		if b, ok := yaml11BoolValue(n.Value); ok {
			return kindBool, b
		}
	case "!!int":
		if s, ok := yaml11IntText(n.Value); ok {
			return kindInt, s
		}
	case "!!float":
		if s, ok := yaml11FloatText(n.Value); ok {
			return kindFloat, s
		}
	}
	return kindText, n.Value
}

func yaml11BoolValue(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "on":
		return "True", true
	case "no", "false", "off":
		return "False", true
	}
	return "", false
}

// yaml11IntText reads an integer as PyYAML's constructor does: 0b, 0x, a
// leading 0 for octal, and base 60 with colons.
func yaml11IntText(s string) (string, bool) {
	s = strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	n := new(big.Int)
	ok := false
	switch {
	case s == "":
	case s == "0":
		ok = true
	case strings.HasPrefix(s, "0b"):
		_, ok = n.SetString(s[2:], 2)
	case strings.HasPrefix(s, "0x"):
		_, ok = n.SetString(s[2:], 16)
	case s[0] == '0':
		_, ok = n.SetString(s, 8)
	case strings.Contains(s, ":"):
		ok = true
		for part := range strings.SplitSeq(s, ":") {
			d, err := strconv.Atoi(part)
			if err != nil {
				return "", false
			}
			n.Mul(n, big.NewInt(60)).Add(n, big.NewInt(int64(d)))
		}
	default:
		_, ok = n.SetString(s, 10)
	}
	if neg {
		n.Neg(n)
	}
	return n.String(), ok
}

func yaml11FloatText(s string) (string, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if strings.HasPrefix(s, "-") {
		sign = -1
	}
	s = strings.TrimLeft(s, "+-")
	var f float64
	switch {
	case s == ".inf":
		f = math.Inf(1)
	case s == ".nan":
		return "nan", true
	case strings.Contains(s, ":"):
		for part := range strings.SplitSeq(s, ":") {
			d, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return "", false
			}
			f = f*60 + d
		}
	default:
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil && !math.IsInf(f, 0) {
			return "", false
		}
	}
	return pyFloatText(sign * f), true
}

// ansibleBool reads a value as Ansible's boolean filter does; ok is false
// for anything it would refuse.
func ansibleBool(v value) (b, ok bool) {
	s := strings.ToLower(strings.TrimSpace(v.text))
	switch v.kind {
	case kindFloat:
		return s == "1.0", s == "1.0" || s == "0.0"
	case kindText, kindBool, kindInt:
	default:
		return false, false
	}
	switch s {
	case "y", "yes", "on", "1", "true", "t":
		return true, true
	case "n", "no", "off", "0", "false", "f":
		return false, true
	}
	return false, false
}
