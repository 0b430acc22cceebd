package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"dealerdesk/app/apperr"
	"dealerdesk/app/db"
)

// selectNotification reads a row with the user's popup choice for its kind.
const selectNotification = `SELECT n.id, n.kind, n.title_key, n.params, n.link, n.entity, n.entity_id, n.level, n.store_id, n.created_at, n.read_at,
	coalesce(p.enabled, 1)
	FROM notification n
	LEFT JOIN notify_pref p ON p.user_id = n.user_id AND p.kind = n.kind AND p.channel = 'popup'`

func scanNotification(sc interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var params string
	var store, read sql.NullInt64
	var popup int64
	if err := sc.Scan(&n.ID, &n.Kind, &n.TitleKey, &params, &n.Link, &n.Entity, &n.EntityID, &n.Level, &store, &n.CreatedAt, &read, &popup); err != nil {
		return n, err
	}
	n.Params = []byte(params)
	if store.Valid {
		n.StoreID = &store.Int64
	}
	if read.Valid {
		n.ReadAt = &read.Int64
	}
	k, _ := LookupKind(n.Kind)
	n.Popup = k.Mandatory || popup == 1
	return n, nil
}

func queryNotifications(ctx context.Context, q db.Querier, query string, args ...any) ([]Notification, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("notify: scan: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: list: %w", err)
	}
	return out, nil
}

// listPage: the inbox newest first, ids below before (0: from the newest).
// Served by notification_user_id, or notification_user_unread for unread only.
func listPage(ctx context.Context, q db.Querier, userID int64, unread bool, before int64, limit int) ([]Notification, error) {
	query := selectNotification + ` WHERE n.user_id = ?`
	args := []any{userID}
	if unread {
		query += ` AND n.read_at IS NULL`
	}
	if before > 0 {
		query += ` AND n.id < ?`
		args = append(args, before)
	}
	query += ` ORDER BY n.id DESC LIMIT ?`
	args = append(args, limit)
	return queryNotifications(ctx, q, query, args...)
}

// newerThan: the stream's catch-up, oldest first (event order), ids above after.
func newerThan(ctx context.Context, q db.Querier, userID, after int64, limit int) ([]Notification, error) {
	return queryNotifications(ctx, q, selectNotification+` WHERE n.user_id = ? AND n.id > ? ORDER BY n.id LIMIT ?`, userID, after, limit)
}

func getOne(ctx context.Context, q db.Querier, userID, id int64) (Notification, error) {
	n, err := scanNotification(q.QueryRowContext(ctx, selectNotification+` WHERE n.id = ? AND n.user_id = ?`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return n, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return n, fmt.Errorf("notify: get %d: %w", id, err)
	}
	return n, nil
}

func unreadCount(ctx context.Context, q db.Querier, userID int64) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM notification WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("notify: unread count: %w", err)
	}
	return n, nil
}

// newestID is the user's highest notification id (0 when none).
func newestID(ctx context.Context, q db.Querier, userID int64) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM notification WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("notify: newest id: %w", err)
	}
	return n, nil
}

// countNewer counts the user's notifications above after, stopping at limit.
func countNewer(ctx context.Context, q db.Querier, userID, after int64, limit int) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM notification WHERE user_id = ? AND id > ? LIMIT ?)`, userID, after, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("notify: count newer: %w", err)
	}
	return n, nil
}

// newSince returns the highest id and the users with notifications above last
// (every user's when last < 0, which only reads the highest id). Served by the
// primary key.
func newSince(ctx context.Context, q db.Querier, last int64) (int64, []int64, error) {
	var top int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM notification`).Scan(&top); err != nil {
		return last, nil, fmt.Errorf("notify: newest: %w", err)
	}
	if last < 0 || top <= last {
		return top, nil, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT user_id FROM notification WHERE id > ? AND id <= ?`, last, top)
	if err != nil {
		return last, nil, fmt.Errorf("notify: new since %d: %w", last, err)
	}
	defer rows.Close()
	var users []int64
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return last, nil, err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return last, nil, err
	}
	return top, users, nil
}
