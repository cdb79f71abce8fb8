package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// secretTests check the daemon's own secrets.
var secretTests = []test{
	{"secrets: made once, kept, never replaced", testSecrets},
	{"secrets: of concurrent creators, one wins for all", testSecretsConcurrent},
}

func testSecrets(t *testing.T, s *store.Store) {
	c := ctx(t)
	_, err := s.Secret(c, "link_key")
	wantKind(t, err, fleet.KindNotFound)
	first := fleet.Secret(strings.Repeat("a", 64))
	kept, created, err := s.CreateSecret(c, "link_key", first)
	if err != nil || !created || kept != first {
		t.Fatalf("create: created %v, same value %v, error %v", created, kept == first, err)
	}
	kept, created, err = s.CreateSecret(c, "link_key", fleet.Secret(strings.Repeat("b", 64)))
	if err != nil || created || kept != first {
		t.Fatalf("create again: created %v, first value kept %v, error %v", created, kept == first, err)
	}
	if got := must(s.Secret(c, "link_key"))(t); got != first {
		t.Error("the secret read back is not the one created")
	}
	other := fleet.Secret("another")
	if kept, created, err := s.CreateSecret(c, "other", other); err != nil || !created || kept != other {
		t.Errorf("a second name: created %v, same value %v, error %v", created, kept == other, err)
	}
	for _, tc := range []struct {
		name  string
		value fleet.Secret
	}{{"", "v"}, {"n", ""}} {
		t.Run(fmt.Sprintf("name %q value %q", tc.name, tc.value.Reveal()), func(t *testing.T) {
			_, _, err := s.CreateSecret(c, tc.name, tc.value)
			wantKind(t, err, fleet.KindInvalid)
		})
	}
}

func testSecretsConcurrent(t *testing.T, s *store.Store) {
	c := ctx(t)
	const n = 8
	var wg sync.WaitGroup
	kept := make([]fleet.Secret, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			kept[i], created[i], errs[i] = s.CreateSecret(c, "link_key", fleet.Secret(fmt.Sprintf("key of creator %d", i)))
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if kept[i] != kept[0] {
			t.Errorf("creators 0 and %d got different secrets", i)
		}
		if created[i] {
			winners++
			if kept[i] != fleet.Secret(fmt.Sprintf("key of creator %d", i)) {
				t.Errorf("creator %d created the secret but got another one", i)
			}
		}
	}
	if winners != 1 {
		t.Errorf("%d of %d concurrent creators created the secret, want 1", winners, n)
	}
}
