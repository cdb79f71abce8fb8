// Package storetest is the conformance suite every database behind
// store.Store must pass: the same checks run on SQLite and on PostgreSQL, so
// that neither dialect is a second path that no test runs.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// Run runs the suite. open returns a new, empty store for each subtest and
// arranges for it to be closed when that subtest ends.
func Run(t *testing.T, open func(t testing.TB) *store.Store) {
	for _, tt := range slices.Concat(coreTests, statusTests, monitorTests, accountTests, secretTests, leaseTests, leaderTests) {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

// test is one check of the suite; each part of the store lists its own.
type test struct {
	name string
	run  func(t *testing.T, s *store.Store)
}

var coreTests = []test{
	{"migrations are idempotent", testMigrate},
	{"tokens round-trip", testTokens},
	{"bad tokens fail", testBadTokens},
	{"revoked tokens fail", testRevoke},
	{"the last admin cannot be revoked", testLastAdmin},
	{"touch records last use", testTouch},
	{"events order and pagination", testEvents},
	{"event filters", testEventFilters},
	{"event data round-trips", testEventData},
	{"concurrent writers", testConcurrent},
	{"a failed transaction leaves nothing", testTxRollback},
	{"a transaction commits everything", testTxCommit},
	{"times round-trip in UTC", testTimes},
	{"rollouts round-trip", testRollouts},
	{"host runs saved concurrently", testHostRunsConcurrently},
	{"subscribers: opt-in, no change once confirmed, unsubscribe", testSubscribers},
	{"notification queue: enqueue, claim, lease, concurrent claims", testQueue},
}

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func wantKind(t testing.TB, err error, kind fleet.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one of kind %v", kind)
	}
	if got := fleet.KindOf(err); got != kind {
		t.Fatalf("got error %q of kind %v, want kind %v", err, got, kind)
	}
}

// must(f())(t) is f's value, failing the test if f failed.
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// must2 is must for a function of two values.
func must2[T, U any](v T, w U, err error) func(t testing.TB) (T, U) {
	return func(t testing.TB) (T, U) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v, w
	}
}

func createToken(t testing.TB, s *store.Store, name string, role fleet.Role) (fleet.Token, fleet.Secret) {
	t.Helper()
	tok, secret, err := s.CreateToken(ctx(t), name, role)
	if err != nil {
		t.Fatalf("create token %s: %v", name, err)
	}
	return tok, secret
}

func testMigrate(t *testing.T, s *store.Store) {
	c := ctx(t)
	v := must(s.SchemaVersion(c))(t)
	if v < 1 {
		t.Fatalf("schema version %d after Open, want at least 1", v)
	}
	tok, secret := createToken(t, s, "before", fleet.RoleAdmin)
	for range 2 {
		if err := s.Migrate(c); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
	}
	if again := must(s.SchemaVersion(c))(t); again != v {
		t.Fatalf("schema version went from %d to %d on a second migrate", v, again)
	}
	if got := must(s.Authenticate(c, secret.Reveal()))(t); got.ID != tok.ID {
		t.Fatalf("after migrating again, the token authenticates as %d, want %d", got.ID, tok.ID)
	}
}

func testTokens(t *testing.T, s *store.Store) {
	c := ctx(t)
	if n := must(s.CountTokens(c))(t); n != 0 {
		t.Fatalf("a new store counts %d tokens", n)
	}
	before := time.Now().UTC().Truncate(store.Precision)
	admin, adminSecret := createToken(t, s, "ops laptop", fleet.RoleAdmin)
	reader, readerSecret := createToken(t, s, "grafana", fleet.RoleReader)
	after := time.Now().UTC()
	if !strings.HasPrefix(adminSecret.Reveal(), store.SecretPrefix) || len(adminSecret.Reveal()) < len(store.SecretPrefix)+50 {
		t.Errorf("secret has not the expected shape (prefix %s and 32 random bytes)", store.SecretPrefix)
	}
	if adminSecret == readerSecret {
		t.Fatal("two tokens got the same secret")
	}
	if admin.Created.Before(before) || admin.Created.After(after) || admin.Created.Location() != time.UTC {
		t.Errorf("created %v, want a UTC time between %v and %v", admin.Created, before, after)
	}
	if !admin.LastUsed.IsZero() || !admin.Active() {
		t.Errorf("a new token: last used %v, active %v", admin.LastUsed, admin.Active())
	}
	for _, tc := range []struct {
		secret fleet.Secret
		want   fleet.Token
	}{{adminSecret, admin}, {readerSecret, reader}} {
		got := must(s.Authenticate(c, tc.secret.Reveal()))(t)
		if got != tc.want {
			t.Errorf("authenticate: got %+v, want %+v", got, tc.want)
		}
	}
	if got := must(s.Token(c, reader.ID))(t); got != reader {
		t.Errorf("token %d: got %+v, want %+v", reader.ID, got, reader)
	}
	list := must(s.ListTokens(c))(t)
	if len(list) != 2 || list[0] != admin || list[1] != reader {
		t.Errorf("list: got %+v, want [%+v %+v]", list, admin, reader)
	}
	if n := must(s.CountTokens(c))(t); n != 2 {
		t.Errorf("count: got %d, want 2", n)
	}
	_, err := s.Token(c, reader.ID+100)
	wantKind(t, err, fleet.KindNotFound)
}

