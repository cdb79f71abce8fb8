package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

func saveSubscriber(t testing.TB, s *store.Store, sub fleet.Subscriber) (fleet.Subscriber, string, string) {
	t.Helper()
	confirm, unsub := store.NewSecret().Reveal(), store.NewSecret().Reveal()
	saved, err := s.SaveSubscriber(ctx(t), sub, store.HashSecret(confirm), store.HashSecret(unsub))
	if err != nil {
		t.Fatalf("save subscriber %s: %v", sub.Address, err)
	}
	return saved, confirm, unsub
}

func confirmedSubscriber(t testing.TB, s *store.Store, address, lang string, components ...string) fleet.Subscriber {
	t.Helper()
	_, confirm, unsub := saveSubscriber(t, s, fleet.Subscriber{Kind: fleet.SubscriberEmail, Address: address, Language: lang, Components: components})
	// The cases of testQueue share a store: each takes its subscribers,
	// and their notifications, away with it.
	t.Cleanup(func() { s.Unsubscribe(context.WithoutCancel(ctx(t)), store.HashSecret(unsub)) })
	return must(s.ConfirmSubscriber(ctx(t), store.HashSecret(confirm)))(t)
}

func testSubscribers(t *testing.T, s *store.Store) {
	c := ctx(t)
	sub := fleet.Subscriber{Kind: fleet.SubscriberWebhook, Address: "https://example.net/hook", Language: "fr",
		Components: []string{"web", "mail", "web"}, Secret: "shh", Nonce: "n1"}
	saved, confirm, unsub := saveSubscriber(t, s, sub)
	if saved.Confirmed() || saved.ID == 0 || saved.Secret != "shh" || !slices.Equal(saved.Components, []string{"mail", "web"}) {
		t.Fatalf("saved %+v", saved)
	}
	// A second request while pending replaces the first, tokens included.
	again, confirm2, unsub2 := saveSubscriber(t, s, fleet.Subscriber{Kind: sub.Kind, Address: sub.Address, Language: "de", Secret: "new", Nonce: "n2"})
	if again.Language != "de" || again.Components != nil || again.Confirmed() {
		t.Fatalf("second request: %+v", again)
	}
	_, err := s.ConfirmSubscriber(c, store.HashSecret(confirm))
	wantKind(t, err, fleet.KindNotFound)
	confirmed := must(s.ConfirmSubscriber(c, store.HashSecret(confirm2)))(t)
	if !confirmed.Confirmed() || confirmed.ID != again.ID {
		t.Fatalf("confirmed %+v", confirmed)
	}
	if twice := must(s.ConfirmSubscriber(c, store.HashSecret(confirm2)))(t); !twice.ConfirmedAt.Equal(confirmed.ConfirmedAt) {
		t.Errorf("confirming twice moved the time from %v to %v", confirmed.ConfirmedAt, twice.ConfirmedAt)
	}
	// Once confirmed, a new request changes nothing.
	third, _, _ := saveSubscriber(t, s, fleet.Subscriber{Kind: sub.Kind, Address: sub.Address, Language: "en", Nonce: "n3"})
	if third.ID != confirmed.ID || third.Language != "de" || third.Secret != "new" || !third.Confirmed() {
		t.Fatalf("a request for a confirmed address changed it: %+v", third)
	}
	if got := must(s.Subscriber(c, third.ID))(t); got.Nonce != "n2" {
		t.Errorf("nonce %q, want n2", got.Nonce)
	}
	counts := must(s.CountSubscribers(c))(t)
	if counts[fleet.SubscriberWebhook] != (store.SubscriberCount{Confirmed: 1}) {
		t.Errorf("counts %+v", counts)
	}
	_, err = s.Unsubscribe(c, store.HashSecret(unsub))
	wantKind(t, err, fleet.KindNotFound)
	if gone := must(s.Unsubscribe(c, store.HashSecret(unsub2)))(t); gone.ID != third.ID {
		t.Errorf("unsubscribed %+v", gone)
	}
	_, err = s.Subscriber(c, third.ID)
	wantKind(t, err, fleet.KindNotFound)
	for _, bad := range []fleet.Subscriber{
		{Kind: "pigeon", Address: "a", Language: "en"},
		{Kind: fleet.SubscriberEmail, Address: "", Language: "en"},
		{Kind: fleet.SubscriberEmail, Address: "a@b", Language: "it"},
	} {
		_, err := s.SaveSubscriber(c, bad, "x", "y")
		wantKind(t, err, fleet.KindInvalid)
	}
}

