package inventory

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/illico-dev/illico/internal/yamlx"
)

// parseINI reads the INI form as Ansible's ini plugin does: hosts before
// any section are ungrouped; [g] lists hosts with key=value variables,
// [g:children] child groups, [g:vars] group variables.
func (a *ansible) parseINI(data []byte) {
	g, state := a.byGroup["ungrouped"], "hosts"
	declared := map[string]bool{"all": true, "ungrouped": true}
	pendingVars := map[string]where{}     // [g:vars] of a group not declared yet
	pendingChildren := map[string]where{} // a child not declared yet
	for i, raw := range splitLines(string(data)) {
		line := strings.TrimSpace(raw)
		indent := strings.Index(raw, line)
		at := func(off int) where {
			return where{file: a.file, pos: yamlx.Pos{Line: i + 1, Col: indent + off + 1}}
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if name, tag, ok := iniSection(line); ok {
			g, state = a.group(name, at(1)), tag
			switch tag {
			case "hosts", "children":
				declared[name] = true
			case "vars":
				if !declared[name] {
					if _, ok := pendingVars[name]; !ok {
						pendingVars[name] = at(0)
					}
				}
			default:
				a.errorf(at(0), "section [%s:%s] has an unknown type %q: use [%s], [%s:children] or [%s:vars]", name, tag, tag, name, name, name)
			}
			continue
		} else if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			a.errorf(at(0), "invalid section %s: a section is [NAME], [NAME:children] or [NAME:vars], without spaces", line)
			state = "invalid"
			continue
		}
		switch state {
		case "hosts":
			a.iniHosts(g, line, at)
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				a.errorf(at(0), "expected key=value in [%s:vars], got %q", g.name, line)
				continue
			}
			v = strings.TrimSpace(v)
			val := iniValue(v, at(strings.LastIndex(line, v)))
			if val.kind == kindText && val.text == v && (strings.Contains(v, " #") || strings.Contains(v, "\t#")) {
				a.notef(val.at, "%s of group %s is %q: Ansible keeps the # and what follows, for it strips a comment only after a number or a quoted string; quote the value or put the comment on a line of its own", k, g.name, v)
			}
			g.vars[k] = val
		case "children":
			name, ok := iniGroupName(line)
			if !ok {
				a.errorf(at(0), "expected a group name in [%s:children], got %q", g.name, line)
				continue
			}
			a.addChild(g, a.group(name, at(0)), at(0))
			if !declared[name] {
				if _, ok := pendingChildren[name]; !ok {
					pendingChildren[name] = at(0)
				}
			}
		}
	}
	for _, name := range sortedKeys(pendingVars) {
		if !declared[name] {
			a.errorf(pendingVars[name], "[%s:vars] is for a group that is never declared (with [%s] or [%s:children])", name, name, name)
		}
	}
	for _, name := range sortedKeys(pendingChildren) {
		if !declared[name] {
			a.errorf(pendingChildren[name], "child group %s is never declared (with [%s] or [%s:children])", name, name, name)
		}
	}
}

// iniSection reads "[name]", "[name:tag]", optionally followed by a comment.
func iniSection(line string) (name, tag string, ok bool) {
	if !strings.HasPrefix(line, "[") {
		return "", "", false
	}
	end := strings.IndexByte(line, ']')
	if end < 0 {
		return "", "", false
	}
	if rest := strings.TrimSpace(line[end+1:]); rest != "" && rest[0] != '#' {
		return "", "", false
	}
	name, tag, hasTag := strings.Cut(line[1:end], ":")
	if name == "" || strings.ContainsAny(name, " \t") || hasTag && !isWord(tag) {
		return "", "", false
	}
	if !hasTag {
		tag = "hosts"
	}
	return name, tag, true
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// iniGroupName reads a line of a [g:children] section.
func iniGroupName(line string) (string, bool) {
	name, rest, _ := strings.Cut(strings.ReplaceAll(line, "\t", " "), " ")
	rest = strings.TrimSpace(rest)
	if i := strings.IndexByte(name, '#'); i >= 0 {
		name, rest = name[:i], ""
	}
	if name == "" || strings.ContainsAny(name, ":]") || rest != "" && rest[0] != '#' {
		return "", false
	}
	return name, true
}

// iniHosts reads a host line: a host pattern, then key=value variables,
// split like a shell would (quotes, backslashes, # comments).
func (a *ansible) iniHosts(g *ansibleGroup, line string, at func(int) where) {
	tokens, err := shlexSplit(line)
	if err != nil {
		a.errorf(at(0), "host line %q: %v", line, err)
		return
	}
	if len(tokens) == 0 {
		return
	}
	hostVars := vars{}
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t.text, "=")
		if !ok || k == "" {
			a.errorf(at(t.off), "expected key=value after host %s, got %q", tokens[0].text, t.text)
			continue
		}
		hostVars[k] = iniValue(v, at(t.off+len(k)+1))
	}
	a.addHosts(g, tokens[0].text, at(tokens[0].off), hostVars)
}

// iniValue reads a value as Ansible's INI plugin does: a Python literal
// when it is one (2222, 'text', [1, 2], with a # comment after it), else
// the text as it is written.
func iniValue(s string, at where) value {
	if v, ok := pyLiteral(s); ok {
		v.at = at
		return v
	}
	return value{text: s, kind: kindText, at: at}
}

type token struct {
	text string
	off  int // byte offset in the line
}

// shlexSplit splits s like Python's shlex.split(s, comments=True), which
// Ansible uses for host lines.
func shlexSplit(s string) ([]token, error) {
	var tokens []token
	var cur strings.Builder
	in, start := false, 0
	var quote byte
	begin := func(i int) {
		if !in {
			in, start = true, i
		}
	}
	flush := func() {
		if in {
			tokens = append(tokens, token{text: cur.String(), off: start})
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			flush()
		case c == '#':
			flush()
			return tokens, nil
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("a backslash ends the line")
			}
			begin(i)
			i++
			cur.WriteByte(s[i])
		case c == '\'' || c == '"':
			begin(i)
			quote = c
		default:
			begin(i)
			cur.WriteByte(c)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("a %c quote is not closed", quote)
	}
	flush()
	return tokens, nil
}

// splitLines splits s where Python's str.splitlines does, as Ansible reads
// an INI file: at \n, \r\n and a lone \r (old Mac files), and at \v, \f,
// \x1c-\x1e, U+0085, U+2028 and U+2029.
func splitLines(s string) []string {
	var lines []string
	start := 0
	for i, r := range s {
		switch r {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		case '\r':
			if strings.HasPrefix(s[i+1:], "\n") {
				continue // the \n ends the line
			}
		default:
			continue
		}
		end := i
		if r == '\n' && i > start && s[i-1] == '\r' {
			end--
		}
		lines = append(lines, s[start:end])
		start = i + utf8.RuneLen(r)
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}
