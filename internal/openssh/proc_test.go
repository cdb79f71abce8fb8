package openssh

import (
	"os"
	"strings"
	"testing"
)

func TestProcStat(t *testing.T) {
	// A real line's shape: fields 1 to 22 and beyond.
	full := "4242 (sshd: root@notty) S 42 4242 77 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200"
	tests := []struct {
		stat    string
		parent  int // -1: an error
		session int
		start   int64
		gone    bool
	}{
		{full, 42, 77, 987654, false},
		{strings.Replace(full, ") S ", ") Z ", 1), 42, 77, 987654, true},
		{strings.Replace(full, "(sshd: root@notty)", "(a) b) (c)", 1), 42, 77, 987654, false},
		{"1234 (sshd) S 1 1234 1234 0 -1", 1, 1234, -1, false},
		{"99 (sshd: root@notty) S 42 99 99 0", 42, 99, -1, false},
		{"7 (a) b) (c) R 3 7 7", 3, 7, -1, false},
		{"7 (no close paren S 3", -1, -1, -1, false},
		{"7 (x) S", -1, -1, -1, false},
		{"7 (x) S abc", -1, -1, -1, false},
		{"", -1, -1, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.stat, func(t *testing.T) {
			st, err := ParseProcStat([]byte(tt.stat))
			if err != nil {
				if tt.parent != -1 {
					t.Fatalf("ParseProcStat: %v", err)
				}
				return
			}
			if got, err := st.Parent(); tt.parent == -1 && err == nil || tt.parent != -1 && got != tt.parent {
				t.Errorf("Parent = %d, %v; want %d", got, err, tt.parent)
			}
			if got, err := st.Session(); tt.session == -1 && err == nil || tt.session != -1 && got != tt.session {
				t.Errorf("Session = %d, %v; want %d", got, err, tt.session)
			}
			if got, err := st.Start(); tt.start == -1 && err == nil || tt.start != -1 && int64(got) != tt.start {
				t.Errorf("Start = %d, %v; want %d", got, err, tt.start)
			}
			if st.Gone() != tt.gone {
				t.Errorf("Gone = %v, want %v", st.Gone(), tt.gone)
			}
		})
	}
	t.Run("this process", func(t *testing.T) {
		st, err := ReadProcStat(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if p, err := st.Parent(); err != nil || p != os.Getppid() {
			t.Errorf("Parent = %d, %v; want %d", p, err, os.Getppid())
		}
		if _, err := st.Start(); err != nil || st.Gone() {
			t.Errorf("Start: %v, Gone %v", err, st.Gone())
		}
	})
}

func FuzzProcStat(f *testing.F) {
	f.Add([]byte("1234 (sshd) S 1 1234 1234 0 -1"))
	f.Add([]byte("7 (a) b) R 3"))
	f.Fuzz(func(t *testing.T, stat []byte) {
		st, err := ParseProcStat(stat)
		if err != nil {
			return
		}
		st.Gone()
		st.Parent()
		st.Session()
		st.Start()
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
