package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/lab"
)

const labUsage = `Usage: illico lab COMMAND --dir DIR [options]

A simulated fleet on this machine: a real sshd per host on its own loopback
address, a customer site per host, and the groups behind a real HAProxy.

Commands:
  up      start a lab: --hosts N --datacenters gra,sbg --sites gra=rbx
          --reboot-seconds MIN-MAX --seed S
  fault   TARGET crash|freeze|no-return|errors   (TARGET: a host, datacenter=NAME or site=NAME)
  heal    TARGET
  status  each host's state, boot id, packages [--json]
  down    stop the lab and every process it started
`

func runLab(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, labUsage)
		return errUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, labUsage)
		return nil
	case "up":
		return runLabUp(ctx, e, args[1:])
	case "supervise":
		return runLabSupervise(ctx, e, args[1:])
	case "fault":
		return runLabFault(ctx, e, args[1:])
	case "heal":
		return runLabHeal(ctx, e, args[1:])
	case "status":
		return runLabStatus(ctx, e, args[1:])
	case "down":
		return runLabDown(ctx, e, args[1:])
	}
	return usageErrorf("unknown lab command %q (run illico lab help)", args[0])
}

// labFlags are the options of `lab up`, which it passes on to the supervisor.
type labFlags struct {
	dir, datacenters, sites, reboot string
	hosts                           int
	seed                            uint64
}

func (f *labFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "dir", "", "the lab's directory (created if missing)")
	fs.IntVar(&f.hosts, "hosts", 6, "number of hosts")
	fs.StringVar(&f.datacenters, "datacenters", "gra,sbg", "datacenters to spread the hosts over, each group one host in each")
	fs.StringVar(&f.sites, "sites", "", "datacenter=site pairs (gra=rbx,sbg=sbg); by default each datacenter is its own site")
	fs.StringVar(&f.reboot, "reboot-seconds", "2-5", "how long a reboot keeps a host down: MIN-MAX seconds, drawn at random")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the reboot durations")
}

func (f *labFlags) options() (lab.Options, error) {
	if f.dir == "" {
		return lab.Options{}, usageErrorf("lab: --dir is required")
	}
	if f.hosts == 0 {
		return lab.Options{}, usageErrorf("lab: --hosts must be at least 1")
	}
	dir, err := filepath.Abs(f.dir)
	if err != nil {
		return lab.Options{}, err
	}
	sites, err := lab.ParseSites(f.sites)
	if err != nil {
		return lab.Options{}, usageErrorf("lab: --sites: %v", err)
	}
	lo, hi, err := lab.ParseSecondsRange(f.reboot)
	if err != nil {
		return lab.Options{}, usageErrorf("lab: --reboot-seconds: %v", err)
	}
	o := lab.Options{
		Dir:         dir,
		Hosts:       f.hosts,
		Datacenters: lab.ParseList(f.datacenters),
		Sites:       sites,
		RebootMin:   lo,
		RebootMax:   hi,
		Seed:        f.seed,
	}
	if err := o.Validate(); err != nil {
		return lab.Options{}, usageErrorf("lab: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return o, nil
}

func (f *labFlags) args() []string {
	return []string{
		"--dir", f.dir,
		"--hosts", strconv.Itoa(f.hosts),
		"--datacenters", f.datacenters,
		"--sites", f.sites,
		"--reboot-seconds", f.reboot,
		"--seed", strconv.FormatUint(f.seed, 10),
	}
}

func runLabUp(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lab up", "lab up --dir DIR [--hosts N] [--datacenters gra,sbg] [--sites gra=rbx] [--reboot-seconds 2-5] [--seed S]")
	var f labFlags
	f.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("lab up: unexpected argument %q", rest[0])
	}
	o, err := f.options()
	if err != nil {
		return err
	}
	f.dir = o.Dir
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the illico binary: %w", err)
	}
	start := time.Now()
	if err := lab.Spawn(ctx, exe, append([]string{"lab", "supervise"}, f.args()...), o.Dir); err != nil {
		return err
	}
	info, err := lab.Load(o.Dir)
	if err != nil {
		return err
	}
	printLabSummary(e.stdout, info, time.Since(start))
	return nil
}

// runLabSupervise is the detached process that `lab up` spawns: it runs the
// lab until `lab down` or a signal, and reports its start on file descriptor 3.
func runLabSupervise(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lab supervise", "lab supervise --dir DIR ... (started by illico lab up)")
	var f labFlags
	f.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	o, err := f.options()
	if err != nil {
		return err
	}
	ready, err := lab.ReadyPipe()
	if err != nil {
		return usageErrorf("lab supervise: %v", err)
	}
	o.Logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	return lab.Supervise(ctx, o, ready)
}

