package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/db"
)

// The outbox: Send and Emit only insert delivery rows inside the caller's
// transaction; the worker here sends them afterwards, outside any transaction,
// so a dead robot or receiver never fails or slows the action that caused the
// message.
//
// A row is claimed with one conditional UPDATE … RETURNING (pending, or sending
// with an expired lease, and due), which sets status 'sending', a 2-minute lease
// and attempts+1. The single writer runs claims one after another, so two
// workers never hold the same row; a worker that dies mid-send leaves a lease
// that expires, and the row is tried again (at-least-once). After the send the
// row becomes 'sent', or 'pending' again with the next back-off, or after the
// 7th attempt 'failed' — and then the store's administrators get an in-app
// notification (channel.failed / webhook.failed).

// Delivery timings.
const (
	maxAttempts   = 7
	leaseTime     = 2 * time.Minute
	sendTimeout   = 10 * time.Second
	deliveryEvery = 15 * time.Second // the worker's own look, besides Wake
	// rateLimit is how many messages a channel gets per minute: the chat robots
	// take about 20 (WeCom, DingTalk); the rest wait for the next minute.
	rateLimit = 20
	// perTarget is how many rows of one channel or webhook a claim takes: they
	// are sent one after another (in order), so a claim's sends end well within
	// the lease even when every one of them times out.
	perTarget = 4
	// parallel bounds the channels and webhooks served at once.
	parallel = 8
	// deliveryRetention is how long the delivery logs keep finished rows.
	deliveryRetention = 30 * 24 * time.Hour
)

// backoff is the wait after the n-th failed attempt (backoff[n-1]).
var backoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

// userAgent is sent with every robot and webhook request.
const userAgent = "DealerDesk-Webhook/1"

// cst is China Standard Time (no daylight saving), the zone messages speak in.
var cst = time.FixedZone("CST", 8*3600)

// ---- enqueue (inside Send) ----

// channelTarget is an enabled channel subscribed to a kind.
type channelTarget struct {
	id       int64
	typ      string
	linkBase string
}

