package password

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	const password = "correct horse battery"
	h := Hash(password)
	if strings.Contains(h, password) || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: want an argon2id PHC string with OWASP's parameters", h)
	}
	if h == Hash(password) {
		t.Error("two hashes of one password are the same: the salt is not fresh")
	}
	for _, tc := range []struct {
		name, try string
		want      bool
	}{
		{"the password", password, true},
		{"another", password + " ", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := Matches(h, tc.try)
			if err != nil || ok != tc.want {
				t.Errorf("matches: %v, %v; want %v", ok, err, tc.want)
			}
		})
	}
	parts := strings.Split(h, "$")
	for _, tc := range []struct{ name, encoded string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv"},
		{"argon2i", strings.Replace(h, "argon2id", "argon2i", 1)},
		{"version", strings.Replace(h, "v=19", "v=16", 1)},
		{"a gigabyte", strings.Join([]string{"", parts[1], parts[2], "m=1048576,t=2,p=1", parts[4], parts[5]}, "$")},
		{"no passes", strings.Join([]string{"", parts[1], parts[2], "m=19456,t=0,p=1", parts[4], parts[5]}, "$")},
		{"padded parameters", strings.Join([]string{"", parts[1], parts[2], "m=019456,t=2,p=1", parts[4], parts[5]}, "$")},
		{"short salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "AAAA", parts[5]}, "$")},
		{"bad key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "!!"}, "$")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Matches(tc.encoded, password); err == nil {
				t.Errorf("%q was taken for a hash", tc.encoded)
			}
		})
	}
}

// FuzzParsePHC feeds the hash parser anything: it must never panic, nor
// accept parameters out of bounds.
func FuzzParsePHC(f *testing.F) {
	f.Add(Hash("correct horse battery"))
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=-1,t=2,p=1$$")
	f.Fuzz(func(t *testing.T, encoded string) {
		h, err := parsePHC(encoded)
		if err != nil {
			return
		}
		if h.memory > maxArgonMemory || h.time > maxArgonTime || h.threads > maxArgonThreads || h.time == 0 || h.threads == 0 {
			t.Fatalf("accepted %q with parameters %+v", encoded, h)
		}
	})
}

// BenchmarkPasswordHash is what one login costs the daemon.
func BenchmarkPasswordHash(b *testing.B) {
	h := Hash("correct horse battery")
	for b.Loop() {
		if _, err := Matches(h, "correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, account, password string
		ok                      bool
	}{
		{"long enough", "alice", "correct horse battery", true},
		{"twelve characters", "alice", "ééééééééééé1", true},
		{"too short", "alice", "xyzzy42", false},
		{"too long", "alice", strings.Repeat("x", MaxLength+1), false},
		{"not UTF-8", "alice", "correct horse \xff", false},
		{"the account's name", "alice.example", " ALICE.EXAMPLE ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.account, tc.password)
			if (err == nil) != tc.ok {
				t.Fatalf("Check = %v, want ok %v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), tc.password) {
				t.Errorf("the message %q repeats the password", err)
			}
		})
	}
}
