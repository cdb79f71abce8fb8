package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/illico-dev/illico/internal/api"
)

// runHosts is `illico hosts`: the daemon's hosts, with where they stand.
func runHosts(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "hosts", "hosts [--json]")
	asJSON := fs.Bool("json", false, "print the hosts as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico hosts takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	hosts, err := c.Hosts(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, api.Hosts{Hosts: hosts})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tDATACENTER\tSITE\tGROUPS")
	for _, h := range hosts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Name, h.Address, h.Datacenter, h.Site, strings.Join(h.Groups, ","))
	}
	return tw.Flush()
}
