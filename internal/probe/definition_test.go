package probe

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestParse(t *testing.T) {
	data := `probes:
  - name: site
    hosts: web-01
    kind: http
    target: https://${address}:8443/healthz
    headers: {Host: shop.example}
    interval: 10s
    timeout: 2s
    conditions:
      - "[STATUS] == 200"
      - '[BODY].status == "ok"'
      - "[CERTIFICATE_EXPIRATION] > 7d"
    failure_threshold: 2
  - name: boot
    hosts: datacenter=gra
    kind: ssh
  - hosts: db
    kind: command
    target: systemctl is-active postgresql
`
	defs, err := Parse("probes.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 3 {
		t.Fatalf("got %d definitions, want 3", len(defs))
	}
	site, boot, cmd := defs[0], defs[1], defs[2]
	if site.Interval != 10*time.Second || site.Timeout != 2*time.Second || site.FailureThreshold != 2 ||
		site.SuccessThreshold != DefaultSuccessThreshold || site.Method != "GET" || len(site.Conditions) != 3 {
		t.Errorf("site = %+v", site)
	}
	if boot.Interval != DefaultInterval || boot.Timeout != DefaultTimeout || boot.Conditions[0].String() != "[CONNECTED] == true" {
		t.Errorf("boot = %+v", boot)
	}
	if cmd.Name != "command" || cmd.Conditions[0].String() != "[EXIT_CODE] == 0" {
		t.Errorf("command = %+v", cmd)
	}
	tg := site.Expand(&fleet.Host{Name: "web-gra-01", Address: "10.0.0.1"})
	if tg.ID != "site@web-gra-01" || tg.Target != "https://10.0.0.1:8443/healthz" {
		t.Errorf("Expand = %+v", tg)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"bad condition", `probes:
  - hosts: web
    kind: http
    target: http://${address}/
    conditions: ["[STATUS] = 200"]
`, []string{`probes.yaml:5:18: condition "[STATUS] = 200", column 10: expected an operator`}},
		{"unknown key and kind", `probes:
  - hosts: web
    kind: htp
    targt: x
`, []string{
			`probes.yaml:3:11: unknown probe kind "htp" (did you mean "http"?)`,
			`probes.yaml:4:5: unknown key "targt" (did you mean "target"?)`,
		}},
		{"condition of another kind", `probes:
  - hosts: web
    kind: tcp
    target: ${address}:443
    conditions: ["[STATUS] == 200"]
`, []string{`probes.yaml:5:17: condition "[STATUS] == 200": a tcp probe does not observe [STATUS]`}},
		{"targets and thresholds", `probes:
  - name: a
    hosts: web
    kind: http
    target: ftp://${address}/
    timeout: 1m
  - name: a
    hosts: web
    kind: tcp
    target: ${adress}:22
    method: POST
  - name: c
    kind: ssh
    target: x
  - name: d
    hosts: web
    kind: command
    interval: 100ms
`, []string{
			`probes.yaml:5:13: target "ftp://${address}/" is not an http:// or https:// URL`,
			`probes.yaml:6:14: timeout 1m0s is longer than the interval 30s`,
			`probes.yaml:7:11: probe name "a" is used twice (first on line 2)`,
			`probes.yaml:10:13: unknown placeholder ${adress}`,
			`probes.yaml:11:13: method is for http probes only`,
			`probes.yaml:12:5: probe "c" has no hosts`,
			`probes.yaml:14:13: an ssh probe has no target`,
			`probes.yaml:15:5: a command probe needs the command`,
			`probes.yaml:18:15: interval 100ms is shorter than 1s`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("probes.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, lines[i], w)
				}
			}
		})
	}
}

func TestTargets(t *testing.T) {
	defs, err := Parse("p.yaml", []byte("probes:\n  - {name: ping, hosts: web, kind: tcp, target: '${address}:80'}\n  - {name: x, hosts: nope, kind: ssh}\n"))
	if err != nil {
		t.Fatal(err)
	}
	hosts := []*fleet.Host{{Name: "a", Address: "10.0.0.1"}, {Name: "b", Address: "10.0.0.2"}}
	sel := func(s string) ([]*fleet.Host, error) {
		if s == "web" {
			return hosts, nil
		}
		return nil, errors.New("selects no host")
	}
	got, err := Targets(defs, sel)
	if err == nil || !strings.Contains(err.Error(), `probe "x": selects no host`) {
		t.Errorf("err = %v", err)
	}
	if len(got) != 2 || got[1].Target != "10.0.0.2:80" || got[1].ID != "ping@b" {
		t.Errorf("targets = %+v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("probes:\n  - {hosts: web, kind: http, target: 'http://${address}/', conditions: ['[STATUS] == 200']}\n")
	f.Add("probes: [{kind: ssh, hosts: a, interval: 5s, timeout: 10s}]")
	f.Fuzz(func(t *testing.T, s string) {
		defs, err := Parse("f.yaml", []byte(s))
		if err == nil {
			for _, d := range defs {
				d.Expand(&fleet.Host{Name: "h", Address: "a"})
			}
		}
	})
}
