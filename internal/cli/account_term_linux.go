package cli

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

func isTTY(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// readHidden reads a line from the terminal fd with its echo off, and
// turns the echo back on whatever happens.
func readHidden(fd int) (string, error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("read the terminal's settings: %w", err)
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("turn the terminal's echo off: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	// One byte at a time, so that nothing after the line is taken from
	// the terminal.
	var line []byte
	b := make([]byte, 1)
	for len(line) < maxPasswordLine {
		n, err := unix.Read(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if n == 0 || b[0] == '\n' {
			return string(line), nil
		}
		line = append(line, b[0])
	}
	return "", fmt.Errorf("the password is longer than %d bytes", maxPasswordLine)
}
