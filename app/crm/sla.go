package crm

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"dealerdesk/app/auth"
	"dealerdesk/app/notify"
)

// The scheduled checks run at minute resolution (a 15-minute deadline checked
// every few hours is useless).
const (
	jobEverySLA  = time.Minute
	jobEveryPool = 10 * time.Minute
)

// slaBatch bounds one write transaction of the deadline check.
const slaBatch = 200

// RunSLA raises every deadline level that is due: level 1 tells the owner the
// deadline passed, level 2 escalates to the manager EscalateHours[0] after it,
// level 3 escalates again (the GM copied) after EscalateHours[1]. Each level is
// claimed by a conditional update before its notification is written in the
// same transaction, and the notification's dedup key names the deadline and the
// level: a second run, a restart or a clock jump cannot send one twice, and a
// jump forward sends every level it passed. It returns how many were sent.
func (s *Service) RunSLA(ctx context.Context) (int, error) {
	settings := map[int64]Settings{}
	total := 0
	for {
		n := 0
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			now := s.now()
			rows, err := tx.QueryContext(ctx, `SELECT id, store_id, sla_level, sla_due_at FROM customer WHERE sla_next_at <= ? ORDER BY sla_next_at LIMIT ?`, now, slaBatch)
			if err != nil {
				return fmt.Errorf("crm: due deadlines: %w", err)
			}
			type due struct{ id, store, level, at int64 }
			var list []due
			for rows.Next() {
				var d due
				if err := rows.Scan(&d.id, &d.store, &d.level, &d.at); err != nil {
					rows.Close()
					return err
				}
				list = append(list, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, d := range list {
				st, ok := settings[d.store]
				if !ok {
					if st, err = LoadSettings(ctx, tx, d.store); err != nil {
						return err
					}
					settings[d.store] = st
				}
				level := d.level + 1
				var next sql.NullInt64
				if level < 3 {
					h := st.EscalateHours[level-1]
					next = sql.NullInt64{Valid: true, Int64: st.NextOpen(time.UnixMilli(d.at).Add(time.Duration(h) * time.Hour)).UnixMilli()}
				}
				r, err := tx.ExecContext(ctx, `UPDATE customer SET sla_level = ?, sla_next_at = ? WHERE id = ? AND sla_level = ? AND sla_due_at = ?`,
					level, next, d.id, d.level, d.at)
				if err != nil {
					return err
				}
				if k, _ := r.RowsAffected(); k == 0 {
					continue
				}
				if err := s.slaNotify(ctx, tx, d.id, level, d.at, now); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n > 0 {
			s.afterCommit()
		}
		if n == 0 {
			// Repeat until nothing is due: a clock jump past several levels sends each.
			return total, nil
		}
	}
}

func (s *Service) slaNotify(ctx context.Context, tx *sql.Tx, id, level, dueAt, now int64) error {
	c, err := getCustomer(ctx, tx, id, now)
	if err != nil {
		return err
	}
	title := "notify.msg.sla_first_contact"
	if c.SLAKind == "followup" {
		title = "notify.msg.sla_followup"
	}
	params := map[string]any{"name": displayName(c), "owner": c.OwnerName, "dueAt": dueAt, "hours": (now - dueAt) / 3600000}
	dedup := fmt.Sprintf("sla:%d:%s:%d:%d", id, c.SLAKind, dueAt, level)
	var msgs []notify.Message
	add := func(uid int64, kind, title, lvl string) {
		for _, m := range msgs {
			if m.UserID == uid {
				return
			}
		}
		msgs = append(msgs, notify.Message{UserID: uid, StoreID: c.StoreID, Kind: kind, TitleKey: title, Params: params, Link: customerLink(id),
			Entity: "customer", EntityID: id, DedupKey: dedup, Level: lvl})
	}
	switch level {
	case 1:
		if c.OwnerID != nil {
			add(*c.OwnerID, "lead.sla_overdue", title, "warning")
		}
	default:
		managers, err := storeManagers(ctx, tx, c.StoreID, c.DepartmentID)
		if err != nil {
			return err
		}
		for _, m := range managers {
			add(m, "lead.sla_escalated", title+"_escalated", "urgent")
		}
		if level == 3 {
			gms, err := usersWith(ctx, tx, c.StoreID, auth.PermCustomerRead, "", gmRole)
			if err != nil {
				return err
			}
			for _, m := range gms {
				add(m, "lead.sla_escalated", title+"_escalated", "urgent")
			}
		}
		if c.OwnerID != nil {
			add(*c.OwnerID, "lead.sla_overdue", title, "urgent")
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	_, err = s.notify.Send(ctx, tx, msgs...)
	return err
}
