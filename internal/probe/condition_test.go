package probe

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseConditionErrors(t *testing.T) {
	tests := []struct {
		src     string
		wantCol int
		wantMsg string
	}{
		{"", 1, "empty condition"},
		{"STATUS == 200", 1, "expected a placeholder"},
		{"[STATUS == 200", 1, "not closed"},
		{"[STATSU] == 200", 1, "did you mean [STATUS]"},
		{"[status] == 200", 1, "did you mean [STATUS]"},
		{"[STATUS] = 200", 10, "expected an operator"},
		{"[STATUS]", 9, "expected an operator"},
		{"[STATUS] ==", 12, "expected a value"},
		{"[STATUS] == ok", 13, `found "ok"`},
		{"[STATUS] == \"200\"", 13, "is a number"},
		{"[STATUS] == 200 200", 17, "unexpected"},
		{"[CONNECTED] < true", 13, "use == or !="},
		{"[CONNECTED] == 1", 16, "true or false"},
		{"[BOOT_ID] > \"a\"", 11, "use == or !="},
		{"[BOOT_ID] == 3", 14, "quoted string"},
		{"[BODY].status > \"ok\"", 15, "compares numbers only"},
		{"[BODY].items[x] == 1", 14, "array index"},
		{"[BODY]. == 1", 8, "key after ."},
		{"[BODY].a == 5m", 13, "JSON value"},
		{"[RESPONSE_TIME] < \"fast\"", 19, "is a duration"},
		{"[BODY] == \"unterminated", 11, "not closed"},
		{"[BODY] == pat([)", 15, "bad pattern"},
		{"[BODY] == pat(abc", 11, "not closed"},
		{"[BODY].é == 1", 8, "key after ."},
		{"  [STATUS] == x", 15, `found "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := ParseCondition(tt.src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseCondition(%q) = %v, want a SyntaxError", tt.src, err)
			}
			if se.Col != tt.wantCol || !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("got column %d %q, want column %d containing %q", se.Col, se.Msg, tt.wantCol, tt.wantMsg)
			}
		})
	}
}

func TestConditionEval(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	web := &Observation{
		Start: start, Duration: 120 * time.Millisecond, Connected: true, Status: 200,
		Body:       []byte(`{"status":"ok","checks":[{"name":"db","up":true,"lag":3}],"version":"1.2/3"}`),
		CertExpiry: start.Add(72 * time.Hour),
	}
	cmd := &Observation{Start: start, Connected: true, ExitCode: 0, Stdout: "active\n", BootID: "b00t"}
	down := &Observation{Start: start, Duration: 2 * time.Second, Err: errors.New("connection refused")}
	tests := []struct {
		src    string
		o      *Observation
		want   bool
		reason string
	}{
		{"[STATUS] == 200", web, true, ""},
		{"[STATUS] != 200", web, false, "saw 200"},
		{"[STATUS] < 300", web, true, ""},
		{"[STATUS] >= 500", web, false, ""},
		{"[RESPONSE_TIME] < 300", web, true, ""},
		{"[RESPONSE_TIME] < 100", web, false, "saw 120ms"},
		{"[RESPONSE_TIME] <= 120ms", web, true, ""},
		{"[RESPONSE_TIME] > 1.5s", down, true, ""},
		{"[CERTIFICATE_EXPIRATION] > 48h", web, true, ""},
		{"[CERTIFICATE_EXPIRATION] > 7d", web, false, "saw 72h0m0s"},
		{"[CERTIFICATE_EXPIRATION] > 48h", cmd, false, "no certificate"},
		{`[BODY].status == "ok"`, web, true, ""},
		{`[BODY].status != "ok"`, web, false, `saw "ok"`},
		{`[BODY].checks[0].name == "db"`, web, true, ""},
		{`[BODY].checks[0].up == true`, web, true, ""},
		{`[BODY].checks[0].lag < 5`, web, true, ""},
		{`[BODY].checks[0].lag == "3"`, web, true, ""},
		{`[BODY].checks[1].name == "db"`, web, false, "no [BODY].checks[1].name"},
		{`[BODY].status.deep == 1`, web, false, "no [BODY].status.deep"},
		{`[BODY].checks == 1`, web, false, "an object or array"},
		{`[BODY].version == pat(1.*)`, web, true, ""},
		{`[BODY] == pat(*"status":"ok"*)`, web, true, ""},
		{`[BODY] == pat(*down*)`, web, false, "saw"},
		{`[BODY] != pat(*down*)`, web, true, ""},
		{`[BODY].status == "ok"`, &Observation{Connected: true, Body: []byte("<html>")}, false, "not JSON"},
		{"[CONNECTED] == true", web, true, ""},
		{"[CONNECTED] == true", down, false, "saw false"},
		{"[CONNECTED] == false", down, true, ""},
		{"[CONNECTED] != true", down, true, ""},
		{"[STATUS] == 200", down, false, "no answer (connection refused)"},
		{`[BOOT_ID] != ""`, cmd, true, ""},
		{`[BOOT_ID] == "other"`, cmd, false, `saw "b00t"`},
		{"[EXIT_CODE] == 0", cmd, true, ""},
		{`[STDOUT] == pat(active*)`, cmd, true, ""},
		{`[STDOUT] == "active\n"`, cmd, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			c, err := ParseCondition(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got, reason := c.Eval(tt.o)
			if got != tt.want || !strings.Contains(reason, tt.reason) {
				t.Errorf("Eval = %v %q, want %v with %q", got, reason, tt.want, tt.reason)
			}
			if !got && !strings.HasPrefix(reason, tt.src) {
				t.Errorf("reason %q does not start with the condition", reason)
			}
		})
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		"[STATUS] == 200", `[BODY].a[0].b == "x\"y"`, "[BODY] == pat(*ok*)",
		"[CERTIFICATE_EXPIRATION] > 48h", "[CONNECTED] == true", "[RESPONSE_TIME] < 1e3",
		"[BODY].x >= -2.5", "[BODY][99999999999]", "[", "[]", "[BODY] == pat()", "[STATUS] == 7d",
	} {
		f.Add(s)
	}
	body := &Observation{Connected: true, Status: 200, Body: []byte(`{"a":[{"b":"x\"y"}],"x":1}`)}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Col < 1 || se.Col > len([]rune(s))+1 {
				t.Fatalf("ParseCondition(%q): %v: not a positioned error", s, err)
			}
			return
		}
		c.Eval(body)
		c.Eval(&Observation{Err: errors.New("down")})
		again, err := ParseCondition(c.String())
		if err != nil || again.Subject != c.Subject || again.Op != c.Op {
			t.Fatalf("%q does not parse back the same: %v", c.String(), err)
		}
	})
}
