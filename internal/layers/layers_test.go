package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// anyNonStandard forbids every package outside the standard library.
const anyNonStandard = "(outside the standard library)"

// A rule says that the packages matching pkgs, except those matching
// except, link none matching forbidden, however indirectly. A pattern is an
// import path, relative to the module when it starts with internal/ or
// cmd/, and a trailing /... matches the path and every path below it.
type rule struct {
	pkgs, except, forbidden []string
	why                     string
}

// The deciding side runs what it decided through interfaces it declares,
// so it links no SSH, mail or SQL library and none of the adapters that
// wrap them. net/http it may link: the page renders over it, and the
// probes' definitions (which the inventory checks) include HTTP checks.
var (
	pure     = []string{"internal/plan", "internal/inventory", "internal/rollout", "internal/statuspage/page", "internal/statuspage/drive"}
	drivers  = []string{"golang.org/x/crypto/ssh/...", "net/smtp", "database/sql/...", "github.com/jackc/pgx/...", "modernc.org/sqlite/..."}
	adapters = []string{"internal/sshx", "internal/deliver", "internal/store/...", "internal/lb", "internal/client"}
	engines  = []string{"internal/rollout", "internal/alert", "internal/statuspage/...", "internal/monitor", "internal/probe", "internal/plan", "internal/inventory"}
	// The dashboard is a client of the API, served by the daemon.
	dashboard = []string{"internal/dashboard"}
)

var rules = []rule{
	{pkgs: []string{"internal/fleet", "internal/labels"}, forbidden: []string{anyNonStandard},
		why: "the domain's words sit at the bottom: every package may use them, so they use nothing but the standard library"},
	{pkgs: pure, forbidden: slices.Concat(drivers, adapters),
		why: "the scheduler, the plans, the inventory and the status page's model decide; SSH, mail, SQL and HTTP clients are the adapters' work, reached through interfaces the deciding side declares"},
	{pkgs: []string{"internal/plan"}, forbidden: []string{"net/http"},
		why: "a plan is read from a file and checked; nothing in it talks to the network"},
	{pkgs: adapters, forbidden: slices.Concat(engines, dashboard, []string{"internal/server/...", "internal/cli"}),
		why: "adapters (store, sshx, lb, deliver, the API client) serve the engines and know none of them, so that an engine can be tested without the others"},
	{pkgs: engines, forbidden: []string{"internal/api", "internal/client"},
		why: "the engines take and return the domain's values; the API's wire types are the edge's, where the daemon converts them"},
	{pkgs: slices.Concat(engines, dashboard), forbidden: []string{"internal/server/...", "internal/cli"},
		why: "the engines are wired by the daemon and the command line, never the other way"},
	{pkgs: []string{"internal/..."}, except: []string{"internal/cli", "internal/server/..."}, forbidden: []string{"internal/server"},
		why: "the daemon's wiring is for the command line (and the daemon's own test helpers): whatever else it offers belongs in a package below it"},
	{pkgs: []string{"internal/..."}, except: []string{"internal/cli"}, forbidden: []string{"internal/cli"},
		why: "the command line is the top: only cmd/illico runs it"},
}

// order is illico's packages from the top down, as the README's "Working on
// illico" lists them: a package imports only packages listed after it, so
// that the list read from the bottom is an order in which to understand
// them. Every package of the programs is listed: a new one finds its place
// here. Test helpers (a package whose name ends in "test"), the end-to-end
// tests, the benchmarks' commands and this package are not the programs',
// and are left out.
var order = []string{
	"cmd/illico",
	"internal/cli",
	"internal/server",
	// The engines.
	"internal/monitor",
	"internal/statuspage/site",
	"internal/statuspage/drive",
	"internal/statuspage/subscribers",
	"internal/statuspage/page",
	"internal/statuspage/texts",
	"internal/rollout",
	"internal/alert",
	"internal/dashboard",
	"internal/lab",
	"internal/inventory",
	"internal/probe",
	"internal/plan",
	// The adapters.
	"internal/store",
	"internal/sshx",
	"internal/lb",
	"internal/deliver",
	"internal/client",
	"internal/openssh",
	// The shared words.
	"internal/api",
	"internal/httpjson",
	"internal/password",
	"internal/clientip",
	"internal/yamlx",
	"internal/labels",
	"internal/fleet",
}

// notPrograms are the module's packages that order leaves out.
var notPrograms = []string{"internal/e2e", "internal/layers", "bench/..."}

