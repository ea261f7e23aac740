package packet

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// outcomeRevoked is the access log's outcome for a withdrawn link.
const outcomeRevoked = "refused: revoked"

// accessJob is one access to record: a view (no count) or a download
// (counted against its file's limit).
type accessJob struct {
	from     audit.Actor
	packet   *Packet
	file     string
	outcome  string // for views and refusals
	download bool
	// Set by the committer: why a download was refused, if it was.
	refusal error
	done    chan commitTurn
}

// committer records accesses with group commit: concurrent requests
// share one transaction, so that a burst of downloads costs a few fsyncs
// rather than one each. A request returns only after the transaction that
// holds its record has committed, and the limit check stays exact because
// the jobs of a batch run one after the other inside it.
//
// The first request to arrive while no batch is running leads: it commits
// the queue (its own job first), then hands the lead to the first job
// queued meanwhile and returns. So no request waits for more than the
// batch in flight and its own, however long the queue stays full.
type committer struct {
	s       *Service
	mu      sync.Mutex
	queue   []*accessJob
	running bool
	// links keeps the packet links whose downloads went through.
	links liveLinks
}

// commitTurn is what a queued job is told: lead the next batch, or its
// batch's outcome.
type commitTurn struct {
	lead bool
	err  error
}

// maxBatch bounds a transaction, so that a long queue does not hold the
// write lock for long.
const maxBatch = 256

func (c *committer) record(ctx context.Context, j *accessJob) error {
	j.done = make(chan commitTurn, 1)
	c.mu.Lock()
	c.queue = append(c.queue, j)
	lead := !c.running
	c.running = true
	c.mu.Unlock()
	for {
		if lead {
			c.lead(ctx)
		}
		turn := <-j.done
		if !turn.lead {
			return turn.err
		}
		lead = true
	}
}

// lead commits the batch at the head of the queue, hands the lead to the
// next job queued (or ends the run), and then answers the batch.
func (c *committer) lead(ctx context.Context) {
	c.mu.Lock()
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()
	err := c.commit(ctx, batch)
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].done <- commitTurn{lead: true}
	} else {
		c.running = false
	}
	c.mu.Unlock()
	for _, b := range batch {
		b.done <- commitTurn{err: err}
	}
}

func (c *committer) commit(ctx context.Context, batch []*accessJob) error {
	// The leader's context must not cancel the others' records.
	return c.s.db.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		now := c.s.clock()
		// Downloads are counted per file, under the packet's row lock: one
		// locked read of the packet and of each file, one update each,
		// whatever the number of downloads in the batch. Packets are locked
		// in ID order, so that two instances' batches cannot deadlock.
		byPacket := map[int64]map[string][]*accessJob{}
		var order []int64
		for _, j := range batch {
			if !j.download {
				continue
			}
			if _, ok := byPacket[j.packet.ID]; !ok {
				order = append(order, j.packet.ID)
				byPacket[j.packet.ID] = map[string][]*accessJob{}
			}
			byPacket[j.packet.ID][j.file] = append(byPacket[j.packet.ID][j.file], j)
		}
		slices.Sort(order)
		for _, id := range order {
			var row Packet
			if err := store.ForUpdate(tx).Select("id", "downloads", "download_limit", "revoked_at", "expires_at").Take(&row, id).Error; err != nil {
				return err
			}
			names := slices.Sorted(maps.Keys(byPacket[id]))
			total := 0
			for _, name := range names {
				jobs := byPacket[id][name]
				var file File
				if err := tx.Select("packet_id", "name", "downloads").Where("packet_id = ? AND name = ?", id, name).Take(&file).Error; err != nil {
					return err
				}
				allowed, refusal, outcome := len(jobs), ErrFileLimit, "refused: file limit reached"
				switch {
				case row.RevokedAt != nil:
					allowed, refusal, outcome = 0, sharelink.ErrDead, outcomeRevoked
				case !now.Before(row.ExpiresAt):
					allowed, refusal, outcome = 0, sharelink.ErrDead, "refused: expired"
				case row.DownloadLimit != nil:
					allowed = max(0, min(allowed, *row.DownloadLimit-file.Downloads))
				}
				for i, j := range jobs {
					j.outcome = "downloaded"
					if i >= allowed {
						j.refusal, j.outcome = refusal, outcome
					}
				}
				if allowed > 0 {
					if err := tx.Model(&File{}).Where("packet_id = ? AND name = ?", id, name).Update("downloads", gorm.Expr("downloads + ?", allowed)).Error; err != nil {
						return err
					}
				}
				total += allowed
			}
			if total > 0 {
				if err := tx.Model(&Packet{}).Where("id = ?", id).Update("downloads", gorm.Expr("downloads + ?", total)).Error; err != nil {
					return err
				}
			}
		}
		// The access log's rows written out rather than built by gorm's
		// Create: the batch holds the writer, and reflecting over each row
		// cost as much as inserting it.
		args := make([]any, 0, 6*len(batch))
		records := make([]audit.Record, len(batch))
		for i, j := range batch {
			args = append(args, j.packet.ID, now, j.from.IP, truncate(j.from.UserAgent, 500), j.file, j.outcome)
			by := j.from
			by.Label = "recipient:" + j.packet.RecipientEmail
			records[i] = audit.Record{By: by, Entry: audit.Entry{At: now, Action: "packet.accessed", ObjectType: "packet", ObjectID: j.packet.PublicID,
				After: map[string]any{"file": j.file, "outcome": j.outcome}}}
		}
		q := "INSERT INTO packet_access (packet_id, at, ip, user_agent, file, outcome) VALUES " + store.Placeholders(len(batch), 6)
		if err := tx.Exec(q, args...).Error; err != nil {
			return err
		}
		return audit.AppendAll(tx, records)
	})
}