// channelsFor returns the enabled channels of the store (of every store for a
// group-level message, storeID 0) that subscribed to the kind. Served by
// notify_channel_store; the kinds are tested on a store's few channels.
func channelsFor(ctx context.Context, q db.Querier, storeID int64, kind string) ([]channelTarget, error) {
	query := `SELECT id, type, coalesce(json_extract(config, '$.linkBase'), '') FROM notify_channel
		WHERE enabled = 1 AND EXISTS (SELECT 1 FROM json_each(kinds) WHERE value = ?)`
	args := []any{kind}
	if storeID != 0 {
		query += ` AND store_id = ?`
		args = append(args, storeID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: channels for %s: %w", kind, err)
	}
	defer rows.Close()
	var out []channelTarget
	for rows.Next() {
		var t channelTarget
		if err := rows.Scan(&t.id, &t.typ, &t.linkBase); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// enqueue queues the message for the channels subscribed to its kind. fresh
// tells whether the in-app row was new: a message that was not, and whose dedup
// key the user already has, is a repeat (a job run twice) and posts nothing; one
// the user muted still posts, since a robot speaks to a group, not to the user.
func (s *Service) enqueue(ctx context.Context, q db.Querier, m Message, params []byte, now int64, fresh bool, skip int64, cache map[string][]channelTarget) error {
	key := strconv.FormatInt(m.StoreID, 10) + "|" + m.Kind
	targets, ok := cache[key]
	if !ok {
		var err error
		if targets, err = channelsFor(ctx, q, m.StoreID, m.Kind); err != nil {
			return err
		}
		cache[key] = targets
	}
	if len(targets) == 0 || (len(targets) == 1 && targets[0].id == skip) {
		return nil
	}
	if !fresh && m.DedupKey != "" {
		var dup int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM notification WHERE user_id = ? AND dedup_key = ?`, m.UserID, m.DedupKey).Scan(&dup); err != nil {
			return fmt.Errorf("notify: check repeat: %w", err)
		}
		if dup > 0 {
			return nil
		}
	}
	title := s.renderTitle(m.TitleKey, m.Params)
	gk := groupKey(m, params, now)
	for _, t := range targets {
		if t.id == skip {
			continue
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO notify_delivery (channel_id, kind, group_key, title, body, next_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, group_key) DO NOTHING`,
			t.id, m.Kind, gk, title, renderBody(t.typ, title, t.linkBase, m.Link), now, now); err != nil {
			return fmt.Errorf("notify: queue %s for channel %d: %w", m.Kind, t.id, err)
		}
	}
	return nil
}

// groupKey makes one event one post per channel: the same kind, title, params
// and entity in the same 10-minute bucket is the same post, whoever it went to.
func groupKey(m Message, params []byte, now int64) string {
	h := sha256.Sum256([]byte(m.Kind + "|" + m.TitleKey + "|" + string(params) + "|" + m.Entity + "|" + strconv.FormatInt(m.EntityID, 10)))
	return hex.EncodeToString(h[:]) + ":" + strconv.FormatInt(now/600000, 10)
}

// SetText hands the service the UI's texts (the catalogue's Text), which robot
// and e-mail messages are rendered from (in zh-CN). Without it they show keys.
func (s *Service) SetText(f func(locale, key string) string) {
	s.text.Store(&f)
}

// renderTitle renders a notify.msg.* title in zh-CN with its params. Strings are
// masked (MaskText): a chat group must not read a customer's full phone number.
func (s *Service) renderTitle(key string, params map[string]any) string {
	t := key
	if f := s.text.Load(); f != nil && *f != nil {
		t = (*f)("zh-CN", key)
	}
	for k, v := range params {
		t = strings.ReplaceAll(t, "{"+k+"}", paramText(k, v))
	}
	return t
}

// paramText shows a param: times (keys ending in At, unix ms) as local time,
// the rest as text with phone and ID numbers masked.
func paramText(k string, v any) string {
	if strings.HasSuffix(k, "At") {
		var ms int64
		switch x := v.(type) {
		case int64:
			ms = x
		case int:
			ms = int64(x)
		case float64:
			ms = int64(x)
		}
		if ms > 1e12 {
			return time.UnixMilli(ms).In(cst).Format("2006-01-02 15:04")
		}
	}
	return MaskText(fmt.Sprint(v))
}

// renderBody is the text a channel gets: for a robot "【DealerDesk】" + title and
// a link line; for e-mail the title, the link and a signature.
func renderBody(typ, title, linkBase, link string) string {
	line := ""
	if linkBase != "" && link != "" {
		line = linkBase + link
	}
	if typ == TypeEmail {
		b := title
		if line != "" {
			b += "\n\n" + line
		}
		return b + "\n\n-- \nDealerDesk"
	}
	b := "【DealerDesk】" + title
	if line != "" {
		b += "\n" + line
	}
	return b
}

// ---- the worker ----

// Wake tells the live streams to look for new notifications and the delivery
// worker to look for queued messages. Domains call it after their transaction
// commits; it never blocks. A Wake that comes too early (before the commit) or
// not at all only delays delivery until the streams' and the worker's own poll.
func (s *Service) Wake() {
	s.wakeStreams()
	signal(s.deliverWake)
}

func (s *Service) wakeStreams() { signal(s.wake) }

// StartDelivery starts the delivery worker: it sends what is due when woken and
// every 15 seconds, until ctx is done or Close is called (Close waits for it).
// Calling it again does nothing.
func (s *Service) StartDelivery(ctx context.Context) {
	select {
	case <-s.done:
		return // closed already
	default:
	}
	s.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		s.mu.Lock()
		s.stopDelivery = cancel
		s.mu.Unlock()
		s.wg.Add(1)
		go s.deliveryLoop(ctx)
	})
}

func (s *Service) deliveryLoop(ctx context.Context) {
	defer s.wg.Done()
	tick := time.NewTicker(deliveryEvery)
	defer tick.Stop()
	for {
		if !s.paused.Load() {
			if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("notify delivery", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-s.deliverWake:
		case <-tick.C:
		}
	}
}

// channelJob is a claimed channel delivery.
type channelJob struct {
	id, channelID int64
	attempts      int
	title, body   string
	wasFailed     bool // a manual retry of a failed row: its alarm went out already
	ch            Channel
}

// webhookJob is a claimed webhook delivery.
type webhookJob struct {
	id, webhookID int64
	attempts      int
	eventID       string
	eventType     string
	payload       string
	wasFailed     bool
	wh            webhookRow
}

// DeliverDue sends every delivery due now (channels and webhooks) and returns
// how many attempts it made. Sends run outside any transaction, each bounded by
// a 10-second timeout; safe to call from several goroutines at once.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		cj, err := s.claimChannels(ctx)
		if err != nil {
			return total, err
		}
		wj, err := s.claimWebhooks(ctx)
		if err != nil {
			return total, err
		}
		if len(cj)+len(wj) == 0 {
			break
		}
		s.sendClaimed(ctx, cj, wj)
		total += len(cj) + len(wj)
	}
	if total > 0 {
		s.wakeStreams() // alarms of deliveries that failed for good
	}
	return total, nil
}

