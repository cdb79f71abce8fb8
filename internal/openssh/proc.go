package openssh

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcStat is a process's /proc/PID/stat line, the one place illico reads
// it: to walk a server's descendants here, and in the lab to tell a pid
// file's process from a later one with the same pid.
type ProcStat struct {
	after []string // the fields after the command name; after[0] is field 3
}

// ReadProcStat reads the /proc/PID/stat line of pid.
func ReadProcStat(pid int) (ProcStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ProcStat{}, err
	}
	return ParseProcStat(data)
}

// ParseProcStat splits a /proc/PID/stat line. The command name is in
// parentheses and may itself hold spaces and parentheses, so the fields
// start after the last ')'.
func ParseProcStat(line []byte) (ProcStat, error) {
	i := bytes.LastIndexByte(line, ')')
	if i < 0 {
		return ProcStat{}, fmt.Errorf("unreadable /proc stat: no ')' after the command name")
	}
	return ProcStat{after: strings.Fields(string(line[i+1:]))}, nil
}

// field returns field n, numbered as in proc(5) (1 is the pid).
func (s ProcStat) field(n int) (string, error) {
	if n-3 >= len(s.after) {
		return "", fmt.Errorf("short /proc stat: no field %d", n)
	}
	return s.after[n-3], nil
}

// Gone reports whether the process is a zombie or dead: it still has a
// line in /proc but runs no more.
func (s ProcStat) Gone() bool {
	state, err := s.field(3)
	return err == nil && (state == "Z" || state == "X")
}

// Parent returns the parent's pid (field 4).
func (s ProcStat) Parent() (int, error) {
	f, err := s.field(4)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(f)
}

// Session returns the session id (field 6).
func (s ProcStat) Session() (int, error) {
	f, err := s.field(6)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(f)
}

// Start returns when the process started, in clock ticks since boot
// (field 22); with the pid, it names one process across pid reuse.
func (s ProcStat) Start() (uint64, error) {
	f, err := s.field(22)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(f, 10, 64)
}