func testBadTokens(t *testing.T, s *store.Store) {
	c := ctx(t)
	createToken(t, s, "real", fleet.RoleAdmin)
	for _, tc := range []struct {
		name   string
		secret string
	}{
		{"empty", ""},
		{"no prefix", "abcdef"},
		{"unknown", string(store.NewSecret())},
		{"prefix only", store.SecretPrefix},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Authenticate(c, tc.secret)
			wantKind(t, err, fleet.KindUnauthorized)
		})
	}
	for _, tc := range []struct {
		name, token string
		role        fleet.Role
	}{
		{"unknown role", "x", fleet.Role("root")},
		{"empty role", "x", ""},
		{"empty name", " ", fleet.RoleReader},
		{"control character", "a\nb", fleet.RoleReader},
		{"long name", strings.Repeat("n", 101), fleet.RoleReader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CreateToken(c, tc.token, tc.role)
			wantKind(t, err, fleet.KindInvalid)
		})
	}
}

func testRevoke(t *testing.T, s *store.Store) {
	c := ctx(t)
	createToken(t, s, "keeper", fleet.RoleAdmin)
	tok, secret := createToken(t, s, "ci", fleet.RoleOperator)
	revoked := must(s.RevokeToken(c, tok.ID))(t)
	if revoked.Active() || revoked.ID != tok.ID {
		t.Fatalf("revoke returned %+v", revoked)
	}
	_, err := s.Authenticate(c, secret.Reveal())
	wantKind(t, err, fleet.KindUnauthorized)
	if got := must(s.Token(c, tok.ID))(t); got.Revoked != revoked.Revoked {
		t.Errorf("stored revocation time %v, want %v", got.Revoked, revoked.Revoked)
	}
	_, err = s.RevokeToken(c, tok.ID)
	wantKind(t, err, fleet.KindConflict)
	_, err = s.RevokeToken(c, tok.ID+100)
	wantKind(t, err, fleet.KindNotFound)
	if n := must(s.CountTokens(c))(t); n != 2 {
		t.Errorf("count after revoking: got %d, want 2 (revoked tokens count)", n)
	}
}

func testLastAdmin(t *testing.T, s *store.Store) {
	c := ctx(t)
	first, _ := createToken(t, s, "first", fleet.RoleAdmin)
	second, _ := createToken(t, s, "second", fleet.RoleAdmin)
	must(s.RevokeToken(c, first.ID))(t)
	_, err := s.RevokeToken(c, second.ID)
	wantKind(t, err, fleet.KindConflict)
	if got := must(s.Token(c, second.ID))(t); !got.Active() {
		t.Fatal("the last admin token was revoked")
	}
}

func testTouch(t *testing.T, s *store.Store) {
	c := ctx(t)
	tok, secret := createToken(t, s, "used", fleet.RoleReader)
	if err := s.TouchToken(c, tok.ID); err != nil {
		t.Fatal(err)
	}
	first := must(s.Authenticate(c, secret.Reveal()))(t).LastUsed
	if first.IsZero() {
		t.Fatal("last used is still zero after a touch")
	}
	if err := s.TouchToken(c, tok.ID); err != nil {
		t.Fatal(err)
	}
	if again := must(s.Token(c, tok.ID))(t).LastUsed; !again.Equal(first) {
		t.Errorf("a second touch within a minute moved last used from %v to %v", first, again)
	}
}

func appendEvents(t testing.TB, s *store.Store, n int, kind, subject string, at time.Time) []store.Event {
	t.Helper()
	var out []store.Event
	for i := range n {
		e := must(s.AppendEvent(ctx(t), store.Event{
			Time: at.Add(time.Duration(i) * time.Second), Kind: kind, Subject: subject, Message: fmt.Sprintf("%s %d", kind, i),
		}))(t)
		out = append(out, e)
	}
	return out
}