// sendClaimed sends the claimed rows: the rows of one channel or webhook in order, up
// to `parallel` channels and webhooks at once.
func (s *Service) sendClaimed(ctx context.Context, cj []channelJob, wj []webhookJob) {
	groups := map[string][]func(){}
	var order []string
	add := func(key string, f func()) {
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], f)
	}
	for _, j := range cj {
		add("c"+strconv.FormatInt(j.channelID, 10), func() { s.runChannelJob(ctx, j) })
	}
	for _, j := range wj {
		add("w"+strconv.FormatInt(j.webhookID, 10), func() { s.runWebhookJob(ctx, j) })
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(fs []func()) {
			defer func() { <-sem; wg.Done() }()
			for _, f := range fs {
				f()
			}
		}(groups[k])
	}
	wg.Wait()
}

// claimChannels takes the due channel rows, at most perTarget per channel and
// within each channel's rate limit, and postpones the rows of channels that
// used up their minute.
func (s *Service) claimChannels(ctx context.Context) ([]channelJob, error) {
	now := s.now()
	var due bool
	// A cheap look on a reader first: most wakes find nothing, and then take no
	// write transaction. (Rows of a switched-off channel wait; they are not due.)
	if err := s.db.R.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM notify_delivery d JOIN notify_channel c ON c.id = d.channel_id AND c.enabled = 1
		WHERE d.status IN ('pending', 'sending') AND d.next_at <= ?)`, now).Scan(&due); err != nil {
		return nil, fmt.Errorf("notify: look for due deliveries: %w", err)
	}
	if !due {
		return nil, nil
	}
	var jobs []channelJob
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		jobs = jobs[:0]
		// The rate limit counts the channel's attempts in the last minute
		// (notify_delivery_attempted); the claim reads the due rows by next_at
		// (notify_delivery_due).
		rows, err := tx.QueryContext(ctx, `WITH due AS (
				SELECT d.id, row_number() OVER (PARTITION BY d.channel_id ORDER BY d.next_at, d.id) AS rn,
					(SELECT count(*) FROM notify_delivery x WHERE x.channel_id = d.channel_id AND x.attempted_at > ?1 - 60000) AS used
				FROM notify_delivery d JOIN notify_channel c ON c.id = d.channel_id AND c.enabled = 1
				WHERE d.status IN ('pending', 'sending') AND d.next_at <= ?1 AND (d.status = 'pending' OR d.lease_until <= ?1))
			UPDATE notify_delivery SET status = 'sending', lease_until = ?2, attempts = attempts + 1, attempted_at = ?1
			WHERE id IN (SELECT id FROM due WHERE rn <= ?3 AND rn + used <= ?4)
			RETURNING id, channel_id, attempts, title, body`, now, now+leaseTime.Milliseconds(), perTarget, rateLimit)
		if err != nil {
			return fmt.Errorf("notify: claim deliveries: %w", err)
		}
		for rows.Next() {
			var j channelJob
			if err := rows.Scan(&j.id, &j.channelID, &j.attempts, &j.title, &j.body); err != nil {
				rows.Close()
				return err
			}
			jobs = append(jobs, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("notify: claim deliveries: %w", err)
		}
		// A channel that used up its minute: its due rows wait until the oldest
		// attempt of the minute is a minute old.
		if _, err := tx.ExecContext(ctx, `UPDATE notify_delivery AS d
			SET next_at = (SELECT min(x.attempted_at) FROM notify_delivery x WHERE x.channel_id = d.channel_id AND x.attempted_at > ?1 - 60000) + 60000
			WHERE d.status = 'pending' AND d.next_at <= ?1
				AND (SELECT count(*) FROM notify_delivery x WHERE x.channel_id = d.channel_id AND x.attempted_at > ?1 - 60000) >= ?2`, now, rateLimit); err != nil {
			return fmt.Errorf("notify: postpone deliveries: %w", err)
		}
		return loadChannels(ctx, tx, jobs)
	})
	return jobs, err
}

// loadChannels attaches each job's channel (with its credentials).
func loadChannels(ctx context.Context, q db.Querier, jobs []channelJob) error {
	seen := map[int64]Channel{}
	for i := range jobs {
		ch, ok := seen[jobs[i].channelID]
		if !ok {
			var err error
			if ch, err = getChannel(ctx, q, jobs[i].channelID); err != nil {
				return err
			}
			seen[ch.ID] = ch
		}
		jobs[i].ch = ch
	}
	return nil
}

// claimChannelOne takes one row for a manual retry, whatever its status, unless
// a worker is sending it right now.
func (s *Service) claimChannelOne(ctx context.Context, id int64) (channelJob, error) {
	j := channelJob{id: id}
	now := s.now()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var status string
		var lease sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT status, lease_until FROM notify_delivery WHERE id = ?`, id).Scan(&status, &lease); err != nil {
			if err == sql.ErrNoRows {
				return apperr.New(apperr.NotFound, "not_found")
			}
			return err
		}
		if status == StatusSending && lease.Int64 > now {
			return apperr.New(apperr.Conflict, "notify.delivery_busy")
		}
		j.wasFailed = status == StatusFailed
		if err := tx.QueryRowContext(ctx, `UPDATE notify_delivery SET status = 'sending', lease_until = ?, attempts = attempts + 1, attempted_at = ?, next_at = ?
			WHERE id = ? RETURNING channel_id, attempts, title, body`, now+leaseTime.Milliseconds(), now, now, id).Scan(&j.channelID, &j.attempts, &j.title, &j.body); err != nil {
			return fmt.Errorf("notify: claim delivery %d: %w", id, err)
		}
		jobs := []channelJob{j}
		if err := loadChannels(ctx, tx, jobs); err != nil {
			return err
		}
		j = jobs[0]
		return nil
	})
	return j, err
}

