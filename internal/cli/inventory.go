package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/yamlx"
)

func inventoryUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: illico inventory COMMAND

Commands:
  check FILE                      read FILE strictly; print its problems, or a summary of the fleet
  import ansible FILE [-o OUT]    turn an Ansible inventory (INI or YAML) into an illico inventory
  audit FILE [--json]             find the single points of failure of the fleet's topology

Run illico inventory COMMAND -h for the options of a command.
`)
}

// runInventory is `illico inventory`: check, import and audit.
func runInventory(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		inventoryUsage(e.stderr)
		return errUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		inventoryUsage(e.stdout)
		return nil
	case "check":
		return runInventoryCheck(ctx, e, args[1:])
	case "import":
		return runInventoryImport(ctx, e, args[1:])
	case "audit":
		return runInventoryAudit(ctx, e, args[1:])
	}
	return usageErrorf("unknown inventory command %q (run illico inventory -h)", args[0])
}

func runInventoryCheck(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "inventory check", "inventory check FILE")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("illico inventory check takes one FILE, got %d arguments", len(pos))
	}
	inv, err := inventory.Load(pos[0])
	if err != nil {
		return problems(e, err)
	}
	inventory.Summary(e.stdout, inv)
	return nil
}

// problems prints the problems of a file, one a line, and says so with
// errFound; any other error is returned as it is.
func problems(e *env, err error) error {
	var ps yamlx.Problems
	if !errors.As(err, &ps) {
		return err
	}
	for _, p := range ps {
		fmt.Fprintln(e.stderr, p)
	}
	return errFound
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runInventoryImport(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "inventory import", "inventory import ansible FILE [flags] [-o OUT]")
	var opts inventory.AnsibleOptions
	var identities, groups listFlag
	fs.StringVar(&opts.DatacenterVar, "datacenter-var", "", "the host or group `VARIABLE` that names a host's datacenter")
	fs.StringVar(&opts.Datacenter, "datacenter", "", "the datacenter `NAME` of the hosts the other datacenter flags do not place")
	fs.StringVar(&opts.SiteVar, "site-var", "", "the host or group `VARIABLE` that names the site of a host's datacenter")
	fs.StringVar(&opts.DatacenterGroupPrefix, "datacenter-group-prefix", "", "groups named `PREFIX`NAME hold the hosts of datacenter NAME")
	fs.StringVar(&opts.KnownHosts, "known-hosts", "~/.ssh/known_hosts", "the known_hosts `FILE` host keys are checked against")
	fs.Var(&identities, "identity-file", "a private key `FILE` to log in with (repeatable; without any, the SSH agent)")
	fs.Var(&groups, "groups", "the Ansible groups that are redundancy groups, as globs (`PATTERN`,...; repeatable); the others become labels")
	out := fs.String("o", "", "write the inventory to `FILE` instead of standard output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "ansible" {
		return usageErrorf("usage: illico inventory import ansible FILE [flags] [-o OUT] (Ansible is the one format illico imports)")
	}
	opts.IdentityFiles = identities
	for _, g := range groups {
		for p := range strings.SplitSeq(g, ",") {
			if p = strings.TrimSpace(p); p != "" {
				opts.Groups = append(opts.Groups, p)
			}
		}
	}
	opts.Home = e.getenv("HOME")
	file := pos[1]
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read the Ansible inventory: %w", err)
	}
	inv, notes, err := inventory.ImportAnsible(file, data, opts)
	for _, n := range notes {
		n.Msg = "note: " + n.Msg
		fmt.Fprintln(e.stderr, n)
	}
	if err != nil {
		return problems(e, err)
	}
	dir := "."
	if *out != "" {
		dir = filepath.Dir(*out)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return fmt.Errorf("resolve the output directory: %w", err)
	}
	encoded, err := inventory.Encode(inv, dir)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# Imported from the Ansible inventory %s by illico inventory import.\n", file)
	encoded = append([]byte(header), encoded...)
	if *out == "" {
		_, err := e.stdout.Write(encoded)
		return err
	}
	if err := os.WriteFile(*out, encoded, 0o644); err != nil {
		return fmt.Errorf("write the inventory: %w", err)
	}
	fmt.Fprintf(e.stderr, "wrote %s: %s, %s\n", *out, count(len(inv.Hosts), "host"), count(len(inv.Groups), "group"))
	return nil
}

func runInventoryAudit(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "inventory audit", "inventory audit FILE [--json]")
	asJSON := fs.Bool("json", false, "print the findings as a JSON array of {kind, group, hosts, reason}")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("illico inventory audit takes one FILE, got %d arguments", len(pos))
	}
	inv, err := inventory.Load(pos[0])
	if err != nil {
		return problems(e, err)
	}
	findings := inventory.Audit(inv)
	if *asJSON {
		if findings == nil {
			findings = []inventory.Finding{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(findings); err != nil {
			return fmt.Errorf("write the findings: %w", err)
		}
	} else {
		for _, f := range findings {
			fmt.Fprintln(e.stdout, f)
		}
	}
	if len(findings) > 0 {
		return errFound
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "no single point of failure found in %s\n", count(len(inv.Groups), "group"))
	}
	return nil
}

// count says "1 host" or "2 hosts".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