func ids(events []store.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func testEvents(t *testing.T, s *store.Store) {
	c := ctx(t)
	if got := must(s.Events(c, store.EventFilter{}))(t); len(got) != 0 {
		t.Fatalf("a new store has %d events", len(got))
	}
	all := appendEvents(t, s, 25, "host.rebooted", "web-1", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("ids are not increasing: %v", ids(all))
		}
	}
	var pages [][]int64
	var after int64
	for range 10 {
		page := must(s.Events(c, store.EventFilter{After: after, Limit: 10}))(t)
		if len(page) == 0 {
			break
		}
		pages = append(pages, ids(page))
		after = page[len(page)-1].ID
	}
	want := [][]int64{ids(all[:10]), ids(all[10:20]), ids(all[20:])}
	if fmt.Sprint(pages) != fmt.Sprint(want) {
		t.Errorf("pages: got %v, want %v", pages, want)
	}
	got := must(s.Events(c, store.EventFilter{}))(t)
	if len(got) != 25 {
		t.Fatalf("default limit: got %d events, want all 25", len(got))
	}
	for i := range got {
		if got[i].Time != all[i].Time || got[i].Message != all[i].Message || got[i].Kind != all[i].Kind || got[i].Subject != all[i].Subject {
			t.Errorf("event %d: got %+v, want %+v", i, got[i], all[i])
		}
	}
	_, err := s.Events(c, store.EventFilter{Limit: -1})
	wantKind(t, err, fleet.KindInvalid)
	_, err = s.AppendEvent(c, store.Event{Message: "no kind"})
	wantKind(t, err, fleet.KindInvalid)
}