// insertTestDelivery records a test message in the channel's log, claimed.
func (s *Service) insertTestDelivery(ctx context.Context, ch Channel, title, body string) (channelJob, error) {
	j := channelJob{channelID: ch.ID, attempts: 1, title: title, body: body, ch: ch}
	now := s.now()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO notify_delivery (channel_id, kind, group_key, title, body, status, attempts, next_at, lease_until, attempted_at, created_at)
			VALUES (?, 'test', ?, ?, ?, 'sending', 1, ?, ?, ?, ?)`, ch.ID, "test:"+randomHex(12), title, body, now, now+leaseTime.Milliseconds(), now, now)
		if err != nil {
			return fmt.Errorf("notify: record test message: %w", err)
		}
		j.id, err = r.LastInsertId()
		return err
	})
	return j, err
}

// deliverChannel sends one message through a channel within the send timeout.
func (s *Service) deliverChannel(ctx context.Context, typ string, cfg ChannelConfig, title, body string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if typ == TypeEmail {
		return s.sendEmail(ctx, cfg, title, body)
	}
	return s.postRobot(ctx, typ, cfg, body)
}

func (s *Service) runChannelJob(ctx context.Context, j channelJob) {
	secrets := j.ch.config.secrets()
	resp, err := s.deliverChannel(ctx, j.ch.Type, j.ch.config, j.title, j.body)
	if err != nil && ctx.Err() != nil {
		return // shutting down: the lease runs out and the row is tried again
	}
	errText := sanitize(err, secrets...)
	if err != nil {
		s.log.Warn("notify delivery failed", "delivery_id", j.id, "channel_id", j.channelID, "type", j.ch.Type, "attempt", j.attempts, "err", errText)
	}
	if ferr := s.finishChannel(context.WithoutCancel(ctx), j, resp, errText, false); ferr != nil {
		s.log.Error("notify delivery result", "delivery_id", j.id, "err", ferr)
	}
}

// finishChannel records an attempt's outcome (the robot's answer scrubbed of
// credentials: a misconfigured robot may echo them). final: no retry (a test
// message). The update holds only while the row is still this attempt's, so a
// worker whose lease ran out cannot overwrite a newer attempt.
func (s *Service) finishChannel(ctx context.Context, j channelJob, resp, errText string, final bool) error {
	now := s.now()
	resp = scrub(resp, j.ch.config.secrets()...)
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var r sql.Result
		var err error
		failed := errText != "" && (final || j.attempts >= maxAttempts)
		switch {
		case errText == "":
			r, err = tx.ExecContext(ctx, `UPDATE notify_delivery SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = '', response = ?
				WHERE id = ? AND status = 'sending' AND attempts = ?`, now, resp, j.id, j.attempts)
		case failed:
			r, err = tx.ExecContext(ctx, `UPDATE notify_delivery SET status = 'failed', lease_until = NULL, last_error = ?, response = ?
				WHERE id = ? AND status = 'sending' AND attempts = ?`, errText, resp, j.id, j.attempts)
		default:
			r, err = tx.ExecContext(ctx, `UPDATE notify_delivery SET status = 'pending', next_at = ?, lease_until = NULL, last_error = ?, response = ?
				WHERE id = ? AND status = 'sending' AND attempts = ?`, now+retryAfter(j.attempts).Milliseconds(), errText, resp, j.id, j.attempts)
		}
		if err != nil {
			return fmt.Errorf("notify: record delivery %d: %w", j.id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil // another attempt took the row over
		}
		if errText == "" {
			_, err = tx.ExecContext(ctx, `UPDATE notify_channel SET last_ok_at = ?, last_error = '' WHERE id = ?`, now, j.channelID)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notify_channel SET last_error = ? WHERE id = ?`, errText, j.channelID); err != nil {
			return err
		}
		if !failed || final || j.wasFailed {
			return nil
		}
		return s.alarm(ctx, tx, "channel.failed", "notify.msg.channel_failed", j.ch.StoreID,
			map[string]any{"name": j.ch.Name, "error": truncate(errText, 200)}, channelsLink, "notify_channel", j.channelID, j.channelID)
	})
}

