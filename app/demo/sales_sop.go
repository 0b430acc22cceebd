package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"dealerdesk/app/db"
	"dealerdesk/app/sales/sop"
)

func fillSOP(ctx context.Context, d *db.DB, now time.Time) error {
	_, err := PlaceSOP(ctx, d, now.UnixMilli(), 20261123)
	return err
}

// PlaceSOP puts every customer without an SOP position on the stage its data
// supports, with the stays that led there (history, timeline), as the pipeline
// service would have written them over time:
//   - delivered/owner customers at 交车, ordered ones at 签约;
//   - not yet contacted: 首次联系 when owned, 线索清洗 in the pool (no row);
//   - contacted without grade and series: 意向确认; with both: 邀约到店 when an
//     invitation was recorded, else 意向确认 or 邀约到店;
//   - visited: 接待/试驾, or 报价 for some.
//
// Stores without stages get the defaults. Each customer's stays are spread over
// its life since it came; lost and dormant customers keep the stage they
// reached. The benchmark of the kanban uses it on bulk data. Returns how many
// customers it placed.
func PlaceSOP(ctx context.Context, d *db.DB, now int64, seed uint64) (int, error) {
	rng := rand.New(rand.NewPCG(seed, 13))
	placed := 0
	err := d.WriteTx(ctx, func(tx *sql.Tx) error {
		stores, err := storeStages(ctx, tx, now)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.store_id, c.stage, c.created_at, c.first_contact_at IS NOT NULL, c.grade <> '' AND c.series_id IS NOT NULL,
			c.owner_id, COALESCE(u.name, ''), c.visit <> '' OR EXISTS (SELECT 1 FROM showroom_visit v WHERE v.customer_id = c.id),
			EXISTS (SELECT 1 FROM followup f WHERE f.customer_id = c.id AND f.result = 'invited'), COALESCE(c.last_contact_at, c.updated_at)
			FROM customer c LEFT JOIN app_user u ON u.id = c.owner_id
			WHERE c.status <> 'merged' AND NOT EXISTS (SELECT 1 FROM customer_sop s WHERE s.customer_id = c.id) ORDER BY c.id`)
		if err != nil {
			return fmt.Errorf("demo: sop customers: %w", err)
		}
		type cust struct {
			id, store, created, owner, last     int64
			lifecycle, ownerName                string
			contacted, intent, visited, invited bool
		}
		var list []cust
		for rows.Next() {
			var c cust
			var owner sql.NullInt64
			if err := rows.Scan(&c.id, &c.store, &c.lifecycle, &c.created, &c.contacted, &c.intent, &owner, &c.ownerName, &c.visited, &c.invited, &c.last); err != nil {
				rows.Close()
				return err
			}
			c.owner = owner.Int64
			list = append(list, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		insPos, err := tx.PrepareContext(ctx, `INSERT INTO customer_sop (customer_id, store_id, stage_id, entered_at, version, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insPos.Close()
		insStay, err := tx.PrepareContext(ctx, `INSERT INTO sop_history (customer_id, store_id, stage_id, stage_name, from_stage_id, entered_at, left_at, how, by_user, by_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insStay.Close()
		insEvent, err := tx.PrepareContext(ctx, `INSERT INTO timeline_event (customer_id, store_id, at, kind, actor_id, actor_name, entity, entity_id, data)
			VALUES (?, ?, ?, 'sop.moved', ?, ?, 'sop_stage', ?, ?)`)
		if err != nil {
			return err
		}
		defer insEvent.Close()
		for _, c := range list {
			stages := stores[c.store]
			key := "clean"
			switch {
			case c.lifecycle == "delivered" || c.lifecycle == "owner":
				key = "delivery"
			case c.lifecycle == "ordered":
				key = "contract"
			case c.visited:
				key = "visit"
				if rng.IntN(10) < 4 {
					key = "quote"
				}
			case c.contacted && c.intent && (c.invited || rng.IntN(2) == 0):
				key = "invited"
			case c.contacted:
				key = "intent"
			case c.owner != 0:
				key = "contact"
			}
			target := slices.IndexFunc(stages, func(s sop.Stage) bool { return s.Key == key })
			if target <= 0 {
				continue // at the first stage: no row needed
			}
			path := stages[:target+1]
			end := max(c.last, c.created+int64(len(path))*60_000)
			if end > now {
				end = now
			}
			// Entry times: sorted, strictly after creation, spread over the customer's life.
			at := make([]int64, len(path))
			at[0] = c.created
			for i := 1; i < len(path); i++ {
				at[i] = c.created + (end-c.created)*int64(i)/int64(len(path)) + rng.Int64N(max(1, (end-c.created)/int64(2*len(path))))
				if at[i] <= at[i-1] {
					at[i] = at[i-1] + 1
				}
			}
			var by any
			if c.owner != 0 {
				by = c.owner
			}
			for i, st := range path {
				var from, left any
				how := "manual"
				if i == 0 {
					how = "initial"
				} else {
					from = path[i-1].ID
				}
				if i+1 < len(path) {
					left = at[i+1]
				}
				stayBy, name := by, c.ownerName
				if i == 0 {
					stayBy, name = nil, "" // nobody moved the customer there: it came in
				}
				if _, err := insStay.ExecContext(ctx, c.id, c.store, st.ID, st.Name, from, at[i], left, how, stayBy, name); err != nil {
					return fmt.Errorf("demo: sop stay: %w", err)
				}
				if i == 0 {
					continue
				}
				data, _ := json.Marshal(map[string]any{"from": path[i-1].Name, "to": st.Name, "fromStageId": path[i-1].ID, "toStageId": st.ID})
				if _, err := insEvent.ExecContext(ctx, c.id, c.store, at[i], by, c.ownerName, st.ID, string(data)); err != nil {
					return fmt.Errorf("demo: sop event: %w", err)
				}
			}
			if _, err := insPos.ExecContext(ctx, c.id, c.store, path[target].ID, at[target], target, at[target]); err != nil {
				return fmt.Errorf("demo: sop position: %w", err)
			}
			placed++
		}
		return nil
	})
	return placed, err
}

// storeStages returns every store's active stages in board order, seeding the
// defaults where a store has none.
func storeStages(ctx context.Context, tx *sql.Tx, now int64) (map[int64][]sop.Stage, error) {
	var ids []int64
	rows, err := tx.QueryContext(ctx, `SELECT id FROM store ORDER BY id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := map[int64][]sop.Stage{}
	for _, id := range ids {
		if err := sop.SeedStore(ctx, tx, id, now, nil); err != nil {
			return nil, err
		}
		r, err := tx.QueryContext(ctx, `SELECT id, name, sys_key FROM sop_stage WHERE store_id = ? AND active = 1 ORDER BY position, id`, id)
		if err != nil {
			return nil, err
		}
		for r.Next() {
			var st sop.Stage
			if err := r.Scan(&st.ID, &st.Name, &st.Key); err != nil {
				r.Close()
				return nil, err
			}
			out[id] = append(out[id], st)
		}
		r.Close()
		if err := r.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
