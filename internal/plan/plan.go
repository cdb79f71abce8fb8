// Package plan reads maintenance plans: the steps to run on each host, the
// steps that undo them, and how to roll them through the fleet. Like the
// inventory, a plan is read strictly and every problem is reported at once
// with its file, line and column.
package plan

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Default step timeouts and soak, set here and nowhere else.
const (
	defaultDrainTimeout  = 2 * time.Minute
	defaultRunTimeout    = 10 * time.Minute
	defaultRebootTimeout = 10 * time.Minute
	defaultHealthTimeout = 5 * time.Minute
	defaultMinHealthy    = 10 * time.Second
	defaultBlocked       = 15 * time.Minute
)

type planDoc struct {
	Name        string       `yaml:"name"`
	Description string       `yaml:"description"`
	Steps       []stepDoc    `yaml:"steps"`
	Rollback    []stepDoc    `yaml:"rollback"`
	Strategy    *strategyDoc `yaml:"strategy"`
	Window      *windowDoc   `yaml:"window"`
	Meta        yamlx.Meta
}

// stepDoc is one step: a single kind key, with options beside it, or just
// the kind's name ("- drain").
type stepDoc struct {
	Drain            *string        `yaml:"drain"`
	Undrain          *string        `yaml:"undrain"`
	Run              *string        `yaml:"run"`
	Reboot           *string        `yaml:"reboot"`
	WaitHealthy      *string        `yaml:"wait_healthy"`
	Unless           *string        `yaml:"unless"`
	AllowedExitCodes []int          `yaml:"allowed_exit_codes"`
	MinHealthy       *time.Duration `yaml:"min_healthy"`
	Timeout          *time.Duration `yaml:"timeout"`
	Meta             yamlx.Meta
	short            string
}

func (s *stepDoc) DecodeScalar(v string) error {
	switch fleet.StepKind(v) {
	case fleet.StepDrain, fleet.StepUndrain, fleet.StepReboot, fleet.StepWaitHealthy:
		s.short = v
		return nil
	case fleet.StepRun:
		return fmt.Errorf("a run step needs its command: run: COMMAND")
	}
	if guess := yamlx.Closest(v, stepKinds); guess != "" {
		return fmt.Errorf("unknown step %q (did you mean %q?)", v, guess)
	}
	return fmt.Errorf("unknown step %q (steps: %s)", v, strings.Join(stepKinds, ", "))
}

var stepKinds = []string{"drain", "undrain", "run", "reboot", "wait_healthy"}

type strategyDoc struct {
	Canary      *int            `yaml:"canary"`
	CanaryHosts string          `yaml:"canary_hosts"`
	MaxParallel *fleet.Quantity `yaml:"max_parallel"`
	Order       string          `yaml:"order"`
	MaxFailures *fleet.Quantity `yaml:"max_failures"`
	OnFailure   string          `yaml:"on_failure"`
	Blocked     *time.Duration  `yaml:"blocked_timeout"`
	// PauseOnAlerts are matchers read with labels.ParseMatcher.
	PauseOnAlerts      []string           `yaml:"pause_on_alerts"`
	ResumeWhenResolved bool               `yaml:"resume_when_resolved"`
	CustomerErrors     *customerErrorsDoc `yaml:"customer_errors"`
	Meta               yamlx.Meta
}

type customerErrorsDoc struct {
	PauseAbove *fleet.Share   `yaml:"pause_above"`
	HaltAbove  *fleet.Share   `yaml:"halt_above"`
	Window     *time.Duration `yaml:"window"`
	ClearFor   *time.Duration `yaml:"clear_for"`
	HaltAfter  *time.Duration `yaml:"halt_after"`
	Meta       yamlx.Meta
}

type windowDoc struct {
	Timezone string   `yaml:"timezone"`
	Days     []string `yaml:"days"`
	Hours    string   `yaml:"hours"`
	Meta     yamlx.Meta
}

// Load reads and validates the plan at path.
func Load(path string) (*fleet.Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fleet.Errorf(fleet.KindInvalid, "read plan: %v", err)
	}
	return Parse(path, data)
}