func testEventFilters(t *testing.T, s *store.Store) {
	c := ctx(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a := appendEvents(t, s, 3, "host.rebooted", "web-1", t0)
	b := appendEvents(t, s, 3, "host.rebooted", "web-2", t0.Add(time.Hour))
	d := appendEvents(t, s, 2, "token.created", "", t0.Add(2*time.Hour))
	cat := func(lists ...[]store.Event) []int64 {
		var out []int64
		for _, l := range lists {
			out = append(out, ids(l)...)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		filter store.EventFilter
		want   []int64
	}{
		{"kind", store.EventFilter{Kind: "host.rebooted"}, cat(a, b)},
		{"subject", store.EventFilter{Subject: "web-2"}, cat(b)},
		{"kind and subject", store.EventFilter{Kind: "token.created", Subject: "web-2"}, nil},
		{"since", store.EventFilter{Since: t0.Add(time.Hour)}, cat(b, d)},
		{"until", store.EventFilter{Until: t0.Add(time.Hour)}, cat(a)},
		{"since and until", store.EventFilter{Since: t0.Add(time.Second), Until: t0.Add(time.Hour + time.Second)}, cat(a[1:], b[:1])},
		{"since in another zone", store.EventFilter{Since: t0.Add(2 * time.Hour).In(time.FixedZone("CET", 3600))}, cat(d)},
		{"after and limit", store.EventFilter{Kind: "host.rebooted", After: a[1].ID, Limit: 2}, cat(a[2:], b[:1])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(must(s.Events(c, tc.filter))(t))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func testEventData(t *testing.T, s *store.Store) {
	c := ctx(t)
	for _, tc := range []struct {
		name string
		data json.RawMessage
	}{
		{"none", nil},
		{"object", json.RawMessage(`{"host": "web-1", "wave": 2, "ok": true, "tags": ["a", "b"]}`)},
		{"string", json.RawMessage(`"été"`)},
		{"number", json.RawMessage(`42`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := must(s.AppendEvent(c, store.Event{Kind: "test.data", Subject: tc.name, Data: tc.data}))(t)
			got := must(s.Events(c, store.EventFilter{Subject: tc.name}))(t)
			if len(got) != 1 || got[0].ID != e.ID {
				t.Fatalf("got %+v, want event %d", got, e.ID)
			}
			if !sameJSON(t, got[0].Data, tc.data) {
				t.Errorf("data: got %s, want %s", got[0].Data, tc.data)
			}
		})
	}
	_, err := s.AppendEvent(c, store.Event{Kind: "test.data", Data: json.RawMessage(`{not json`)})
	wantKind(t, err, fleet.KindInvalid)
}

// sameJSON compares JSON by value: PostgreSQL's jsonb does not keep spacing
// or key order.
func sameJSON(t testing.TB, a, b json.RawMessage) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("stored data %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("want %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

func testConcurrent(t *testing.T, s *store.Store) {
	const writers, each = 16, 20
	createToken(t, s, "admin", fleet.RoleAdmin)
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				var err error
				switch i % 4 {
				case 0:
					_, _, err = s.CreateToken(c, fmt.Sprintf("w%d-%d", w, i), fleet.RoleReader)
				case 1:
					err = s.Tx(c, func(tx *store.Tx) error {
						_, err := tx.AppendEvent(c, store.Event{Kind: "test.tx", Subject: fmt.Sprint(w)})
						return err
					})
				default:
					_, err = s.AppendEvent(c, store.Event{Kind: "test.concurrent", Subject: fmt.Sprint(w)})
				}
				if err != nil {
					errs <- err
				}
				// Readers run beside the writers.
				if _, err := s.Events(c, store.EventFilter{Subject: fmt.Sprint(w)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var all []store.Event
	var after int64
	for range 100 {
		page := must(s.Events(c, store.EventFilter{After: after, Limit: store.MaxEventLimit}))(t)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	if want := writers * each * 3 / 4; len(all) != want {
		t.Errorf("got %d events, want %d", len(all), want)
	}
	seen := map[int64]bool{}
	for _, e := range all {
		if seen[e.ID] {
			t.Fatalf("event id %d given twice", e.ID)
		}
		seen[e.ID] = true
	}
	if n, want := must(s.CountTokens(c))(t), 1+writers*each/4; n != want {
		t.Errorf("got %d tokens, want %d", n, want)
	}
}

func testTxRollback(t *testing.T, s *store.Store) {
	c := ctx(t)
	keeper, _ := createToken(t, s, "keeper", fleet.RoleAdmin)
	other, _ := createToken(t, s, "other", fleet.RoleAdmin)
	boom := errors.New("boom")
	var secret fleet.Secret
	err := s.Tx(c, func(tx *store.Tx) error {
		if _, err := tx.AppendEvent(c, store.Event{Kind: "test.rollback"}); err != nil {
			return err
		}
		var err error
		if _, secret, err = tx.CreateToken(c, "ghost", fleet.RoleReader); err != nil {
			return err
		}
		if _, err := tx.RevokeToken(c, other.ID); err != nil {
			return err
		}
		// Inside the transaction its own writes are visible.
		if evs, err := tx.Events(c, store.EventFilter{Kind: "test.rollback"}); err != nil || len(evs) != 1 {
			return fmt.Errorf("inside the transaction: events %v, error %v", evs, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v, want the function's error", err)
	}
	if evs := must(s.Events(c, store.EventFilter{Kind: "test.rollback"}))(t); len(evs) != 0 {
		t.Errorf("events of a rolled-back transaction are stored: %+v", evs)
	}
	_, err = s.Authenticate(c, secret.Reveal())
	wantKind(t, err, fleet.KindUnauthorized)
	if n := must(s.CountTokens(c))(t); n != 2 {
		t.Errorf("got %d tokens after rollback, want 2", n)
	}
	for _, id := range []int64{keeper.ID, other.ID} {
		if !must(s.Token(c, id))(t).Active() {
			t.Errorf("token %d revoked by a rolled-back transaction", id)
		}
	}
}

func testTxCommit(t *testing.T, s *store.Store) {
	c := ctx(t)
	var secret fleet.Secret
	err := s.Tx(c, func(tx *store.Tx) error {
		var err error
		if _, secret, err = tx.CreateToken(c, "committed", fleet.RoleOperator); err != nil {
			return err
		}
		_, err = tx.AppendEvent(c, store.Event{Kind: "token.created", Subject: "committed"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok := must(s.Authenticate(c, secret.Reveal()))(t); tok.Name != "committed" {
		t.Errorf("got token %+v", tok)
	}
	if evs := must(s.Events(c, store.EventFilter{Kind: "token.created"}))(t); len(evs) != 1 {
		t.Errorf("got %d events, want 1", len(evs))
	}
}

func testTimes(t *testing.T, s *store.Store) {
	c := ctx(t)
	zone := time.FixedZone("UTC-7", -7*3600)
	for _, at := range []time.Time{
		time.Date(2025, 6, 30, 23, 59, 59, 123456789, zone),
		time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2038, 1, 19, 3, 14, 8, 1000, time.FixedZone("CEST", 7200)),
	} {
		t.Run(at.String(), func(t *testing.T) {
			e := must(s.AppendEvent(c, store.Event{Time: at, Kind: "test.time", Subject: at.String()}))(t)
			want := at.UTC().Truncate(store.Precision)
			if e.Time != want {
				t.Errorf("appended time %v, want %v", e.Time, want)
			}
			got := must(s.Events(c, store.EventFilter{Subject: at.String()}))(t)
			if len(got) != 1 {
				t.Fatalf("got %d events", len(got))
			}
			if got[0].Time != want || got[0].Time.Location() != time.UTC {
				t.Errorf("read back %v (%v), want %v in UTC", got[0].Time, got[0].Time.Location(), want)
			}
		})
	}
}