func testEnqueue(t *testing.T, s *store.Store) {
	c := ctx(t)
	all := confirmedSubscriber(t, s, "all@example.net", "fr")
	web := confirmedSubscriber(t, s, "web@example.net", "de", "web")
	mail := confirmedSubscriber(t, s, "mail@example.net", "en", "mail")
	saveSubscriber(t, s, fleet.Subscriber{Kind: fleet.SubscriberEmail, Address: "pending@example.net", Language: "en"})
	msg := fleet.SubscriberMessage{
		Key: "maintenance/1/update/1", Components: []string{"web"},
		Subject: fleet.Text{"en": "Maintenance", "fr": "Maintenance planifiée"},
		Body:    fleet.Text{"en": "body", "fr": "corps", "de": "Text"},
	}
	if n := must(s.Enqueue(c, msg))(t); n != 2 {
		t.Fatalf("enqueued %d, want 2 (all and web)", n)
	}
	if n := must(s.Enqueue(c, msg))(t); n != 0 {
		t.Fatalf("enqueued the same key again: %d rows", n)
	}
	for _, tc := range []struct {
		sub           fleet.Subscriber
		subject, body string
	}{
		{all, "Maintenance planifiée", "corps"},
		{web, "Maintenance", "Text"},
	} {
		got := must(s.Notifications(c, tc.sub.ID))(t)
		if len(got) != 1 || got[0].Subject != tc.subject || got[0].Body != tc.body || got[0].State != fleet.NotificationPending || got[0].Key != msg.Key {
			t.Errorf("%s: got %+v", tc.sub.Address, got)
		}
	}
	if got := must(s.Notifications(c, mail.ID))(t); len(got) != 0 {
		t.Errorf("a subscriber of other components got %+v", got)
	}
	whole := fleet.SubscriberMessage{Key: "incident/1", Subject: fleet.Text{"en": "Incident"}, Body: fleet.Text{"en": "all"}}
	if n := must(s.Enqueue(c, whole))(t); n != 3 {
		t.Errorf("a message about the whole page went to %d subscribers, want 3", n)
	}
	if counts := must(s.QueueCounts(c))(t); counts[fleet.NotificationPending] != 5 {
		t.Errorf("counts %v", counts)
	}
	_, err := s.Enqueue(c, fleet.SubscriberMessage{})
	wantKind(t, err, fleet.KindInvalid)
}

func testClaim(t *testing.T, s *store.Store) {
	c := ctx(t)
	for i := range 3 {
		confirmedSubscriber(t, s, fmt.Sprintf("claim%d@example.net", i), "en", "claim")
	}
	before := must(s.QueueCounts(c))(t)
	must(s.Enqueue(c, fleet.SubscriberMessage{Key: "claim", Components: []string{"claim"}, Subject: fleet.Text{"en": "s"}, Body: fleet.Text{"en": "b"}}))(t)
	first := must(s.Claim(c, 2, time.Hour))(t)
	if len(first) != 2 || first[0].State != fleet.NotificationSending || first[0].Attempts != 1 || first[0].Subscriber.Address == "" {
		t.Fatalf("claimed %+v", first)
	}
	rest := must(s.Claim(c, 10, time.Hour))(t)
	if len(rest) != 1 || rest[0].ID == first[0].ID || rest[0].ID == first[1].ID {
		t.Fatalf("second claim %+v", rest)
	}
	if none := must(s.Claim(c, 10, time.Hour))(t); len(none) != 0 {
		t.Fatalf("rows under lease were claimed again: %+v", none)
	}
	if err := s.MarkSent(c, first[0].ID, first[0].Attempts); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.MarkSent(c, first[0].ID, first[0].Attempts), fleet.KindConflict)
	wantKind(t, s.MarkSent(c, first[1].ID, first[1].Attempts+1), fleet.KindConflict)
	if err := s.Release(c, first[1].ID, first[1].Attempts); err != nil {
		t.Fatal(err)
	}
	again := must(s.Claim(c, 10, time.Hour))(t)
	if len(again) != 1 || again[0].ID != first[1].ID || again[0].Attempts != 1 {
		t.Fatalf("after release: %+v", again)
	}
	if err := s.Retry(c, again[0].ID, again[0].Attempts, time.Now().Add(time.Hour), "451 try later"); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(c, rest[0].ID, rest[0].Attempts, time.Time{}, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	if none := must(s.Claim(c, 10, time.Hour))(t); len(none) != 0 {
		t.Fatalf("rows not due were claimed: %+v", none)
	}
	counts := must(s.QueueCounts(c))(t)
	for state, added := range map[fleet.NotificationState]int{fleet.NotificationSent: 1, fleet.NotificationPending: 1, fleet.NotificationFailed: 1} {
		if counts[state] != before[state]+added {
			t.Errorf("%s: %d rows, want %d more than the %d before", state, counts[state], added, before[state])
		}
	}
	got := must(s.Notifications(c, rest[0].Subscriber.ID))(t)
	if len(got) != 1 || got[0].LastError != "550 no such user" || got[0].State != fleet.NotificationFailed {
		t.Errorf("failed row %+v", got)
	}
}

