package yamlx

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Pair is one key and its value in a mapping.
type Pair struct {
	Key, Value *yaml.Node
}

// MergeError is a merge key (<<) whose value cannot be merged.
type MergeError struct {
	Pos Pos
	Msg string
}

func (e *MergeError) Error() string { return e.Msg }

// maxMergedPairs bounds what merge keys may expand to: each mapping can
// merge the one before it twice, so that a small file stands for more pairs
// than there are atoms.
const maxMergedPairs = 100_000

// Merge returns the pairs of the mapping n with its merge keys (<<) applied
// as PyYAML applies them, which is what Ansible, docker compose's Python
// ancestor and most YAML tools people learnt anchors from do: a key written
// in the mapping wins over a merged one; of the mappings a merge key lists
// (<<: [*a, *b]), an earlier one wins over a later one; of several merge
// keys, a later one wins. A merged key that loses is left out, so that the
// caller sees each merged key once; keys written twice in the mapping itself
// stay twice, for the caller to report or to let the last one win. The
// winners keep their places: merged pairs first, then the mapping's own.
// Aliases are followed; n itself may be one.
func Merge(n *yaml.Node) ([]Pair, error) {
	m := &merger{active: map[*yaml.Node]bool{}}
	return m.flatten(deref(n))
}

type merger struct {
	active map[*yaml.Node]bool // the mappings being flattened, to catch an alias that merges its own ancestor
	pairs  int                 // work done: mappings flattened and keys merged
}

func deref(n *yaml.Node) *yaml.Node {
	for range 100 {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			return n
		}
		n = n.Alias
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

// IsMergeKey reports whether k is the merge key: a plain << (a quoted
// "<<" is an ordinary key).
func IsMergeKey(k *yaml.Node) bool {
	k = deref(k)
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

func (m *merger) flatten(n *yaml.Node) ([]Pair, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	if m.active[n] {
		return nil, &MergeError{Pos: pos(n), Msg: "a merge key (<<) brings in the mapping it is part of"}
	}
	if m.pairs++; m.pairs > maxMergedPairs {
		return nil, &MergeError{Pos: pos(n), Msg: fmt.Sprintf("merge keys (<<) expand to more than %d keys", maxMergedPairs)}
	}
	m.active[n] = true
	defer delete(m.active, n)
	var merged, own []Pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !IsMergeKey(k) {
			own = append(own, Pair{k, v})
			continue
		}
		v = deref(v)
		switch v.Kind {
		case yaml.MappingNode:
			sub, err := m.flatten(v)
			if err != nil {
				return nil, err
			}
			merged = append(merged, sub...)
		case yaml.SequenceNode:
			subs := make([][]Pair, len(v.Content))
			for j, item := range v.Content {
				item = deref(item)
				if item.Kind != yaml.MappingNode {
					return nil, &MergeError{Pos: pos(item), Msg: fmt.Sprintf("a merge key (<<) lists mappings to merge, got %s", Describe(item))}
				}
				sub, err := m.flatten(item)
				if err != nil {
					return nil, err
				}
				subs[j] = sub
			}
			for j := len(subs) - 1; j >= 0; j-- { // the first listed is merged last, and wins
				merged = append(merged, subs[j]...)
			}
		default:
			return nil, &MergeError{Pos: pos(v), Msg: fmt.Sprintf("a merge key (<<) takes a mapping or a list of mappings, got %s", Describe(v))}
		}
		if m.pairs += len(merged); m.pairs > maxMergedPairs {
			return nil, &MergeError{Pos: pos(k), Msg: fmt.Sprintf("merge keys (<<) expand to more than %d keys", maxMergedPairs)}
		}
	}
	if len(merged) == 0 {
		return own, nil
	}
	// The last pair with a key is the one a YAML loader keeps.
	last := map[string]int{}
	all := append(merged, own...)
	for i, p := range all {
		if id, ok := keyID(p.Key); ok {
			last[id] = i
		}
	}
	out := make([]Pair, 0, len(all))
	for i, p := range all {
		if id, ok := keyID(p.Key); ok && i < len(merged) && last[id] != i {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// keyID names a scalar key by its tag and text, so that 1 and "1" stay
// apart as they do for a YAML loader; other keys have no name.
func keyID(k *yaml.Node) (string, bool) {
	k = deref(k)
	if k.Kind != yaml.ScalarNode {
		return "", false
	}
	tag := k.Tag
	if tag == "" {
		tag = "!!str"
	}
	return tag + "\x00" + k.Value, true
}
