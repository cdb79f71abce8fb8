package lab

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOptionsDefaultsAndProblems(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string // substrings of the error; none means valid
	}{
		{name: "defaults", opts: Options{Dir: "x"}},
		{name: "no dir", opts: Options{}, want: []string{"no lab directory"}},
		{name: "every problem at once", opts: Options{Dir: "x", Hosts: -1, Datacenters: []string{"gra", "gra", "Bad DC"}},
			want: []string{"hosts: -1", `"gra" is listed twice`, `datacenter "Bad DC"`}},
		{name: "site of an unknown datacenter", opts: Options{Dir: "x", Sites: map[string]string{"rbx": "rbx"}},
			want: []string{`"rbx" is not one of the datacenters (gra, sbg)`}},
		{name: "reversed reboot range", opts: Options{Dir: "x", RebootMin: 3 * time.Second, RebootMax: time.Second},
			want: []string{"reboot time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	o, err := Options{Dir: "x", Sites: map[string]string{"gra": "rbx"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Hosts != 6 || o.RebootMin != 2*time.Second || o.RebootMax != 5*time.Second || o.Seed != 1 {
		t.Errorf("defaults: %+v", o)
	}
	if want := map[string]string{"gra": "rbx", "sbg": "sbg"}; !reflect.DeepEqual(o.Sites, want) {
		t.Errorf("sites = %v, want %v", o.Sites, want)
	}
}

func TestParseSites(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{in: "", want: map[string]string{}},
		{in: "gra=rbx, sbg=sbg", want: map[string]string{"gra": "rbx", "sbg": "sbg"}},
		{in: "gra", wantErr: true},
		{in: "gra=", wantErr: true},
		{in: "gra=a,gra=b", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSites(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSites(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseSites(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSecondsRange(t *testing.T) {
	tests := []struct {
		in      string
		lo, hi  time.Duration
		wantErr bool
	}{
		{in: "2-5", lo: 2 * time.Second, hi: 5 * time.Second},
		{in: "0.5-1", lo: 500 * time.Millisecond, hi: time.Second},
		{in: "3", lo: 3 * time.Second, hi: 3 * time.Second},
		{in: "5-2", wantErr: true},
		{in: "a-b", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "1-99999", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			lo, hi, err := ParseSecondsRange(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSecondsRange(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && (lo != tt.lo || hi != tt.hi) {
				t.Errorf("ParseSecondsRange(%q) = %s, %s, want %s, %s", tt.in, lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wantHosts  []string
		wantGroups map[string][]string
	}{
		{
			name:      "pairs across two datacenters, last group smaller",
			opts:      Options{Dir: "x", Hosts: 5},
			wantHosts: []string{"web-gra-01", "web-sbg-01", "web-gra-02", "web-sbg-02", "web-gra-03"},
			wantGroups: map[string][]string{
				"web-01": {"web-gra-01", "web-sbg-01"},
				"web-02": {"web-gra-02", "web-sbg-02"},
				"web-03": {"web-gra-03"},
			},
		},
		{
			name:       "three datacenters",
			opts:       Options{Dir: "x", Hosts: 3, Datacenters: []string{"a", "b", "c"}},
			wantHosts:  []string{"web-a-01", "web-b-01", "web-c-01"},
			wantGroups: map[string][]string{"web-01": {"web-a-01", "web-b-01", "web-c-01"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.opts.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			hosts, groups := layout(o)
			var names []string
			addrs := map[string]bool{}
			for _, h := range hosts {
				names = append(names, h.Name)
				if addrs[h.Address] {
					t.Errorf("address %s given twice", h.Address)
				}
				addrs[h.Address] = true
			}
			if !reflect.DeepEqual(names, tt.wantHosts) {
				t.Errorf("hosts = %v, want %v", names, tt.wantHosts)
			}
			got := map[string][]string{}
			for _, g := range groups {
				got[g.Name] = g.Members
				if want := "Web cluster " + strings.TrimPrefix(g.Name, "web-"); g.Component != want {
					t.Errorf("component of %s = %q, want %q", g.Name, g.Component, want)
				}
			}
			if !reflect.DeepEqual(got, tt.wantGroups) {
				t.Errorf("groups = %v, want %v", got, tt.wantGroups)
			}
		})
	}

	t.Run("three digits past 99 groups, no .0 or .255 address", func(t *testing.T) {
		o, _ := Options{Dir: "x", Hosts: 600}.withDefaults()
		hosts, groups := layout(o)
		if len(groups) != 300 || groups[0].Name != "web-001" || hosts[len(hosts)-1].Name != "web-sbg-300" {
			t.Errorf("got %d groups, first %s, last host %s", len(groups), groups[0].Name, hosts[len(hosts)-1].Name)
		}
		for _, h := range hosts {
			if strings.HasSuffix(h.Address, ".0") || strings.HasSuffix(h.Address, ".255") {
				t.Errorf("%s has address %s", h.Name, h.Address)
			}
		}
	})
}

func FuzzParseSites(f *testing.F) {
	for _, s := range []string{"gra=rbx,sbg=sbg", "", "=", "a=b=c", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sites, err := ParseSites(s)
		if err != nil {
			return
		}
		for dc, site := range sites {
			if dc == "" || site == "" {
				t.Errorf("ParseSites(%q) gave an empty name: %v", s, sites)
			}
		}
	})
}

func FuzzParseSecondsRange(f *testing.F) {
	for _, s := range []string{"2-5", "0.5", "-", "1e308-1e309", "Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := ParseSecondsRange(s)
		if err == nil && (lo < 0 || hi < lo) {
			t.Errorf("ParseSecondsRange(%q) = %s, %s", s, lo, hi)
		}
	})
}
