package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

const webhookCols = `w.id, w.store_id, coalesce(s.name, ''), w.name, w.url, w.secret, w.events, w.include_personal_data, w.enabled, w.version,
	w.created_at, w.updated_at, w.last_ok_at, w.last_error`

const webhookFrom = ` FROM webhook w LEFT JOIN store s ON s.id = w.store_id`

func scanWebhook(sc interface{ Scan(...any) error }) (webhookRow, error) {
	var w webhookRow
	var store, lastOK sql.NullInt64
	var events string
	var personal, enabled int64
	if err := sc.Scan(&w.ID, &store, &w.StoreName, &w.Name, &w.url, &w.secret, &events, &personal, &enabled, &w.Version,
		&w.CreatedAt, &w.UpdatedAt, &lastOK, &w.LastError); err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return w, fmt.Errorf("notify: webhook %d events: %w", w.ID, err)
	}
	w.StoreID, w.LastOKAt = ptrOf(store), ptrOf(lastOK)
	w.IncludePersonalData, w.Enabled = personal == 1, enabled == 1
	w.URL = MaskURL(w.url)
	w.Secret = SecretState{Set: w.secret != ""}
	return w, nil
}

func getWebhook(ctx context.Context, q db.Querier, id int64) (webhookRow, error) {
	w, err := scanWebhook(q.QueryRowContext(ctx, `SELECT `+webhookCols+webhookFrom+` WHERE w.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return w, fmt.Errorf("notify: get webhook %d: %w", id, err)
	}
	return w, nil
}

// listWebhooks: the webhooks in the actor's scope (a group-wide one, store_id
// NULL, only for group scope), of one store (and the group-wide ones) when
// storeID is set; group-wide first. Served by webhook_store.
func listWebhooks(ctx context.Context, q db.Querier, a auth.Actor, storeID int64) ([]webhookRow, error) {
	qb := sq.Select(webhookCols).From("webhook w LEFT JOIN store s ON s.id = w.store_id").
		Where(auth.Filter(a, auth.PermSettingsManage, auth.Columns{Store: "w.store_id"})).
		OrderBy("w.store_id IS NOT NULL", "w.store_id", "w.id")
	if storeID != 0 {
		qb = qb.Where(sq.Or{sq.Eq{"w.store_id": nil}, sq.Eq{"w.store_id": storeID}})
	}
	query, args, err := qb.ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list webhooks: %w", err)
	}
	defer rows.Close()
	var out []webhookRow
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: list webhooks: %w", err)
	}
	return out, nil
}

func insertWebhook(ctx context.Context, q db.Querier, in WebhookInput, secret string, by, now int64) (int64, error) {
	events, _ := json.Marshal(in.Events)
	r, err := q.ExecContext(ctx, `INSERT INTO webhook (store_id, name, url, secret, events, include_personal_data, enabled, created_at, created_by, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.StoreID, in.Name, in.URL, secret, string(events), boolInt(in.IncludePersonalData), boolInt(in.Enabled),
		now, nullID(by), now, nullID(by))
	if err != nil {
		return 0, fmt.Errorf("notify: create webhook: %w", err)
	}
	return r.LastInsertId()
}

func updateWebhook(ctx context.Context, q db.Querier, id int64, in WebhookInput, by, now int64) error {
	events, _ := json.Marshal(in.Events)
	r, err := q.ExecContext(ctx, `UPDATE webhook SET store_id = ?, name = ?, url = ?, events = ?, include_personal_data = ?, enabled = ?,
		version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ?`,
		in.StoreID, in.Name, in.URL, string(events), boolInt(in.IncludePersonalData), boolInt(in.Enabled), now, nullID(by), id, in.Version)
	if err != nil {
		return fmt.Errorf("notify: update webhook %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

const webhookDeliveryCols = `id, webhook_id, event_id, event_type, status, attempts, next_at, response_code, last_error, duration_ms, created_at, delivered_at`

func scanWebhookDelivery(sc interface{ Scan(...any) error }, extra ...any) (WebhookDelivery, error) {
	var d WebhookDelivery
	var code, ms, delivered sql.NullInt64
	dest := append([]any{&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &d.NextAt, &code, &d.LastError, &ms, &d.CreatedAt, &delivered}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return d, err
	}
	if code.Valid {
		c := int(code.Int64)
		d.ResponseCode = &c
	}
	d.DurationMS, d.DeliveredAt = ptrOf(ms), ptrOf(delivered)
	return d, nil
}

// listWebhookDeliveries: a webhook's deliveries newest first, ids below before.
// Served by webhook_delivery_webhook.
func listWebhookDeliveries(ctx context.Context, q db.Querier, webhookID int64, status string, before int64, limit int) ([]WebhookDelivery, error) {
	qb := sq.Select(webhookDeliveryCols).From("webhook_delivery").Where(sq.Eq{"webhook_id": webhookID}).OrderBy("id DESC").Limit(uint64(limit))
	if status != "" {
		qb = qb.Where(sq.Eq{"status": status})
	}
	if before > 0 {
		qb = qb.Where(sq.Lt{"id": before})
	}
	query, args, err := qb.ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list webhook deliveries: %w", err)
	}
	defer rows.Close()
	out := []WebhookDelivery{}
	for rows.Next() {
		d, err := scanWebhookDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: list webhook deliveries: %w", err)
	}
	return out, nil
}

func getWebhookDelivery(ctx context.Context, q db.Querier, id int64) (WebhookDeliveryDetail, error) {
	var out WebhookDeliveryDetail
	var payload string
	d, err := scanWebhookDelivery(q.QueryRowContext(ctx, `SELECT `+webhookDeliveryCols+`, payload, response_body FROM webhook_delivery WHERE id = ?`, id),
		&payload, &out.ResponseBody)
	if errors.Is(err, sql.ErrNoRows) {
		return out, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return out, fmt.Errorf("notify: get webhook delivery %d: %w", id, err)
	}
	out.WebhookDelivery = d
	out.Payload = json.RawMessage(payload)
	return out, nil
}
