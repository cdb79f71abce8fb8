package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
)

const statusSynopsis = `status [--json]
       illico status incident open --title T [--component ID]... [--status S] [--impact I] --body TEXT [--lang en|fr|de]
       illico status incident update ID --status S --body TEXT [--lang en|fr|de]
       illico status maintenance schedule --name N [--hosts SELECTOR] [--component ID]... --from TIME --until TIME --body TEXT [--lang en|fr|de]
       illico status maintenance update ID --status S --body TEXT [--until TIME] [--lang en|fr|de]
       illico status component set ID --status S|auto`

// defaultLang is the language of what the operator writes unless told.
const defaultLang = fleet.ReferenceLanguage

// runStatus is `illico status`: the status page's components and open
// incidents and maintenances, and the operator's updates to them.
func runStatus(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "incident":
			return runStatusIncident(ctx, e, args[1:])
		case "maintenance":
			return runStatusMaintenance(ctx, e, args[1:])
		case "component":
			return runStatusComponent(ctx, e, args[1:])
		case "-h", "--help", "help":
			fmt.Fprintf(e.stdout, "Usage: illico %s\n", statusSynopsis)
			return nil
		}
	}
	fs := newFlags(e, "status", statusSynopsis)
	asJSON := fs.Bool("json", false, "print the components and the open incidents and maintenances as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("unknown status command %q (expected incident, maintenance or component)", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	page, err := c.Status(ctx)
	if err != nil {
		return err
	}
	page.Incidents = slices.DeleteFunc(page.Incidents, func(in api.Incident) bool { return in.Status == string(fleet.Resolved) })
	page.Maintenances = slices.DeleteFunc(page.Maintenances, func(m api.Maintenance) bool {
		return m.Status == string(fleet.MaintenanceCompleted)
	})
	if *asJSON {
		return printAPIJSON(e, page)
	}
	zone, err := time.LoadLocation(page.TimeZone)
	if err != nil {
		zone = time.UTC
		fmt.Fprintf(e.stdout, "Times in UTC: this machine does not know the page's time zone, %s.\n\n", page.TimeZone)
	} else {
		fmt.Fprintf(e.stdout, "Times in %s, the page's time zone.\n\n", zone)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tNAME\tSTATUS\tHOSTS")
	for _, cp := range page.Components {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", cp.ID, cp.Name, cp.Status, len(cp.Hosts))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(page.Incidents) == 0 {
		fmt.Fprintln(e.stdout, "\nNo open incident.")
	} else {
		fmt.Fprintln(e.stdout, "\nINCIDENTS")
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tIMPACT\tCOMPONENTS\tOPENED\tTITLE")
		for _, in := range page.Incidents {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.Status, in.Impact, componentList(in.Components),
				in.CreatedAt.In(zone).Format(clockLayout), cmp.Or(in.Name.In(defaultLang, defaultLang), "-"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(page.Maintenances) == 0 {
		fmt.Fprintln(e.stdout, "No open maintenance.")
		return nil
	}
	fmt.Fprintln(e.stdout, "\nMAINTENANCES")
	tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tCOMPONENTS\tSCHEDULED\tROLLOUT\tTITLE")
	for _, m := range page.Maintenances {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Status, componentList(m.Components),
			window(m.ScheduledFor.In(zone), m.ScheduledUntil.In(zone)),
			cmp.Or(m.Rollout, "-"), cmp.Or(m.Name.In(defaultLang, defaultLang), "-"))
	}
	return tw.Flush()
}

// clockLayout is how `illico status` prints a time, in the page's zone
// its header names.
const clockLayout = "2006-01-02 15:04"

// window is a maintenance's window, its end's date left out when it is
// the start's.
func window(from, until time.Time) string {
	end := until.Format(clockLayout)
	if from.Format(time.DateOnly) == until.Format(time.DateOnly) {
		end = until.Format("15:04")
	}
	return from.Format(clockLayout) + " → " + end
}

func componentList(s []string) string { return cmp.Or(strings.Join(s, ","), "-") }

func runStatusIncident(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", statusSynopsis)
	}
	switch args[0] {
	case "open":
		return runIncidentOpen(ctx, e, args[1:])
	case "update":
		return runStatusUpdate(ctx, e, "incident", args[1:])
	}
	return usageErrorf("unknown status incident command %q (expected open or update)", args[0])
}

func runStatusMaintenance(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", statusSynopsis)
	}
	switch args[0] {
	case "schedule":
		return runMaintenanceSchedule(ctx, e, args[1:])
	case "update":
		return runStatusUpdate(ctx, e, "maintenance", args[1:])
	}
	return usageErrorf("unknown status maintenance command %q (expected schedule or update; rollouts open their own)", args[0])
}

// parseTime reads a time given on the command line: RFC 3339, with its
// offset, so that no one schedules in the wrong zone.
func parseTime(flag, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageErrorf("--%s %q: expected a time with its offset, like 2026-03-14T22:00:00+01:00 or 2026-03-14T21:00:00Z", flag, s)
	}
	return t, nil
}

