package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// ProbeBucket aggregates the runs of one probe target over an hour or a day
// (UTC): the status page's bars are drawn from them.
type ProbeBucket struct {
	Target string
	// Width is time.Hour or 24 * time.Hour.
	Width time.Duration
	Start time.Time
	// OK and Total count the runs that passed and all runs.
	OK, Total        int64
	SumTook, MaxTook time.Duration
}

type bucketKey struct {
	target       string
	width, start int64
}

// bucketBatch is the rows of one INSERT. SQLite's driver takes time
// superlinear in a statement's parameters: 25 rows did 20,000 in a third of
// a second on both databases (BenchmarkAddProbeBuckets), 500 in three on
// SQLite.
const bucketBatch = 25

// AddProbeBuckets adds bs to the stored buckets: counts and sums add up, and
// the maximum is the larger. Buckets of one target, width and start in bs
// are merged first.
func (d db) AddProbeBuckets(ctx context.Context, bs []ProbeBucket) error {
	merged := map[bucketKey]ProbeBucket{}
	for _, b := range bs {
		w := int64(b.Width / time.Second)
		if w != 3600 && w != 86400 {
			return fleet.Errorf(fleet.KindInvalid, "probe bucket of %s: width %s, expected 1h or 24h", b.Target, b.Width)
		}
		if b.Target == "" || b.OK < 0 || b.Total < b.OK || b.SumTook < 0 || b.MaxTook < 0 {
			return fleet.Errorf(fleet.KindInvalid, "probe bucket of %q at %s: counts %d of %d, took %s (max %s)",
				b.Target, b.Start.UTC().Format(time.RFC3339), b.OK, b.Total, b.SumTook, b.MaxTook)
		}
		k := bucketKey{target: b.Target, width: w, start: b.Start.Unix()}
		if old, ok := merged[k]; ok {
			b.OK, b.Total, b.SumTook, b.MaxTook = old.OK+b.OK, old.Total+b.Total, old.SumTook+b.SumTook, max(old.MaxTook, b.MaxTook)
		}
		merged[k] = b
	}
	keys := slices.SortedFunc(maps.Keys(merged), func(a, b bucketKey) int {
		return cmp.Or(strings.Compare(a.target, b.target), cmp.Compare(a.width, b.width), cmp.Compare(a.start, b.start))
	})
	for chunk := range slices.Chunk(keys, bucketBatch) {
		var q strings.Builder
		q.WriteString("INSERT INTO probe_buckets (target, width_s, start_unix, ok, total, sum_took_us, max_took_us) VALUES ")
		args := make([]any, 0, 7*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(len(args)+1, 7) + ")")
			b := merged[k]
			args = append(args, k.target, k.width, k.start, b.OK, b.Total, b.SumTook.Microseconds(), b.MaxTook.Microseconds())
		}
		q.WriteString(` ON CONFLICT (target, width_s, start_unix) DO UPDATE SET
			ok = probe_buckets.ok + excluded.ok,
			total = probe_buckets.total + excluded.total,
			sum_took_us = probe_buckets.sum_took_us + excluded.sum_took_us,
			max_took_us = CASE WHEN excluded.max_took_us > probe_buckets.max_took_us THEN excluded.max_took_us ELSE probe_buckets.max_took_us END`)
		if _, err := d.q.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("add probe buckets: %w", err)
		}
	}
	return nil
}

