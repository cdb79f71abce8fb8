package inventory

import (
	"gopkg.in/yaml.v3"

	"github.com/illico-dev/illico/internal/yamlx"
)

// locator finds the positions yamlx.Meta does not keep: the items of a list
// and the keys of a free-form mapping. It reads the file again, lazily, only
// when a problem needs such a position.
type locator struct {
	data  []byte
	nodes map[yamlx.Pos][]*yaml.Node
}

func newLocator(data []byte) *locator { return &locator{data: data} }

func (l *locator) index() {
	if l.nodes != nil {
		return
	}
	l.nodes = map[yamlx.Pos][]*yaml.Node{}
	var root yaml.Node
	if yaml.Unmarshal(l.data, &root) != nil {
		return
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		p := yamlx.Pos{Line: n.Line, Col: n.Column}
		l.nodes[p] = append(l.nodes[p], n)
		if n.Kind == yaml.AliasNode {
			return // its target is walked where it is defined
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
}

// node is the node of the given kind at p.
func (l *locator) node(p yamlx.Pos, kind yaml.Kind) *yaml.Node {
	l.index()
	for _, n := range l.nodes[p] {
		if n.Kind == kind {
			return n
		}
	}
	return nil
}

// item is the position of the i-th item of the list at p, or p.
func (l *locator) item(p yamlx.Pos, i int) yamlx.Pos {
	if n := l.node(p, yaml.SequenceNode); n != nil && i < len(n.Content) {
		return yamlx.Pos{Line: n.Content[i].Line, Col: n.Content[i].Column}
	}
	return p
}

// key is the position of key in the mapping at p, or p.
func (l *locator) key(p yamlx.Pos, key string) yamlx.Pos {
	if n := l.node(p, yaml.MappingNode); n != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value == key {
				return yamlx.Pos{Line: k.Line, Col: k.Column}
			}
		}
	}
	return p
}

// value is the value of key in the mapping at p, or nil.
func (l *locator) value(p yamlx.Pos, key string) *yaml.Node {
	if n := l.node(p, yaml.MappingNode); n != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return nil
}
