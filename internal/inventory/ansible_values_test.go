package inventory

import (
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestPyLiteral checks values against what Python 3.11's ast.literal_eval
// makes of them (and so Ansible's INI plugin): "-" means not a literal,
// which Ansible keeps as text.
func TestPyLiteral(t *testing.T) {
	tests := []struct {
		in   string
		kind kind
		text string
	}{
		{"2222", kindInt, "2222"},
		{"1 # a comment", kindInt, "1"},
		{"'quoted' # a comment", kindText, "quoted"},
		{"foo # a comment", kindText, "-"},
		{`"a # b"`, kindText, "a # b"},
		{"a#b", kindText, "-"},
		{"-(1)", kindInt, "-1"},
		{"- 1", kindInt, "-1"},
		{"--1", kindText, "-"},
		{"-True", kindText, "-"},
		{"1_000", kindInt, "1000"},
		{"0_0", kindInt, "0"},
		{"00", kindInt, "0"},
		{"010", kindText, "-"},
		{"0x10", kindInt, "16"},
		{"0o17", kindInt, "15"},
		{"0b101", kindInt, "5"},
		{"0x_1f", kindInt, "31"},
		{"0x1f_", kindText, "-"},
		{"1__0", kindText, "-"},
		{"123456789012345678901234567890", kindInt, "123456789012345678901234567890"},
		{"1e3", kindFloat, "1000.0"},
		{"1.e5", kindFloat, "100000.0"},
		{".5", kindFloat, "0.5"},
		{"1e400", kindFloat, "inf"},
		{"-0.0", kindFloat, "-0.0"},
		{"1e16", kindFloat, "1e+16"},
		{"1e15", kindFloat, "1000000000000000.0"},
		{"0.0001", kindFloat, "0.0001"},
		{"0.00001", kindFloat, "1e-05"},
		{"123456789012345678.0", kindFloat, "1.2345678901234568e+17"},
		{".5j", kindText, "-"},
		{"True", kindBool, "True"},
		{"true", kindText, "-"},
		{"None", kindNull, ""},
		{"'a' 'b'", kindText, "ab"},
		{`"a" b'b'`, kindText, "-"},
		{"u'x'", kindText, "x"},
		{"ur'x'", kindText, "-"},
		{`r'a\'b'`, kindText, `a\'b`},
		{`'\q'`, kindText, `\q`},
		{`'\x41\101\u00e9\U0001F600\n'`, kindText, "AAé😀\n"},
		{`'\x4'`, kindText, "-"},
		{`'\N{EM DASH}'`, kindText, "-"},
		{`b'bytes'`, kindText, "bytes"},
		{"f'x'", kindText, "-"},
		{`"""a"b"""`, kindText, `a"b`},
		{"'''x'''", kindText, "x"},
		{"'open", kindText, "-"},
		{"[1, 2]", kindList, ""},
		{"[1,]", kindList, ""},
		{"[,]", kindText, "-"},
		{"[a, b]", kindText, "-"},
		{"[2001:db8::10]", kindText, "-"},
		{"(1)", kindInt, "1"},
		{"()", kindList, ""},
		{"(1,)", kindList, ""},
		{"1, 2", kindList, ""},
		{"set()", kindList, ""},
		{"{1, 2}", kindList, ""},
		{"{}", kindMap, ""},
		{"{'a': 1, 'b': [2, {3: None}],}", kindMap, ""},
		{"{'a' 1}", kindText, "-"},
		{"1/2", kindText, "-"},
		{"'x'.upper()", kindText, "-"},
		{"{{ jinja }}", kindText, "-"},
		{"1 2", kindText, "-"},
		{"é", kindText, "-"},
		{"", kindText, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, ok := pyLiteral(tt.in)
			switch {
			case tt.text == "-" && ok:
				t.Errorf("read as a literal (%v %q); Python refuses it", v.kind, v.text)
			case tt.text != "-" && !ok:
				t.Errorf("not read as a literal; Python reads %v %q", tt.kind, tt.text)
			case ok && (v.kind != tt.kind || v.text != tt.text):
				t.Errorf("got %v %q, want %v %q", v.kind, v.text, tt.kind, tt.text)
			}
		})
	}
}

func TestPyLiteralDepth(t *testing.T) {
	deep := ""
	for range 1000 {
		deep += "["
	}
	if _, ok := pyLiteral(deep); ok {
		t.Error("1000 brackets read as a literal")
	}
}

// TestYAMLScalar checks scalars against PyYAML's safe_load (YAML 1.1).
func TestYAMLScalar(t *testing.T) {
	tests := []struct {
		in   string
		kind kind
		text string
	}{
		{"2222", kindInt, "2222"},
		{"022", kindInt, "18"},
		{"08", kindText, "08"},
		{"0x1F", kindInt, "31"},
		{"0b11", kindInt, "3"},
		{"1_000", kindInt, "1000"},
		{"-12", kindInt, "-12"},
		{"1:30", kindInt, "90"},
		{"yes", kindBool, "True"},
		{"Off", kindBool, "False"},
		{"y", kindText, "y"},
		{"1.5", kindFloat, "1.5"},
		{"1e3", kindText, "1e3"},
		{"1.0e+3", kindFloat, "1000.0"},
		{".inf", kindFloat, "inf"},
		{"-.inf", kindFloat, "-inf"},
		{"~", kindNull, ""},
		{"Null", kindNull, ""},
		{"'yes'", kindText, "yes"},
		{`"022"`, kindText, "022"},
		{"!!str 22", kindText, "22"},
		{"!!int '22'", kindInt, "22"},
		{"2001:db8::1", kindText, "2001:db8::1"},
		{"10.0.0.1", kindText, "10.0.0.1"},
		{"2001-12-14", kindText, "2001-12-14"},
		{"web", kindText, "web"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte("v: "+tt.in+"\n"), &doc); err != nil {
				t.Fatal(err)
			}
			k, text := yamlScalar(doc.Content[0].Content[1])
			if k != tt.kind || text != tt.text {
				t.Errorf("got %v %q, want %v %q", k, text, tt.kind, tt.text)
			}
		})
	}
}

func TestAnsibleBool(t *testing.T) {
	tests := []struct {
		v      value
		b, bad bool
	}{
		{v: value{text: "True", kind: kindBool}, b: true},
		{v: value{text: "yes"}, b: true},
		{v: value{text: " On "}, b: true},
		{v: value{text: "1", kind: kindInt}, b: true},
		{v: value{text: "1.0", kind: kindFloat}, b: true},
		{v: value{text: "1.0"}, bad: true},
		{v: value{text: "0"}},
		{v: value{text: "False", kind: kindBool}},
		{v: value{text: "n"}},
		{v: value{text: "maybe"}, bad: true},
		{v: value{kind: kindList}, bad: true},
	}
	for _, tt := range tests {
		b, ok := ansibleBool(tt.v)
		if b != tt.b || ok == tt.bad {
			t.Errorf("ansibleBool(%+v) = %v, %v; want %v, %v", tt.v, b, ok, tt.b, !tt.bad)
		}
	}
}

func TestSplitLines(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a\nb\n", []string{"a", "b"}},
		{"a\r\nb\r\n", []string{"a", "b"}},
		{"a\rb\r", []string{"a", "b"}},
		{"a\r\r\nb", []string{"a", "", "b"}},
		{"a\vb\fc\u2028d\u0085e", []string{"a", "b", "c", "d", "e"}},
		{"a\n\nb", []string{"a", "", "b"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitLines(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