// retryAfter is the wait after the n-th failed attempt.
func retryAfter(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > len(backoff) {
		n = len(backoff)
	}
	return backoff[n-1]
}

// SPA pages of the settings, where an alarm leads.
const (
	channelsLink = "/system/channels"
	webhooksLink = "/system/webhooks"
)

// alarm tells the administrators of the store (and of the group) that a channel
// or webhook gave up on a message: at most once a day per channel or webhook and
// user. The failing channel itself (skip) is not asked to carry the news.
func (s *Service) alarm(ctx context.Context, q db.Querier, kind, title string, storeID int64, params map[string]any, link, entity string, entityID, skip int64) error {
	users, err := settingsManagers(ctx, q, storeID)
	if err != nil {
		return err
	}
	day := s.clock.Now().In(cst).Format("20060102")
	msgs := make([]Message, 0, len(users))
	for _, uid := range users {
		msgs = append(msgs, Message{UserID: uid, StoreID: storeID, Kind: kind, TitleKey: title, Params: params, Link: link,
			Entity: entity, EntityID: entityID, DedupKey: fmt.Sprintf("%s:%d:%s", kind, entityID, day), Level: LevelWarning})
	}
	_, err = s.send(ctx, q, skip, msgs...)
	return err
}

// settingsManagers are the active users who may manage settings in the store:
// those of the store and the group-wide ones (only those for storeID 0).
func settingsManagers(ctx context.Context, q db.Querier, storeID int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT u.id FROM app_user u JOIN role r ON r.id = u.role_id
		JOIN role_permission rp ON rp.role_id = r.id AND rp.permission = 'settings.manage'
		WHERE u.status = 'active' AND (r.scope = 'group' OR u.store_id = ?) ORDER BY u.id`, storeID)
	if err != nil {
		return nil, fmt.Errorf("notify: settings managers: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// PurgeDeliveries deletes finished rows of both delivery logs older than 30
// days, in small batches. It returns how many it deleted.
func (s *Service) PurgeDeliveries(ctx context.Context) (int64, error) {
	cut := s.clock.Now().Add(-deliveryRetention).UnixMilli()
	var total int64
	for _, table := range []string{"notify_delivery", "webhook_delivery"} {
		for {
			var n int64
			err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
				// served by notify_delivery_done / webhook_delivery_done
				r, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN
					(SELECT id FROM `+table+` WHERE status IN ('sent', 'failed') AND created_at < ? LIMIT 2000)`, cut)
				if err != nil {
					return fmt.Errorf("notify: purge %s: %w", table, err)
				}
				n, err = r.RowsAffected()
				return err
			})
			if err != nil {
				return total, err
			}
			total += n
			if n < 2000 {
				break
			}
		}
	}
	return total, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// jsonText encodes v for a TEXT column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