func printLabSummary(w io.Writer, info *lab.Info, took time.Duration) {
	dcs := slices.Clone(info.Options.Datacenters)
	fmt.Fprintf(w, "Lab up in %s: %s in %s, %s, in %s\n\n",
		took.Round(100*time.Millisecond), plural(len(info.Hosts), "host"), plural(len(dcs), "datacenter")+" ("+strings.Join(dcs, ", ")+")", plural(len(info.Frontends), "group"), info.Dir)
	if len(info.Hosts) > 0 {
		first, last := info.Hosts[0], info.Hosts[len(info.Hosts)-1]
		fmt.Fprintf(w, "  hosts      %s (%s) .. %s (%s), ssh port %d, site port %d\n", first.Name, first.Address, last.Name, last.Address, info.SSHPort, info.SitePort)
	}
	groups := make([]string, 0, len(info.Frontends))
	for g := range info.Frontends {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	const shown = 4
	for i, g := range groups {
		label := ""
		if i == 0 {
			label = "frontends"
		}
		if i == shown {
			fmt.Fprintf(w, "  %-10s ... and %d more in lab.json\n", "", len(groups)-shown)
			break
		}
		fmt.Fprintf(w, "  %-10s %s %s\n", label, g, info.Frontends[g])
	}
	fmt.Fprintf(w, "  inventory  %s\n", info.Files.Inventory)
	fmt.Fprintf(w, "  daemon     %s\n", info.Files.Config)
	fmt.Fprintf(w, "  ssh key    %s (known hosts: %s)\n", info.Files.Identity, info.Files.KnownHosts)
	fmt.Fprintf(w, "  log        %s\n", info.Files.Log)
	fmt.Fprintln(w, "\nNext:")
	fmt.Fprintf(w, "  illico inventory check %s\n", info.Files.Inventory)
	if len(info.Hosts) > 0 {
		h := info.Hosts[0]
		fmt.Fprintf(w, "  ssh -i %s -o UserKnownHostsFile=%s -p %d %s@%s labpkg list\n", info.Files.Identity, info.Files.KnownHosts, info.SSHPort, info.User, h.Address)
		fmt.Fprintf(w, "  illico lab fault --dir %s %s crash\n", info.Dir, h.Name)
		fmt.Fprintf(w, "  illico lab fault --dir %s datacenter=%s freeze\n", info.Dir, h.Datacenter)
	}
	fmt.Fprintf(w, "  illico lab status --dir %s\n", info.Dir)
	fmt.Fprintf(w, "  illico lab down --dir %s\n", info.Dir)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// labClient parses --dir and the positionals of fault, heal and status.
func labClient(e *env, name, synopsis string, npos int, args []string, extra func(fs *flag.FlagSet)) (*lab.Client, []string, error) {
	fs := newFlags(e, name, synopsis)
	dir := fs.String("dir", "", "the lab's directory")
	if extra != nil {
		extra(fs)
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if *dir == "" {
		return nil, nil, usageErrorf("%s: --dir is required", name)
	}
	if len(pos) != npos {
		return nil, nil, usageErrorf("usage: illico %s", synopsis)
	}
	c, err := lab.Dial(*dir, &http.Client{Timeout: 30 * time.Second})
	return c, pos, err
}

func runLabFault(ctx context.Context, e *env, args []string) error {
	c, pos, err := labClient(e, "lab fault", "lab fault --dir DIR TARGET crash|freeze|no-return|errors", 2, args, nil)
	if err != nil {
		return err
	}
	hosts, err := c.Fault(ctx, pos[0], pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", pos[1], strings.Join(hosts, ", "))
	return nil
}

func runLabHeal(ctx context.Context, e *env, args []string) error {
	c, pos, err := labClient(e, "lab heal", "lab heal --dir DIR TARGET", 1, args, nil)
	if err != nil {
		return err
	}
	hosts, err := c.Heal(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "healed: %s\n", strings.Join(hosts, ", "))
	return nil
}

func runLabStatus(ctx context.Context, e *env, args []string) error {
	var asJSON bool
	c, _, err := labClient(e, "lab status", "lab status --dir DIR [--json]", 0, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	hosts, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(hosts)
	}
	printLabStatus(e.stdout, hosts)
	return nil
}

func printLabStatus(w io.Writer, hosts []lab.HostStatus) {
	var pkgs []string
	for _, h := range hosts {
		for p := range h.Installed {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	slices.Sort(pkgs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"HOST", "STATE", "BOOT ID"}
	for _, p := range pkgs {
		head = append(head, strings.ToUpper(p))
	}
	head = append(head, "REBOOT", "HAPROXY", "NOTE")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, h := range hosts {
		boot := "-"
		if len(h.BootID) >= 8 {
			boot = h.BootID[:8]
		}
		row := []string{h.Name, h.State, boot}
		for _, p := range pkgs {
			v := h.Installed[p]
			if r, ok := h.Running[p]; ok && r != v {
				v += " (runs " + r + ")"
			}
			row = append(row, orDash(v))
		}
		reboot := "-"
		if h.RebootRequired {
			reboot = "required"
		}
		var notes []string
		if h.Frozen && h.State != lab.StateFrozen {
			notes = append(notes, "comes back frozen")
		}
		if h.NoReturn {
			notes = append(notes, "next reboot never returns")
		}
		if h.Errors {
			notes = append(notes, "site answers 500 (errors fault)")
		}
		if h.Error != "" {
			notes = append(notes, h.Error)
		}
		row = append(row, reboot, orDash(h.Balancer), orDash(strings.Join(notes, "; ")))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runLabDown(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lab down", "lab down --dir DIR")
	dir := fs.String("dir", "", "the lab's directory")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *dir == "" || len(pos) > 0 {
		return usageErrorf("usage: illico lab down --dir DIR")
	}
	if err := lab.Down(ctx, *dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return usageErrorf("lab down: %v", err)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "Lab in %s is down.\n", *dir)
	return nil
}