func runMaintenanceSchedule(ctx context.Context, e *env, args []string) error {
	const synopsis = "status maintenance schedule --name N [--hosts SELECTOR] [--component ID]... --from TIME --until TIME --body TEXT [--lang en|fr|de]"
	fs := newFlags(e, "status maintenance schedule", synopsis)
	name := fs.String("name", "", "the maintenance's `name`, as customers see it")
	hosts := fs.String("hosts", "", "the hosts it takes out of service while in progress, a `selector` like a rollout's --limit (web-gra-01, datacenter=gra): each drained once its budgets allow, back at the end")
	var components listFlag
	fs.Var(&components, "component", "a component `ID` it affects, as `illico status` lists them (repeatable; with --hosts, those of the hosts when left out)")
	from := fs.String("from", "", "when it starts: a `time` like 2026-03-14T22:00:00+01:00")
	until := fs.String("until", "", "when it ends: a `time` like 2026-03-15T01:00:00+01:00")
	body := fs.String("body", "", "what customers are told, the first update's `text`")
	lang := fs.String("lang", defaultLang, "the `language` of the name and the body: "+fleet.LanguageChoice())
	asJSON := fs.Bool("json", false, "print the maintenance as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageErrorf("illico status maintenance schedule takes no arguments, got %q (give the name with --name)", rest[0])
	case *name == "":
		return usageErrorf("illico status maintenance schedule needs --name N")
	case len(components) == 0 && *hosts == "":
		return usageErrorf("illico status maintenance schedule needs --component ID, once for each component it affects, or --hosts SELECTOR")
	case *from == "" || *until == "":
		return usageErrorf("illico status maintenance schedule needs --from TIME and --until TIME")
	case *body == "":
		return usageErrorf("illico status maintenance schedule needs --body TEXT")
	}
	start, err := parseTime("from", *from)
	if err != nil {
		return err
	}
	end, err := parseTime("until", *until)
	if err != nil {
		return err
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	m, err := c.ScheduleMaintenance(ctx, api.NewMaintenance{
		Name: fleet.Text{*lang: *name}, Hosts: *hosts, Components: components, ScheduledFor: start, ScheduledUntil: end, Body: fleet.Text{*lang: *body},
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, m)
	}
	fmt.Fprintln(e.stdout, m.ID)
	fmt.Fprintf(e.stderr, "maintenance %s %s, from %s until %s; it starts and ends by itself, or: illico status maintenance update %s --status S --body TEXT\n",
		m.ID, m.Status, m.ScheduledFor.Format(time.RFC3339), m.ScheduledUntil.Format(time.RFC3339), m.ID)
	if len(m.Hosts) > 0 {
		fmt.Fprintf(e.stderr, "while in progress, it takes %s out of service, each once its budgets allow (illico budget shows the leases)\n", strings.Join(m.Hosts, ", "))
	}
	return nil
}

func runStatusComponent(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", statusSynopsis)
	}
	if args[0] != "set" {
		return usageErrorf("unknown status component command %q (expected set)", args[0])
	}
	const synopsis = "status component set ID --status S|auto"
	fs := newFlags(e, "status component set", synopsis)
	status := fs.String("status", "", "the `status` the page shows whatever the hosts say: operational, under_maintenance, degraded_performance, partial_outage, major_outage; or auto for the hosts' again")
	asJSON := fs.Bool("json", false, "print the component as JSON")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case len(rest) != 1:
		return usageErrorf("illico status component set takes one component ID, got %d arguments", len(rest))
	case *status == "":
		return usageErrorf("illico status component set needs --status S (or auto)")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	cp, err := c.SetComponentStatus(ctx, rest[0], *status)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, cp)
	}
	how := "set by hand"
	if cp.Override == "" {
		how = "from its hosts"
	}
	fmt.Fprintf(e.stdout, "component %s: %s (%s)\n", cp.ID, cp.Status, how)
	return nil
}

