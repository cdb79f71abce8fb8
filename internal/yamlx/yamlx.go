// Package yamlx decodes YAML files strictly into Go structs and reports every
// problem at once with its file, line and column. Inventories, plans and the
// daemon's config all go through it, so an operator sees the same kind of
// message ("inventory.yaml:14:3: unknown key "max_unavailabe" (did you mean
// "max_unavailable"?)") wherever a file is wrong.
//
// Struct fields are named by their `yaml:"name"` tag. A slice of structs tagged
// `yaml:"name,keyed"` is written in YAML as a mapping whose keys land in the
// element's Name field, which keeps the file's order. A field of type Meta
// records where the struct and each of its keys stood, so that validation after
// decoding can point at the right place. Types that implement
// encoding.TextUnmarshaler decode from scalars; structs that implement
// ScalarDecoder may also be written as a single scalar ("- drain" for a plan
// step that is otherwise a mapping). Merge keys (<<: *defaults) are applied as
// PyYAML applies them (see Merge), which is what people who learnt YAML
// anchors from Ansible or docker compose expect.
package yamlx

import (
	"cmp"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Pos is a position in a file, 1-based. The zero Pos means "unknown".
type Pos struct {
	Line, Col int
}

// Problem is one thing wrong with a file.
type Problem struct {
	File string
	Pos  Pos
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.Pos.Line == 0:
		return p.File + ": " + p.Msg
	case p.Pos.Col == 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Pos.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Pos.Line, p.Pos.Col, p.Msg)
}

// Problems is every problem found in a file, in file order. It is an error
// when not empty.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Add records a problem at pos in file.
func (ps *Problems) Add(file string, pos Pos, format string, args ...any) {
	*ps = append(*ps, Problem{File: file, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Err returns ps as an error, in file order, or nil when there is no
// problem. Checks that run after decoding find problems in their own order;
// the reader wants them top to bottom.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return ps
}

// Meta records where a decoded struct stood in its file.
type Meta struct {
	pos  Pos
	keys map[string]Pos
}

// Pos is the position of the struct itself (for a keyed element, its key).
func (m Meta) Pos() Pos { return m.pos }

// At is the position of key's value, or of the struct when key is absent.
func (m Meta) At(key string) Pos {
	if p, ok := m.keys[key]; ok {
		return p
	}
	return m.pos
}

// Has reports whether key was written in the file.
func (m Meta) Has(key string) bool {
	_, ok := m.keys[key]
	return ok
}

// ScalarDecoder is implemented by structs that accept a short scalar form
// besides the mapping.
type ScalarDecoder interface {
	DecodeScalar(s string) error
}

// maxAliases bounds alias expansion so that a hostile file cannot make the
// decoder do exponential work.
const maxAliases = 1000

type decoder struct {
	file     string
	problems Problems
	aliases  int
}

var lineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Decode decodes data, the contents of file, into v, a pointer to a struct.
// It returns Problems listing everything wrong, or nil.
func Decode(file string, data []byte, v any) error {
	d := &decoder{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.syntax(err)
		return d.problems
	}
	if len(doc.Content) == 0 {
		return nil // an empty file decodes to the zero value
	}
	d.value(doc.Content[0], reflect.ValueOf(v).Elem())
	return d.problems.Err()
}

func (d *decoder) syntax(err error) {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msg = strings.Join(te.Errors, "; ")
	}
	if strings.Contains(msg, "mapping values are not allowed") {
		// The usual cause: a command or a sentence with ": " in it.
		msg += ` (a value that holds ": " must be quoted)`
	}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.problems.Add(d.file, Pos{Line: line}, "%s", m[2])
		return
	}
	d.problems.Add(d.file, Pos{}, "%s", strings.TrimPrefix(msg, "yaml: "))
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.problems.Add(d.file, pos(n), format, args...)
}

var (
	metaType     = reflect.TypeFor[Meta]()
	durationType = reflect.TypeFor[time.Duration]()
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
	scalarType   = reflect.TypeFor[ScalarDecoder]()
)

