package privacy

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Subscriber receives sub-processor change notices once confirmed
// (double opt-in).
type Subscriber struct {
	ID             int64
	Email          string
	CreatedAt      time.Time
	ConfirmedAt    *time.Time
	UnsubscribedAt *time.Time
}

// Active reports whether notices go to this subscriber.
func (s *Subscriber) Active() bool { return s.ConfirmedAt != nil && s.UnsubscribedAt == nil }

// ConfirmationTTL is how long a subscription confirmation link works.
const ConfirmationTTL = 7 * 24 * time.Hour

// subscription is an address asking for the notices.
type subscription struct {
	Email string `validate:"address"`
}

// Subscribe starts a subscription and emails a confirmation link. The
// answer is the same whether or not the address was already subscribed,
// so the form does not reveal who is. Errors: Invalid (naming "email").
func (s *Service) Subscribe(ctx context.Context, from audit.Actor, email string) error {
	email = notify.NormalizeAddress(email)
	if err := s.settings.WorkEmail.Check("email", email); err != nil {
		return err
	}
	if err := s.check.Struct(subscription{Email: email}).Err(); err != nil {
		return err
	}
	company, err := s.company(ctx)
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two requests for one address at once would both find no row
		// and the second insert would fail (409) on PostgreSQL.
		if err := store.TakeTurn(tx, "subscriber:"+email); err != nil {
			return err
		}
		now := s.clock()
		var sub Subscriber
		err := tx.Where("email = ?", email).Take(&sub).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			sub = Subscriber{Email: email, CreatedAt: now}
			if err := tx.Create(&sub).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		case sub.Active():
			return nil
		}
		token, _, err := sharelink.Issue(tx, now, ConfirmationLinkPurpose, sub.ID, ConfirmationTTL)
		if err != nil {
			return err
		}
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), email,
			notify.SubscriptionConfirmation{Company: company, Link: s.link("/trust/subscribe/confirm/" + token)}); err != nil {
			return err
		}
		by := from
		by.Label = "subscriber"
		return audit.Append(tx, by, audit.Entry{At: now, Action: "subscriber.requested", ObjectType: "subscriber", ObjectID: strconv.FormatInt(sub.ID, 10)})
	})
}

// CheckConfirmation reports whether a confirmation link is live.
func (s *Service) CheckConfirmation(ctx context.Context, token string) error {
	_, err := sharelink.Resolve(s.db.WithContext(ctx), s.clock(), ConfirmationLinkPurpose, token)
	return err
}

// Confirm completes a subscription.
func (s *Service) Confirm(ctx context.Context, from audit.Actor, token string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		l, err := sharelink.Resolve(tx, now, ConfirmationLinkPurpose, token)
		if err != nil {
			return err
		}
		if err := tx.Model(&Subscriber{}).Where("id = ?", l.SubjectID).
			Updates(map[string]any{"confirmed_at": now, "unsubscribed_at": nil}).Error; err != nil {
			return err
		}
		if err := sharelink.Revoke(tx, now, ConfirmationLinkPurpose, l.SubjectID); err != nil {
			return err
		}
		by := from
		by.Label = "subscriber"
		return audit.Append(tx, by, audit.Entry{At: now, Action: "subscriber.confirmed", ObjectType: "subscriber", ObjectID: strconv.FormatInt(l.SubjectID, 10)})
	})
}

// DeleteUnconfirmed deletes the subscriptions asked for before before that
// were never confirmed and got no confirmation link since (asking again
// sends a new link for the same row), with their links, and audits each
// deletion in the same transaction. It returns how many it deleted.
func (s *Service) DeleteUnconfirmed(ctx context.Context, by audit.Actor, before time.Time) (int, error) {
	before = before.UTC()
	return store.InBatches(ctx, s.db, func(tx *gorm.DB, limit int) (int, error) {
		var stale []Subscriber
		recentLink := tx.Model(&sharelink.Link{}).Select("1").
			Where("share_links.purpose = ? AND share_links.subject_id = subscribers.id AND share_links.created_at >= ?", ConfirmationLinkPurpose, before)
		if err := tx.Where("confirmed_at IS NULL AND created_at < ? AND NOT EXISTS (?)", before, recentLink).
			Order("id").Limit(limit).Find(&stale).Error; err != nil || len(stale) == 0 {
			return 0, err
		}
		ids := make([]int64, len(stale))
		records := make([]audit.Record, len(stale))
		now := s.clock()
		for i, sub := range stale {
			ids[i] = sub.ID
			records[i] = audit.Record{By: by, Entry: audit.Entry{At: now, Action: "subscriber.expired", ObjectType: "subscriber",
				ObjectID: strconv.FormatInt(sub.ID, 10), Before: map[string]any{"requested_at": sub.CreatedAt}}}
		}
		if err := tx.Where("id IN ?", ids).Delete(&Subscriber{}).Error; err != nil {
			return 0, err
		}
		if err := tx.Where("purpose = ? AND subject_id IN ?", ConfirmationLinkPurpose, ids).Delete(&sharelink.Link{}).Error; err != nil {
			return 0, err
		}
		return len(stale), audit.AppendAll(tx, records)
	})
}

