package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/illico-dev/illico/internal/openssh"
)

// pidFiles is DIR/run: one file per process the lab started, holding its pid
// and its start time, so that a pid the kernel has since given to another
// process is never killed.
type pidFiles struct{ dir string }

type pidEntry struct {
	name  string
	pid   int
	start uint64
}

func (p pidFiles) path(name string) string { return filepath.Join(p.dir, name+".pid") }

func (p pidFiles) write(name string, pid int) error {
	start, err := procStart(pid)
	if err != nil {
		return fmt.Errorf("pid file %s: %w", name, err)
	}
	return writeFileAtomic(p.path(name), fmt.Appendf(nil, "%d %d\n", pid, start), 0o644)
}

func (p pidFiles) remove(name string) { os.Remove(p.path(name)) }

// list returns every pid file, alive or not.
func (p pidFiles) list() ([]pidEntry, error) {
	files, err := filepath.Glob(filepath.Join(p.dir, "*.pid"))
	if err != nil {
		return nil, err
	}
	var out []pidEntry
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		e := pidEntry{name: strings.TrimSuffix(filepath.Base(f), ".pid")}
		fs := strings.Fields(string(data))
		if len(fs) < 2 {
			continue
		}
		e.pid, _ = strconv.Atoi(fs[0])
		e.start, _ = strconv.ParseUint(fs[1], 10, 64)
		if e.pid > 0 {
			out = append(out, e)
		}
	}
	return out, nil
}

// alive reports whether the process of the pid file still runs.
func (e pidEntry) alive() bool {
	start, err := procStart(e.pid)
	return err == nil && start == e.start
}

// procStart returns when a process started, in clock ticks since boot, from
// /proc/PID/stat; a zombie counts as gone.
func procStart(pid int) (uint64, error) {
	st, err := openssh.ReadProcStat(pid)
	if err != nil {
		return 0, err
	}
	if st.Gone() {
		return 0, errors.New("zombie")
	}
	return st.Start()
}

// procSession returns the session id of a process.
func procSession(pid int) (int, error) {
	st, err := openssh.ReadProcStat(pid)
	if err != nil {
		return 0, err
	}
	return st.Session()
}

// procPids lists every process id on the machine.
func procPids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procArgs returns a process's command line.
func procArgs(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

func kill(pid int, sig syscall.Signal) {
	if pid > 0 && pid != os.Getpid() {
		syscall.Kill(pid, sig)
	}
}
