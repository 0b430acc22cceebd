package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Message is one notification to one user, as a domain hands it to Send.
type Message struct {
	UserID  int64
	StoreID int64 // the store the matter belongs to; 0 when none
	// Kind is a registered code (see Kinds), e.g. "lead.assigned".
	Kind string
	// TitleKey is an i18n key under "notify.msg." in the UI's locale files; the UI
	// renders it with Params in the reader's language.
	TitleKey string
	Params   map[string]any
	Link     string // SPA path to open, e.g. /crm/customers/12; "" for none
	Entity   string // what it is about, e.g. "customer"
	EntityID int64
	// DedupKey, when not empty, makes the message reach the user at most once:
	// a second Send with the same key for the same user is a no-op.
	DedupKey string
	Level    string // info (default), warning or urgent
}

// Limits on a message's free-text parts; a longer one is a bug in the sender.
const (
	maxLink   = 500
	maxDedup  = 200
	maxParams = 8 << 10
)

// normalize fills defaults and checks the message. A bad message is a programming
// error in the sending domain, so it fails the caller's transaction loudly.
func (m *Message) normalize() (Kind, []byte, error) {
	k, ok := LookupKind(m.Kind)
	switch {
	case m.UserID <= 0:
		return k, nil, fmt.Errorf("notify: message %q without a user", m.Kind)
	case !ok:
		return k, nil, fmt.Errorf("notify: unknown kind %q (add it to notify.Kinds)", m.Kind)
	case !strings.HasPrefix(m.TitleKey, "notify.msg.") || len(m.TitleKey) > 100:
		return k, nil, fmt.Errorf("notify: title key %q is not under notify.msg", m.TitleKey)
	case m.Link != "" && (!strings.HasPrefix(m.Link, "/") || strings.HasPrefix(m.Link, "//") || len(m.Link) > maxLink):
		return k, nil, fmt.Errorf("notify: link %q is not an in-app path", m.Link)
	case len(m.DedupKey) > maxDedup:
		return k, nil, fmt.Errorf("notify: dedup key of %d bytes", len(m.DedupKey))
	}
	if m.Level == "" {
		m.Level = LevelInfo
	}
	if m.Level != LevelInfo && m.Level != LevelWarning && m.Level != LevelUrgent {
		return k, nil, fmt.Errorf("notify: unknown level %q", m.Level)
	}
	params := []byte("{}")
	if len(m.Params) > 0 {
		b, err := json.Marshal(m.Params)
		if err != nil {
			return k, nil, fmt.Errorf("notify: params of %s: %w", m.Kind, err)
		}
		if len(b) > maxParams {
			return k, nil, fmt.Errorf("notify: params of %s too large (%d bytes)", m.Kind, len(b))
		}
		params = b
	}
	return k, params, nil
}

// Send writes the messages inside the caller's transaction q and returns how many
// were new: a message whose dedup key the user already has, or whose kind the user
// muted (unless the kind is mandatory), is skipped. Each message is also queued
// for the store's enabled channels (chat robots, e-mail) subscribed to its kind,
// once per channel however many users it reaches; user mutes do not apply to
// them. Nothing is sent here. Call Wake after the commit.
func (s *Service) Send(ctx context.Context, q db.Querier, msgs ...Message) (int, error) {
	return s.send(ctx, q, 0, msgs...)
}