func TestOrder(t *testing.T) {
	module, graph := load(t)
	place := map[string]int{}
	for i, p := range order {
		if graph[module+"/"+p] == nil {
			t.Errorf("order lists %s, which is no package: was it moved?", p)
		}
		place[module+"/"+p] = i
	}
	for path, p := range graph {
		if p.DepOnly || strings.HasSuffix(path, "test") || slices.ContainsFunc(notPrograms, func(pat string) bool { return match(module, pat, path) }) {
			continue
		}
		short := strings.TrimPrefix(path, module+"/")
		i, ok := place[path]
		if !ok {
			t.Errorf("%s is not in the order of packages: list it below what imports it and above what it imports (and in the README)", short)
			continue
		}
		for _, dep := range p.Imports {
			if j, ok := place[dep]; ok && j <= i {
				t.Errorf("%s imports %s, listed above it: the order of packages runs one way, down", short, strings.TrimPrefix(dep, module+"/"))
			}
		}
	}
}

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
	DepOnly    bool
}

func TestLayers(t *testing.T) {
	module, graph := load(t)
	ours := []string{}
	for path, p := range graph {
		if !p.DepOnly {
			ours = append(ours, path)
		}
	}
	slices.Sort(ours)
	short := func(path string) string { return strings.TrimPrefix(path, module+"/") }
	for _, r := range rules {
		for _, pat := range slices.Concat(r.pkgs, r.except) {
			if !slices.ContainsFunc(ours, func(path string) bool { return match(module, pat, path) }) {
				t.Errorf("rule %q: no package matches %s: was it moved?", r.why, pat)
			}
		}
		for _, path := range ours {
			in := func(pats []string) bool {
				return slices.ContainsFunc(pats, func(pat string) bool { return match(module, pat, path) })
			}
			if !in(r.pkgs) || in(r.except) {
				continue
			}
			bad := func(dep string) bool {
				return slices.ContainsFunc(r.forbidden, func(pat string) bool {
					if pat == anyNonStandard {
						return !graph[dep].Standard
					}
					return match(module, pat, dep)
				})
			}
			for _, chain := range links(graph, path, bad) {
				if len(chain) == 2 {
					t.Errorf("%s imports %s: %s", short(path), short(chain[1]), r.why)
					continue
				}
				mid := make([]string, len(chain)-2)
				for i, p := range chain[1 : len(chain)-1] {
					mid[i] = short(p)
				}
				t.Errorf("%s links %s through %s: %s", short(path), short(chain[len(chain)-1]), strings.Join(mid, " → "), r.why)
			}
		}
	}
}

// links returns, for every package below from that bad says is forbidden,
// one shortest chain of imports from from to it. It does not look below a
// forbidden package: the first one on a path is the one to fix.
func links(graph map[string]*pkg, from string, bad func(string) bool) [][]string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	var found [][]string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range graph[cur].Imports {
			if _, seen := prev[next]; seen || graph[next] == nil {
				continue
			}
			prev[next] = cur
			if bad(next) {
				chain := []string{next}
				for p := cur; p != ""; p = prev[p] {
					chain = append(chain, p)
				}
				slices.Reverse(chain)
				found = append(found, chain)
				continue
			}
			queue = append(queue, next)
		}
	}
	return found
}

// match reports whether path matches the rule's pattern pat.
func match(module, pat, path string) bool {
	if strings.HasPrefix(pat, "internal/") || strings.HasPrefix(pat, "cmd/") || strings.HasPrefix(pat, "bench/") {
		pat = module + "/" + pat
	}
	if base, ok := strings.CutSuffix(pat, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pat
}

// load lists the module's packages and everything they link, as the go
// command sees them for this platform, tests left out: the rules are about
// what the programs link.
func load(t *testing.T) (module string, graph map[string]*pkg) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the layers are read with the go command: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-m").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", stderr(err))
	}
	module = strings.TrimSpace(string(out))
	out, err = exec.Command(goTool, "list", "-deps", "-json=ImportPath,Imports,Standard,DepOnly", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", stderr(err))
	}
	graph = map[string]*pkg{}
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list -deps: %v", err)
		}
		graph[p.ImportPath] = &p
	}
	return module, graph
}

func stderr(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(exit.Stderr) > 0 {
		return errors.New(strings.TrimSpace(string(exit.Stderr)))
	}
	return err
}
