package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "patch.yaml")
	os.WriteFile(good, []byte("name: Patch\nsteps:\n  - drain\n  - run: apt-get install -y openssl\n  - reboot: if_required\n  - wait_healthy\n  - undrain\nstrategy: {canary: 1, max_parallel: 1}\n"), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: Patch\nsteps:\n  - dran\n"), 0o600)
	inv := "../inventory/testdata/good/minimal.yaml"

	tests := []struct {
		name     string
		args     []string
		code     int
		want     string
		wantErrs string
	}{
		{"plan alone", []string{"plan", "check", good}, 0, `Plan "Patch": 5 steps`, ""},
		{"with inventory", []string{"plan", "check", good, "--inventory", inv}, 0, "Estimated duration:", ""},
		{"bad plan", []string{"plan", "check", bad}, 1, "", bad + `:3:5: unknown step "dran" (did you mean "drain"?)`},
		{"no file", []string{"plan", "check"}, 2, "", "takes one FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := Run(context.Background(), Build{}, tt.args, func(string) string { return "" }, nil, &out, &errs)
			if code := ExitCode(err, &errs); code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out.String(), errs.String())
			}
			if !strings.Contains(out.String(), tt.want) || !strings.Contains(errs.String(), tt.wantErrs) {
				t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
			}
		})
	}
}
