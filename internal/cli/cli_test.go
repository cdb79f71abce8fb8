package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name  string
		build Build
		want  string
	}{
		{"plain go build", Build{}, "illico dev\n"},
		{"stamped", Build{Version: "v0.4.0-3-g1a2b3c4-dirty", Commit: "1a2b3c4d5e6f", Date: "2026-03-29T01:30:00Z"},
			"illico v0.4.0-3-g1a2b3c4-dirty (commit 1a2b3c4d5e6f, built 2026-03-29T01:30:00Z)\n"},
		{"no date", Build{Version: "1a2b3c4", Commit: "1a2b3c4d5e6f"}, "illico 1a2b3c4 (commit 1a2b3c4d5e6f)\n"},
		{"outside git", Build{Version: "dev", Date: "2026-03-29T01:30:00Z"}, "illico dev (built 2026-03-29T01:30:00Z)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
				var out, errs bytes.Buffer
				err := Run(context.Background(), tt.build, args, func(string) string { return "" }, strings.NewReader(""), &out, &errs)
				if err != nil || out.String() != tt.want {
					t.Errorf("illico %s: %q, %v; want %q", args[0], out.String(), err, tt.want)
				}
			}
		})
	}
	var out, errs bytes.Buffer
	err := Run(context.Background(), Build{}, []string{"--version", "now"}, func(string) string { return "" }, strings.NewReader(""), &out, &errs)
	if ExitCode(err, &errs) != exitUsage {
		t.Errorf("illico --version now: %v, want a usage error", err)
	}
}
