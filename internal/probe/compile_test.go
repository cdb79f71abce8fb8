package probe

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestCompile(t *testing.T) {
	tests := []struct {
		name     string
		check    fleet.Check
		interval time.Duration
		want     Definition // Conditions compared as text, in conds
		conds    []string
	}{
		{
			name:     "http, every default",
			check:    fleet.Check{Name: "site", Kind: fleet.CheckHTTP, Target: "http://${address}/"},
			interval: 10 * time.Second,
			want: Definition{Name: "site", Kind: KindHTTP, Target: "http://${address}/", Method: "GET",
				Interval: 10 * time.Second, Timeout: 5 * time.Second, FailureThreshold: 3, SuccessThreshold: 1},
			conds: []string{"[STATUS] == 200"},
		},
		{
			name:     "the daemon's short interval bounds the timeout",
			check:    fleet.Check{Kind: fleet.CheckTCP, Target: "${address}:443", Timeout: 3 * time.Second},
			interval: time.Second,
			want: Definition{Name: "tcp", Kind: KindTCP, Target: "${address}:443",
				Interval: time.Second, Timeout: time.Second, FailureThreshold: 3, SuccessThreshold: 1},
			conds: []string{"[CONNECTED] == true"},
		},
		{
			name: "everything said",
			check: fleet.Check{Name: "api", Kind: fleet.CheckHTTP, Target: "https://${name}.example/health", Method: "HEAD",
				Headers: map[string]string{"Host": "shop.example"}, FollowRedirects: true, Interval: time.Minute, Timeout: 30 * time.Second,
				Conditions: []string{`[BODY].status == "ok"`, " [RESPONSE_TIME] < 300 "}, FailureThreshold: 2, SuccessThreshold: 4},
			interval: 10 * time.Second,
			want: Definition{Name: "api", Kind: KindHTTP, Target: "https://${name}.example/health", Method: "HEAD",
				Headers: map[string]string{"Host": "shop.example"}, FollowRedirects: true, Interval: time.Minute, Timeout: 30 * time.Second,
				FailureThreshold: 2, SuccessThreshold: 4},
			conds: []string{`[BODY].status == "ok"`, "[RESPONSE_TIME] < 300"},
		},
		{
			name:     "command",
			check:    fleet.Check{Kind: fleet.CheckCommand, Target: "systemctl is-active postgresql"},
			interval: 10 * time.Second,
			want: Definition{Name: "command", Kind: KindCommand, Target: "systemctl is-active postgresql",
				Interval: 10 * time.Second, Timeout: 5 * time.Second, FailureThreshold: 3, SuccessThreshold: 1},
			conds: []string{"[EXIT_CODE] == 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Compile(tt.check, tt.interval)
			if err != nil {
				t.Fatal(err)
			}
			var conds []string
			for _, c := range d.Conditions {
				conds = append(conds, c.String())
			}
			d.Conditions = nil
			if !reflect.DeepEqual(*d, tt.want) || !reflect.DeepEqual(conds, tt.conds) {
				t.Errorf("got  %+v %q\nwant %+v %q", *d, conds, tt.want, tt.conds)
			}
		})
	}
}

