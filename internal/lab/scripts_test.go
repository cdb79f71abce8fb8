package lab

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scriptHost makes a lab directory with the host-side commands and one host,
// web-gra-01, freshly installed and booted.
func scriptHost(t testing.TB) (dir string) {
	t.Helper()
	dir = t.TempDir()
	if err := writeFileAtomic(filepath.Join(dir, "repo"), repoFile(repository()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeScripts(dir, "127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	h := newHost(hostSpec{Name: "web-gra-01"}, dir, &world{repo: repository()})
	if err := h.reset(); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"running": "openssl 3.0.11\nlinux-image 6.1.0-18\n", "boot_id": "b00t\n"} {
		if err := os.WriteFile(h.path(name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runScript runs a host-side command as sshd would on web-gra-01.
func runScript(t testing.TB, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, "bin", args[0]), args[1:]...)
	cmd.Env = []string{"ILLICO_LAB_HOST=web-gra-01", "ILLICO_LAB_DIR=" + dir, "PATH=/usr/bin:/bin"}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

func TestLabpkg(t *testing.T) {
	tests := []struct {
		name          string
		before        [][]string // commands run first, which must succeed
		args          []string
		wantCode      int
		wantOut       []string
		wantInstalled string
		wantReboot    bool
	}{
		{
			name:          "list a fresh host",
			args:          []string{"labpkg", "list"},
			wantOut:       []string{"openssl 3.0.11\nlinux-image 6.1.0-18\n"},
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-18\n",
		},
		{
			name:          "install the newest version, even a bad one",
			args:          []string{"labpkg", "install", "openssl"},
			wantOut:       []string{"will be upgraded:\n  openssl (3.0.11 => 3.0.14)", "1 upgraded, 0 newly installed, 0 downgraded."},
			wantInstalled: "openssl 3.0.14\nlinux-image 6.1.0-18\n",
			wantReboot:    true,
		},
		{
			name:          "upgrade two at once",
			args:          []string{"labpkg", "install", "openssl=3.0.13", "linux-image=6.1.0-21"},
			wantOut:       []string{"openssl (3.0.11 => 3.0.13)\n  linux-image (6.1.0-18 => 6.1.0-21)", "2 upgraded"},
			wantInstalled: "openssl 3.0.13\nlinux-image 6.1.0-21\n",
			wantReboot:    true,
		},
		{
			name:          "downgrade",
			before:        [][]string{{"labpkg", "install", "openssl=3.0.14"}},
			args:          []string{"labpkg", "install", "openssl=3.0.13"},
			wantOut:       []string{"will be DOWNGRADED:\n  openssl (3.0.14 => 3.0.13)", "1 downgraded"},
			wantInstalled: "openssl 3.0.13\nlinux-image 6.1.0-18\n",
			wantReboot:    true,
		},
		{
			name:          "the installed version changes nothing",
			args:          []string{"labpkg", "install", "openssl=3.0.11"},
			wantOut:       []string{"openssl is already the newest version (3.0.11)."},
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-18\n",
		},
		{
			name:          "unknown package changes nothing",
			args:          []string{"labpkg", "install", "openssl=3.0.13", "nginx"},
			wantCode:      100,
			wantOut:       []string{"E: Unable to locate package nginx"},
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-18\n",
		},
		{
			name:          "unknown version",
			args:          []string{"labpkg", "install", "openssl=9"},
			wantCode:      100,
			wantOut:       []string{"E: Version '9' for 'openssl' was not found (available: 3.0.11 3.0.13 3.0.14)"},
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-18\n",
		},
		{
			name:          "show",
			before:        [][]string{{"labpkg", "install", "openssl=3.0.13"}},
			args:          []string{"labpkg", "show", "openssl"},
			wantOut:       []string{"Package: openssl\nInstalled: 3.0.13\nRunning: 3.0.11\nCandidate: 3.0.14\nVersions: 3.0.11 3.0.13 3.0.14\n"},
			wantInstalled: "openssl 3.0.13\nlinux-image 6.1.0-18\n",
			wantReboot:    true,
		},
		{
			name:          "bad usage",
			args:          []string{"labpkg", "remove", "openssl"},
			wantCode:      100,
			wantOut:       []string{"Usage: labpkg"},
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-18\n",
		},
		{
			name:          "boot id",
			args:          []string{"lab-boot-id"},
			wantOut:       []string{"b00t\n"},
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-18\n",
		},
		{
			name:          "no reboot pending",
			args:          []string{"lab-reboot-required"},
			wantCode:      1,
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-18\n",
		},
		{
			name:          "reboot pending",
			before:        [][]string{{"labpkg", "install", "linux-image"}},
			args:          []string{"lab-reboot-required"},
			wantInstalled: "openssl 3.0.11\nlinux-image 6.1.0-21\n",
			wantReboot:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := scriptHost(t)
			for _, b := range tt.before {
				if out, errOut, code := runScript(t, dir, b...); code != 0 {
					t.Fatalf("%v: exit %d: %s%s", b, code, out, errOut)
				}
			}
			out, errOut, code := runScript(t, dir, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stdout %q, stderr %q)", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output %q does not hold %q", out+errOut, w)
				}
			}
			state := filepath.Join(dir, "hosts", "web-gra-01")
			installed, err := os.ReadFile(filepath.Join(state, "installed"))
			if err != nil {
				t.Fatal(err)
			}
			if string(installed) != tt.wantInstalled {
				t.Errorf("installed = %q, want %q", installed, tt.wantInstalled)
			}
			_, err = os.Stat(filepath.Join(state, "reboot-required"))
			if got := err == nil; got != tt.wantReboot {
				t.Errorf("reboot required = %v, want %v", got, tt.wantReboot)
			}
		})
	}
}

func TestScriptsOffALabHost(t *testing.T) {
	dir := scriptHost(t)
	for _, name := range []string{"labpkg", "lab-boot-id", "lab-reboot-required", "lab-reboot"} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(dir, "bin", name), "list")
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 || exit.ExitCode() == 1 && name == "lab-reboot-required" {
				t.Errorf("exit %v, want a failure that is not a plain no: %s", err, out)
			}
			if !strings.Contains(string(out), "lab host") {
				t.Errorf("output %q does not say it needs a lab host", out)
			}
		})
	}
}
