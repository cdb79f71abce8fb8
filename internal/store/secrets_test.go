package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// TestSecretAcrossDaemons makes one secret from daemons that each have
// their own connection to one database, at once: one value wins, and every
// daemon gets it.
func TestSecretAcrossDaemons(t *testing.T) {
	dsns := map[string]func(t testing.TB) string{
		"sqlite":   sqliteDSN,
		"postgres": pgtest.Start,
	}
	for name, dsnFor := range dsns {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			const n = 4
			daemons := make([]*store.Store, n)
			for i := range daemons {
				daemons[i] = openStore(t, dsn)
			}
			var wg sync.WaitGroup
			kept := make([]fleet.Secret, n)
			created := make([]bool, n)
			errs := make([]error, n)
			for i, s := range daemons {
				wg.Go(func() {
					kept[i], created[i], errs[i] = s.CreateSecret(t.Context(), "link_key", fleet.Secret(fmt.Sprintf("key of daemon %d", i)))
				})
			}
			wg.Wait()
			winners := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("daemon %d: %v", i, errs[i])
				}
				if kept[i] != kept[0] {
					t.Errorf("daemons 0 and %d got different secrets", i)
				}
				if created[i] {
					winners++
				}
			}
			if winners != 1 {
				t.Errorf("%d of %d daemons created the secret, want 1", winners, n)
			}
		})
	}
}
