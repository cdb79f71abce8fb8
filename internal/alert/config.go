package alert

import (
	"errors"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Config is an alerts file (docs/alerts.md).
type Config struct {
	Route     Route            `yaml:"route"`
	Receivers []ReceiverConfig `yaml:"receivers,keyed"`
	Inhibit   Inhibit          `yaml:"inhibit"`
	// MaintenanceGrace is how long a host stays silenced after the rollout
	// step that took it down has ended.
	MaintenanceGrace time.Duration `yaml:"maintenance_grace"`

	Meta yamlx.Meta
}

// Route sends the alerts its matchers select to a receiver, unless one of
// its routes takes them first. What a route leaves out it takes from its
// parent.
type Route struct {
	Receiver string           `yaml:"receiver"`
	Matchers []labels.Matcher `yaml:"matchers"`
	GroupBy  []string         `yaml:"group_by"`
	// GroupWait is how long a new group waits for more alerts before its
	// first notification; GroupInterval how long before a digest of what
	// changed; RepeatInterval how long before the same alerts are sent
	// again.
	GroupWait      time.Duration `yaml:"group_wait"`
	GroupInterval  time.Duration `yaml:"group_interval"`
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	// Continue lets the routes after this one see the alerts it took.
	Continue bool     `yaml:"continue"`
	Routes   []*Route `yaml:"routes"`

	Meta yamlx.Meta
}

// Inhibit says when the topology folds host alerts into one alert.
type Inhibit struct {
	// DatacenterDown and SiteDown are how many of a datacenter's (site's)
	// hosts must be down for it to count as down; GroupDown how many of a
	// group's members.
	DatacenterDown fleet.Quantity `yaml:"datacenter_down"`
	SiteDown       fleet.Quantity `yaml:"site_down"`
	GroupDown      fleet.Quantity `yaml:"group_down"`
	// MinHosts keeps a tiny datacenter or site from counting as down for
	// one or two hosts.
	MinHosts int `yaml:"min_hosts"`

	Meta yamlx.Meta
}

// ReceiverConfig is one named receiver: one or more integrations, each
// retried with backoff.
type ReceiverConfig struct {
	Name    string         `yaml:"name"`
	Webhook *WebhookConfig `yaml:"webhook"`
	Chat    *ChatConfig    `yaml:"chat"`
	Email   *EmailConfig   `yaml:"email"`
	// Attempts is how many times a notification is tried; Backoff the
	// first wait between tries, doubled after each.
	Attempts int           `yaml:"attempts"`
	Backoff  time.Duration `yaml:"backoff"`

	Meta yamlx.Meta
}

// WebhookConfig posts Alertmanager's webhook payload (version 4).
type WebhookConfig struct {
	URL         string       `yaml:"url"`
	BearerToken fleet.Secret `yaml:"bearer_token"`

	Meta yamlx.Meta
}

// ChatConfig posts to a Slack-compatible incoming webhook, whose URL is
// itself the credential.
type ChatConfig struct {
	URL      fleet.Secret `yaml:"url"`
	Channel  string       `yaml:"channel"`
	Username string       `yaml:"username"`

	Meta yamlx.Meta
}

// EmailConfig sends mail over SMTP, with STARTTLS when the server offers it.
type EmailConfig struct {
	// Smarthost is the SMTP server, host:port.
	Smarthost string       `yaml:"smarthost"`
	From      string       `yaml:"from"`
	To        []string     `yaml:"to"`
	Username  string       `yaml:"username"`
	Password  fleet.Secret `yaml:"password"`

	Meta yamlx.Meta
}

// Defaults for what an alerts file leaves out.
const (
	DefaultGroupWait        = 30 * time.Second
	DefaultGroupInterval    = 5 * time.Minute
	DefaultRepeatInterval   = 4 * time.Hour
	DefaultMaintenanceGrace = 5 * time.Minute
	DefaultMinHosts         = 3
	DefaultAttempts         = 5
	DefaultBackoff          = time.Second
)

// DefaultGroupBy groups alerts by failure domain and kind.
var defaultGroupBy = []string{LabelSite, LabelDatacenter, LabelAlertname}

// SetDefaults fills in what the file leaves out; routes take what they
// leave out from their parent.
func (c *Config) SetDefaults() {
	r := &c.Route
	if r.GroupBy == nil {
		r.GroupBy = defaultGroupBy
	}
	if r.GroupWait == 0 && !r.Meta.Has("group_wait") {
		r.GroupWait = DefaultGroupWait
	}
	if r.GroupInterval == 0 {
		r.GroupInterval = DefaultGroupInterval
	}
	if r.RepeatInterval == 0 {
		r.RepeatInterval = DefaultRepeatInterval
	}
	r.inherit()
	in := &c.Inhibit
	if !in.Meta.Has("datacenter_down") {
		in.DatacenterDown = fleet.Quantity{N: 60, Percent: true}
	}
	if !in.Meta.Has("site_down") {
		in.SiteDown = fleet.Quantity{N: 60, Percent: true}
	}
	if !in.Meta.Has("group_down") {
		in.GroupDown = fleet.Quantity{N: 100, Percent: true}
	}
	if !in.Meta.Has("min_hosts") {
		in.MinHosts = DefaultMinHosts
	}
	if !c.Meta.Has("maintenance_grace") {
		c.MaintenanceGrace = DefaultMaintenanceGrace
	}
	for i := range c.Receivers {
		rc := &c.Receivers[i]
		if !rc.Meta.Has("attempts") {
			rc.Attempts = DefaultAttempts
		}
		if !rc.Meta.Has("backoff") {
			rc.Backoff = DefaultBackoff
		}
	}
}

func (r *Route) inherit() {
	for _, c := range r.Routes {
		if c == nil {
			continue
		}
		if c.Receiver == "" {
			c.Receiver = r.Receiver
		}
		if c.GroupBy == nil {
			c.GroupBy = r.GroupBy
		}
		if !c.Meta.Has("group_wait") {
			c.GroupWait = r.GroupWait
		}
		if c.GroupInterval == 0 {
			c.GroupInterval = r.GroupInterval
		}
		if c.RepeatInterval == 0 {
			c.RepeatInterval = r.RepeatInterval
		}
		c.inherit()
	}
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate adds every problem of a defaulted config to ps.
func (c *Config) Validate(file string, ps *yamlx.Problems) {
	names := map[string]bool{}
	for i := range c.Receivers {
		rc := &c.Receivers[i]
		names[rc.Name] = true
		rc.validate(file, ps)
	}
	if c.Route.Receiver == "" {
		ps.Add(file, c.Route.Meta.Pos(), "the top route needs a receiver, where every alert no other route takes goes")
	}
	c.Route.validate(file, ps, names)
	in := &c.Inhibit
	if in.MinHosts < 1 {
		ps.Add(file, in.Meta.At("min_hosts"), "min_hosts must be 1 or more")
	}
	for key, q := range map[string]fleet.Quantity{"datacenter_down": in.DatacenterDown, "site_down": in.SiteDown, "group_down": in.GroupDown} {
		at := in.Meta.At(key)
		decoded := !slices.ContainsFunc(*ps, func(p yamlx.Problem) bool { return p.File == file && p.Pos == at })
		if q.N == 0 && decoded {
			ps.Add(file, at, "%s must be more than 0, or every datacenter, site or group counts as down", key)
		}
	}
}

func (r *Route) validate(file string, ps *yamlx.Problems, receivers map[string]bool) {
	if r.Receiver != "" && !receivers[r.Receiver] {
		known := make([]string, 0, len(receivers))
		for n := range receivers {
			known = append(known, n)
		}
		if g := yamlx.Closest(r.Receiver, known); g != "" {
			ps.Add(file, r.Meta.At("receiver"), "unknown receiver %q (did you mean %q?)", r.Receiver, g)
		} else {
			ps.Add(file, r.Meta.At("receiver"), "unknown receiver %q", r.Receiver)
		}
	}
	for _, l := range r.GroupBy {
		if !labelNameRE.MatchString(l) {
			ps.Add(file, r.Meta.At("group_by"), "group_by: %q is not a label name", l)
		}
	}
	if r.GroupInterval <= 0 || r.RepeatInterval <= 0 {
		ps.Add(file, r.Meta.Pos(), "group_interval and repeat_interval must be more than 0")
	}
	for _, c := range r.Routes {
		if c == nil {
			ps.Add(file, r.Meta.At("routes"), "a route in the list is empty")
			continue
		}
		c.validate(file, ps, receivers)
	}
}

func (rc *ReceiverConfig) validate(file string, ps *yamlx.Problems) {
	if rc.Webhook == nil && rc.Chat == nil && rc.Email == nil {
		ps.Add(file, rc.Meta.Pos(), "receiver %q has no webhook, chat or email", rc.Name)
	}
	if rc.Attempts < 1 {
		ps.Add(file, rc.Meta.At("attempts"), "attempts must be 1 or more")
	}
	if w := rc.Webhook; w != nil && !httpURL(w.URL) {
		ps.Add(file, w.Meta.At("url"), "receiver %q: webhook url %q is not an http:// or https:// URL", rc.Name, w.URL)
	}
	if c := rc.Chat; c != nil && !httpURL(c.URL.Reveal()) {
		// The URL is the credential: the message must not repeat it.
		ps.Add(file, c.Meta.At("url"), "receiver %q: chat url is not an http:// or https:// URL", rc.Name)
	}
	if e := rc.Email; e != nil {
		if e.Smarthost == "" {
			ps.Add(file, e.Meta.Pos(), "receiver %q: email needs a smarthost (host:port)", rc.Name)
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			ps.Add(file, e.Meta.At("from"), "receiver %q: from %q is not an e-mail address", rc.Name, e.From)
		}
		if len(e.To) == 0 {
			ps.Add(file, e.Meta.At("to"), "receiver %q: email needs at least one address in to", rc.Name)
		}
		for _, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				ps.Add(file, e.Meta.At("to"), "receiver %q: %q is not an e-mail address", rc.Name, to)
			}
		}
		if e.Password != "" && e.Username == "" {
			ps.Add(file, e.Meta.At("password"), "receiver %q: a password needs a username", rc.Name)
		}
	}
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Load reads an alerts file, the contents of file, applies the defaults and
// validates it. Problems come back as yamlx.Problems with file:line:col.
func Load(file string, data []byte) (*Config, error) {
	var c Config
	err := yamlx.Decode(file, data, &c)
	var ps yamlx.Problems
	if !errors.As(err, &ps) && err != nil {
		return nil, err
	}
	c.SetDefaults()
	c.Validate(file, &ps)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// match is the routes that take alerts with labels l: the deepest matching
// routes, in order, stopping at the first that does not continue.
func (r *Route) match(l labels.Set) []*Route {
	if !labels.Matchers(r.Matchers).Match(l) {
		return nil
	}
	var out []*Route
	for _, c := range r.Routes {
		m := c.match(l)
		out = append(out, m...)
		if len(m) > 0 && !c.Continue {
			break
		}
	}
	if len(out) == 0 {
		out = []*Route{r}
	}
	return out
}
