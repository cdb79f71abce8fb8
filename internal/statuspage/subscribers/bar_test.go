package subscribers_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
	"github.com/illico-dev/illico/internal/store"
)

// TestTenThousand is the bar: 10,000 e-mail subscribers notified of one
// update against the local sink, each exactly once, though the sender is
// stopped in the middle and the store closed, reopened and drained by a new
// sender. It logs the time (the bar is 60 s) rather than assert it.
func TestTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 10,000 mails")
	}
	const n = 10_000
	e := newEnv(t, subscribers.Options{})
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "bar.db")
	s := openStore(t, dsn)
	c := t.Context()
	err := s.Tx(c, func(tx *store.Tx) error {
		for i := range n {
			confirm := fmt.Sprintf("confirm-%d", i)
			if _, err := tx.SaveSubscriber(c, fleet.Subscriber{Kind: fleet.SubscriberEmail, Address: fmt.Sprintf("s%d@example.net", i),
				Language: fleet.LanguageCodes()[i%3], Nonce: fmt.Sprint(i)}, store.HashSecret(confirm), store.HashSecret(fmt.Sprint("u", i))); err != nil {
				return err
			}
			if _, err := tx.ConfirmSubscriber(c, store.HashSecret(confirm)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	upd := subscribers.Update{Key: "maintenance/1", Subject: fleet.Text{"en": "Maintenance", "fr": "Maintenance", "de": "Wartung"}, Body: fleet.Text{"en": "Tonight."}}
	if got, err := subscribers.Fanout(c, s, upd); err != nil || got != n {
		t.Fatalf("fan out: %d, %v", got, err)
	}
	ctx, cancel := context.WithCancel(c)
	done := make(chan error)
	go func() { done <- e.sender(t, s, 32).Run(ctx) }()
	waitFor(t, "a third of the mails", func() bool { _, total, _ := e.sink.counts(); return total >= n/3 })
	cancel()
	<-done
	_, stoppedAt, _ := e.sink.counts()
	s.Close()

	s = openStore(t, dsn)
	// Enqueueing again after the restart, as a daemon that did not know
	// how far it got, adds nothing.
	if got, err := subscribers.Fanout(c, s, upd); err != nil || got != 0 {
		t.Fatalf("fan out again: %d, %v", got, err)
	}
	ctx, cancel = context.WithCancel(c)
	go func() { done <- e.sender(t, s, 32).Run(ctx) }()
	waitFor(t, "every mail", func() bool { _, total, _ := e.sink.counts(); return total >= n })
	elapsed := time.Since(start)
	// Give a stray duplicate the time to show.
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-done
	addresses, total, dup := e.sink.counts()
	t.Logf("%d mails to %d addresses in %v (stopped after %d, store reopened)", total, addresses, elapsed, stoppedAt)
	if addresses != n || total != n || len(dup) > 0 {
		t.Fatalf("%d mails to %d addresses, want %d each once; sent twice to %d, like %v", total, addresses, n, len(dup), dup[:min(3, len(dup))])
	}
	counts, err := s.QueueCounts(c)
	if err != nil || counts[fleet.NotificationSent] != n {
		t.Errorf("queue %v, %v", counts, err)
	}
}