// confirmedSubscribers selects the subscribers who are mailed: confirmed
// and not unsubscribed.
func confirmedSubscribers(db *gorm.DB) *gorm.DB {
	return db.Model(&Subscriber{}).Where("confirmed_at IS NOT NULL AND unsubscribed_at IS NULL")
}

// CountSubscribers returns, read in db, how many subscribers
// MailSubscribers would email now.
func (s *Service) CountSubscribers(db *gorm.DB) (int, error) {
	var n int64
	err := confirmedSubscribers(db).Count(&n).Error
	return int(n), err
}

// SubscriberLinkPurpose is the purpose of the unsubscribe links in notices
// other than sub-processor changes (security advisories): their subject is
// the subscriber.
const SubscriberLinkPurpose = "subscriber_unsubscribe_direct"

// MailSubscribers queues, in tx, one email to every confirmed subscriber,
// each with its own one-click unsubscribe link: mail receives that link
// and returns what the email says, the link included (it is also sent as
// List-Unsubscribe). Other areas (advisories) announce through it.
func (s *Service) MailSubscribers(tx *gorm.DB, mail func(unsubscribe string) notify.Unsubscribable) (int, error) {
	var subs []Subscriber
	if err := confirmedSubscribers(tx).Order("id").Find(&subs).Error; err != nil {
		return 0, err
	}
	now := s.clock()
	for _, sub := range subs {
		token, err := sharelink.IssueAnother(tx, now, SubscriberLinkPurpose, sub.ID, sharelink.MaxTTL)
		if err != nil {
			return 0, err
		}
		link := s.link("/trust/unsubscribe/" + token)
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), sub.Email, mail(link)); err != nil {
			return 0, err
		}
	}
	return len(subs), nil
}

// resolveUnsubscribe finds the subscriber behind an unsubscribe link of
// either kind.
func resolveUnsubscribe(tx *gorm.DB, now time.Time, token string) (int64, error) {
	if l, err := sharelink.Resolve(tx, now, SubscriberLinkPurpose, token); err == nil {
		return l.SubjectID, nil
	} else if !errors.Is(err, sharelink.ErrUnknown) {
		return 0, err
	}
	l, err := sharelink.Resolve(tx, now, UnsubscribeLinkPurpose, token)
	if err != nil {
		return 0, err
	}
	var r Recipient
	if err := tx.Take(&r, l.SubjectID).Error; err != nil {
		return 0, err
	}
	if r.SubscriberID == nil {
		return 0, sharelink.ErrUnknown
	}
	return *r.SubscriberID, nil
}

// CheckUnsubscribe reports whether an unsubscribe link is live.
func (s *Service) CheckUnsubscribe(ctx context.Context, token string) error {
	_, err := resolveUnsubscribe(s.db.WithContext(ctx), s.clock(), token)
	return err
}

// Unsubscribe ends a subscription through the link in a notice. Doing it
// twice is harmless.
func (s *Service) Unsubscribe(ctx context.Context, from audit.Actor, token string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		id, err := resolveUnsubscribe(tx, now, token)
		if err != nil {
			return err
		}
		res := tx.Model(&Subscriber{}).Where("id = ? AND unsubscribed_at IS NULL", id).Update("unsubscribed_at", now)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		by := from
		by.Label = "subscriber"
		return audit.Append(tx, by, audit.Entry{At: now, Action: "subscriber.unsubscribed", ObjectType: "subscriber", ObjectID: strconv.FormatInt(id, 10)})
	})
}

// SubscriberCounts returns how many subscribers are active and pending.
func (s *Service) SubscriberCounts(ctx context.Context) (active, pending int64, err error) {
	db := s.db.WithContext(ctx).Model(&Subscriber{})
	if err = db.Where("confirmed_at IS NOT NULL AND unsubscribed_at IS NULL").Count(&active).Error; err != nil {
		return
	}
	err = s.db.WithContext(ctx).Model(&Subscriber{}).Where("confirmed_at IS NULL AND unsubscribed_at IS NULL").Count(&pending).Error
	return
}
