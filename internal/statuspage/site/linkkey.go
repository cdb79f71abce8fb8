package site

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
)

// The link key signs the unsubscribe links the subscribers' messages
// carry.

// linkKeyName names the link key among the store's secrets.
const linkKeyName = "link_key"

// secrets keeps the daemon's secrets, shared by every daemon on the
// database.
type secrets interface {
	Secret(ctx context.Context, name string) (fleet.Secret, error)
	CreateSecret(ctx context.Context, name string, value fleet.Secret) (fleet.Secret, bool, error)
}

// linkKey returns the key that signs the unsubscribe links, kept in st so
// that every daemon on the database signs alike. The first daemon to start
// makes it, or takes the one in oldFile, where it was kept before.
func linkKey(ctx context.Context, st secrets, oldFile string, log *slog.Logger) (fleet.Secret, error) {
	key, err := st.Secret(ctx, linkKeyName)
	if err == nil {
		return key, nil
	}
	if fleet.KindOf(err) != fleet.KindNotFound {
		return "", err
	}
	fromFile, err := oldLinkKey(oldFile)
	if err != nil {
		return "", err
	}
	key = fromFile
	if key == "" {
		b := make([]byte, subscribers.MinKeyLength)
		rand.Read(b) // never fails: crypto/rand aborts rather than return weak bytes
		key = fleet.Secret(hex.EncodeToString(b))
	}
	kept, created, err := st.CreateSecret(ctx, linkKeyName, key)
	switch {
	case err != nil:
		return "", fmt.Errorf("keep the link key: %w", err)
	case created && fromFile != "":
		log.Info("the link key is now kept in the database; the file is no longer read and can be deleted", "file", oldFile)
	case !created && fromFile != "" && kept != fromFile:
		log.Warn("another daemon stored a link key first: the one of this file was not taken, and the links it signed no longer unsubscribe", "file", oldFile)
	}
	return kept, nil
}

// oldLinkKey reads the link key of path, "" when there is no such file.
func oldLinkKey(path string) (fleet.Secret, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fleet.Errorf(fleet.KindInvalid, "read the old link key: %v", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < subscribers.MinKeyLength {
		return "", fleet.Errorf(fleet.KindInvalid, "old link key %s: shorter than %d bytes; remove it to make a new key (the links already sent stop working)", path, subscribers.MinKeyLength)
	}
	return fleet.Secret(key), nil
}
