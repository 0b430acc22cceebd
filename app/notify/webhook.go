package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Outgoing webhooks tell another system (the group's ERP, a BI tool, the
// manufacturer's DMS bridge) about business events. A domain calls Emit inside
// its transaction; each enabled webhook subscribed to the event gets one
// delivery row with the exact JSON body, and the worker POSTs it:
//
//	Content-Type: application/json
//	User-Agent: DealerDesk-Webhook/1
//	X-DealerDesk-Event: lead.created
//	X-DealerDesk-Delivery: evt_0123456789abcdef01234567   (the event id; the same on every retry)
//	X-DealerDesk-Signature: t=1764000000,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// Any 2xx answer is delivered; anything else is retried with the back-off of
// the outbox. The receiver verifies the signature (docs/api.md, "Webhooks").
// Personal data (phones, names) goes only to webhooks that opted in.

// Event is a business event as a domain emits it.
type Event struct {
	Type     string // one of EventTypes
	StoreID  int64  // 0: group-level (only group-wide webhooks get it)
	Entity   string // e.g. "customer"
	EntityID int64
	Data     map[string]any // what every subscriber gets (phones masked)
	Personal map[string]any // merged into data for webhooks with include_personal_data
}

// EventTypes are the events a webhook may subscribe to; Emit refuses others.
// repair_order.done is reserved for the after-sales module, which is not
// built yet (order.signed comes from sales orders); ping is the test event.
var EventTypes = []string{"lead.created", "customer.created", "lead.assigned", "customer.lost", "approval.decided", "order.signed", "repair_order.done", "ping"}

// reservedEvents have no emitter yet (their modules are not built).
var reservedEvents = []string{"repair_order.done"}

// EventTypeInfo is an event type for the webhook form.
type EventTypeInfo struct {
	Type string `json:"type"`
	// Available is false for events whose module is not built yet.
	Available bool `json:"available"`
}

// EventTypeList lists the event types a webhook may subscribe to (not ping).
func EventTypeList() []EventTypeInfo {
	out := []EventTypeInfo{}
	for _, t := range EventTypes {
		if t != "ping" {
			out = append(out, EventTypeInfo{Type: t, Available: !slices.Contains(reservedEvents, t)})
		}
	}
	return out
}

func subscribable(t string) bool { return t != "ping" && slices.Contains(EventTypes, t) }

// payload is the JSON body of a delivery.
type payload struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	CreatedAt string         `json:"createdAt"`
	StoreID   int64          `json:"storeId"`
	Entity    string         `json:"entity"`
	EntityID  int64          `json:"entityId"`
	Data      map[string]any `json:"data"`
}

// Emit queues the event for every enabled webhook of its store (and every
// group-wide one) subscribed to its type, inside the caller's transaction q.
// Call Wake after the commit. An unknown type is a programming error.
func (s *Service) Emit(ctx context.Context, q db.Querier, ev Event) error {
	if !slices.Contains(EventTypes, ev.Type) {
		return fmt.Errorf("notify: unknown event type %q (add it to notify.EventTypes)", ev.Type)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, include_personal_data FROM webhook
		WHERE enabled = 1 AND (store_id = ? OR store_id IS NULL) AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?) ORDER BY id`, ev.StoreID, ev.Type)
	if err != nil {
		return fmt.Errorf("notify: webhooks for %s: %w", ev.Type, err)
	}
	type target struct {
		id       int64
		personal bool
	}
	var targets []target
	for rows.Next() {
		var t target
		var p int64
		if err := rows.Scan(&t.id, &p); err != nil {
			rows.Close()
			return err
		}
		t.personal = p == 1
		targets = append(targets, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("notify: webhooks for %s: %w", ev.Type, err)
	}
	now := s.now()
	evID := "evt_" + randomHex(12)
	for _, t := range targets {
		if err := s.queueEvent(ctx, q, t.id, evID, ev, t.personal, now); err != nil {
			return err
		}
	}
	return nil
}

// queueEvent inserts one delivery of the event for a webhook and returns nothing
// when the event was queued for it already.
func (s *Service) queueEvent(ctx context.Context, q db.Querier, webhookID int64, evID string, ev Event, personal bool, now int64) error {
	data := map[string]any{}
	maps.Copy(data, ev.Data)
	if personal {
		maps.Copy(data, ev.Personal)
	}
	body, err := jsonText(payload{ID: evID, Type: ev.Type, CreatedAt: time.UnixMilli(now).UTC().Format(time.RFC3339), StoreID: ev.StoreID,
		Entity: ev.Entity, EntityID: ev.EntityID, Data: data})
	if err != nil {
		return fmt.Errorf("notify: encode event %s: %w", ev.Type, err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO webhook_delivery (webhook_id, event_id, event_type, payload, next_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (webhook_id, event_id) DO NOTHING`, webhookID, evID, ev.Type, body, now, now); err != nil {
		return fmt.Errorf("notify: queue %s for webhook %d: %w", ev.Type, webhookID, err)
	}
	return nil
}