// Parse reads a plan from data; file names it in messages.
func Parse(file string, data []byte) (*fleet.Plan, error) {
	var doc planDoc
	if err := yamlx.Decode(file, data, &doc); err != nil {
		return nil, err
	}
	c := &checker{file: file}
	p := c.plan(&doc)
	if err := c.problems.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

type checker struct {
	file     string
	problems yamlx.Problems
}

func (c *checker) add(pos yamlx.Pos, format string, args ...any) {
	c.problems.Add(c.file, pos, format, args...)
}

func (c *checker) plan(doc *planDoc) *fleet.Plan {
	p := &fleet.Plan{Name: doc.Name, Description: doc.Description}
	if p.Name == "" {
		c.add(doc.Meta.Pos(), "the plan has no name: say what it does (name: Urgent openssl patch)")
	}
	if len(doc.Steps) == 0 {
		c.add(doc.Meta.At("steps"), "the plan has no steps")
	}
	p.Steps = c.steps(doc.Steps)
	p.Rollback = c.steps(doc.Rollback)
	p.Strategy = c.strategy(doc.Strategy)
	if doc.Window != nil {
		p.Window = c.window(doc.Window)
	}

	drains := func(steps []fleet.Step) (drain, undrainAfter bool) {
		for _, s := range steps {
			switch s.Kind {
			case fleet.StepDrain:
				drain, undrainAfter = true, false
			case fleet.StepUndrain:
				undrainAfter = true
			case fleet.StepReboot:
				undrainAfter = false
			}
		}
		return drain, undrainAfter
	}
	if d, u := drains(p.Steps); d && !u {
		c.add(doc.Meta.At("steps"), "the steps drain the host but do not undrain it after the last reboot: add an undrain step at the end")
	}
	if d, _ := drains(p.Steps); d && len(doc.Rollback) > 0 {
		if _, u := drains(p.Rollback); !u {
			c.add(doc.Meta.At("rollback"), "the rollback must end with undrain after its last reboot: a host that the steps drained must never be left out of rotation")
		}
	}
	if p.Strategy.RollbackAll && len(p.Rollback) == 0 {
		c.add(doc.Strategy.Meta.At("on_failure"), "on_failure: rollback_all needs rollback steps")
	}
	return p
}

func (c *checker) steps(docs []stepDoc) []fleet.Step {
	var out []fleet.Step
	for i := range docs {
		if s, ok := c.step(&docs[i]); ok {
			out = append(out, s)
		}
	}
	return out
}

func (c *checker) step(d *stepDoc) (fleet.Step, bool) {
	var kinds []string
	var s fleet.Step
	// A kind key may stand with no value ("- drain:" with options beside
	// it), so the key's presence says the kind, not its value.
	for _, name := range stepKinds {
		if d.Meta.Has(name) {
			kinds = append(kinds, name)
			s.Kind = fleet.StepKind(name)
		}
	}
	if d.short != "" {
		kinds, s.Kind = []string{d.short}, fleet.StepKind(d.short)
	}
	pos := d.Meta.Pos()
	switch len(kinds) {
	case 0:
		c.add(pos, "a step needs one of %s", strings.Join(stepKinds, ", "))
		return s, false
	case 1:
	default:
		c.add(pos, "a step does one thing; this one says %s: split it into steps", strings.Join(kinds, " and "))
		return s, false
	}
	only := func(key string, kinds ...fleet.StepKind) {
		if d.Meta.Has(key) && !slices.Contains(kinds, s.Kind) {
			c.add(d.Meta.At(key), "%s does not apply to a %s step", key, s.Kind)
		}
	}
	only("unless", fleet.StepRun)
	only("allowed_exit_codes", fleet.StepRun)
	only("min_healthy", fleet.StepWaitHealthy)

	switch s.Kind {
	case fleet.StepRun:
		s.Command = strings.TrimSpace(deref(d.Run))
		if s.Command == "" {
			c.add(d.Meta.At("run"), "run needs a command")
		}
		s.AllowedExitCodes = d.AllowedExitCodes
		if len(s.AllowedExitCodes) == 0 {
			s.AllowedExitCodes = []int{0}
		}
		s.Unless = strings.TrimSpace(deref(d.Unless))
		s.Timeout = defaultRunTimeout
	case fleet.StepReboot:
		switch mode := deref(d.Reboot); mode {
		case "", "always":
		case "if_required":
			s.IfRequired = true
		default:
			c.add(d.Meta.At("reboot"), "reboot is always or if_required, not %q", mode)
		}
		s.Timeout = defaultRebootTimeout
	case fleet.StepWaitHealthy:
		s.MinHealthy = defaultMinHealthy
		if d.MinHealthy != nil {
			s.MinHealthy = *d.MinHealthy
		}
		s.Timeout = defaultHealthTimeout
	case fleet.StepDrain, fleet.StepUndrain:
		s.Timeout = defaultDrainTimeout
	}
	for _, k := range []struct {
		v    *string
		name string
	}{{d.Drain, "drain"}, {d.Undrain, "undrain"}, {d.WaitHealthy, "wait_healthy"}} {
		if k.v != nil && *k.v != "" {
			c.add(d.Meta.At(k.name), "%s takes no value; its options stand beside it (timeout: 2m)", k.name)
		}
	}
	if d.Timeout != nil {
		s.Timeout = *d.Timeout
		if s.Timeout <= 0 {
			c.add(d.Meta.At("timeout"), "timeout must be more than zero")
		}
	}
	if s.Kind == fleet.StepWaitHealthy && s.MinHealthy >= s.Timeout {
		c.add(d.Meta.At("min_healthy"), "min_healthy (%s) must be shorter than the step's timeout (%s)", s.MinHealthy, s.Timeout)
	}
	return s, true
}

func (c *checker) strategy(d *strategyDoc) fleet.Strategy {
	s := fleet.Strategy{
		MaxParallel:    fleet.Quantity{N: 25, Percent: true},
		Order:          fleet.OrderSpread,
		BlockedTimeout: defaultBlocked,
		CustomerErrors: fleet.DefaultCustomerErrors,
	}
	if d == nil {
		return s
	}
	if d.CustomerErrors != nil {
		s.CustomerErrors = c.customerErrors(d.CustomerErrors)
	}
	if d.Blocked != nil {
		s.BlockedTimeout = *d.Blocked
		if s.BlockedTimeout <= 0 {
			c.add(d.Meta.At("blocked_timeout"), "blocked_timeout must be more than zero")
		}
	}
	for _, m := range d.PauseOnAlerts {
		if _, err := labels.ParseMatcher(m); err != nil {
			c.add(d.Meta.At("pause_on_alerts"), "pause_on_alerts: %v", err)
		}
	}
	s.PauseOnAlerts = d.PauseOnAlerts
	s.ResumeWhenResolved = d.ResumeWhenResolved
	if s.ResumeWhenResolved && len(s.PauseOnAlerts) == 0 {
		c.add(d.Meta.At("resume_when_resolved"), "resume_when_resolved needs pause_on_alerts: no alert pauses this plan's rollouts")
	}
	if d.Canary != nil {
		s.Canary = *d.Canary
		if s.Canary < 0 {
			c.add(d.Meta.At("canary"), "canary is a number of hosts, zero or more")
		}
	}
	s.CanaryHosts = strings.TrimSpace(d.CanaryHosts)
	if s.CanaryHosts != "" && d.Canary != nil {
		c.add(d.Meta.At("canary_hosts"), "say canary (a count) or canary_hosts (a selector), not both")
	}
	if d.MaxParallel != nil {
		s.MaxParallel = *d.MaxParallel
		if s.MaxParallel.N == 0 {
			c.add(d.Meta.At("max_parallel"), "max_parallel 0 would never start a host")
		}
	}
	if d.MaxFailures != nil {
		s.MaxFailures = *d.MaxFailures
	}
	switch fleet.Order(d.Order) {
	case "":
	case fleet.OrderSpread, fleet.OrderDatacenter:
		s.Order = fleet.Order(d.Order)
	default:
		c.add(d.Meta.At("order"), "order is spread or datacenter_by_datacenter, not %q", d.Order)
	}
	switch d.OnFailure {
	case "", "rollback_failed":
	case "rollback_all":
		s.RollbackAll = true
	default:
		c.add(d.Meta.At("on_failure"), "on_failure is rollback_failed or rollback_all, not %q", d.OnFailure)
	}
	return s
}

func (c *checker) customerErrors(d *customerErrorsDoc) fleet.CustomerErrors {
	e := fleet.DefaultCustomerErrors
	for _, f := range []struct {
		from *fleet.Share
		to   *fleet.Share
	}{{d.PauseAbove, &e.PauseAbove}, {d.HaltAbove, &e.HaltAbove}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	for _, f := range []struct {
		name string
		from *time.Duration
		to   *time.Duration
	}{{"window", d.Window, &e.Window}, {"clear_for", d.ClearFor, &e.ClearFor}, {"halt_after", d.HaltAfter, &e.HaltAfter}} {
		if f.from == nil {
			continue
		}
		*f.to = *f.from
		if *f.from <= 0 {
			c.add(d.Meta.At(f.name), "%s must be more than zero", f.name)
		}
	}
	if e.HaltAbove <= e.PauseAbove {
		at := d.Meta.At("halt_above")
		if d.HaltAbove == nil {
			at = d.Meta.At("pause_above")
		}
		c.add(at, "halt_above (%s) must be more than pause_above (%s): a rollout holds before it halts", e.HaltAbove, e.PauseAbove)
	}
	return e
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (c *checker) window(d *windowDoc) *fleet.Window {
	w := &fleet.Window{Location: time.UTC}
	if d.Timezone != "" {
		loc, err := time.LoadLocation(d.Timezone)
		if err != nil {
			c.add(d.Meta.At("timezone"), "unknown time zone %q (like Europe/Paris or UTC)", d.Timezone)
		} else {
			w.Location = loc
		}
	}
	if len(d.Days) == 0 {
		for i := range w.Days {
			w.Days[i] = true
		}
	}
	for _, day := range d.Days {
		wd, ok := weekdays[strings.ToLower(day)]
		if !ok {
			c.add(d.Meta.At("days"), "unknown day %q (mon, tue, wed, thu, fri, sat, sun)", day)
			continue
		}
		w.Days[wd] = true
	}
	from, to, ok := strings.Cut(d.Hours, "-")
	start, err1 := clock(from)
	end, err2 := clock(to)
	if !ok || err1 != nil || err2 != nil || start == end {
		c.add(d.Meta.At("hours"), "hours is a span like 09:00-18:00 (or 22:00-06:00 across midnight), not %q", d.Hours)
	}
	w.Start, w.End = start, end
	return w
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
