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

const channelCols = `c.id, c.store_id, s.name, c.type, c.name, c.enabled, c.kinds, c.config, c.version, c.created_at, c.created_by,
	c.updated_at, c.updated_by, c.last_ok_at, c.last_error`

const channelFrom = ` FROM notify_channel c JOIN store s ON s.id = c.store_id`

func scanChannel(sc interface{ Scan(...any) error }) (Channel, error) {
	var c Channel
	var kinds, config string
	var enabled int64
	var createdBy, updatedBy, lastOK sql.NullInt64
	if err := sc.Scan(&c.ID, &c.StoreID, &c.StoreName, &c.Type, &c.Name, &enabled, &kinds, &config, &c.Version, &c.CreatedAt, &createdBy,
		&c.UpdatedAt, &updatedBy, &lastOK, &c.LastError); err != nil {
		return c, err
	}
	c.Enabled = enabled == 1
	if err := json.Unmarshal([]byte(kinds), &c.Kinds); err != nil {
		return c, fmt.Errorf("notify: channel %d kinds: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(config), &c.config); err != nil {
		return c, fmt.Errorf("notify: channel %d config: %w", c.ID, err)
	}
	c.Config = c.config.view()
	c.CreatedBy, c.UpdatedBy, c.LastOKAt = ptrOf(createdBy), ptrOf(updatedBy), ptrOf(lastOK)
	return c, nil
}

func ptrOf(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func getChannel(ctx context.Context, q db.Querier, id int64) (Channel, error) {
	c, err := scanChannel(q.QueryRowContext(ctx, `SELECT `+channelCols+channelFrom+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return c, fmt.Errorf("notify: get channel %d: %w", id, err)
	}
	return c, nil
}

// listChannels: the channels of the stores in the actor's scope (one store when
// storeID is set), by store and id. Served by notify_channel_store.
func listChannels(ctx context.Context, q db.Querier, a auth.Actor, storeID int64) ([]Channel, error) {
	qb := sq.Select(channelCols).From("notify_channel c JOIN store s ON s.id = c.store_id").
		Where(auth.Filter(a, auth.PermSettingsManage, auth.Columns{Store: "c.store_id"})).OrderBy("c.store_id", "c.id")
	if storeID != 0 {
		qb = qb.Where(sq.Eq{"c.store_id": storeID})
	}
	query, args, err := qb.ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list channels: %w", err)
	}
	defer rows.Close()
	out := []Channel{}
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: list channels: %w", err)
	}
	return out, nil
}

func encodeChannel(in ChannelInput) (kinds, config string) {
	k, _ := json.Marshal(in.Kinds)
	c, _ := json.Marshal(in.Config)
	return string(k), string(c)
}

func insertChannel(ctx context.Context, q db.Querier, in ChannelInput, by, now int64) (int64, error) {
	kinds, config := encodeChannel(in)
	r, err := q.ExecContext(ctx, `INSERT INTO notify_channel (store_id, type, name, enabled, kinds, config, created_at, created_by, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.StoreID, in.Type, in.Name, boolInt(in.Enabled), kinds, config, now, nullID(by), now, nullID(by))
	if err != nil {
		return 0, fmt.Errorf("notify: create channel: %w", err)
	}
	return r.LastInsertId()
}

func updateChannel(ctx context.Context, q db.Querier, id int64, in ChannelInput, by, now int64) error {
	kinds, config := encodeChannel(in)
	r, err := q.ExecContext(ctx, `UPDATE notify_channel SET store_id = ?, name = ?, enabled = ?, kinds = ?, config = ?, version = version + 1,
		updated_at = ?, updated_by = ? WHERE id = ? AND version = ?`, in.StoreID, in.Name, boolInt(in.Enabled), kinds, config, now, nullID(by), id, in.Version)
	if err != nil {
		return fmt.Errorf("notify: update channel %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

// storeExists refuses an unknown store.
func storeExists(ctx context.Context, q db.Querier, storeID int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM store WHERE id = ?`, storeID).Scan(&n); err != nil {
		return fmt.Errorf("notify: check store: %w", err)
	}
	if n == 0 {
		return apperr.Field("storeId", "store.invalid")
	}
	return nil
}

// dropQueued fails the messages still waiting for a channel that was switched
// off: a chat robot switched back on weeks later must not post stale news.
func dropQueued(ctx context.Context, q db.Querier, channelID, now int64) error {
	_, err := q.ExecContext(ctx, `UPDATE notify_delivery SET status = 'failed', lease_until = NULL, last_error = 'channel switched off'
		WHERE channel_id = ? AND status = 'pending'`, channelID)
	if err != nil {
		return fmt.Errorf("notify: drop queue of channel %d: %w", channelID, err)
	}
	return nil
}

const deliveryCols = `d.id, d.channel_id, c.name, c.type, c.store_id, d.kind, d.title, d.body, d.status, d.attempts, d.next_at, d.last_error,
	d.response, d.created_at, d.sent_at`

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var sent sql.NullInt64
	err := sc.Scan(&d.ID, &d.ChannelID, &d.ChannelName, &d.ChannelType, &d.StoreID, &d.Kind, &d.Title, &d.Body, &d.Status, &d.Attempts, &d.NextAt,
		&d.LastError, &d.Response, &d.CreatedAt, &sent)
	d.SentAt = ptrOf(sent)
	return d, err
}

// listDeliveries: the log of the channels in scope, newest first, ids below
// before. Served by notify_delivery_channel (one channel), notify_delivery_status
// (one status) or the primary key.
func listDeliveries(ctx context.Context, q db.Querier, a auth.Actor, f DeliveryFilter, before int64, limit int) ([]Delivery, error) {
	qb := sq.Select(deliveryCols).From("notify_delivery d JOIN notify_channel c ON c.id = d.channel_id").
		Where(auth.Filter(a, auth.PermSettingsManage, auth.Columns{Store: "c.store_id"})).OrderBy("d.id DESC").Limit(uint64(limit))
	if f.ChannelID != 0 {
		qb = qb.Where(sq.Eq{"d.channel_id": f.ChannelID})
	}
	if f.Status != "" {
		qb = qb.Where(sq.Eq{"d.status": f.Status})
	}
	if before > 0 {
		qb = qb.Where(sq.Lt{"d.id": before})
	}
	query, args, err := qb.ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list deliveries: %w", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: list deliveries: %w", err)
	}
	return out, nil
}

func getDelivery(ctx context.Context, q db.Querier, id int64) (Delivery, error) {
	d, err := scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM notify_delivery d JOIN notify_channel c ON c.id = d.channel_id WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return d, fmt.Errorf("notify: get delivery %d: %w", id, err)
	}
	return d, nil
}
