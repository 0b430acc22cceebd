// Package timeline is the one customer timeline (DOMAIN.md L5): every domain
// appends what happened to a customer — a lead, a follow-up, an approval step, a
// test drive, a repair order — in the same transaction as the change, and the
// customer page reads one list. Entries are never edited; a customer merge
// re-points them to the surviving customer, so nothing is lost.
package timeline

import (
	"context"
	"encoding/json"
	"fmt"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Event is one timeline entry. Kind names what happened ("lead.created",
// "followup", "approval.approved", …); the UI shows timeline.kind.<kind> and
// renders Data. Entity/EntityID point at the record it is about, if any.
type Event struct {
	ID         int64          `json:"id"`
	CustomerID int64          `json:"customerId"`
	StoreID    int64          `json:"storeId"`
	At         int64          `json:"at"`
	Kind       string         `json:"kind"`
	ActorID    int64          `json:"actorId,omitempty"`
	ActorName  string         `json:"actorName"`
	Entity     string         `json:"entity,omitempty"`
	EntityID   int64          `json:"entityId,omitempty"`
	Data       map[string]any `json:"data"`
}

// By fills the actor fields from the one doing the change.
func (e Event) By(a auth.Actor) Event {
	e.ActorID = a.UserID
	e.ActorName = a.Name
	return e
}

// Append writes entries inside the caller's transaction.
func Append(ctx context.Context, q db.Querier, events ...Event) error {
	for _, e := range events {
		if e.CustomerID == 0 || e.StoreID == 0 || e.Kind == "" || e.At == 0 {
			return fmt.Errorf("timeline: append: customer, store, kind and time are required (%+v)", e)
		}
		data := []byte("{}")
		if len(e.Data) > 0 {
			b, err := json.Marshal(e.Data)
			if err != nil {
				return fmt.Errorf("timeline: append: %w", err)
			}
			data = b
		}
		var actor any
		if e.ActorID != 0 {
			actor = e.ActorID
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO timeline_event (customer_id, store_id, at, kind, actor_id, actor_name, entity, entity_id, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.CustomerID, e.StoreID, e.At, e.Kind, actor, e.ActorName, e.Entity, e.EntityID, string(data)); err != nil {
			return fmt.Errorf("timeline: append %s: %w", e.Kind, err)
		}
	}
	return nil
}

// Move re-points every entry of one customer to another (a merge).
func Move(ctx context.Context, q db.Querier, from, to int64) (int64, error) {
	r, err := q.ExecContext(ctx, `UPDATE timeline_event SET customer_id = ? WHERE customer_id = ?`, to, from)
	if err != nil {
		return 0, fmt.Errorf("timeline: move %d→%d: %w", from, to, err)
	}
	return r.RowsAffected()
}

// Filter narrows a customer's timeline.
type Filter struct {
	CustomerID int64
	Kinds      []string // prefixes: "followup" matches "followup" and "followup.*"
	Cursor     string
	Limit      int
}

// List returns a customer's entries newest first, keyset-paged on (at, id). The
// caller has checked that the actor may read the customer.
func List(ctx context.Context, q db.Querier, f Filter) (api.List[Event], error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where := "customer_id = ?"
	args := []any{f.CustomerID}
	if f.Cursor != "" {
		c, err := api.ParseCursor(f.Cursor)
		if err != nil {
			return api.List[Event]{}, err
		}
		var at int64
		if _, err := fmt.Sscan(c.Sort, &at); err != nil {
			return api.List[Event]{}, apperr.Field("cursor", "invalid_format")
		}
		where += " AND (at < ? OR (at = ? AND id < ?))"
		args = append(args, at, at, c.ID)
	}
	if len(f.Kinds) > 0 {
		where += " AND ("
		for i, k := range f.Kinds {
			if i > 0 {
				where += " OR "
			}
			where += "kind = ? OR kind LIKE ?"
			args = append(args, k, k+".%")
		}
		where += ")"
	}
	args = append(args, f.Limit+1)
	rows, err := q.QueryContext(ctx, `SELECT id, customer_id, store_id, at, kind, COALESCE(actor_id, 0), actor_name, entity, entity_id, data
		FROM timeline_event WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return api.List[Event]{}, fmt.Errorf("timeline: list: %w", err)
	}
	defer rows.Close()
	out := api.List[Event]{Items: []Event{}}
	for rows.Next() {
		var e Event
		var data string
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.StoreID, &e.At, &e.Kind, &e.ActorID, &e.ActorName, &e.Entity, &e.EntityID, &data); err != nil {
			return out, err
		}
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return out, fmt.Errorf("timeline: event %d data: %w", e.ID, err)
		}
		out.Items = append(out.Items, e)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(out.Items) > f.Limit {
		last := out.Items[f.Limit-1]
		out.Items = out.Items[:f.Limit]
		out.Next = api.Cursor{Sort: fmt.Sprint(last.At), ID: last.ID}.Encode()
	}
	return out, nil
}

// ForEntity returns the entries about one record (e.g. an approval's history),
// oldest first.
func ForEntity(ctx context.Context, q db.Querier, entity string, id int64) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, customer_id, store_id, at, kind, COALESCE(actor_id, 0), actor_name, entity, entity_id, data
		FROM timeline_event WHERE entity = ? AND entity_id = ? ORDER BY at, id`, entity, id)
	if err != nil {
		return nil, fmt.Errorf("timeline: for %s %d: %w", entity, id, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var data string
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.StoreID, &e.At, &e.Kind, &e.ActorID, &e.ActorName, &e.Entity, &e.EntityID, &data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