// send is Send queuing for every channel but skip (the channel an alarm is about).
func (s *Service) send(ctx context.Context, q db.Querier, skip int64, msgs ...Message) (int, error) {
	now := s.now()
	n := 0
	channels := map[string][]channelTarget{}
	for i := range msgs {
		m := msgs[i]
		k, params, err := m.normalize()
		if err != nil {
			return n, err
		}
		// The mute check and the dedup check are part of the one INSERT, so they
		// hold under any number of concurrent senders.
		muted := `NOT EXISTS (SELECT 1 FROM notify_pref WHERE user_id = ? AND kind = ? AND channel = 'in_app' AND enabled = 0)`
		args := []any{m.UserID, nullID(m.StoreID), m.Kind, m.TitleKey, string(params), m.Link, m.Entity, m.EntityID, m.DedupKey, m.Level, now}
		if k.Mandatory {
			muted = `1`
		} else {
			args = append(args, m.UserID, m.Kind)
		}
		r, err := q.ExecContext(ctx, `INSERT INTO notification (user_id, store_id, kind, title_key, params, link, entity, entity_id, dedup_key, level, created_at)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE `+muted+` ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return n, fmt.Errorf("notify: send %s to user %d: %w", m.Kind, m.UserID, err)
		}
		c, err := r.RowsAffected()
		if err != nil {
			return n, err
		}
		n += int(c)
		if err := s.enqueue(ctx, q, m, params, now, c > 0, skip, channels); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Notification is a message in a user's inbox.
type Notification struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	TitleKey  string          `json:"titleKey"`
	Params    json.RawMessage `json:"params"`
	Link      string          `json:"link"`
	Entity    string          `json:"entity"`
	EntityID  int64           `json:"entityId"`
	Level     string          `json:"level"`
	StoreID   *int64          `json:"storeId"`
	CreatedAt int64           `json:"createdAt"`
	ReadAt    *int64          `json:"readAt"`
	// Popup tells a live browser to show a toast (the user's popup choice for the kind).
	Popup bool `json:"popup"`
}

// ListFilter selects a page of the inbox.
type ListFilter struct {
	Unread bool
	Cursor string
	Limit  int
}

// List returns the actor's notifications, newest first, keyset-paged by id.
func (s *Service) List(ctx context.Context, a auth.Actor, f ListFilter) (api.List[Notification], error) {
	out := api.List[Notification]{Items: []Notification{}}
	uid, err := user(a)
	if err != nil {
		return out, err
	}
	cur, err := api.ParseCursor(f.Cursor)
	if err != nil {
		return out, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	items, err := listPage(ctx, s.db.R, uid, f.Unread, cur.ID, f.Limit+1)
	if err != nil {
		return out, err
	}
	if len(items) > f.Limit {
		items = items[:f.Limit]
		out.Next = api.Cursor{ID: items[len(items)-1].ID}.Encode()
	}
	out.Items = items
	return out, nil
}

// UnreadCount returns how many of the actor's notifications are unread.
func (s *Service) UnreadCount(ctx context.Context, a auth.Actor) (int64, error) {
	uid, err := user(a)
	if err != nil {
		return 0, err
	}
	return unreadCount(ctx, s.db.R, uid)
}

// MarkRead marks one of the actor's notifications read (again: no change) and
// returns it. Another user's notification is NotFound. Reading one's own inbox
// changes no business record, so it is not audited (nor is MarkAllRead).
func (s *Service) MarkRead(ctx context.Context, a auth.Actor, id int64) (Notification, error) {
	var n Notification
	uid, err := user(a)
	if err != nil {
		return n, err
	}
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE notification SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL`, s.now(), id, uid); err != nil {
			return fmt.Errorf("notify: mark %d read: %w", id, err)
		}
		n, err = getOne(ctx, tx, uid, id)
		return err
	})
	if err != nil {
		return n, err
	}
	s.hub.poke(uid) // the user's other tabs update their bell
	return n, nil
}

// ReadAllInput bounds "mark all read" to what the user has seen.
type ReadAllInput struct {
	// UpTo, when set, marks only notifications with id ≤ UpTo, so one that
	// arrived after the user looked stays unread.
	UpTo int64 `json:"upTo"`
}

// ReadAllResult tells how many notifications were marked read.
type ReadAllResult struct {
	Updated int64 `json:"updated"`
}

// MarkAllRead marks the actor's unread notifications read.
func (s *Service) MarkAllRead(ctx context.Context, a auth.Actor, in ReadAllInput) (ReadAllResult, error) {
	var res ReadAllResult
	uid, err := user(a)
	if err != nil {
		return res, err
	}
	if in.UpTo < 0 {
		return res, apperr.Field("upTo", "invalid_format")
	}
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		q := `UPDATE notification SET read_at = ? WHERE user_id = ? AND read_at IS NULL`
		args := []any{s.now(), uid}
		if in.UpTo > 0 {
			q += ` AND id <= ?`
			args = append(args, in.UpTo)
		}
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("notify: mark all read: %w", err)
		}
		res.Updated, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return res, err
	}
	if res.Updated > 0 {
		s.hub.poke(uid)
	}
	return res, nil
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