// Sign is the X-DealerDesk-Signature value of body sent at unix time t:
// "t=<t>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".
func Sign(secret string, t int64, body []byte) string {
	ts := strconv.FormatInt(t, 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Webhook is a webhook as the API shows it (never its secret).
type Webhook struct {
	ID                  int64       `json:"id"`
	StoreID             *int64      `json:"storeId"` // null: events of every store
	StoreName           string      `json:"storeName"`
	Name                string      `json:"name"`
	URL                 string      `json:"url"` // query values masked
	Events              []string    `json:"events"`
	IncludePersonalData bool        `json:"includePersonalData"`
	Enabled             bool        `json:"enabled"`
	Secret              SecretState `json:"secret"`
	Version             int64       `json:"version"`
	CreatedAt           int64       `json:"createdAt"`
	UpdatedAt           int64       `json:"updatedAt"`
	LastOKAt            *int64      `json:"lastOkAt"`
	LastError           string      `json:"lastError"`
}

// webhookRow is a webhook with its credentials, for sending.
type webhookRow struct {
	Webhook
	url    string
	secret string
}

// WebhookInput creates or edits a webhook. On edit an empty (or still masked)
// url keeps the stored one.
type WebhookInput struct {
	StoreID             *int64   `json:"storeId"` // null or 0: every store (group scope only)
	Name                string   `json:"name"`
	URL                 string   `json:"url"`
	Events              []string `json:"events"`
	IncludePersonalData bool     `json:"includePersonalData"`
	Enabled             bool     `json:"enabled"`
	Version             int64    `json:"version"` // the version read, on edit
}

// WebhookSecret answers a create or a secret rotation: the only time the
// secret is shown.
type WebhookSecret struct {
	Webhook Webhook `json:"webhook"`
	Secret  string  `json:"secret"`
}

// Normalize trims the input and drops duplicate events.
func (in *WebhookInput) Normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	in.Events = uniq(in.Events)
	if in.StoreID != nil && *in.StoreID == 0 {
		in.StoreID = nil
	}
}

// Validate checks the input's shape.
func (in *WebhookInput) Validate() error {
	f := apperr.Fields{}
	checkName(f, in.Name)
	if in.URL == "" {
		f.Add("url", "required")
	} else if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(in.URL) > maxURL {
		f.Add("url", "webhook.url_invalid")
	}
	if len(in.Events) == 0 {
		f.Add("events", "webhook.events_empty")
	}
	for _, e := range in.Events {
		if !subscribable(e) {
			f.Add("events", "webhook.unknown_event", "event", e)
		}
	}
	return f.Err()
}

// checkWebhookScope: a group-wide webhook needs group scope; a store's needs the
// store in scope (else 404).
func checkWebhookScope(a auth.Actor, storeID *int64) error {
	if storeID == nil {
		if err := auth.Require(a, auth.PermSettingsManage); err != nil {
			return err
		}
		if a.Scope != auth.ScopeGroup {
			return apperr.New(apperr.Forbidden, "webhook.group_scope")
		}
		return nil
	}
	return checkStore(a, *storeID)
}

// checkWebhookRead hides another store's webhook (404), and a group-wide one
// from store-level managers: its log holds every store's events.
func checkWebhookRead(a auth.Actor, w Webhook) error {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return err
	}
	if (w.StoreID == nil && a.Scope != auth.ScopeGroup) || (w.StoreID != nil && !a.InScope(auth.Record{StoreID: *w.StoreID})) {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}

// newSecret makes a webhook secret: "whsec_" and 32 random bytes.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// ListWebhooks returns the webhooks of the stores in scope (group scope: also
// the group-wide ones); of one store (and the group-wide ones) when storeID is set.
func (s *Service) ListWebhooks(ctx context.Context, a auth.Actor, storeID int64) ([]Webhook, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return nil, err
	}
	if storeID != 0 {
		if err := checkStore(a, storeID); err != nil {
			return nil, err
		}
	}
	rows, err := listWebhooks(ctx, s.db.R, a, storeID)
	if err != nil {
		return nil, err
	}
	out := make([]Webhook, len(rows))
	for i, r := range rows {
		out[i] = r.Webhook
	}
	return out, nil
}