func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		d.aliases++
		if d.aliases > maxAliases {
			d.errorf(n, "too many aliases")
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return d.resolve(n.Content[0])
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// Describe names what a node holds, for a problem's "got ...": "a mapping",
// "a list", "nothing" or the quoted value.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

func (d *decoder) value(n *yaml.Node, v reflect.Value) {
	n = d.resolve(n)
	if v.Kind() == reflect.Pointer {
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem())
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textType) {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "expected a single value, got %s", Describe(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.errorf(n, "%v", err)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) && v.Kind() == reflect.Struct && v.CanAddr() && v.Addr().Type().Implements(scalarType) {
		if err := v.Addr().Interface().(ScalarDecoder).DecodeScalar(n.Value); err != nil {
			d.errorf(n, "%v", err)
		}
		return
	}
	if v.Type() == durationType {
		d.duration(n, v)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, pos(n))
	case reflect.Map:
		d.mapping(n, v)
	case reflect.Slice:
		d.sequence(n, v)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, "expected a text value, got %s", Describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := map[string]bool{"true": true, "false": false}[n.Value]
		if n.Kind != yaml.ScalarNode || !ok {
			d.errorf(n, "expected true or false, got %s", Describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if n.Kind != yaml.ScalarNode || err != nil || v.OverflowInt(i) {
			d.errorf(n, "expected a whole number, got %s", Describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.errorf(n, "expected a number, got %s", Describe(n))
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, "illico cannot decode a value of type %s (a bug in illico)", v.Type())
	}
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value) {
	dur, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || dur < 0 {
		d.errorf(n, "expected a duration like 30s or 1m30s, got %s", Describe(n))
		return
	}
	v.SetInt(int64(dur))
}

type field struct {
	name  string
	index int
	keyed bool
}

func fields(t reflect.Type) (list []field, meta int) {
	meta = -1
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == metaType {
			meta = i
			continue
		}
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" || tag == "" || !f.IsExported() {
			continue
		}
		list = append(list, field{name: tag, index: i, keyed: opts == "keyed"})
	}
	return list, meta
}

// pairs walks a mapping node, reporting non-text and repeated keys.
func (d *decoder) pairs(n *yaml.Node, each func(key string, k, val *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	merged, err := Merge(n)
	if err != nil {
		at := pos(n)
		var me *MergeError
		if errors.As(err, &me) {
			at = me.Pos
		}
		d.problems.Add(d.file, at, "%v", err)
		return
	}
	for _, p := range merged {
		k, val := d.resolve(p.Key), p.Value
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errorf(k, "expected a name as key, got %s", Describe(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.errorf(k, "%q is given twice (first on line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		each(k.Value, k, val)
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, at Pos) {
	list, metaIdx := fields(v.Type())
	meta := Meta{pos: at, keys: map[string]Pos{}}
	defer func() {
		if metaIdx >= 0 {
			v.Field(metaIdx).Set(reflect.ValueOf(meta))
		}
	}()
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "expected a mapping, got %s", Describe(n))
		return
	}
	d.pairs(n, func(key string, k, val *yaml.Node) {
		for _, f := range list {
			if f.name != key {
				continue
			}
			meta.keys[key] = pos(d.resolve(val))
			if f.keyed {
				d.keyed(val, v.Field(f.index))
			} else {
				d.value(val, v.Field(f.index))
			}
			return
		}
		names := make([]string, len(list))
		for i, f := range list {
			names[i] = f.name
		}
		if guess := closest(key, names); guess != "" {
			d.errorf(k, "unknown key %q (did you mean %q?)", key, guess)
		} else {
			d.errorf(k, "unknown key %q (known: %s)", key, strings.Join(names, ", "))
		}
	})
}

// keyed decodes a mapping of name → struct into a slice, setting each
// element's Name field.
func (d *decoder) keyed(n *yaml.Node, v reflect.Value) {
	n = d.resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "expected a mapping of names, got %s", Describe(n))
		return
	}
	elem := v.Type().Elem()
	d.pairs(n, func(key string, k, val *yaml.Node) {
		e := reflect.New(elem).Elem()
		s := e
		if elem.Kind() == reflect.Pointer {
			e.Set(reflect.New(elem.Elem()))
			s = e.Elem()
		}
		s.FieldByName("Name").SetString(key)
		d.structure(d.resolve(val), s, pos(k))
		v.Set(reflect.Append(v, e))
	})
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "expected a mapping, got %s", Describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.pairs(n, func(key string, _, val *yaml.Node) {
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(val, e)
		v.SetMapIndex(reflect.ValueOf(key), e)
	})
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "expected a list, got %s", Describe(n))
		return
	}
	for _, item := range n.Content {
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(item, e)
		v.Set(reflect.Append(v, e))
	}
}

// closest returns the candidate nearest to s in edit distance, if it is near
// enough to be a typo.
func closest(s string, candidates []string) string {
	best, bestDist := "", max(2, len(s)/3)+1
	for _, c := range candidates {
		if dist := distance(s, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// Closest is exported for validators that suggest names of their own (an
// unknown datacenter, group or host).
func Closest(s string, candidates []string) string { return closest(s, candidates) }

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
