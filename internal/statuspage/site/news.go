package site

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
	"github.com/illico-dev/illico/internal/store"
)

// pageStatus is the status page's status, kept in the store. Each change
// that adds updates to incidents or maintenances tells the subscribers,
// whoever made it: the rollouts' driver, an operator, the dashboard. The
// notifications are queued in the change's own transaction: a crash leaves
// both the change and its notifications, or neither, and the queue sends a
// key once to each subscriber however often it is queued.
type pageStatus struct {
	*page.Stored[*store.Tx]
	// notices write what the page says by itself, in every language.
	notices *page.Notices
	subs    *subscriptions // nil: nobody to tell
}

// Update changes the status like Stored.Update, and queues its news for the
// subscribers with it.
func (p *pageStatus) Update(ctx context.Context, change func(*fleet.Status) error) error {
	if p.subs == nil {
		return p.Stored.Update(ctx, change)
	}
	var us []subscribers.Update
	var queued int
	err := p.Stored.UpdateTx(ctx, func(tx *store.Tx, st *fleet.Status) error {
		seen := updateIDs(st)
		if err := change(st); err != nil {
			return err
		}
		us = p.subs.news(seen, st)
		var err error
		queued, err = p.subs.enqueue(ctx, tx, us)
		return err
	})
	if err == nil && len(us) > 0 {
		keys := make([]string, len(us))
		for i, u := range us {
			keys[i] = u.Key
		}
		p.subs.log.Info("status updates queued for subscribers", "keys", keys, "notifications", queued)
		p.subs.sender.Kick()
	}
	return err
}

func updateIDs(st *fleet.Status) map[string]bool {
	seen := map[string]bool{}
	for _, in := range st.Incidents {
		for _, u := range in.Updates {
			seen["incident/"+in.ID+"/"+u.ID] = true
		}
	}
	for _, m := range st.Maintenance {
		for _, u := range m.Updates {
			seen["maintenance/"+m.ID+"/"+u.ID] = true
		}
	}
	return seen
}

// news is what st has that was not seen, as messages in every language.
func (s *subscriptions) news(seen map[string]bool, st *fleet.Status) []subscribers.Update {
	var out []subscribers.Update
	add := func(kind, id string, name fleet.Text, comps []string, u fleet.StatusUpdate) {
		key := kind + "/" + id + "/" + u.ID
		if seen[key] {
			return
		}
		out = append(out, s.message(key, name, comps, u, st.Components))
	}
	for _, in := range st.Incidents {
		for _, u := range in.Updates {
			add("incident", in.ID, in.Name, in.Components, u)
		}
	}
	for _, m := range st.Maintenance {
		for _, u := range m.Updates {
			add("maintenance", m.ID, m.Name, m.Components, u)
		}
	}
	return out
}

// message is update u of the incident or maintenance name, in every
// language: its status and name in the subject, the components it affects
// after its body.
func (s *subscriptions) message(key string, name fleet.Text, comps []string, u fleet.StatusUpdate, all []fleet.Component) subscribers.Update {
	var names []string
	for _, id := range comps {
		if i := slices.IndexFunc(all, func(c fleet.Component) bool { return c.ID == id }); i >= 0 {
			names = append(names, all[i].Name)
		} else {
			names = append(names, id)
		}
	}
	msg := subscribers.Update{Key: key, Components: slices.Clone(comps), Subject: fleet.Text{}, Body: fleet.Text{}}
	for _, lang := range fleet.LanguageCodes() {
		status, ok := s.texts.Lookup(lang, "news.status."+u.Status)
		if !ok {
			status = u.Status
		}
		msg.Subject[lang] = fmt.Sprintf("[%s] %s", status, name.In(lang, "en"))
		body := u.Body.In(lang, "en")
		if len(names) > 0 {
			body += "\n\n" + s.texts.T(lang, "news.affected") + ": " + strings.Join(names, ", ")
		}
		msg.Body[lang] = body
	}
	return msg
}

// enqueue queues the news for the subscribers on q, the transaction of the
// change that made it.
func (s *subscriptions) enqueue(ctx context.Context, q subscribers.Enqueuer, us []subscribers.Update) (int, error) {
	total := 0
	for _, u := range us {
		u.Body = s.bodyWithPage(u.Body)
		n, err := subscribers.Fanout(ctx, q, u)
		if err != nil {
			return 0, fmt.Errorf("tell the subscribers of %s: %w", u.Key, err)
		}
		total += n
	}
	return total, nil
}

// bodyWithPage ends each language's body with the page's address.
func (s *subscriptions) bodyWithPage(body fleet.Text) fleet.Text {
	out := fleet.Text{}
	for lang, b := range body {
		out[lang] = b + "\n" + s.texts.T(lang, "news.page") + ": " + s.page
	}
	return out
}
