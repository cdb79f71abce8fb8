//go:build !linux

package cli

import "errors"

// Elsewhere than on Linux, the password comes from --password-stdin.
func isTTY(int) bool { return false }

func readHidden(int) (string, error) {
	return "", errors.New("reading a password from the terminal works on Linux only: use --password-stdin")
}