func TestCompileProblems(t *testing.T) {
	tests := []struct {
		name  string
		check fleet.Check
		want  CheckProblems
	}{
		{"no kind", fleet.Check{Name: "x"}, CheckProblems{{"kind", -1, "kind is missing (one of http, tcp, ssh, command)"}}},
		{"unknown kind", fleet.Check{Kind: "htp", Target: "x"}, CheckProblems{{"kind", -1, `unknown check kind "htp" (did you mean "http"?)`}}},
		{"far kind", fleet.Check{Kind: "websocket"}, CheckProblems{{"kind", -1, `unknown check kind "websocket" (known: http, tcp, ssh, command)`}}},
		{"bad condition and another kind's", fleet.Check{Kind: fleet.CheckTCP, Target: "a:1", Conditions: []string{"[CONNECTED] == true", "[STATUS] = 200", "[STATUS] == 200"}}, CheckProblems{
			{"conditions", 1, `condition "[STATUS] = 200", column 10: expected an operator (== != < <= > >=), found "="`},
			{"conditions", 2, `condition "[STATUS] == 200": a tcp check does not observe [STATUS]`},
		}},
		{"targets", fleet.Check{Kind: fleet.CheckHTTP, Target: "ftp://${address}/"}, CheckProblems{{"target", -1, `target "ftp://${address}/" is not an http:// or https:// URL`}}},
		{"no target", fleet.Check{Kind: fleet.CheckHTTP}, CheckProblems{{"target", -1, `an http check needs a target: an http:// or https:// URL`}}},
		{"tcp without port", fleet.Check{Kind: fleet.CheckTCP, Target: "${address}"}, CheckProblems{{"target", -1, `target "${address}" is not host:port`}}},
		{"tcp port out of range", fleet.Check{Kind: fleet.CheckTCP, Target: "${address}:70000"}, CheckProblems{{"target", -1, `target "${address}:70000" is not host:port`}}},
		{"bare address in a URL", fleet.Check{Kind: fleet.CheckHTTP, Target: "http://${address_bare}:8080/healthz"}, CheckProblems{{"target", -1,
			`target "http://${address_bare}:8080/healthz" is not an http:// or https:// URL for a host with an IPv6 address (2001:db8::10 gives "http://2001:db8::10:8080/healthz"): write ${address}, which puts an IPv6 address in brackets`}}},
		{"bare address before a port", fleet.Check{Kind: fleet.CheckTCP, Target: "${address_bare}:5432"}, CheckProblems{{"target", -1,
			`target "${address_bare}:5432" is not host:port for a host with an IPv6 address (2001:db8::10 gives "2001:db8::10:5432"): write ${address}, which puts an IPv6 address in brackets`}}},
		{"a bracket too many", fleet.Check{Kind: fleet.CheckTCP, Target: "[${address}:5432"}, CheckProblems{{"target", -1, `target "[${address}:5432" is not host:port`}}},
		{"placeholder typo", fleet.Check{Kind: fleet.CheckTCP, Target: "${adress}:22"}, CheckProblems{{"target", -1, `unknown placeholder ${adress} (did you mean ${address}?)`}}},
		{"unclosed placeholder", fleet.Check{Kind: fleet.CheckHTTP, Target: "http://${address:8080/"}, CheckProblems{{"target", -1, `placeholder "${address:8080/" has no closing }`}}},
		{"ssh with a target", fleet.Check{Kind: fleet.CheckSSH, Target: "x"}, CheckProblems{{"target", -1, "an ssh check has no target: it asks the host itself for its boot id"}}},
		{"empty command", fleet.Check{Kind: fleet.CheckCommand, Target: " "}, CheckProblems{{"target", -1, "a command check needs a target: the command to run on the host"}}},
		{"http keys elsewhere", fleet.Check{Kind: fleet.CheckTCP, Target: "a:1", Method: "GET", Headers: map[string]string{"A": "b"}, FollowRedirects: true}, CheckProblems{
			{"method", -1, "method is for http checks only"}, {"headers", -1, "headers is for http checks only"}, {"follow_redirects", -1, "follow_redirects is for http checks only"},
		}},
		{"bad method and headers", fleet.Check{Kind: fleet.CheckHTTP, Target: "http://a/", Method: "GET /", Headers: map[string]string{"X Y": "1", "Z": "a\nb"}}, CheckProblems{
			{"method", -1, `method "GET /" is not an HTTP method (like GET or HEAD)`}, {"headers", -1, `header name "X Y" is not valid`}, {"headers", -1, "header Z spans lines"},
		}},
		{"durations and thresholds", fleet.Check{Kind: fleet.CheckSSH, Interval: 100 * time.Millisecond, Timeout: time.Second, FailureThreshold: -1, SuccessThreshold: -2}, CheckProblems{
			{"interval", -1, "interval 100ms is shorter than 1s"}, {"timeout", -1, "timeout 1s is longer than the interval 100ms"},
			{"failure_threshold", -1, "failure_threshold must be 1 or more"}, {"success_threshold", -1, "success_threshold must be 1 or more"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.check, 10*time.Second)
			var got CheckProblems
			if !errors.As(err, &got) {
				t.Fatalf("Compile returned %v, want CheckProblems", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestHostTargets(t *testing.T) {
	inv := &fleet.Inventory{Groups: []*fleet.Group{
		{Name: "web", Checks: []fleet.Check{{Name: "site", Kind: fleet.CheckHTTP, Target: "http://${address}:8080/healthz?h=${name}"}}},
		{Name: "db", Checks: []fleet.Check{{Name: "boot", Kind: fleet.CheckSSH, Interval: 30 * time.Second}}},
		{Name: "broken", Checks: []fleet.Check{{Name: "bad", Kind: "htp"}}},
		{Name: "api", Checks: []fleet.Check{{Name: "site", Kind: fleet.CheckHTTP, Target: "http://${address}:8080/healthz?h=${name}"}}},
		{Name: "other", Checks: []fleet.Check{{Name: "site", Kind: fleet.CheckTCP, Target: "${address}:80"}}},
	}}
	tests := []struct {
		name   string
		host   *fleet.Host
		want   []string // ID target interval
		errMsg string
	}{
		{
			name: "groups' checks, then its own, then ssh",
			host: &fleet.Host{Name: "web-1", Address: "10.0.0.1", Groups: []string{"web"}, Checks: []fleet.Check{{Name: "https", Kind: fleet.CheckTCP, Target: "${address}:443"}}},
			want: []string{"site@web-1 http://10.0.0.1:8080/healthz?h=web-1 5s", "https@web-1 10.0.0.1:443 5s", "ssh@web-1  5s"},
		},
		{
			name: "an IPv6 host: brackets in URLs and before ports, none in commands",
			host: &fleet.Host{Name: "v6", Address: "::1", Groups: []string{"web"}, Checks: []fleet.Check{
				{Name: "https", Kind: fleet.CheckTCP, Target: "[${address}]:443"},
				{Name: "ping", Kind: fleet.CheckCommand, Target: "ping -c1 ${address_bare}"},
			}},
			want: []string{"site@v6 http://[::1]:8080/healthz?h=v6 5s", "https@v6 [::1]:443 5s", "ping@v6 ping -c1 ::1 5s", "ssh@v6  5s"},
		},
		{
			name: "a check of kind ssh stands for the ssh probe",
			host: &fleet.Host{Name: "db-1", Address: "10.0.0.2", Groups: []string{"db"}},
			want: []string{"boot@db-1  30s"},
		},
		{
			name: "the same check met twice is one probe",
			host: &fleet.Host{Name: "web-2", Address: "10.0.0.4", Groups: []string{"web", "api"}},
			want: []string{"site@web-2 http://10.0.0.4:8080/healthz?h=web-2 5s", "ssh@web-2  5s"},
		},
		{
			name:   "another check of the same name is left out",
			host:   &fleet.Host{Name: "web-3", Address: "10.0.0.5", Groups: []string{"web", "other"}},
			want:   []string{"site@web-3 http://10.0.0.5:8080/healthz?h=web-3 5s", "ssh@web-3  5s"},
			errMsg: "check site of group other: host web-3 has another check of that name",
		},
		{
			name:   "a check that does not compile is left out",
			host:   &fleet.Host{Name: "x", Address: "10.0.0.3", Groups: []string{"broken", "unknown"}},
			want:   []string{"ssh@x  5s"},
			errMsg: `check bad of group broken: unknown check kind "htp" (did you mean "http"?)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			targets, err := HostTargets(inv, tt.host, 5*time.Second)
			if (err == nil) != (tt.errMsg == "") || err != nil && err.Error() != tt.errMsg {
				t.Errorf("err = %v, want %q", err, tt.errMsg)
			}
			var got []string
			for _, tg := range targets {
				got = append(got, tg.ID+" "+tg.Target+" "+tg.Def.Interval.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// FuzzCompile feeds checks to Compile: never a panic, and what compiles
// has its defaults, conditions and a timeout within the interval.
func FuzzCompile(f *testing.F) {
	f.Add("site", "http", "http://${address}:8080/healthz", "GET", "[STATUS] == 200", int64(0), int64(0), 0, 0)
	f.Add("", "tcp", "${adress}:22", "", "[CONNECTED] = true", int64(time.Second), int64(2*time.Second), -1, 2)
	f.Add("boot", "ssh", "", "", `[BOOT_ID] != ""`, int64(30*time.Second), int64(0), 2, 0)
	f.Add("pg", "command", "systemctl is-active postgresql", "", "[STDOUT] == pat(active*)", int64(0), int64(time.Minute), 0, 1)
	f.Add("x", "htp", "http://${address:80/", "GET /", "[BODY].a[0 == 1", int64(5), int64(-1), 0, 0)
	f.Add("v6", "tcp", "[${address}]:5432", "", "", int64(0), int64(0), 0, 0)
	f.Add("v6", "http", "http://${address_bare}/", "", "", int64(0), int64(0), 0, 0)
	f.Fuzz(func(t *testing.T, name, kind, target, method, cond string, interval, timeout int64, failures, successes int) {
		c := fleet.Check{Name: name, Kind: fleet.CheckKind(kind), Target: target, Method: method,
			Interval: time.Duration(interval), Timeout: time.Duration(timeout), FailureThreshold: failures, SuccessThreshold: successes}
		if cond != "" {
			c.Conditions = strings.Split(cond, ";")
		}
		d, err := Compile(c, 10*time.Second)
		if err != nil {
			var ps CheckProblems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Compile returned %v, want CheckProblems", err)
			}
			return
		}
		if d.Name == "" || d.Interval < time.Second || d.Timeout <= 0 && timeout == 0 || d.Timeout > d.Interval ||
			d.FailureThreshold < 1 || d.SuccessThreshold < 1 || len(d.Conditions) == 0 {
			t.Fatalf("compiled %+v from %+v", d, c)
		}
		// What compiles is well formed on every host, whatever its address.
		for _, addr := range []string{"192.0.2.1", "h.example", "::1", "2001:db8:0:1::ff"} {
			if tg := d.Expand(&fleet.Host{Name: "h", Address: addr}); !wellFormed(d.Kind, tg.Target) {
				t.Fatalf("%s target %q compiled, but on a host at %s it is %q", d.Kind, target, addr, tg.Target)
			}
		}
	})
}
