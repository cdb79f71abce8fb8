// Package password is illico's policy for the dashboard's passwords: what
// a password must be, and how it is hashed and checked (argon2id, in the
// PHC string form that carries its parameters). The store keeps the hashes
// and calls it; nothing here does I/O.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/illico-dev/illico/internal/fleet"
)

// MinLength is the fewest characters a password may have.
const MinLength = 12

// MaxLength bounds what is hashed, in bytes: a longer password is refused
// before any work.
const MaxLength = 1024

// The hash is argon2id with OWASP's parameters (19 MiB, two passes, one
// lane): strong enough against a stolen database, and light enough that a
// few logins at once do not starve a small control plane.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on the parameters read back from a stored hash, so that a damaged
// row cannot make one login take a gigabyte or a minute.
const (
	maxArgonMemory  = 256 * 1024
	maxArgonTime    = 16
	maxArgonThreads = 16
)

// Check says what is wrong with password for the account name, if
// anything. The message never repeats the password.
func Check(name, password string) error {
	switch {
	case !utf8.ValidString(password):
		return fleet.Errorf(fleet.KindInvalid, "the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinLength:
		return fleet.Errorf(fleet.KindInvalid, "the password is too short: it needs at least %d characters", MinLength)
	case len(password) > MaxLength:
		return fleet.Errorf(fleet.KindInvalid, "the password is longer than %d bytes", MaxLength)
	case strings.EqualFold(strings.TrimSpace(password), name):
		return fleet.Errorf(fleet.KindInvalid, "the password may not be the account's name")
	}
	return nil
}

// Hash returns password's argon2id hash with a fresh salt, in the PHC
// string form, which carries its parameters.
func Hash(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt) // never fails: crypto/rand aborts the program rather than return weak bytes
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Matches hashes password as encoded was and compares in constant time. An
// error says encoded is not a hash Hash could have written.
func Matches(encoded, password string) (bool, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// Dummy does the work of checking password against a hash, for a name no
// account has, so that such a login takes as long as a wrong password.
func Dummy(password string) {
	argon2.IDKey([]byte(password), make([]byte, argonSaltLen), argonTime, argonMemory, argonThreads, argonKeyLen)
}

// phc is a parsed argon2id hash.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC reads a hash that Hash wrote, refusing parameters out of bounds.
func parsePHC(encoded string) (phc, error) {
	var h phc
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errors.New("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, fmt.Errorf("argon2 version %q is not %d", parts[2], argon2.Version)
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", h.memory, h.time, threads) != parts[3] {
		return h, fmt.Errorf("argon2 parameters %q are not m=N,t=N,p=N", parts[3])
	}
	if h.time < 1 || h.time > maxArgonTime || threads < 1 || threads > maxArgonThreads ||
		h.memory < 8*threads || h.memory > maxArgonMemory {
		return h, fmt.Errorf("argon2 parameters %q are out of bounds", parts[3])
	}
	h.threads = uint8(threads)
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return h, errors.New("argon2 salt is not 8 to 64 bytes of base64")
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return h, errors.New("argon2 hash is not 16 to 64 bytes of base64")
	}
	return h, nil
}
