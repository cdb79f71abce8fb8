package alert

import (
	"slices"
	"strconv"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// Silence mutes the alerts its matchers select from StartsAt until EndsAt.
type Silence struct {
	ID        string
	Matchers  []labels.Matcher
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
}

// Active reports whether the silence mutes alerts at now.
func (s *Silence) Active(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// Validate says what is wrong with a silence: every one needs matchers, an
// end after its start, who made it and why.
func (s *Silence) Validate() error {
	switch {
	case len(s.Matchers) == 0:
		return fleet.Errorf(fleet.KindInvalid, "a silence needs at least one matcher, or it would mute every alert")
	case !s.EndsAt.After(s.StartsAt):
		return fleet.Errorf(fleet.KindInvalid, "a silence must end after it starts (starts %s, ends %s)", s.StartsAt.Format(time.RFC3339), s.EndsAt.Format(time.RFC3339))
	case s.CreatedBy == "":
		return fleet.Errorf(fleet.KindInvalid, "a silence needs the name of who created it")
	case s.Comment == "":
		return fleet.Errorf(fleet.KindInvalid, "a silence needs a comment saying why")
	}
	return nil
}

// Maintenance is a rollout step taking a host down on purpose: its alerts
// are muted from Start until the grace period after End, while End is zero
// the step is still running.
type Maintenance struct {
	Host    string
	Rollout string
	Step    string
	Start   time.Time
	End     time.Time
	// Back is when every probe of the host was seen up after End: from
	// then on, trouble that begins is new, not the maintenance's, and the
	// grace period mutes it no longer.
	Back time.Time
}

func (m *Maintenance) until(grace time.Duration) time.Time {
	if m.End.IsZero() {
		return time.Time{}
	}
	return m.End.Add(grace)
}

func (m *Maintenance) mutes(now time.Time, grace time.Duration) bool {
	u := m.until(grace)
	return !now.Before(m.Start) && (u.IsZero() || now.Before(u))
}

// Mutes reports whether the maintenance mutes, at now, the host's alert
// that began at started.
func (m *Maintenance) Mutes(started, now time.Time, grace time.Duration) bool {
	return m.mutes(now, grace) && (m.Back.IsZero() || !started.After(m.Back))
}

// AddSilence records s and returns it with its id, numbered in order when
// s has none.
func (p *Pipeline) AddSilence(s Silence) (Silence, error) {
	if err := s.Validate(); err != nil {
		return Silence{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.ID == "" {
		p.silenceSeq++
		s.ID = strconv.Itoa(p.silenceSeq)
	}
	if slices.ContainsFunc(p.silences, func(o Silence) bool { return o.ID == s.ID }) {
		return Silence{}, fleet.Errorf(fleet.KindConflict, "silence %s exists already", s.ID)
	}
	s.Matchers = slices.Clone(s.Matchers)
	p.silences = append(p.silences, s)
	return s, nil
}

// ExpireSilence ends silence id at now.
func (p *Pipeline) ExpireSilence(id string, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.silences {
		if s := &p.silences[i]; s.ID == id {
			if now.Before(s.EndsAt) {
				s.EndsAt = now
			}
			return nil
		}
	}
	return fleet.Errorf(fleet.KindNotFound, "no silence %s", id)
}

// Silences returns every silence, expired ones included, in order.
func (p *Pipeline) Silences() []Silence {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.silences)
}

// Maintain records that a rollout step takes m.Host down from m.Start, or,
// with m.End set, that the step ended. A host has one maintenance at a
// time: the latest.
func (p *Pipeline) Maintain(m Maintenance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maint[m.Host] = m
}

func (p *Pipeline) silenced(a *Alert, now time.Time) bool {
	for i := range p.silences {
		if s := &p.silences[i]; s.Active(now) && labels.Matchers(s.Matchers).Match(a.Labels) {
			return true
		}
	}
	return false
}

// inMaintenance reports whether a host alert is muted by a rollout at now.
func (p *Pipeline) inMaintenance(a *Alert, now time.Time) bool {
	m, ok := p.maint[a.Labels[LabelHost]]
	return ok && m.Mutes(a.StartsAt, now, p.grace)
}

// overstayed is the maintenance a firing alert began in and outlived: the
// host did not come back within the grace period.
func (p *Pipeline) overstayed(a *Alert, now time.Time) (Maintenance, bool) {
	m, ok := p.maint[a.Labels[LabelHost]]
	if !ok || m.mutes(now, p.grace) || a.StartsAt.Before(m.Start) || !m.Back.IsZero() && a.StartsAt.After(m.Back) {
		return Maintenance{}, false
	}
	u := m.until(p.grace)
	return m, a.StartsAt.Before(u)
}