// ProbeBuckets returns the buckets of width that start at since or later,
// by target then start.
func (d db) ProbeBuckets(ctx context.Context, width time.Duration, since time.Time) ([]ProbeBucket, error) {
	rows, err := d.q.QueryContext(ctx, `SELECT target, start_unix, ok, total, sum_took_us, max_took_us FROM probe_buckets
		WHERE width_s = $1 AND start_unix >= $2 ORDER BY target, start_unix`, int64(width/time.Second), since.Unix())
	if err != nil {
		return nil, fmt.Errorf("read probe buckets: %w", err)
	}
	defer rows.Close()
	var out []ProbeBucket
	for rows.Next() {
		b := ProbeBucket{Width: width}
		var start, sum, maxTook int64
		if err := rows.Scan(&b.Target, &start, &b.OK, &b.Total, &sum, &maxTook); err != nil {
			return nil, fmt.Errorf("read probe buckets: %w", err)
		}
		b.Start = time.Unix(start, 0).UTC()
		b.SumTook, b.MaxTook = time.Duration(sum)*time.Microsecond, time.Duration(maxTook)*time.Microsecond
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read probe buckets: %w", err)
	}
	return out, nil
}

// PruneProbeBuckets deletes the buckets of width that start before before,
// and says how many.
func (d db) PruneProbeBuckets(ctx context.Context, width time.Duration, before time.Time) (int64, error) {
	res, err := d.q.ExecContext(ctx, "DELETE FROM probe_buckets WHERE width_s = $1 AND start_unix < $2", int64(width/time.Second), before.Unix())
	if err != nil {
		return 0, fmt.Errorf("prune probe buckets: %w", err)
	}
	return res.RowsAffected()
}

// Silence mutes the alerts its matchers select from StartsAt until EndsAt.
// The store keeps the matchers as written; the alert package reads them.
type Silence struct {
	ID        string
	Matchers  []string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
}

const silenceColumns = "id, matchers, starts_at, ends_at, created_by, comment"

func scanSilence(row interface{ Scan(...any) error }) (Silence, error) {
	var s Silence
	var id int64
	var matchers string
	if err := row.Scan(&id, &matchers, timeScanner{&s.StartsAt}, timeScanner{&s.EndsAt}, &s.CreatedBy, &s.Comment); err != nil {
		return Silence{}, err
	}
	s.ID = strconv.FormatInt(id, 10)
	if err := json.Unmarshal([]byte(matchers), &s.Matchers); err != nil {
		return Silence{}, fmt.Errorf("silence %d: matchers: %w", id, err)
	}
	return s, nil
}