// checkPersonalData: a webhook that carries full phone numbers and names out of
// the system is a standing export, so only someone who may reveal and export
// personal data may switch it on.
func checkPersonalData(a auth.Actor, include bool) error {
	if include && !(a.Has(auth.PermPIReveal) && a.Has(auth.PermCustomerExport)) {
		return apperr.Field("includePersonalData", "webhook.personal_data_forbidden")
	}
	return nil
}

// CreateWebhook adds a webhook with a new secret, returned this once.
func (s *Service) CreateWebhook(ctx context.Context, a auth.Actor, in WebhookInput) (WebhookSecret, error) {
	var out WebhookSecret
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return out, err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return out, err
	}
	if err := checkWebhookScope(a, in.StoreID); err != nil {
		return out, err
	}
	if err := checkPersonalData(a, in.IncludePersonalData); err != nil {
		return out, err
	}
	out.Secret = newSecret()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if in.StoreID != nil {
			if err := storeExists(ctx, tx, *in.StoreID); err != nil {
				return err
			}
		}
		id, err := insertWebhook(ctx, tx, in, out.Secret, a.UserID, s.now())
		if err != nil {
			return err
		}
		w, err := getWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		out.Webhook = w.Webhook
		return s.auditAt(ctx, tx, a, "create", "webhook", id, deref(in.StoreID), nil, out.Webhook)
	})
	return out, err
}

// UpdateWebhook edits a webhook (optimistic: in.Version must be the stored one).
func (s *Service) UpdateWebhook(ctx context.Context, a auth.Actor, id int64, in WebhookInput) (Webhook, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return Webhook{}, err
	}
	in.Normalize()
	if err := checkPersonalData(a, in.IncludePersonalData); err != nil {
		return Webhook{}, err
	}
	var out Webhook
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := getWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkWebhookRead(a, before.Webhook); err != nil {
			return err
		}
		if err := checkWebhookScope(a, before.StoreID); err != nil {
			return err
		}
		if in.URL == "" || in.URL == MaskURL(before.url) {
			in.URL = before.url
		}
		if err := in.Validate(); err != nil {
			return err
		}
		if err := checkWebhookScope(a, in.StoreID); err != nil {
			return err
		}
		if in.Version != before.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if in.StoreID != nil {
			if err := storeExists(ctx, tx, *in.StoreID); err != nil {
				return err
			}
		}
		if err := updateWebhook(ctx, tx, id, in, a.UserID, s.now()); err != nil {
			return err
		}
		w, err := getWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		out = w.Webhook
		return s.auditAt(ctx, tx, a, "update", "webhook", id, deref(out.StoreID), before.Webhook, out)
	})
	return out, err
}

// DeleteWebhook removes a webhook and its delivery log.
func (s *Service) DeleteWebhook(ctx context.Context, a auth.Actor, id int64) error {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := getWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkWebhookRead(a, before.Webhook); err != nil {
			return err
		}
		if err := checkWebhookScope(a, before.StoreID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook WHERE id = ?`, id); err != nil {
			return fmt.Errorf("notify: delete webhook %d: %w", id, err)
		}
		return s.auditAt(ctx, tx, a, "delete", "webhook", id, deref(before.StoreID), before.Webhook, nil)
	})
}

// RotateSecret gives a webhook a new secret, returned this once; the old one
// stops working at once (deliveries still queued are signed with the new one).
func (s *Service) RotateSecret(ctx context.Context, a auth.Actor, id int64) (WebhookSecret, error) {
	var out WebhookSecret
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return out, err
	}
	out.Secret = newSecret()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := getWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkWebhookRead(a, before.Webhook); err != nil {
			return err
		}
		if err := checkWebhookScope(a, before.StoreID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook SET secret = ?, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ?`,
			out.Secret, s.now(), nullID(a.UserID), id); err != nil {
			return fmt.Errorf("notify: rotate secret of webhook %d: %w", id, err)
		}
		w, err := getWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		out.Webhook = w.Webhook
		// the secrets themselves never enter the audit log
		return s.auditAt(ctx, tx, a, "rotate_secret", "webhook", id, deref(w.StoreID), map[string]any{"version": before.Version}, map[string]any{"version": w.Version})
	})
	return out, err
}

