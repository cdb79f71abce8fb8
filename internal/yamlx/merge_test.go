package yamlx

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestMerge checks merge keys against what PyYAML's safe_load (Ansible's
// loader) makes of the same documents.
func TestMerge(t *testing.T) {
	const anchors = "base: &base {port: 22, user: root}\nweb: &web {user: web, dc: gra}\n"
	tests := []struct {
		name, doc string
		want      string // the pairs of the last top-level mapping
		err       string
	}{
		{name: "explicit key wins", doc: anchors + "h:\n  <<: *base\n  port: 2222\n", want: "user=root port=2222"},
		{name: "explicit key wins wherever it stands", doc: anchors + "h:\n  port: 2222\n  <<: *base\n", want: "user=root port=2222"},
		{name: "earlier in a list wins", doc: anchors + "h:\n  <<: [*web, *base]\n", want: "port=22 user=web dc=gra"},
		{name: "later merge key wins", doc: anchors + "h:\n  port: 1\n  <<: *base\n  <<: *web\n", want: "user=web dc=gra port=1"},
		{name: "nested merges", doc: "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, x: 3}\n", want: "y=2 x=3"},
		{name: "inline mapping", doc: "h: {<<: {x: 1, y: 2}, y: 3}\n", want: "x=1 y=3"},
		{name: "quoted << is a key", doc: "h: {'<<': 1, x: 2}\n", want: "<<=1 x=2"},
		{name: "duplicates of its own stay", doc: "h: {x: 1, x: 2}\n", want: "x=1 x=2"},
		{name: "no merge", doc: "h: {b: 1, a: 2}\n", want: "b=1 a=2"},
		{name: "scalar", doc: "h: {<<: 3}\n", err: `1:9: a merge key (<<) takes a mapping or a list of mappings, got "3"`},
		{name: "list of scalars", doc: anchors + "h: {<<: [*base, x]}\n", err: `3:17: a merge key (<<) lists mappings to merge, got "x"`},
		{name: "merges itself", doc: "h: &h {x: 1, <<: *h}\n", err: "1:4: a merge key (<<) brings in the mapping it is part of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			top := doc.Content[0]
			pairs, err := Merge(top.Content[len(top.Content)-1])
			if tt.err != "" {
				var me *MergeError
				if !errors.As(err, &me) || fmt.Sprintf("%d:%d: %s", me.Pos.Line, me.Pos.Col, me.Msg) != tt.err {
					t.Fatalf("error = %v (%+v), want %s", err, me, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pairs {
				got = append(got, p.Key.Value+"="+deref(p.Value).Value)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("pairs %s, want %s", g, tt.want)
			}
		})
	}
}

// TestMergeBounded feeds merge keys that double at every level: the work is
// bounded, not exponential.
func TestMergeBounded(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("l0: &l0 {}\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&doc, "l%d: &l%d {<<: [*l%d, *l%d]}\n", i, i, i-1, i-1)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc.String()), &n); err != nil {
		t.Fatal(err)
	}
	top := n.Content[0]
	_, err := Merge(top.Content[len(top.Content)-1])
	if err == nil || !strings.Contains(err.Error(), "expand to more than 100000 keys") {
		t.Errorf("error = %v, want the bound", err)
	}
}

func TestDecodeMerge(t *testing.T) {
	src := `x-item: &item {size: 2, tags: [a]}
items:
  a:
    <<: *item
    size: 3
  b: {<<: *item}
  c: {<<: *item, size: 1, size: 4}
`
	var d struct {
		Items []*item `yaml:"items,keyed"`
		Rest  item    `yaml:"x-item"`
	}
	err := Decode("f.yaml", []byte(src), &d)
	if err == nil || err.Error() != `f.yaml:7:27: "size" is given twice (first on line 7)` {
		t.Fatalf("error = %v, want only the size written twice", err)
	}
	if len(d.Items) != 3 || d.Items[0].Size != 3 || d.Items[1].Size != 2 || d.Items[1].Tags[0] != "a" {
		t.Errorf("items: %+v %+v", d.Items[0], d.Items[1])
	}
}
