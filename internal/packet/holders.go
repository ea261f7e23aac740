package packet

import (
	"context"
	"net/url"
	"sort"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The kinds of change a packet holder is told of.
const (
	ChangedPolicy   = "policy"
	ChangedDocument = "document"
)

// ChangeNotice records that a packet's recipient was told of one new
// version of a policy or trust document in the packet. Its key (packet,
// kind, version) is what makes the email go once.
type ChangeNotice struct {
	PacketID   int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind       string `gorm:"primaryKey"`
	VersionID  int64  `gorm:"primaryKey;autoIncrement:false"`
	NotifiedAt time.Time
}

// TableName is the change notices table.
func (ChangeNotice) TableName() string { return "packet_change_notices" }

// change is one new version that supersedes what some packets hold.
type change struct {
	Kind      string
	VersionID int64
	Slug      string
	Title     string
	Version   string
	// packets are the IDs of the live packets holding an older version.
	packets []int64
}

// PoliciesChanged tells the holders of live packets that a policy in
// their packet has a new major version. It is the policy register's
// OnNewMajor hook: it runs in the publishing transaction.
func (s *Service) PoliciesChanged(tx *gorm.DB, published []policy.Version) error {
	if live, err := s.anyLive(tx); err != nil || !live {
		return err
	}
	var changes []change
	for _, v := range published {
		var p policy.Policy
		if err := tx.Select("id", "slug", "title").Take(&p, v.PolicyID).Error; err != nil {
			return err
		}
		var held []int64
		err := tx.Table("packet_policies").Distinct("packet_policies.packet_id").
			Joins("JOIN policy_versions ON policy_versions.id = packet_policies.policy_version_id").
			Where("policy_versions.policy_id = ? AND packet_policies.policy_version_id <> ?", v.PolicyID, v.ID).
			Pluck("packet_policies.packet_id", &held).Error
		if err != nil {
			return err
		}
		changes = append(changes, change{Kind: ChangedPolicy, VersionID: v.ID, Slug: p.Slug, Title: p.Title, Version: v.Number(), packets: held})
	}
	return s.tellHolders(tx, changes)
}

// DocumentChanged tells the holders of live packets that a trust document
// in their packet has a new version. It is the document register's
// OnNewVersion hook: it runs in the upload's transaction.
func (s *Service) DocumentChanged(tx *gorm.DB, d *document.Document, v *document.Version) error {
	var held []int64
	err := tx.Model(&PacketDocument{}).Distinct("packet_id").Where("document_id = ? AND version_id <> ?", d.ID, v.ID).
		Pluck("packet_id", &held).Error
	if err != nil {
		return err
	}
	return s.tellHolders(tx, []change{{Kind: ChangedDocument, VersionID: v.ID, Slug: d.Slug, Title: d.Title, Version: v.Version, packets: held}})
}

// anyLive reports whether any packet could be told of a change, so that
// publishing (the seed's twenty policies, most publications) skips the
// per-policy look-ups when none could.
func (s *Service) anyLive(tx *gorm.DB) (bool, error) {
	var ids []int64
	err := tx.Model(&Packet{}).Where("revoked_at IS NULL AND expires_at > ? AND notify_on_change = ?", s.clock(), true).Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, err
}

// tellHolders queues one email per live packet (not revoked, not expired,
// not turned off) that holds an older version of a changed item, naming
// every change of this transaction that concerns it, and records each
// (packet, version) told so that no holder hears of a version twice.
func (s *Service) tellHolders(tx *gorm.DB, changes []change) error {
	byPacket := map[int64][]change{}
	for _, c := range changes {
		for _, id := range c.packets {
			byPacket[id] = append(byPacket[id], c)
		}
	}
	if len(byPacket) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(byPacket))
	for id := range byPacket {
		ids = append(ids, id)
	}
	now := s.clock()
	var live []Packet
	if err := tx.Where("id IN ? AND revoked_at IS NULL AND expires_at > ? AND notify_on_change = ?", ids, now, true).Order("id").Find(&live).Error; err != nil {
		return err
	}
	company := ""
	if len(live) > 0 {
		var err error
		if company, err = s.companyIn(tx); err != nil {
			return err
		}
	}
	for _, p := range live {
		var told []change
		for _, c := range byPacket[p.ID] {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ChangeNotice{PacketID: p.ID, Kind: c.Kind, VersionID: c.VersionID, NotifiedAt: now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				told = append(told, c)
			}
		}
		if len(told) == 0 {
			continue
		}
		if err := s.tellHolder(tx, now, company, &p, told); err != nil {
			return err
		}
	}
	return nil
}

