package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/illico-dev/illico/internal/api"
)

const alertSynopsis = "alert list [--json]"

// runAlert is `illico alert`: the alerts the daemon raised.
func runAlert(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", alertSynopsis)
	}
	switch args[0] {
	case "list":
		return runAlertList(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: illico %s\n", alertSynopsis)
		return nil
	}
	return usageErrorf("unknown alert command %q (expected list)", args[0])
}

func runAlertList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "alert list", alertSynopsis)
	asJSON := fs.Bool("json", false, "print the alerts as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico alert list takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	alerts, err := c.Alerts(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, api.Alerts{Alerts: alerts})
	}
	if len(alerts) == 0 {
		fmt.Fprintln(e.stdout, "no alerts")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSINCE\tALERT\tLABELS\tMUTED\tSUMMARY")
	for _, a := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Status, since(&a.StartsAt), a.Labels["alertname"],
			labelText(a.Labels), muted(a), a.Annotations["summary"])
	}
	return tw.Flush()
}

func labelText(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		if k != "alertname" && l[k] != "" {
			parts = append(parts, k+"="+l[k])
		}
	}
	return strings.Join(parts, " ")
}

func muted(a api.Alert) string {
	var why []string
	if a.Maintenance != "" {
		why = append(why, "rollout "+a.Maintenance)
	}
	for _, id := range a.SilencedBy {
		why = append(why, "silence "+id)
	}
	if len(why) == 0 {
		return "-"
	}
	return strings.Join(why, ", ")
}
