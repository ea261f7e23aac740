// Package audit keeps Charter's append-only, hash-chained audit trail. Every
// change to a register appends one event in the transaction that makes the
// change; each event's hash covers the previous event's hash, so an edited,
// inserted or deleted row breaks the chain at that row.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// GenesisHash is the previous hash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// pgChainLock is the PostgreSQL advisory lock that serialises appends, so
// that two instances never fork the chain.
const pgChainLock = 0x636861727465 // "charte"

// Actor is who (or what) made a change, and from where.
type Actor struct {
	UserID    int64 // 0 for the system or an anonymous visitor
	Label     string
	IP        string
	UserAgent string
	RequestID string
}

// System returns an actor for work done by Charter itself or its CLI.
func System(label string) Actor { return Actor{Label: label} }

// Event is one row of the trail.
type Event struct {
	Seq        int64 `gorm:"primaryKey;autoIncrement:false"`
	OccurredAt time.Time
	ActorID    *int64
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	BeforeJSON string
	AfterJSON  string
	ClientIP   string `gorm:"column:client_ip"`
	UserAgent  string
	RequestID  string
	PrevHash   string
	Hash       string
}

// TableName is the table of the trail.
func (Event) TableName() string { return "audit_events" }

// Entry is what a change reports about itself.
type Entry struct {
	At         time.Time
	Action     string
	ObjectType string
	ObjectID   string
	Before     any
	After      any
}

// Append writes e as the next event of the chain inside tx, which must be
// the transaction making the change.
func Append(tx *gorm.DB, by Actor, e Entry) error {
	return AppendAll(tx, []Record{{By: by, Entry: e}})
}

// LockChain makes tx the only one appending to the chain until it ends
// (on PostgreSQL; SQLite's write transactions already run one at a
// time). Append takes it; a change that must read something in the order
// of the chain (the newest snapshot of the public promises) takes it
// first, so that the two locks are always taken in the same order.
func LockChain(tx *gorm.DB) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", pgChainLock).Error; err != nil {
		return fmt.Errorf("audit: locking chain: %w", err)
	}
	return nil
}

// Record is one event of a batch: who did what.
type Record struct {
	By    Actor
	Entry Entry
}

// AppendAll writes several events in tx with one read of the chain's head
// and one insert, chaining them in order. Busy paths (packet downloads)
// use it to keep a shared transaction short.
func AppendAll(tx *gorm.DB, records []Record) error {
	if len(records) == 0 {
		return nil
	}
	if err := LockChain(tx); err != nil {
		return err
	}
	memo := store.TxMemo(tx)
	head, err := chainHead(tx, memo)
	if err != nil {
		return err
	}
	events := make([]Event, len(records))
	for i, r := range records {
		by, e := r.By, r.Entry
		before, err := encodeState(e.Before)
		if err != nil {
			return err
		}
		after, err := encodeState(e.After)
		if err != nil {
			return err
		}
		at := e.At
		if at.IsZero() {
			at = time.Now()
		}
		ev := Event{
			Seq:        head.Seq + 1,
			OccurredAt: at.UTC().Truncate(time.Microsecond),
			Actor:      by.Label,
			Action:     e.Action,
			ObjectType: e.ObjectType,
			ObjectID:   e.ObjectID,
			BeforeJSON: before,
			AfterJSON:  after,
			ClientIP:   by.IP,
			UserAgent:  truncate(by.UserAgent, 512),
			RequestID:  by.RequestID,
			PrevHash:   head.Hash,
		}
		if by.UserID != 0 {
			id := by.UserID
			ev.ActorID = &id
		}
		ev.Hash = ev.ComputeHash()
		events[i], head = ev, ev
	}
	// The new head is kept before the watchers run: they may append
	// events of their own after these (the promise snapshots do), which
	// must chain to them.
	memo.Set(headMemoKey, chainLink{Seq: head.Seq, Hash: head.Hash})
	if err := insertEvents(tx, events); err != nil {
		memo.Forget(headMemoKey)
		return fmt.Errorf("audit: appending %s: %w", records[0].Entry.Action, err)
	}
	for _, w := range watchersOf(tx) {
		if err := w.watch(tx, events); err != nil {
			return err
		}
	}
	return nil
}