// PingResult is the outcome of a ping or a redelivery.
type PingResult struct {
	OK           bool   `json:"ok"`
	Error        string `json:"error"`
	DurationMS   int64  `json:"durationMs"`
	ResponseCode *int   `json:"responseCode"`
	DeliveryID   int64  `json:"deliveryId"`
}

// Ping sends the webhook a "ping" event now (recorded in its log; not retried).
func (s *Service) Ping(ctx context.Context, a auth.Actor, id int64) (PingResult, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return PingResult{}, err
	}
	w, err := getWebhook(ctx, s.db.R, id)
	if err != nil {
		return PingResult{}, err
	}
	if err := checkWebhookRead(a, w.Webhook); err != nil {
		return PingResult{}, err
	}
	evID := "evt_" + randomHex(12)
	ev := Event{Type: "ping", StoreID: deref(w.StoreID), Entity: "webhook", EntityID: id, Data: map[string]any{"webhookId": id, "name": w.Name}}
	now := s.now()
	if err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return s.queueEvent(ctx, tx, id, evID, ev, false, now)
	}); err != nil {
		return PingResult{}, err
	}
	var did int64
	if err := s.db.R.QueryRowContext(ctx, `SELECT id FROM webhook_delivery WHERE webhook_id = ? AND event_id = ?`, id, evID).Scan(&did); err != nil {
		return PingResult{}, fmt.Errorf("notify: ping of webhook %d: %w", id, err)
	}
	return s.attemptNow(ctx, did, true)
}

// attemptNow makes one attempt of a delivery right away and reports it. final:
// no retry when it fails (a ping).
func (s *Service) attemptNow(ctx context.Context, id int64, final bool) (PingResult, error) {
	j, err := s.claimWebhookOne(ctx, id)
	if err != nil {
		return PingResult{}, err
	}
	res := s.runWebhookJobFinal(ctx, j, final)
	s.wakeStreams()
	return res, nil
}

// WebhookDelivery is one event to one webhook, queued or done.
type WebhookDelivery struct {
	ID           int64  `json:"id"`
	WebhookID    int64  `json:"webhookId"`
	EventID      string `json:"eventId"`
	EventType    string `json:"eventType"`
	Status       string `json:"status"` // pending | sending | sent | failed
	Attempts     int    `json:"attempts"`
	NextAt       int64  `json:"nextAt"`
	ResponseCode *int   `json:"responseCode"`
	LastError    string `json:"lastError"`
	DurationMS   *int64 `json:"durationMs"`
	CreatedAt    int64  `json:"createdAt"`
	DeliveredAt  *int64 `json:"deliveredAt"`
}

// WebhookDeliveryDetail is a delivery with what was sent and answered.
type WebhookDeliveryDetail struct {
	WebhookDelivery
	Payload      json.RawMessage `json:"payload"`
	ResponseBody string          `json:"responseBody"`
}

// ListWebhookDeliveries returns a webhook's deliveries, newest first (keyset).
func (s *Service) ListWebhookDeliveries(ctx context.Context, a auth.Actor, webhookID int64, status, cursor string, limit int) (api.List[WebhookDelivery], error) {
	out := api.List[WebhookDelivery]{Items: []WebhookDelivery{}}
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return out, err
	}
	w, err := getWebhook(ctx, s.db.R, webhookID)
	if err != nil {
		return out, err
	}
	if err := checkWebhookRead(a, w.Webhook); err != nil {
		return out, err
	}
	if status != "" && !validStatus(status) {
		return out, apperr.Field("status", "invalid_format")
	}
	cur, err := api.ParseCursor(cursor)
	if err != nil {
		return out, err
	}
	if limit <= 0 {
		limit = 50
	}
	items, err := listWebhookDeliveries(ctx, s.db.R, webhookID, status, cur.ID, limit+1)
	if err != nil {
		return out, err
	}
	if len(items) > limit {
		items = items[:limit]
		out.Next = api.Cursor{ID: items[len(items)-1].ID}.Encode()
	}
	out.Items = items
	return out, nil
}

