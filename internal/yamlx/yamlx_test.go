package yamlx

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type level int

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return errors.New(`expected low or high, got "` + string(b) + `"`)
	}
	return nil
}

type item struct {
	Name  string
	Size  int               `yaml:"size"`
	Tags  []string          `yaml:"tags"`
	Level level             `yaml:"level"`
	Vars  map[string]string `yaml:"vars"`
	Meta  Meta
}

type doc struct {
	Title   string        `yaml:"title"`
	Enabled bool          `yaml:"enabled"`
	Wait    time.Duration `yaml:"wait"`
	Ratio   float64       `yaml:"ratio"`
	Limit   *int          `yaml:"limit"`
	Items   []*item       `yaml:"items,keyed"`
	List    []item        `yaml:"list"`
	Meta    Meta
}

func TestDecodeGood(t *testing.T) {
	src := `title: fleet
enabled: true
wait: 1m30s
ratio: 0.5
limit: 3
items:
  b: {size: 2, tags: [x, y], level: high}
  a:
    size: 1
    vars: {k: v, n: 10}
list:
  - {size: 7}
`
	var d doc
	if err := Decode("f.yaml", []byte(src), &d); err != nil {
		t.Fatal(err)
	}
	if d.Title != "fleet" || !d.Enabled || d.Wait != 90*time.Second || d.Ratio != 0.5 || d.Limit == nil || *d.Limit != 3 {
		t.Fatalf("scalars: %+v", d)
	}
	if len(d.Items) != 2 || d.Items[0].Name != "b" || d.Items[1].Name != "a" {
		t.Fatalf("keyed order lost: %+v", d.Items)
	}
	if d.Items[0].Level != 2 || d.Items[0].Tags[1] != "y" || d.Items[1].Vars["n"] != "10" {
		t.Fatalf("items: %+v %+v", d.Items[0], d.Items[1])
	}
	if got := d.Items[1].Meta.Pos(); got != (Pos{Line: 8, Col: 3}) {
		t.Errorf("keyed element position = %v, want 8:3", got)
	}
	if got := d.Items[1].Meta.At("size"); got != (Pos{Line: 9, Col: 11}) {
		t.Errorf("value position = %v, want 9:11", got)
	}
	if !d.Meta.Has("wait") || d.Meta.Has("missing") {
		t.Error("Has is wrong")
	}
	if len(d.List) != 1 || d.List[0].Size != 7 {
		t.Errorf("list: %+v", d.List)
	}
}

func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown key with guess", "titel: x\n", []string{`f.yaml:1:1: unknown key "titel" (did you mean "title"?)`}},
		{"unknown key without guess", "zzzzzzzz: x\n", []string{`f.yaml:1:1: unknown key "zzzzzzzz" (known: title, enabled, wait, ratio, limit, items, list)`}},
		{"every problem at once", "enabled: maybe\nwait: soon\nitems:\n  a: {size: big, level: mid}\n", []string{
			`f.yaml:1:10: expected true or false, got "maybe"`,
			`f.yaml:2:7: expected a duration like 30s or 1m30s, got "soon"`,
			`f.yaml:4:13: expected a whole number, got "big"`,
			`f.yaml:4:25: expected low or high, got "mid"`,
		}},
		{"duplicate key", "title: a\ntitle: b\n", []string{`f.yaml:2:1: "title" is given twice (first on line 1)`}},
		{"duplicate keyed name", "items:\n  a: {}\n  a: {}\n", []string{`f.yaml:3:3: "a" is given twice (first on line 2)`}},
		{"wrong shape", "items: [a]\nlist: {a: 1}\ntitle: [x]\n", []string{
			`f.yaml:1:8: expected a mapping of names, got a list`,
			`f.yaml:2:7: expected a list, got a mapping`,
			`f.yaml:3:8: expected a text value, got a list`,
		}},
		{"syntax", "title: [unclosed\n", []string{`f.yaml:1: did not find expected ',' or ']'`}},
		{"negative duration", "wait: -1s\n", []string{`f.yaml:1:7: expected a duration like 30s or 1m30s, got "-1s"`}},
		{"top level not a mapping", "- a\n", []string{`f.yaml:1:1: expected a mapping, got a list`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Decode("f.yaml", []byte(tt.src), &d)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			if got := strings.Split(ps.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestDecodeEmptyAndAliases(t *testing.T) {
	var d doc
	if err := Decode("f.yaml", nil, &d); err != nil {
		t.Fatalf("empty file: %v", err)
	}
	src := "items:\n  a: &base {size: 4}\n  b: *base\n"
	if err := Decode("f.yaml", []byte(src), &d); err != nil {
		t.Fatal(err)
	}
	if d.Items[1].Size != 4 {
		t.Errorf("alias not followed: %+v", d.Items[1])
	}
}

func TestBillionLaughsIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	var v struct {
		Meta Meta
	}
	// Unknown keys stop the walk before any alias is expanded; a typed
	// target must stop at the alias bound instead.
	if err := Decode("f.yaml", []byte(b.String()), &v); err == nil {
		t.Fatal("want problems for unknown keys")
	}
	var lists struct {
		A8 [][][][][][][][][]string `yaml:"a8"`
	}
	err := Decode("f.yaml", []byte(b.String()), &lists)
	if err == nil || !strings.Contains(err.Error(), "too many aliases") {
		t.Fatalf("want the alias bound to trip, got %v", err)
	}
}

func TestClosest(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"max_unavailabe", "max_unavailable"},
		{"datacentre", "datacenter"},
		{"zzz", ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.in, []string{"max_unavailable", "min_available", "datacenter"}); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"title: x\n", "items:\n  a: {size: 1, tags: [a]}\n", "wait: 1s\nlimit: ~\n", "- a\n", "a: &x [*x]\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var d doc
		err := Decode("f.yaml", []byte(src), &d)
		var ps Problems
		if err != nil && !errors.As(err, &ps) {
			t.Fatalf("error is not Problems: %v", err)
		}
	})
}

type step struct {
	Kind    string
	Run     string        `yaml:"run"`
	Timeout time.Duration `yaml:"timeout"`
}

func (s *step) DecodeScalar(v string) error {
	if v != "drain" {
		return errors.New(`expected a step name like "drain", got "` + v + `"`)
	}
	s.Kind = v
	return nil
}

func TestScalarDecoder(t *testing.T) {
	var p struct {
		Steps []step `yaml:"steps"`
	}
	if err := Decode("p.yaml", []byte("steps:\n  - drain\n  - run: true\n    timeout: 1s\n"), &p); err != nil {
		t.Fatal(err)
	}
	if p.Steps[0].Kind != "drain" || p.Steps[1].Run != "true" || p.Steps[1].Timeout != time.Second {
		t.Fatalf("%+v", p.Steps)
	}
	err := Decode("p.yaml", []byte("steps:\n  - dran\n"), &p)
	if err == nil || err.Error() != `p.yaml:2:5: expected a step name like "drain", got "dran"` {
		t.Fatalf("got %v", err)
	}
}

func TestColonHint(t *testing.T) {
	var d doc
	err := Decode("f.yaml", []byte("title: grep -q 'Installed: 1'\n"), &d)
	if err == nil || err.Error() != `f.yaml: mapping values are not allowed in this context (a value that holds ": " must be quoted)` {
		t.Fatalf("got %v", err)
	}
}
