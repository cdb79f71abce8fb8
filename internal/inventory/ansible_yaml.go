package inventory

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/illico-dev/illico/internal/yamlx"
)

// yamlInventory returns the top node of data when it is an inventory in
// Ansible's YAML form: by extension, else when it parses as a YAML mapping.
// A file named .yml or .yaml that does not parse is a syntax error.
func yamlInventory(file string, data []byte) (top *yaml.Node, isYAML bool, err error) {
	ext := strings.ToLower(filepath.Ext(file))
	named := ext == ".yml" || ext == ".yaml" || ext == ".json"
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if named {
			return nil, true, err
		}
		return nil, false, nil
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Line: 1, Column: 1}, named, nil
	}
	top = deref(doc.Content[0])
	return top, named || top.Kind == yaml.MappingNode, nil
}

// syntaxProblem turns a YAML syntax error into a positioned problem.
func syntaxProblem(file string, err error) yamlx.Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				return yamlx.Problem{File: file, Pos: yamlx.Pos{Line: line}, Msg: text}
			}
		}
	}
	return yamlx.Problem{File: file, Msg: msg}
}

// parseYAML reads the YAML form: top-level keys are groups (usually all),
// each with hosts, children and vars.
func (a *ansible) parseYAML(top *yaml.Node) {
	if top.Kind != yaml.MappingNode {
		a.errorf(a.at(top), "an Ansible YAML inventory is a mapping of groups (usually all:), got %s", yamlx.Describe(top))
		return
	}
	for _, p := range a.pairs(a.file, top) {
		a.yamlGroup(deref(p.Key), p.Value)
	}
}

func (a *ansible) at(n *yaml.Node) where { return where{file: a.file, pos: nodePos(n)} }

func (a *ansible) yamlGroup(key, body *yaml.Node) *ansibleGroup {
	g := a.group(key.Value, a.at(key))
	a.steps++
	if a.steps > maxRangeHosts {
		// Aliases can make a small file describe an enormous tree.
		a.errorf(a.at(key), "the inventory nests groups too deeply or too often (more than %d group sections)", maxRangeHosts)
		return g
	}
	body = deref(body)
	if isNullNode(body) {
		return g
	}
	if a.reading[body] {
		a.errorf(a.at(key), "group %s contains itself through a YAML alias", g.name)
		return g
	}
	a.reading[body] = true
	defer delete(a.reading, body)
	if body.Kind != yaml.MappingNode {
		a.errorf(a.at(body), "group %s: expected a mapping with hosts, children and vars, got %s", g.name, yamlx.Describe(body))
		return g
	}
	for _, p := range a.pairs(a.file, body) {
		k, v := deref(p.Key), deref(p.Value)
		if isNullNode(v) {
			continue
		}
		// Ansible accepts a bare name where a mapping of one is meant.
		if v.Kind == yaml.ScalarNode && (k.Value == "hosts" || k.Value == "children") {
			v = &yaml.Node{Kind: yaml.MappingNode, Line: v.Line, Column: v.Column, Content: []*yaml.Node{v, {Kind: yaml.ScalarNode, Tag: "!!null"}}}
		}
		switch k.Value {
		case "hosts", "children", "vars":
			if v.Kind != yaml.MappingNode {
				a.errorf(a.at(v), "%s of group %s: expected a mapping, got %s", k.Value, g.name, yamlx.Describe(v))
				continue
			}
		default:
			msg := "unknown key %q in group %s: a group has hosts, children and vars"
			if guess := yamlx.Closest(k.Value, []string{"hosts", "children", "vars"}); guess != "" {
				msg += " (did you mean " + strconv.Quote(guess) + "?)"
			}
			a.errorf(a.at(k), msg, k.Value, g.name)
			continue
		}
		for _, p := range a.pairs(a.file, v) {
			name, item := deref(p.Key), deref(p.Value)
			switch k.Value {
			case "vars":
				g.vars[name.Value] = a.yamlValue(a.file, item)
			case "children":
				child := a.yamlGroup(name, item)
				a.addChild(g, child, a.at(name))
			case "hosts":
				hostVars := vars{}
				switch {
				case isNullNode(item):
				case item.Kind == yaml.MappingNode:
					a.yamlVars(a.file, item, hostVars)
				default:
					a.errorf(a.at(item), "host %s: expected a mapping of variables, got %s", name.Value, yamlx.Describe(item))
					continue
				}
				a.addHosts(g, name.Value, a.at(name), hostVars)
			}
		}
	}
	return g
}

// yamlVars reads a mapping of variables from file into into.
func (a *ansible) yamlVars(file string, n *yaml.Node, into vars) {
	for _, p := range a.pairs(file, n) {
		into[deref(p.Key).Value] = a.yamlValue(file, deref(p.Value))
	}
}

// pairs is what mapping n of file holds, its merge keys (<<) applied as
// Ansible's YAML loader applies them.
func (a *ansible) pairs(file string, n *yaml.Node) []yamlx.Pair {
	ps, err := yamlx.Merge(n)
	if err != nil {
		at := where{file: file, pos: nodePos(n)}
		var me *yamlx.MergeError
		if errors.As(err, &me) {
			at.pos = me.Pos
		}
		a.errorf(at, "%v", err)
		return nil
	}
	return ps
}

func (a *ansible) yamlValue(file string, n *yaml.Node) value {
	at := where{file: file, pos: nodePos(n)}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!vault" {
			return value{text: n.Value, vault: true, at: at}
		}
		k, text := yamlScalar(n)
		return value{text: text, kind: k, at: at}
	case yaml.SequenceNode:
		v := value{kind: kindList, at: at}
		if len(n.Content) == 1 && deref(n.Content[0]).Kind == yaml.ScalarNode {
			// ansible_host: [2001:db8::1], unquoted, is such a list.
			v.text = deref(n.Content[0]).Value
		}
		return v
	}
	return value{kind: kindMap, at: at}
}

// deref follows aliases, a bounded number of times.
func deref(n *yaml.Node) *yaml.Node {
	for range 100 {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			return n
		}
		n = n.Alias
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

func isNullNode(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func nodePos(n *yaml.Node) yamlx.Pos { return yamlx.Pos{Line: n.Line, Col: n.Column} }
