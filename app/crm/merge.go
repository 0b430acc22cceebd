package crm

import (
	"context"
	"database/sql"
	"fmt"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/timeline"
)

// DuplicateGroup is a set of customers that look like one person: the same name
// in one store, or the same ID number.
type DuplicateGroup struct {
	Key       string     `json:"key"`
	Kind      string     `json:"kind"` // name | id_no
	Customers []Customer `json:"customers"`
}

// Duplicates lists likely duplicates in a store (managers), by name then ID
// number, keyset-paged on the name.
func (s *Service) Duplicates(ctx context.Context, a auth.Actor, storeID int64, after string, limit int) (api.List[DuplicateGroup], error) {
	out := api.List[DuplicateGroup]{Items: []DuplicateGroup{}}
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, storeID); err != nil {
		return out, err
	}
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT name FROM customer WHERE store_id = ? AND status <> 'merged' AND name <> '' AND name > ?
		GROUP BY name HAVING count(*) > 1 ORDER BY name LIMIT ?`, storeID, after, limit+1)
	if err != nil {
		return out, fmt.Errorf("crm: duplicate names: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return out, err
		}
		names = append(names, n)
	}
	rows.Close()
	if len(names) > limit {
		names = names[:limit]
		out.Next = names[limit-1]
	}
	now := s.now()
	for _, n := range names {
		g := DuplicateGroup{Key: n, Kind: "name"}
		rs, err := s.db.R.QueryContext(ctx, `SELECT `+customerCols+customerFrom+` WHERE c.store_id = ? AND c.name = ? AND c.status <> 'merged' ORDER BY c.id LIMIT 20`, storeID, n)
		if err != nil {
			return out, err
		}
		for rs.Next() {
			c, err := scanCustomer(rs, now)
			if err != nil {
				rs.Close()
				return out, err
			}
			g.Customers = append(g.Customers, c)
		}
		rs.Close()
		if err := loadTags(ctx, s.db.R, g.Customers); err != nil {
			return out, err
		}
		out.Items = append(out.Items, g)
	}
	if after == "" {
		rs, err := s.db.R.QueryContext(ctx, `SELECT id_no FROM customer WHERE store_id = ? AND id_no <> '' AND status <> 'merged' GROUP BY id_no HAVING count(*) > 1 LIMIT 50`, storeID)
		if err != nil {
			return out, err
		}
		var ids []string
		for rs.Next() {
			var v string
			if err := rs.Scan(&v); err != nil {
				rs.Close()
				return out, err
			}
			ids = append(ids, v)
		}
		rs.Close()
		for _, v := range ids {
			g := DuplicateGroup{Kind: "id_no"}
			r2, err := s.db.R.QueryContext(ctx, `SELECT `+customerCols+customerFrom+` WHERE c.store_id = ? AND c.id_no = ? AND c.status <> 'merged' ORDER BY c.id`, storeID, v)
			if err != nil {
				return out, err
			}
			for r2.Next() {
				c, err := scanCustomer(r2, now)
				if err != nil {
					r2.Close()
					return out, err
				}
				g.Customers = append(g.Customers, c)
			}
			r2.Close()
			if len(g.Customers) > 0 {
				g.Key = g.Customers[0].IDNo
			}
			out.Items = append(out.Items, g)
		}
	}
	return out, nil
}

// MergeInput merges one customer into another.
type MergeInput struct {
	KeepID  int64 `json:"keepId"`
	MergeID int64 `json:"mergeId"`
}

// Merge folds a duplicate into the customer kept: phones, tags, leads,
// follow-ups, tasks, visits, consent, assignment history and every timeline
// entry move over; empty profile fields are filled from the duplicate; the
// duplicate stays as a "merged" stub pointing at the kept one.
func (s *Service) Merge(ctx context.Context, a auth.Actor, in MergeInput) (Customer, error) {
	if in.KeepID == 0 || in.MergeID == 0 || in.KeepID == in.MergeID {
		return Customer{}, apperr.Field("mergeId", "crm.merge_same")
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		keep, err := getCustomer(ctx, tx, in.KeepID, now)
		if err != nil {
			return err
		}
		dup, err := getCustomer(ctx, tx, in.MergeID, now)
		if err != nil {
			return err
		}
		for _, c := range []Customer{keep, dup} {
			if err := auth.Check(a, auth.PermCustomerAssign, c.record()); err != nil {
				return err
			}
			if c.Status == "merged" {
				return apperr.New(apperr.Conflict, "crm.merged")
			}
		}
		if keep.StoreID != dup.StoreID {
			return apperr.Field("mergeId", "crm.merge_store")
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM lost_request WHERE customer_id IN (?, ?) AND status = 'pending'`, keep.ID, dup.ID).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return apperr.New(apperr.Conflict, "crm.lost_pending")
		}
		moves := []string{
			`UPDATE customer_phone SET customer_id = ?, is_primary = 0 WHERE customer_id = ?`,
			`UPDATE lead SET customer_id = ? WHERE customer_id = ?`,
			`UPDATE followup SET customer_id = ? WHERE customer_id = ?`,
			`UPDATE task SET customer_id = ? WHERE customer_id = ?`,
			`UPDATE showroom_visit SET customer_id = ? WHERE customer_id = ?`,
			`UPDATE customer_consent SET customer_id = ? WHERE customer_id = ?`,
			`UPDATE customer_assignment SET customer_id = ? WHERE customer_id = ?`,
			`UPDATE lost_request SET customer_id = ? WHERE customer_id = ?`,
			`INSERT OR IGNORE INTO customer_tag (customer_id, tag, store_id) SELECT ?, tag, store_id FROM customer_tag WHERE customer_id = ?`,
		}
		for _, m := range moves {
			if _, err := tx.ExecContext(ctx, m, keep.ID, dup.ID); err != nil {
				return fmt.Errorf("crm: merge: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_tag WHERE customer_id = ?`, dup.ID); err != nil {
			return err
		}
		moved, err := timeline.Move(ctx, tx, dup.ID, keep.ID)
		if err != nil {
			return err
		}
		// Fill the kept profile's gaps from the duplicate.
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET
			name = CASE WHEN k.name = '' THEN d.name ELSE k.name END,
			gender = CASE WHEN k.gender = '' THEN d.gender ELSE k.gender END,
			birthday = CASE WHEN k.birthday = '' THEN d.birthday ELSE k.birthday END,
			region = CASE WHEN k.region = '' THEN d.region ELSE k.region END,
			address = CASE WHEN k.address = '' THEN d.address ELSE k.address END,
			occupation = CASE WHEN k.occupation = '' THEN d.occupation ELSE k.occupation END,
			family = CASE WHEN k.family = '' THEN d.family ELSE k.family END,
			wechat = CASE WHEN k.wechat = '' THEN d.wechat ELSE k.wechat END,
			id_no = CASE WHEN k.id_no = '' THEN d.id_no ELSE k.id_no END,
			current_car = CASE WHEN k.current_car = '' THEN d.current_car ELSE k.current_car END,
			series_id = COALESCE(k.series_id, d.series_id),
			model_id = COALESCE(k.model_id, d.model_id),
			first_contact_at = MIN(COALESCE(k.first_contact_at, d.first_contact_at), COALESCE(d.first_contact_at, k.first_contact_at)),
			last_contact_at = MAX(COALESCE(k.last_contact_at, 0), COALESCE(d.last_contact_at, 0)),
			consent = MAX(k.consent, d.consent),
			updated_at = ?, version = k.version + 1
			FROM customer k, customer d WHERE customer.id = k.id AND k.id = ? AND d.id = ?`, now, keep.ID, dup.ID); err != nil {
			return fmt.Errorf("crm: merge profile: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET last_contact_at = NULLIF(last_contact_at, 0) WHERE id = ?`, keep.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET status = 'merged', merged_into = ?, owner_id = NULL, sla_kind = '', sla_due_at = NULL, sla_next_at = NULL,
			status_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`, keep.ID, now, now, dup.ID); err != nil {
			return err
		}
		if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: keep.ID, StoreID: keep.StoreID, At: now, Kind: "customer.merged",
			Data: map[string]any{"mergedId": dup.ID, "mergedName": dup.Name, "moved": moved}}.By(a)); err != nil {
			return err
		}
		if err := markIndex(ctx, tx, keep.ID, dup.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "merge", "customer", keep.ID, keep.StoreID, map[string]any{"mergedId": dup.ID, "merged": profileAudit(dup)}, map[string]any{"timelineMoved": moved})
	})
	if err != nil {
		return Customer{}, err
	}
	s.afterCommit()
	return s.GetCustomer(ctx, a, in.KeepID)
}
