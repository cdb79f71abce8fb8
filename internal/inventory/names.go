package inventory

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/illico-dev/illico/internal/yamlx"
)

// validName reports whether s may name a host, group, datacenter, site or
// load balancer. The characters a selector gives meaning to (, ! & = * ? [)
// stay out, so that any name can be written as a selector term.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

const nameRule = `may hold only letters (a-z, A-Z), digits, ".", "_" and "-"`

// splitAddress splits "name", "name:port", "[v6]:port" or a bare IPv6
// address into the host and the port (0 when none is given).
func splitAddress(s string) (host string, port int, err error) {
	switch {
	case s == "":
		return "", 0, errors.New("the address is empty")
	case strings.ContainsAny(s, " \t\n/"):
		return "", 0, fmt.Errorf("%q is not a host name or IP address", s)
	case strings.HasPrefix(s, "["):
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			if strings.HasSuffix(s, "]") && net.ParseIP(s[1:len(s)-1]) != nil {
				return s[1 : len(s)-1], 0, nil
			}
			return "", 0, fmt.Errorf("%q is not an address like [2001:db8::1]:22", s)
		}
		n, err := parsePort(p)
		return h, n, err
	case strings.Count(s, ":") > 1:
		if net.ParseIP(s) == nil {
			return "", 0, fmt.Errorf("%q is not an IPv6 address (write [ADDRESS]:PORT to give a port)", s)
		}
		return s, 0, nil
	}
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return s, 0, nil
	}
	if h == "" {
		return "", 0, fmt.Errorf("%q has a port but no host", s)
	}
	n, err := parsePort(p)
	return h, n, err
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a TCP port (1-65535)", s)
	}
	return n, nil
}

// joinAddress is the inverse of splitAddress.
func joinAddress(host string, port int) string {
	if port == 0 {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// resolvePath makes p absolute: ~/ is the home directory, a relative path
// is relative to dir.
func resolvePath(p, dir, home string) (string, error) {
	switch {
	case p == "~" || strings.HasPrefix(p, "~/"):
		if home == "" {
			return "", fmt.Errorf("%q starts with ~ but there is no home directory to expand it", p)
		}
		return filepath.Join(home, p[1:]), nil
	case strings.HasPrefix(p, "~"):
		return "", fmt.Errorf("%q: only ~/ (your own home directory) is expanded, not ~user", p)
	case filepath.IsAbs(p):
		return filepath.Clean(p), nil
	}
	return filepath.Join(dir, p), nil
}

// unknownName is the message for a reference to a name that is not
// declared, with a suggestion when one is close.
func unknownName(what, name string, known []string, section string) string {
	if guess := yamlx.Closest(name, known); guess != "" {
		return fmt.Sprintf("unknown %s %q (did you mean %q?)", what, name, guess)
	}
	if len(known) == 0 {
		return fmt.Sprintf("unknown %s %q: none is declared under %s", what, name, section)
	}
	const shown = 8
	list := strings.Join(known[:min(len(known), shown)], ", ")
	if len(known) > shown {
		list += fmt.Sprintf(" and %d more", len(known)-shown)
	}
	return fmt.Sprintf("unknown %s %q (declared under %s: %s)", what, name, section, list)
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + one + "s"
}
