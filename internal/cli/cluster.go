package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

// runCluster is `illico cluster status`: the replicas of illico serve on
// one database, and which one leads.
func runCluster(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "status" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(e.stdout, "Usage: illico cluster status [--json]")
			return nil
		}
		return usageErrorf("usage: illico cluster status [--json]")
	}
	fs := newFlags(e, "cluster status", "cluster status [--json]")
	asJSON := fs.Bool("json", false, "print the cluster as JSON")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico cluster status takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	cl, err := c.Cluster(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, cl)
	}
	fmt.Fprintln(e.stdout, cl.Said)
	if cl.Leader != nil {
		fmt.Fprintf(e.stdout, "epoch %d, renewed %s, expires %s\n", cl.Leader.Epoch, cl.Leader.Renewed.UTC().Format(time.TimeOnly+".000"), cl.Leader.Expires.UTC().Format(time.TimeOnly+".000"))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICA\tADDRESS\tLEADS\tSTARTED\tLAST SEEN")
	for _, r := range cl.Replicas {
		this := ""
		if r.ID == cl.This {
			this = " (answered)"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%v\t%s\t%s\n", r.ID, this, r.Address, r.Leads, r.Started.UTC().Format(time.DateTime), r.Seen.UTC().Format(time.DateTime))
	}
	return tw.Flush()
}
