package labels

import "testing"

func TestMatcher(t *testing.T) {
	l := Set{"host": "web-01", "datacenter": "rbx-2"}
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{in: `host="web-01"`, want: true},
		{in: `host = web-01`, want: true},
		{in: `host!=web-01`, want: false},
		{in: `host=~"web-.*"`, want: true},
		{in: `host=~web`, want: false}, // anchored
		{in: `host!~"db-.*"`, want: true},
		{in: `site=""`, want: true}, // missing is empty
		{in: `site!=""`, want: false},
		{in: `datacenter=~"rbx-(1|2)"`, want: true},
		{in: `host="a\"b"`, want: false},
		{in: `=web`, wantErr: true},
		{in: `host`, wantErr: true},
		{in: `host==x`, want: false}, // value "=x"
		{in: `host=~"("`, wantErr: true},
		{in: `host="unterminated`, wantErr: true},
		{in: `1host=x`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := ParseMatcher(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseMatcher(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := m.Matches(l); got != tt.want {
				t.Errorf("%s matches %s = %v, want %v", m, l, got, tt.want)
			}
			again, err := ParseMatcher(m.String())
			if err != nil || again.String() != m.String() {
				t.Errorf("%s does not read back: %v, %v", m, again, err)
			}
		})
	}
}

func FuzzParseMatcher(f *testing.F) {
	for _, s := range []string{`host="web-01"`, `a=~"b.*"`, `x!~""`, `y!=z`, `"`, `a=~(`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMatcher(s)
		if err != nil {
			return
		}
		m.Matches(Set{m.Name: s})
		if _, err := ParseMatcher(m.String()); err != nil {
			t.Fatalf("%q parsed as %s, which does not parse: %v", s, m, err)
		}
	})
}