// testLease claims rows with a short lease, as a sender that then dies:
// after the lease they are handed out again, and the dead claim can no
// longer settle them.
func testLease(t *testing.T, s *store.Store) {
	c := ctx(t)
	confirmedSubscriber(t, s, "lease@example.net", "en", "lease")
	must(s.Enqueue(c, fleet.SubscriberMessage{Key: "lease", Components: []string{"lease"}, Subject: fleet.Text{"en": "s"}, Body: fleet.Text{"en": "b"}}))(t)
	dead := must(s.Claim(c, 1, 20*time.Millisecond))(t)
	if len(dead) != 1 {
		t.Fatalf("claimed %d", len(dead))
	}
	var again []fleet.Notification
	for range 200 {
		if again = must(s.Claim(c, 1, time.Hour))(t); len(again) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(again) != 1 || again[0].ID != dead[0].ID || again[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v", again)
	}
	wantKind(t, s.MarkSent(c, dead[0].ID, dead[0].Attempts), fleet.KindConflict)
	if err := s.MarkSent(c, again[0].ID, again[0].Attempts); err != nil {
		t.Fatal(err)
	}
}

// testConcurrentClaims runs claimers side by side: each row goes to exactly
// one of them.
func testConcurrentClaims(t *testing.T, s *store.Store) {
	c := ctx(t)
	const subscribers, claimers = 200, 8
	for i := range subscribers {
		confirmedSubscriber(t, s, fmt.Sprintf("concurrent%d@example.net", i), "en", "concurrent")
	}
	must(s.Enqueue(c, fleet.SubscriberMessage{Key: "concurrent", Components: []string{"concurrent"}, Subject: fleet.Text{"en": "s"}, Body: fleet.Text{"en": "b"}}))(t)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range claimers {
		wg.Go(func() {
			for range subscribers {
				got, err := s.Claim(c, 7, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				for _, n := range got {
					if err := s.MarkSent(c, n.ID, n.Attempts); err != nil {
						t.Error(err)
					}
					mu.Lock()
					seen[n.ID]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != subscribers {
		t.Errorf("%d rows claimed, want %d", len(seen), subscribers)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("row %d claimed %d times", id, n)
		}
	}
}

// settleAll marks every due notification sent, so that the cases of
// testQueue, which share a store, start with nothing due.
func settleAll(t testing.TB, s *store.Store) {
	t.Helper()
	for range 100 {
		due := must(s.Claim(ctx(t), 1000, time.Hour))(t)
		if len(due) == 0 {
			return
		}
		for _, n := range due {
			if err := s.MarkSent(ctx(t), n.ID, n.Attempts); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("the queue does not drain")
}

func testQueue(t *testing.T, s *store.Store) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s *store.Store)
	}{
		{"enqueue", testEnqueue},
		{"claim", testClaim},
		{"lease", testLease},
		{"concurrent claims", testConcurrentClaims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settleAll(t, s)
			tc.run(t, s)
		})
	}
}
