package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/api"
)

const silenceSynopsis = "silence add MATCHER... --expires D --comment TEXT | silence list [--json] | silence expire ID"

// runSilence is `illico silence`: mute alerts by label matchers for a while.
func runSilence(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", silenceSynopsis)
	}
	switch args[0] {
	case "add":
		return runSilenceAdd(ctx, e, args[1:])
	case "list":
		return runSilenceList(ctx, e, args[1:])
	case "expire":
		return runSilenceExpire(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: illico %s\n", silenceSynopsis)
		return nil
	}
	return usageErrorf("unknown silence command %q (expected add, list or expire)", args[0])
}

func runSilenceAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "silence add", "silence add MATCHER... --expires D --comment TEXT [--json]")
	expires := fs.Duration("expires", 0, "how long the silence lasts from now (`duration`, like 2h)")
	comment := fs.String("comment", "", "why the alerts are muted (required)")
	asJSON := fs.Bool("json", false, "print the silence as JSON")
	matchers, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(matchers) == 0:
		return usageErrorf(`illico silence add needs at least one matcher, like host="web-01" or alertname=~"Probe.*"`)
	case *expires <= 0:
		return usageErrorf("illico silence add needs --expires, a duration like 2h")
	case strings.TrimSpace(*comment) == "":
		return usageErrorf("illico silence add needs --comment saying why")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	s, err := c.AddSilence(ctx, api.NewSilence{Matchers: matchers, Ends: time.Now().Add(*expires), Comment: *comment})
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, s)
	}
	fmt.Fprintf(e.stdout, "silence %s mutes %s until %s\n", s.ID, strings.Join(s.Matchers, ", "), s.Ends.UTC().Format("2006-01-02 15:04Z"))
	return nil
}

func runSilenceList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "silence list", "silence list [--json]")
	asJSON := fs.Bool("json", false, "print the silences as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico silence list takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	silences, err := c.Silences(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, api.Silences{Silences: silences})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tENDS\tBY\tMATCHERS\tCOMMENT")
	for _, s := range silences {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.State, s.Ends.UTC().Format("2006-01-02 15:04Z"),
			s.CreatedBy, strings.Join(s.Matchers, " "), s.Comment)
	}
	return tw.Flush()
}

func runSilenceExpire(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "silence expire", "silence expire ID")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico silence expire ID")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	s, err := c.ExpireSilence(ctx, rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "silence %s expired\n", s.ID)
	return nil
}