// GetWebhookDelivery returns a delivery with its payload and the last answer.
func (s *Service) GetWebhookDelivery(ctx context.Context, a auth.Actor, id int64) (WebhookDeliveryDetail, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return WebhookDeliveryDetail{}, err
	}
	d, err := getWebhookDelivery(ctx, s.db.R, id)
	if err != nil {
		return d, err
	}
	w, err := getWebhook(ctx, s.db.R, d.WebhookID)
	if err != nil {
		return WebhookDeliveryDetail{}, err
	}
	if err := checkWebhookRead(a, w.Webhook); err != nil {
		return WebhookDeliveryDetail{}, err
	}
	return d, nil
}

// Redeliver sends a delivery's payload again now (same event id; a new attempt
// counted with the others) and returns the delivery.
func (s *Service) Redeliver(ctx context.Context, a auth.Actor, id int64) (WebhookDeliveryDetail, error) {
	if _, err := s.GetWebhookDelivery(ctx, a, id); err != nil {
		return WebhookDeliveryDetail{}, err
	}
	if _, err := s.attemptNow(ctx, id, false); err != nil {
		return WebhookDeliveryDetail{}, err
	}
	return getWebhookDelivery(ctx, s.db.R, id)
}

// ---- sending ----

// claimWebhooks takes the due webhook rows, at most perTarget per webhook.
func (s *Service) claimWebhooks(ctx context.Context) ([]webhookJob, error) {
	now := s.now()
	var due bool
	// (Rows of a switched-off webhook wait until it is switched on again.)
	if err := s.db.R.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id AND w.enabled = 1
		WHERE d.status IN ('pending', 'sending') AND d.next_at <= ?)`, now).Scan(&due); err != nil {
		return nil, fmt.Errorf("notify: look for due webhook deliveries: %w", err)
	}
	if !due {
		return nil, nil
	}
	var jobs []webhookJob
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		jobs = jobs[:0]
		// served by webhook_delivery_due
		rows, err := tx.QueryContext(ctx, `WITH due AS (
				SELECT d.id, row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.next_at, d.id) AS rn
				FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id AND w.enabled = 1
				WHERE d.status IN ('pending', 'sending') AND d.next_at <= ?1 AND (d.status = 'pending' OR d.lease_until <= ?1))
			UPDATE webhook_delivery SET status = 'sending', lease_until = ?2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM due WHERE rn <= ?3)
			RETURNING id, webhook_id, attempts, event_id, event_type, payload`, now, now+leaseTime.Milliseconds(), perTarget)
		if err != nil {
			return fmt.Errorf("notify: claim webhook deliveries: %w", err)
		}
		for rows.Next() {
			var j webhookJob
			if err := rows.Scan(&j.id, &j.webhookID, &j.attempts, &j.eventID, &j.eventType, &j.payload); err != nil {
				rows.Close()
				return err
			}
			jobs = append(jobs, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("notify: claim webhook deliveries: %w", err)
		}
		return loadWebhooks(ctx, tx, jobs)
	})
	return jobs, err
}

func loadWebhooks(ctx context.Context, q db.Querier, jobs []webhookJob) error {
	seen := map[int64]webhookRow{}
	for i := range jobs {
		w, ok := seen[jobs[i].webhookID]
		if !ok {
			var err error
			if w, err = getWebhook(ctx, q, jobs[i].webhookID); err != nil {
				return err
			}
			seen[w.ID] = w
		}
		jobs[i].wh = w
	}
	return nil
}

// claimWebhookOne takes one row for a manual attempt unless a worker is
// sending it right now.
func (s *Service) claimWebhookOne(ctx context.Context, id int64) (webhookJob, error) {
	j := webhookJob{id: id}
	now := s.now()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var status string
		var lease sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT status, lease_until FROM webhook_delivery WHERE id = ?`, id).Scan(&status, &lease); err != nil {
			if err == sql.ErrNoRows {
				return apperr.New(apperr.NotFound, "not_found")
			}
			return err
		}
		if status == StatusSending && lease.Int64 > now {
			return apperr.New(apperr.Conflict, "notify.delivery_busy")
		}
		j.wasFailed = status == StatusFailed
		if err := tx.QueryRowContext(ctx, `UPDATE webhook_delivery SET status = 'sending', lease_until = ?, attempts = attempts + 1, next_at = ?
			WHERE id = ? RETURNING webhook_id, attempts, event_id, event_type, payload`, now+leaseTime.Milliseconds(), now, id).
			Scan(&j.webhookID, &j.attempts, &j.eventID, &j.eventType, &j.payload); err != nil {
			return fmt.Errorf("notify: claim webhook delivery %d: %w", id, err)
		}
		jobs := []webhookJob{j}
		if err := loadWebhooks(ctx, tx, jobs); err != nil {
			return err
		}
		j = jobs[0]
		return nil
	})
	return j, err
}