func runIncidentOpen(ctx context.Context, e *env, args []string) error {
	const synopsis = "status incident open --title T [--component ID]... [--status S] [--impact I] --body TEXT [--lang en|fr|de]"
	fs := newFlags(e, "status incident open", synopsis)
	title := fs.String("title", "", "the incident's `title`, as customers see it")
	var components listFlag
	fs.Var(&components, "component", "a component `ID` it affects, as `illico status` lists them (repeatable)")
	status := fs.String("status", string(fleet.Investigating), "investigating, identified or monitoring")
	impact := fs.String("impact", string(fleet.ImpactMinor), "none, minor, major or critical")
	body := fs.String("body", "", "the first update's `text`")
	lang := fs.String("lang", defaultLang, "the `language` of the title and the body: "+fleet.LanguageChoice())
	asJSON := fs.Bool("json", false, "print the incident as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageErrorf("illico status incident open takes no arguments, got %q (give the title with --title)", rest[0])
	case *title == "":
		return usageErrorf("illico status incident open needs --title T")
	case *body == "":
		return usageErrorf("illico status incident open needs --body TEXT")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	in, err := c.OpenIncident(ctx, api.NewIncident{
		Name: fleet.Text{*lang: *title}, Status: *status, Impact: *impact,
		Components: components, Body: fleet.Text{*lang: *body},
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, in)
	}
	fmt.Fprintln(e.stdout, in.ID)
	fmt.Fprintf(e.stderr, "incident %s opened (%s, impact %s); update it with: illico status incident update %s --status S --body TEXT\n",
		in.ID, in.Status, in.Impact, in.ID)
	return nil
}

// runStatusUpdate adds an update to an incident or a maintenance (kind).
func runStatusUpdate(ctx context.Context, e *env, kind string, args []string) error {
	synopsis := "status " + kind + " update ID --status S --body TEXT [--lang en|fr|de]"
	statuses := "investigating, identified, monitoring or resolved"
	if kind == "maintenance" {
		synopsis = "status maintenance update ID --status S --body TEXT [--until TIME] [--lang en|fr|de]"
		statuses = "scheduled, in_progress, verifying or completed"
	}
	fs := newFlags(e, "status "+kind+" update", synopsis)
	status := fs.String("status", "", "the new `status`: "+statuses)
	body := fs.String("body", "", "the update's `text`")
	var until *string
	if kind == "maintenance" {
		until = fs.String("until", "", "moves the end of the maintenance's window to `time`, like 2026-03-15T02:00:00+01:00")
	}
	lang := fs.String("lang", defaultLang, "the `language` of the body: "+fleet.LanguageChoice())
	asJSON := fs.Bool("json", false, "print the "+kind+" as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) != 1:
		return usageErrorf("illico status %s update takes one ID, got %d arguments", kind, len(rest))
	case *status == "":
		return usageErrorf("illico status %s update needs --status (%s)", kind, statuses)
	case *body == "":
		return usageErrorf("illico status %s update needs --body TEXT", kind)
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	u := api.NewStatusUpdate{Status: *status, Body: fleet.Text{*lang: *body}}
	if until != nil && *until != "" {
		end, err := parseTime("until", *until)
		if err != nil {
			return err
		}
		u.ScheduledUntil = &end
	}
	var out any
	var now string
	if kind == "incident" {
		in, err := c.UpdateIncident(ctx, rest[0], u)
		if err != nil {
			return err
		}
		out, now = in, in.Status
	} else {
		m, err := c.UpdateMaintenance(ctx, rest[0], u)
		if err != nil {
			return err
		}
		out, now = m, m.Status
	}
	if *asJSON {
		return printAPIJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "%s %s: %s\n", kind, rest[0], now)
	return nil
}
