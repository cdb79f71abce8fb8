package site

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// raced is a store where another daemon stores its key between this one's
// look and its creation.
type raced struct {
	*store.Store
	other fleet.Secret
}

func (r raced) Secret(ctx context.Context, name string) (fleet.Secret, error) {
	if _, _, err := r.Store.CreateSecret(ctx, name, r.other); err != nil {
		return "", err
	}
	return "", fleet.Errorf(fleet.KindNotFound, "no secret %q in the store", name)
}

func TestLinkKey(t *testing.T) {
	fileKey := strings.Repeat("f", 64)
	storeKey := fleet.Secret(strings.Repeat("s", 64))
	for _, tc := range []struct {
		name string
		// file is the old key file's content; "" for none, "/" for a
		// directory in its place.
		file     string
		stored   fleet.Secret
		race     bool
		want     fleet.Secret // "": a new random key
		logs     string
		problems string
	}{
		{name: "a new key"},
		{name: "the old file's key", file: fileKey + "\n", want: fleet.Secret(fileKey), logs: "no longer read and can be deleted"},
		{name: "the store's key, the file unread", file: "/", stored: storeKey, want: storeKey},
		{name: "another daemon first", file: fileKey, race: true, want: storeKey, logs: "was not taken"},
		{name: "a short old key", file: "short\n", problems: "shorter than 32 bytes; remove it"},
		{name: "an unreadable old key", file: "/", problems: "read the old link key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := t.Context()
			st := openStore(t)
			path := filepath.Join(t.TempDir(), "link.key")
			switch tc.file {
			case "":
			case "/":
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			default:
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.stored != "" {
				if _, _, err := st.CreateSecret(c, linkKeyName, tc.stored); err != nil {
					t.Fatal(err)
				}
			}
			var keys secrets = st
			if tc.race {
				keys = raced{Store: st, other: storeKey}
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			key, err := linkKey(c, keys, path, log)
			if tc.problems != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problems) {
					t.Fatalf("error %v, want one that says %q", err, tc.problems)
				}
				if _, err := st.Secret(c, linkKeyName); fleet.KindOf(err) != fleet.KindNotFound {
					t.Errorf("after a failure, the store's key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(key.Reveal()) != 64:
				t.Errorf("a new key of %d bytes, want 64 random ones", len(key.Reveal()))
			case tc.want != "" && key != tc.want:
				t.Errorf("got another key than the %s", tc.name)
			}
			if tc.logs == "" && logs.Len() > 0 || !strings.Contains(logs.String(), tc.logs) {
				t.Errorf("log %q, want %q", logs.String(), tc.logs)
			}
			if strings.Contains(logs.String(), key.Reveal()) || strings.Contains(logs.String(), fileKey) {
				t.Error("a key is in the log")
			}

			// Every start after reads the store's key, and the file no
			// more, even when it changed.
			if tc.file != "" && tc.file != "/" {
				if err := os.WriteFile(path, []byte(strings.Repeat("x", 64)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			logs.Reset()
			again, err := linkKey(c, st, path, log)
			if err != nil || again != key {
				t.Errorf("the next start: same key %v, error %v", again == key, err)
			}
			if logs.Len() > 0 {
				t.Errorf("the next start logged %q", logs.String())
			}
		})
	}
}