// maxResponseBody is how much of a receiver's answer is kept.
const maxResponseBody = 1 << 10

// postWebhook sends a delivery and returns the answer's status and first 1 KB.
func (s *Service) postWebhook(ctx context.Context, j webhookJob) (code int, body string, err error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.wh.url, bytes.NewReader([]byte(j.payload)))
	if err != nil {
		return 0, "", err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set("X-DealerDesk-Event", j.eventType)
	h.Set("X-DealerDesk-Delivery", j.eventID)
	h.Set("X-DealerDesk-Signature", Sign(j.wh.secret, s.clock.Now().Unix(), []byte(j.payload)))
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	body = truncate(string(b), maxResponseBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, body, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, body, nil
}

func (s *Service) runWebhookJob(ctx context.Context, j webhookJob) {
	s.runWebhookJobFinal(ctx, j, false)
}

func (s *Service) runWebhookJobFinal(ctx context.Context, j webhookJob, final bool) PingResult {
	start := time.Now() // a duration, so the real clock
	code, body, err := s.postWebhook(ctx, j)
	res := PingResult{OK: err == nil, DurationMS: time.Since(start).Milliseconds(), DeliveryID: j.id}
	if code != 0 {
		res.ResponseCode = &code
	}
	if err != nil && ctx.Err() != nil && !final {
		return res // shutting down: the lease runs out and the row is tried again
	}
	secrets := append(credentials(j.wh.url), j.wh.secret)
	res.Error = sanitize(err, secrets...)
	if err != nil {
		s.log.Warn("webhook delivery failed", "delivery_id", j.id, "webhook_id", j.webhookID, "event", j.eventType, "attempt", j.attempts, "err", res.Error)
	}
	if ferr := s.finishWebhook(context.WithoutCancel(ctx), j, code, scrub(body, secrets...), res.Error, res.DurationMS, final); ferr != nil {
		s.log.Error("webhook delivery result", "delivery_id", j.id, "err", ferr)
	}
	return res
}

// finishWebhook records an attempt's outcome (see finishChannel).
func (s *Service) finishWebhook(ctx context.Context, j webhookJob, code int, body, errText string, ms int64, final bool) error {
	now := s.now()
	var rc any
	if code != 0 {
		rc = code
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var r sql.Result
		var err error
		failed := errText != "" && (final || j.attempts >= maxAttempts)
		switch {
		case errText == "":
			r, err = tx.ExecContext(ctx, `UPDATE webhook_delivery SET status = 'sent', delivered_at = ?, lease_until = NULL, last_error = '',
				response_code = ?, response_body = ?, duration_ms = ? WHERE id = ? AND status = 'sending' AND attempts = ?`, now, rc, body, ms, j.id, j.attempts)
		case failed:
			r, err = tx.ExecContext(ctx, `UPDATE webhook_delivery SET status = 'failed', lease_until = NULL, last_error = ?,
				response_code = ?, response_body = ?, duration_ms = ? WHERE id = ? AND status = 'sending' AND attempts = ?`, errText, rc, body, ms, j.id, j.attempts)
		default:
			r, err = tx.ExecContext(ctx, `UPDATE webhook_delivery SET status = 'pending', next_at = ?, lease_until = NULL, last_error = ?,
				response_code = ?, response_body = ?, duration_ms = ? WHERE id = ? AND status = 'sending' AND attempts = ?`,
				now+retryAfter(j.attempts).Milliseconds(), errText, rc, body, ms, j.id, j.attempts)
		}
		if err != nil {
			return fmt.Errorf("notify: record webhook delivery %d: %w", j.id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		if errText == "" {
			_, err = tx.ExecContext(ctx, `UPDATE webhook SET last_ok_at = ?, last_error = '' WHERE id = ?`, now, j.webhookID)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook SET last_error = ? WHERE id = ?`, errText, j.webhookID); err != nil {
			return err
		}
		if !failed || final || j.wasFailed {
			return nil
		}
		return s.alarm(ctx, tx, "webhook.failed", "notify.msg.webhook_failed", deref(j.wh.StoreID),
			map[string]any{"name": j.wh.Name, "event": j.eventType, "error": truncate(errText, 200)}, webhooksLink, "webhook", j.webhookID, 0)
	})
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