// AddSilence records s and returns it with its id, a number. The caller
// checks that the silence makes sense; the store only that it can be kept.
func (d db) AddSilence(ctx context.Context, s Silence) (Silence, error) {
	if len(s.Matchers) == 0 || s.StartsAt.IsZero() || s.EndsAt.IsZero() {
		return Silence{}, fleet.Errorf(fleet.KindInvalid, "a silence needs matchers, a start and an end")
	}
	matchers, err := json.Marshal(s.Matchers)
	if err != nil {
		return Silence{}, fmt.Errorf("add silence: %w", err)
	}
	out, err := scanSilence(d.q.QueryRowContext(ctx, `INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+silenceColumns,
		string(matchers), d.d.time(s.StartsAt), d.d.time(s.EndsAt), s.CreatedBy, s.Comment, d.d.time(d.now())))
	if err != nil {
		return Silence{}, fmt.Errorf("add silence: %w", err)
	}
	return out, nil
}

// ExpireSilence ends silence id at at, unless it ended before, and returns
// it.
func (d db) ExpireSilence(ctx context.Context, id string, at time.Time) (Silence, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return Silence{}, fleet.Errorf(fleet.KindNotFound, "no silence %s", id)
	}
	s, err := scanSilence(d.q.QueryRowContext(ctx, "SELECT "+silenceColumns+" FROM silences WHERE id = $1"+d.d.forUpdate, n))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Silence{}, fleet.Errorf(fleet.KindNotFound, "no silence %s", id)
	case err != nil:
		return Silence{}, fmt.Errorf("expire silence %s: %w", id, err)
	}
	if at = at.UTC().Truncate(Precision); at.Before(s.EndsAt) {
		if _, err := d.q.ExecContext(ctx, "UPDATE silences SET ends_at = $1 WHERE id = $2", d.d.time(at), n); err != nil {
			return Silence{}, fmt.Errorf("expire silence %s: %w", id, err)
		}
		s.EndsAt = at
	}
	return s, nil
}

// Silences returns every silence kept, expired ones included, in the order
// they were added.
func (d db) Silences(ctx context.Context) ([]Silence, error) {
	rows, err := d.q.QueryContext(ctx, "SELECT "+silenceColumns+" FROM silences ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	defer rows.Close()
	var out []Silence
	for rows.Next() {
		s, err := scanSilence(rows)
		if err != nil {
			return nil, fmt.Errorf("read silences: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	return out, nil
}

// PruneSilences deletes the silences that ended before before, and says how
// many.
func (d db) PruneSilences(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q.ExecContext(ctx, "DELETE FROM silences WHERE ends_at < $1", d.d.time(before))
	if err != nil {
		return 0, fmt.Errorf("prune silences: %w", err)
	}
	return res.RowsAffected()
}

// SaveAlertState replaces the alert pipeline's saved state with data, a
// document the store does not read.
func (d db) SaveAlertState(ctx context.Context, data []byte) error {
	_, err := d.q.ExecContext(ctx, `INSERT INTO alert_state (id, data, saved) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, saved = excluded.saved`, string(data), d.d.time(d.now()))
	if err != nil {
		return fmt.Errorf("save alert state: %w", err)
	}
	return nil
}

// AlertState returns the alert pipeline's saved state, nil when none was
// saved.
func (d db) AlertState(ctx context.Context) ([]byte, error) {
	var data string
	err := d.q.QueryRowContext(ctx, "SELECT data FROM alert_state WHERE id = 1").Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read alert state: %w", err)
	}
	return []byte(data), nil
}

// AddProbeBuckets adds bs to the stored buckets in one transaction: all of
// them count, or none.
func (s *Store) AddProbeBuckets(ctx context.Context, bs []ProbeBucket) error {
	if len(bs) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx *Tx) error { return tx.AddProbeBuckets(ctx, bs) })
}

// ProbeBuckets returns the buckets of width that start at since or later,
// by target then start.
func (s *Store) ProbeBuckets(ctx context.Context, width time.Duration, since time.Time) ([]ProbeBucket, error) {
	return s.conn(s.read).ProbeBuckets(ctx, width, since)
}

// PruneProbeBuckets deletes the buckets of width that start before before.
func (s *Store) PruneProbeBuckets(ctx context.Context, width time.Duration, before time.Time) (int64, error) {
	return s.conn(s.write).PruneProbeBuckets(ctx, width, before)
}

// AddSilence records s and returns it with its id.
func (s *Store) AddSilence(ctx context.Context, sl Silence) (Silence, error) {
	return s.conn(s.write).AddSilence(ctx, sl)
}

// ExpireSilence ends silence id at at, unless it ended before.
func (s *Store) ExpireSilence(ctx context.Context, id string, at time.Time) (Silence, error) {
	var out Silence
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.ExpireSilence(ctx, id, at)
		return err
	})
	return out, err
}

// Silences returns every silence kept, in the order they were added.
func (s *Store) Silences(ctx context.Context) ([]Silence, error) {
	return s.conn(s.read).Silences(ctx)
}

// PruneSilences deletes the silences that ended before before.
func (s *Store) PruneSilences(ctx context.Context, before time.Time) (int64, error) {
	return s.conn(s.write).PruneSilences(ctx, before)
}

// SaveAlertState replaces the alert pipeline's saved state.
func (s *Store) SaveAlertState(ctx context.Context, data []byte) error {
	return s.conn(s.write).SaveAlertState(ctx, data)
}

// AlertState returns the alert pipeline's saved state, nil when none was
// saved.
func (s *Store) AlertState(ctx context.Context) ([]byte, error) {
	return s.conn(s.read).AlertState(ctx)
}
