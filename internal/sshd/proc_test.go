package sshd

import (
	"strings"
	"testing"
)

func TestParentOf(t *testing.T) {
	tests := []struct {
		stat string
		want int
		ok   bool
	}{
		{"1234 (sshd) S 1 1234 1234 0 -1", 1, true},
		{"99 (sshd: root@notty) S 42 99 99 0", 42, true},
		{"7 (a) b) (c) R 3 7 7", 3, true},
		{"7 (no close paren S 3", 0, false},
		{"7 (x) S", 0, false},
		{"7 (x) S abc", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.stat, func(t *testing.T) {
			got, ok := parentOf([]byte(tt.stat))
			if got != tt.want || ok != tt.ok {
				t.Errorf("parentOf = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParentOf(f *testing.F) {
	f.Add([]byte("1234 (sshd) S 1 1234 1234 0 -1"))
	f.Add([]byte("7 (a) b) R 3"))
	f.Fuzz(func(t *testing.T, stat []byte) {
		parentOf(stat)
	})
}

func TestConfigText(t *testing.T) {
	cfg := Config{
		Dir:            "/tmp/lab dir",
		ListenAddr:     "127.0.0.5:2222",
		HostKeyPath:    `/tmp/lab dir/host "key"`,
		AuthorizedKeys: "/tmp/keys",
		Env:            map[string]string{"B": "two words", "A": `back\slash`},
	}
	tests := []struct {
		name         string
		major, minor int
		want         []string
		absent       []string
	}{
		{"9.2", 9, 2,
			[]string{
				"ListenAddress 127.0.0.5:2222\n",
				`HostKey "/tmp/lab dir/host \"key\""` + "\n",
				`PidFile "/tmp/lab dir/sshd.pid"` + "\n",
				`SetEnv "A=back\\slash" "B=two words"` + "\n",
				"MaxStartups 1000\n",
			},
			[]string{"PerSourcePenalties"}},
		{"9.8", 9, 8, []string{"PerSourcePenalties no\n"}, nil},
		{"10.0", 10, 0, []string{"PerSourcePenalties no\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := configText(cfg, tt.major, tt.minor)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("config lacks %q:\n%s", w, got)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("config has %q:\n%s", a, got)
				}
			}
		})
	}
}