// tellHolder queues the email of one packet and audits it.
func (s *Service) tellHolder(tx *gorm.DB, now time.Time, company string, p *Packet, told []change) error {
	sort.Slice(told, func(i, j int) bool { return told[i].Title < told[j].Title })
	q := url.Values{"name": {p.RecipientName}, "email": {p.RecipientEmail}, "company": {p.RecipientCompany}}
	msg := notify.PacketChanged{Name: p.RecipientName, Company: company, PacketID: p.PublicID}
	var state []map[string]any
	for _, c := range told {
		msg.Changes = append(msg.Changes, notify.ChangedItem{Title: c.Title, Version: c.Version, Document: c.Kind == ChangedDocument})
		if c.Kind == ChangedPolicy {
			q.Add("policies", c.Slug)
		} else {
			q.Add("document", c.Slug)
		}
		state = append(state, map[string]any{"kind": c.Kind, "slug": c.Slug, "version": c.Version, "version_id": c.VersionID})
	}
	msg.RequestLink = s.link("/trust/request?" + q.Encode())
	if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), p.RecipientEmail, msg); err != nil {
		return err
	}
	return audit.Append(tx, audit.System("packet-holders"), audit.Entry{At: now, Action: "packet.holder_notified", ObjectType: "packet",
		ObjectID: p.PublicID, After: map[string]any{"recipient": p.RecipientEmail, "changes": state}})
}

// companyIn is the company's name as emails sign it (as company says),
// read in tx.
func (s *Service) companyIn(tx *gorm.DB) (string, error) {
	var names []string
	if err := tx.Model(&org.Organization{}).Order("id").Limit(1).Pluck("name", &names).Error; err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "The company", nil
	}
	return names[0], nil
}

// Holders is what a packet's page shows of its change notices: whether
// they are on, and which versions its recipient was told of.
type Holders struct {
	NotifyOnChange bool
	Notices        []ChangeNotice
}

// holderSetting is the packets table's switch, read and written apart
// from Packet so that the signed manifest's fields stay as they are.
type holderSetting struct {
	NotifyOnChange bool
}

// HoldersOf returns a packet's change-notice setting and history.
// Errors: NotFound.
func (s *Service) HoldersOf(ctx context.Context, publicID string) (*Holders, error) {
	db := s.db.WithContext(ctx)
	var p Packet
	if err := db.Select("id").Where("public_id = ?", publicID).Take(&p).Error; isNotFound(err) {
		return nil, notFound("packet")
	} else if err != nil {
		return nil, err
	}
	var set holderSetting
	if err := db.Model(&Packet{}).Select("notify_on_change").Where("id = ?", p.ID).Take(&set).Error; err != nil {
		return nil, err
	}
	h := &Holders{NotifyOnChange: set.NotifyOnChange}
	return h, db.Where("packet_id = ?", p.ID).Order("notified_at DESC, kind, version_id").Find(&h.Notices).Error
}

// SetNotifyOnChange turns a packet's change notices on or off. Errors:
// NotFound.
func (s *Service) SetNotifyOnChange(ctx context.Context, by audit.Actor, publicID string, on bool) (*Holders, error) {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p Packet
		if err := store.ForUpdate(tx).Select("id", "public_id").Where("public_id = ?", publicID).Take(&p).Error; isNotFound(err) {
			return notFound("packet")
		} else if err != nil {
			return err
		}
		now := s.clock()
		if err := tx.Model(&Packet{}).Where("id = ?", p.ID).Update("notify_on_change", on).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "packet.notify_on_change_set", ObjectType: "packet", ObjectID: p.PublicID,
			After: map[string]any{"notify_on_change": on}})
	})
	if err != nil {
		return nil, err
	}
	return s.HoldersOf(ctx, publicID)
}
