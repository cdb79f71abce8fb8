package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/labels"
)

const exampleConfig = `
route:
  receiver: oncall
  group_wait: 20s
  routes:
    - matchers: ['site="rbx"', 'alertname=~"Datacenter.*|Site.*"']
      receiver: pager
      group_by: [site]
      continue: true
    - matchers: ['group=~"(.*,)?db(,.*)?"']
      receiver: dba
      repeat_interval: 1h
receivers:
  oncall:
    webhook: {url: "https://alerts.example/hook", bearer_token: s3cret-token}
  pager:
    chat: {url: "https://hooks.slack.example/T000/B000/XXXX", channel: "#ops"}
    attempts: 3
    backoff: 2s
  dba:
    email: {smarthost: "mail.example:587", from: "illico@example.com", to: ["dba@example.com"]}
inhibit:
  datacenter_down: 50%
  min_hosts: 5
maintenance_grace: 10m
`

func TestLoad(t *testing.T) {
	cfg, err := Load("alerts.yaml", []byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	r := &cfg.Route
	if r.GroupWait != 20*time.Second || r.GroupInterval != DefaultGroupInterval || strings.Join(r.GroupBy, ",") != "site,datacenter,alertname" {
		t.Errorf("top route defaults: %+v", r)
	}
	pager, dba := r.Routes[0], r.Routes[1]
	if pager.GroupWait != 20*time.Second || strings.Join(pager.GroupBy, ",") != "site" {
		t.Errorf("pager route does not inherit: wait %s, group_by %v", pager.GroupWait, pager.GroupBy)
	}
	if dba.RepeatInterval != time.Hour || strings.Join(dba.GroupBy, ",") != "site,datacenter,alertname" {
		t.Errorf("dba route: repeat %s, group_by %v", dba.RepeatInterval, dba.GroupBy)
	}
	if cfg.Inhibit.DatacenterDown.String() != "50%" || cfg.Inhibit.SiteDown.String() != "60%" || cfg.Inhibit.MinHosts != 5 {
		t.Errorf("inhibit: %+v", cfg.Inhibit)
	}
	if cfg.MaintenanceGrace != 10*time.Minute || cfg.Receivers[1].Attempts != 3 || cfg.Receivers[0].Attempts != DefaultAttempts {
		t.Errorf("grace %s, attempts %d/%d", cfg.MaintenanceGrace, cfg.Receivers[1].Attempts, cfg.Receivers[0].Attempts)
	}

	routes := []struct {
		name   string
		labels labels.Set
		want   string
	}{
		{"datacenter on rbx goes to pager only: a child that matched keeps it from its parent", labels.Set{"alertname": DatacenterDown, "site": "rbx"}, "pager"},
		{"datacenter elsewhere", labels.Set{"alertname": DatacenterDown, "site": "gra"}, "oncall"},
		{"db host", labels.Set{"alertname": ProbeDown, "group": "app,db"}, "dba"},
		{"rbx db site down goes to both", labels.Set{"alertname": SiteDown, "site": "rbx", "group": "db"}, "pager,dba"},
		{"anything else", labels.Set{"alertname": ProbeDown, "group": "dbx"}, "oncall"},
	}
	for _, tt := range routes {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range cfg.Route.match(tt.labels) {
				got = append(got, r.Receiver)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("routes %v, want %s", got, tt.want)
			}
		})
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "route: {receiver: a, group_wiat: 1s}\nreceivers: {a: {webhook: {url: 'http://x'}}}\n",
			[]string{`alerts.yaml:1:22: unknown key "group_wiat" (did you mean "group_wait"?)`}},
		{"bad matcher", "route:\n  receiver: a\n  routes:\n    - matchers: ['host=~\"(\"']\nreceivers: {a: {webhook: {url: 'http://x'}}}\n",
			[]string{`alerts.yaml:4:18: matcher "host=~\"(\"": error parsing regexp`}},
		{"unknown receiver", "route: {receiver: pagr}\nreceivers: {pager: {webhook: {url: 'http://x'}}}\n",
			[]string{`alerts.yaml:1:19: unknown receiver "pagr" (did you mean "pager"?)`}},
		{"no receiver at the top", "receivers: {a: {webhook: {url: 'http://x'}}}\n",
			[]string{"the top route needs a receiver"}},
		{"receiver without integration", "route: {receiver: a}\nreceivers:\n  a: {attempts: 0}\n",
			[]string{`alerts.yaml:3:3: receiver "a" has no webhook, chat or email`, "attempts must be 1 or more"}},
		{"chat url is a secret", "route: {receiver: a}\nreceivers:\n  a: {chat: {url: 'hunter2-token'}}\n",
			[]string{`alerts.yaml:3:19: receiver "a": chat url is not an http:// or https:// URL`}},
		{"email", "route: {receiver: a}\nreceivers:\n  a:\n    email: {from: nobody, to: [], password: x}\n",
			[]string{"email needs a smarthost", `from "nobody" is not an e-mail address`, "at least one address in to", "a password needs a username"}},
		{"thresholds", "route: {receiver: a}\nreceivers: {a: {webhook: {url: 'http://x'}}}\ninhibit: {datacenter_down: 120%, group_down: 0, min_hosts: 0}\n",
			[]string{`alerts.yaml:3:28: "120%" is more than 100%`, "group_down must be more than 0", "min_hosts must be 1 or more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("alerts.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the secret:\n%v", err)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(exampleConfig)
	f.Add("route: {receiver: a, routes: [null, {}]}\nreceivers: {a: {}}\n")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := Load("alerts.yaml", []byte(s))
		if err != nil {
			return
		}
		New(cfg, nil).Flush(time.Unix(0, 0))
	})
}
