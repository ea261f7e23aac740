package notify

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Queue is the delivery mechanism shared by every table of work sent out
// at least once: the outbox's emails and the webhook deliveries
// (internal/webhook). T is the row's model; its table has the columns id,
// state, attempts and next_attempt_at. A row is due while its state is
// Pending and next_attempt_at has passed. Claiming a row raises attempts
// and moves next_attempt_at one lease ahead, so that another instance
// takes it over only after its sender stopped renewing the lease; the
// attempt count then tells a sender whether a row is still its own.
type Queue[T any] struct {
	DB    *gorm.DB
	Now   func() time.Time
	Lease time.Duration
}

// Claim reserves up to batch due rows for this sender, oldest first, and
// returns them with their raised attempt counts.
func (q Queue[T]) Claim(ctx context.Context, batch int) ([]T, error) {
	var due []T
	now := q.Now().UTC()
	err := q.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []int64
		// SKIP LOCKED lets several instances claim different rows at once on
		// PostgreSQL; SQLite's driver drops the clause (writes are serial).
		err := tx.Model(new(T)).Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
			Where("state = ? AND next_attempt_at <= ?", Pending, now).Order("id").Limit(batch).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		err = tx.Model(new(T)).Where("id IN ?", ids).
			Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt_at": now.Add(q.Lease)}).Error
		if err != nil {
			return err
		}
		return tx.Where("id IN ?", ids).Order("id").Find(&due).Error
	})
	return due, err
}

// Renew moves the lease of a claimed row forward, and reports false when
// the claim was lost (another sender claimed the row since, or it was
// finished).
func (q Queue[T]) Renew(ctx context.Context, id int64, attempts int) (bool, error) {
	res := q.DB.WithContext(ctx).Model(new(T)).
		Where("id = ? AND state = ? AND attempts = ?", id, Pending, attempts).
		Update("next_attempt_at", q.Now().UTC().Add(q.Lease))
	return res.RowsAffected == 1, res.Error
}

// Hold runs deliver while renewing the claim on the row every third of
// the lease, so that a slow receiver does not let another instance send
// it a second time; lost is called if a renewal fails or finds the claim
// gone.
func (q Queue[T]) Hold(ctx context.Context, id int64, attempts int, deliver func() error, lost func(error)) error {
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(q.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if held, err := q.Renew(ctx, id, attempts); err != nil || !held {
					lost(err)
					return
				}
			}
		}
	}()
	defer func() { close(done); <-renewed }()
	return deliver()
}

// Finish records the outcome of an attempt with update. A success is
// recorded while the row is pending, whoever holds it now; a failure
// only under this sender's own claim: if another instance took the row
// over, its outcome counts.
func (q Queue[T]) Finish(ctx context.Context, id int64, attempts int, succeeded bool, update map[string]any) error {
	mine := q.DB.WithContext(ctx).Model(new(T)).Where("id = ? AND state = ?", id, Pending)
	if !succeeded {
		mine = mine.Where("attempts = ?", attempts)
	}
	return mine.Updates(update).Error
}

// Backoff is the wait after the n-th failed attempt: 1, 2, 4 … minutes,
// at most an hour.
func Backoff(n int) time.Duration {
	d := time.Minute << (n - 1)
	if n > 7 || d > time.Hour {
		return time.Hour
	}
	return d
}