// eventColumns are audit_events' columns in the order insertEvents binds
// them.
const eventColumns = "seq, occurred_at, actor_id, actor, action, object_type, object_id, before_json, after_json, client_ip, user_agent, request_id, prev_hash, hash"

// eventsPerInsert bounds one INSERT's rows (14 values each), well under
// SQLite's and PostgreSQL's limits on bound values.
const eventsPerInsert = 500

// insertEvents writes events with INSERTs written out rather than built by
// gorm's Create: every change appends an event inside the writer's turn,
// and reflecting over the row cost as much as inserting it.
func insertEvents(tx *gorm.DB, events []Event) error {
	for chunk := range slices.Chunk(events, eventsPerInsert) {
		args := make([]any, 0, 14*len(chunk))
		for _, e := range chunk {
			args = append(args, e.Seq, e.OccurredAt, e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.BeforeJSON, e.AfterJSON,
				e.ClientIP, e.UserAgent, e.RequestID, e.PrevHash, e.Hash)
		}
		q := "INSERT INTO audit_events (" + eventColumns + ") VALUES " + store.Placeholders(len(chunk), 14)
		if err := tx.Exec(q, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// A Watcher runs in the transaction of every append, after its events are
// inserted; an error fails the change. The promise snapshots watch the
// trail, the one place that sees every register's changes.
type Watcher func(tx *gorm.DB, events []Event) error

// watchersPlugin keeps a database's watchers with its gorm configuration,
// so that every session of it finds them and nothing is package-level.
type watchersPlugin struct{ watchers []namedWatcher }

type namedWatcher struct {
	name  string
	watch Watcher
}

const watchersPluginName = "charter:audit-watchers"

func (watchersPlugin) Name() string              { return watchersPluginName }
func (watchersPlugin) Initialize(*gorm.DB) error { return nil }

// Watch makes w watch db's appends under name; a second Watch with the
// same name replaces the first (an app opened again on the same database).
func Watch(db *gorm.DB, name string, w Watcher) {
	p, _ := db.Config.Plugins[watchersPluginName].(watchersPlugin)
	watchers := slices.DeleteFunc(slices.Clone(p.watchers), func(n namedWatcher) bool { return n.name == name })
	db.Config.Plugins[watchersPluginName] = watchersPlugin{watchers: append(watchers, namedWatcher{name, w})}
}

func watchersOf(tx *gorm.DB) []namedWatcher {
	p, _ := tx.Config.Plugins[watchersPluginName].(watchersPlugin)
	return p.watchers
}

// headMemoKey keeps the chain's head in the SQLite writer's memo
// (store.Memo): AppendAll is the only code that appends to the chain, and
// it sets the new head in every transaction that does.
const headMemoKey = "audit chain head"

// chainLink is the head of the chain: the last event's seq and hash.
type chainLink struct {
	Seq  int64
	Hash string
}

// chainHead returns the chain's last event (seq and hash only), from the
// memo when it holds it.
func chainHead(tx *gorm.DB, memo *store.Memo) (Event, error) {
	if v, ok := memo.Get(headMemoKey); ok {
		l := v.(chainLink)
		return Event{Seq: l.Seq, Hash: l.Hash}, nil
	}
	var head Event
	err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Take(&head).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		head = Event{Seq: 0, Hash: GenesisHash}
	case err != nil:
		return Event{}, fmt.Errorf("audit: reading chain head: %w", err)
	}
	memo.Set(headMemoKey, chainLink{Seq: head.Seq, Hash: head.Hash})
	return head, nil
}

func encodeState(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: encoding state: %w", err)
	}
	return string(b), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ComputeHash returns the SHA-256 of the event's fields and its previous
// hash. Each field is length-prefixed, so no two different events encode
// to the same bytes.
func (e *Event) ComputeHash() string {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatInt(*e.ActorID, 10)
	}
	field("charter-audit-v1")
	field(strconv.FormatInt(e.Seq, 10))
	field(e.OccurredAt.UTC().Format(time.RFC3339Nano))
	field(actorID)
	field(e.Actor)
	field(e.Action)
	field(e.ObjectType)
	field(e.ObjectID)
	field(e.BeforeJSON)
	field(e.AfterJSON)
	field(e.ClientIP)
	field(e.UserAgent)
	field(e.RequestID)
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// Break describes the first event at which the chain fails.
type Break struct {
	Seq    int64
	Reason string
}

func (b *Break) Error() string {
	return fmt.Sprintf("audit trail broken at seq %d: %s", b.Seq, b.Reason)
}

// Verification is the outcome of checking the whole chain.
type Verification struct {
	Events int64
	Head   string
	Break  *Break // nil when the chain is whole
}

// Verify recomputes every hash in order and reports the first event that
// does not match, is missing, or does not link to its predecessor.
func Verify(ctx context.Context, db *gorm.DB) (Verification, error) {
	const batch = 1000
	res := Verification{Head: GenesisHash}
	prev := GenesisHash
	var last int64
	for {
		var rows []Event
		if err := db.WithContext(ctx).Where("seq > ?", last).Order("seq").Limit(batch).Find(&rows).Error; err != nil {
			return res, fmt.Errorf("audit: reading events: %w", err)
		}
		for i := range rows {
			ev := &rows[i]
			switch {
			case ev.Seq != last+1:
				res.Break = &Break{Seq: last + 1, Reason: fmt.Sprintf("event missing: next event found is seq %d", ev.Seq)}
			case ev.PrevHash != prev:
				res.Break = &Break{Seq: ev.Seq, Reason: "previous-hash link does not match the hash of seq " + strconv.FormatInt(last, 10)}
			case ev.ComputeHash() != ev.Hash:
				res.Break = &Break{Seq: ev.Seq, Reason: "contents do not match the stored hash (row altered)"}
			}
			if res.Break != nil {
				return res, nil
			}
			prev, last = ev.Hash, ev.Seq
			res.Events++
			res.Head = ev.Hash
		}
		if len(rows) < batch {
			return res, nil
		}
	}
}

// Filter selects events for the audit page.
type Filter struct {
	Actor      string // substring of the actor label, case-insensitive
	ObjectType string
	ObjectID   string
	Action     string // exact action, or a prefix ending in "."
	From, To   time.Time
	BeforeSeq  int64 // page cursor: only events older than this
	Limit      int
}

// Page is one page of events, newest first.
type Page struct {
	Events []Event
	// NextBefore is the cursor of the next page, 0 when this is the last.
	NextBefore int64
}

// List returns events matching f, newest first.
func List(ctx context.Context, db *gorm.DB, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := db.WithContext(ctx).Model(&Event{})
	if f.Actor != "" {
		q = q.Where("LOWER(actor) LIKE ? ESCAPE '\\'", "%"+store.EscapeLike(strings.ToLower(f.Actor))+"%")
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if strings.HasSuffix(f.Action, ".") {
		q = q.Where("action LIKE ? ESCAPE '\\'", store.EscapeLike(f.Action)+"%")
	} else if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", f.To.UTC())
	}
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	var rows []Event
	if err := q.Order("seq DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("audit: listing: %w", err)
	}
	p := Page{Events: rows}
	if len(rows) > f.Limit {
		p.Events = rows[:f.Limit]
		p.NextBefore = p.Events[f.Limit-1].Seq
	}
	return p, nil
}

// Facets lists the distinct actions and object types, for filter menus.
func Facets(ctx context.Context, db *gorm.DB) (actions, objectTypes []string, err error) {
	if err = db.WithContext(ctx).Model(&Event{}).Distinct().Order("action").Pluck("action", &actions).Error; err != nil {
		return nil, nil, err
	}
	err = db.WithContext(ctx).Model(&Event{}).Distinct().Order("object_type").Pluck("object_type", &objectTypes).Error
	return actions, objectTypes, err
}

// Head returns the sequence number of the newest event (0 when there are
// none). Every register change appends an event, so a moved head means
// the data changed.
func Head(ctx context.Context, db *gorm.DB) (int64, error) {
	var seq *int64
	err := db.WithContext(ctx).Model(&Event{}).Select("MAX(seq)").Scan(&seq).Error
	if err != nil || seq == nil {
		return 0, err
	}
	return *seq, nil
}
