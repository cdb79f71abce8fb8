package lab

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options say what fleet to build. The zero value of a field means its default.
type Options struct {
	// Dir holds every file of the lab; it is created if missing.
	Dir string
	// Hosts is the number of hosts (default 6).
	Hosts int
	// Datacenters the hosts are spread over (default gra, sbg).
	Datacenters []string
	// Sites maps a datacenter to its site; a datacenter not listed is a
	// site of its own.
	Sites map[string]string
	// RebootMin and RebootMax bound how long a reboot keeps a host down
	// (default 2s to 5s).
	RebootMin, RebootMax time.Duration
	// Seed makes the reboot durations reproducible (default 1).
	Seed uint64

	// Logger receives what the lab does; nil discards it.
	Logger *slog.Logger
	// Clock runs the lab's timers; nil is the real clock.
	Clock Clock
}

// Settings are the options a lab was built with, as lab.json records them.
type Settings struct {
	Hosts       int               `json:"hosts"`
	Datacenters []string          `json:"datacenters"`
	Sites       map[string]string `json:"sites"`
	RebootMin   Seconds           `json:"reboot_min_seconds"`
	RebootMax   Seconds           `json:"reboot_max_seconds"`
	Seed        uint64            `json:"seed"`
}

// Seconds is a duration written as a number of seconds in JSON.
type Seconds float64

// Duration converts back to a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// maxHosts keeps a lab inside what one machine can run and one /16 can address.
const maxHosts = 5000

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// withDefaults returns the options with every default applied, or every
// problem with them at once.
func (o Options) withDefaults() (Options, error) {
	if o.Hosts == 0 {
		o.Hosts = 6
	}
	if len(o.Datacenters) == 0 {
		o.Datacenters = []string{"gra", "sbg"}
	}
	if o.RebootMin == 0 && o.RebootMax == 0 {
		o.RebootMin, o.RebootMax = 2*time.Second, 5*time.Second
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	sites := make(map[string]string, len(o.Datacenters))
	for _, dc := range o.Datacenters {
		sites[dc] = dc
	}
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("no lab directory given"))
	}
	if o.Hosts < 1 || o.Hosts > maxHosts {
		errs = append(errs, fmt.Errorf("hosts: %d is not between 1 and %d", o.Hosts, maxHosts))
	}
	for i, dc := range o.Datacenters {
		if !namePattern.MatchString(dc) {
			errs = append(errs, fmt.Errorf("datacenter %q: use lower-case letters, digits, '.', '_' and '-'", dc))
		}
		if slices.Contains(o.Datacenters[:i], dc) {
			errs = append(errs, fmt.Errorf("datacenter %q is listed twice", dc))
		}
	}
	for _, dc := range sortedKeys(o.Sites) {
		site := o.Sites[dc]
		if _, ok := sites[dc]; !ok {
			errs = append(errs, fmt.Errorf("sites: %q is not one of the datacenters (%s)", dc, strings.Join(o.Datacenters, ", ")))
			continue
		}
		if !namePattern.MatchString(site) {
			errs = append(errs, fmt.Errorf("sites: site %q: use lower-case letters, digits, '.', '_' and '-'", site))
		}
		sites[dc] = site
	}
	o.Sites = sites
	if o.RebootMin < 0 || o.RebootMax < o.RebootMin {
		errs = append(errs, fmt.Errorf("reboot time: %s-%s is not a range of positive durations", o.RebootMin, o.RebootMax))
	}
	return o, errors.Join(errs...)
}

func (o Options) settings() Settings {
	return Settings{
		Hosts:       o.Hosts,
		Datacenters: o.Datacenters,
		Sites:       o.Sites,
		RebootMin:   Seconds(o.RebootMin.Seconds()),
		RebootMax:   Seconds(o.RebootMax.Seconds()),
		Seed:        o.Seed,
	}
}

// ParseList reads a comma-separated list ("gra,sbg"), dropping blanks.
func ParseList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ParseSites reads "gra=rbx,sbg=sbg": datacenter=site pairs.
func ParseSites(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range ParseList(s) {
		dc, site, ok := strings.Cut(pair, "=")
		dc, site = strings.TrimSpace(dc), strings.TrimSpace(site)
		if !ok || dc == "" || site == "" {
			return nil, fmt.Errorf("%q is not datacenter=site", pair)
		}
		if _, dup := out[dc]; dup {
			return nil, fmt.Errorf("datacenter %q is given a site twice", dc)
		}
		out[dc] = site
	}
	return out, nil
}

// ParseSecondsRange reads "MIN-MAX" or "N" in seconds ("2-5", "0.5-1", "3").
func ParseSecondsRange(s string) (lo, hi time.Duration, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	x, errA := parseSeconds(a)
	y, errB := parseSeconds(b)
	if errA != nil || errB != nil || y < x {
		return 0, 0, fmt.Errorf("%q is not a number of seconds or a range MIN-MAX like 2-5", s)
	}
	return x, y, nil
}

func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 3600 || f != f {
		return 0, fmt.Errorf("%q is not a number of seconds up to 3600", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Validate reports every problem with the options at once.
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}
