package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/notify"
	"dealerdesk/app/timeline"
)

// Reservation bounds: the default hold and the longest one.
const (
	DefaultHold = 72 * time.Hour
	MaxHold     = 30 * 24 * time.Hour
)

// ReserveInput reserves a car for a customer until a time.
type ReserveInput struct {
	CustomerID int64  `json:"customerId"`
	Until      *int64 `json:"until"` // ms; default now + 72 h, at most 30 days ahead
	Note       string `json:"note"`
}

// SellInput marks a car sold to a customer.
type SellInput struct {
	CustomerID int64 `json:"customerId"`
}

// ReleaseInput frees a reservation.
type ReleaseInput struct {
	Note string `json:"note"`
}

// customerRef is what the stock needs of a customer: where it belongs and
// whether the actor may deal with it.
type customerRef struct {
	ID, StoreID int64
	Name        string
}

// customerFor reads a customer the actor may read; 404 otherwise (also for a
// merged one), and a field error when it belongs to another store than the car.
func customerFor(ctx context.Context, q db.Querier, a auth.Actor, id, storeID int64) (customerRef, error) {
	var c customerRef
	var owner, dept sql.NullInt64
	var status string
	err := q.QueryRowContext(ctx, `SELECT id, store_id, owner_id, department_id, name, status FROM customer WHERE id = ?`, id).
		Scan(&c.ID, &c.StoreID, &owner, &dept, &c.Name, &status)
	if errors.Is(err, sql.ErrNoRows) || status == "merged" {
		return c, apperr.Field("customerId", "vehicle.customer_unknown")
	}
	if err != nil {
		return c, fmt.Errorf("inventory: customer %d: %w", id, err)
	}
	if !auth.Can(a, auth.PermCustomerRead, auth.Record{StoreID: c.StoreID, OwnerID: owner.Int64, DepartmentID: dept.Int64}) {
		return c, apperr.Field("customerId", "vehicle.customer_unknown")
	}
	if c.StoreID != storeID {
		return c, apperr.Field("customerId", "vehicle.customer_other_store")
	}
	return c, nil
}

func notAvailable() error { return apperr.New(apperr.Conflict, "vehicle.not_available") }

// ReserveVehicle holds an in-stock car for a customer. One conditional UPDATE
// (… AND status = 'in_stock') decides: of any number of concurrent requests,
// exactly one changes the row, the others get 409 vehicle.not_available.
func (s *Service) ReserveVehicle(ctx context.Context, a auth.Actor, id int64, in ReserveInput) (Vehicle, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Vehicle{}, err
	}
	now := s.now()
	until := now + DefaultHold.Milliseconds()
	f := apperr.Fields{}
	if in.CustomerID <= 0 {
		f.Add("customerId", "required")
	}
	if in.Until != nil {
		until = *in.Until
		if until <= now || until > now+MaxHold.Milliseconds() {
			f.Add("until", "vehicle.until_range", "maxDays", 30)
		}
	}
	in.Note = strings.TrimSpace(in.Note)
	limitText(f, "note", in.Note, 500)
	if err := f.Err(); err != nil {
		return Vehicle{}, err
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		v, err := readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		c, err := customerFor(ctx, tx, a, in.CustomerID, v.StoreID)
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `UPDATE vehicle SET status = 'reserved', reserved_customer_id = ?, reserved_by = ?, reserved_until = ?,
			version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND status = 'in_stock'`,
			c.ID, userID(a), until, now, userID(a), id)
		if err != nil {
			return fmt.Errorf("inventory: reserve %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return notAvailable()
		}
		detail := map[string]any{"customerId": c.ID, "until": until}
		if in.Note != "" {
			detail["note"] = in.Note
		}
		if err := s.recordMove(ctx, tx, a, id, v.StoreID, StatusInStock, StatusReserved, detail); err != nil {
			return err
		}
		return timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: c.StoreID, At: now, Kind: "vehicle.reserved",
			Entity: "vehicle", EntityID: id, Data: map[string]any{"vin": v.VIN, "model": v.SeriesName + " " + v.ModelName, "color": v.Color, "until": until}}.By(a))
	})
	if err != nil {
		return Vehicle{}, err
	}
	s.afterCommit()
	return s.get(ctx, s.db.R, a, id, false)
}

// ReleaseVehicle frees a reservation: the consultant who made it, or a manager
// (vehicle.write or customer.assign).
func (s *Service) ReleaseVehicle(ctx context.Context, a auth.Actor, id int64, in ReleaseInput) (Vehicle, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Vehicle{}, err
	}
	in.Note = strings.TrimSpace(in.Note)
	if utf8Len(in.Note) > 500 {
		return Vehicle{}, apperr.Field("note", "too_long", "max", 500)
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		v, err := readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if v.Status != StatusReserved {
			return apperr.New(apperr.Conflict, "vehicle.not_reserved")
		}
		mine := v.ReservedBy != nil && *v.ReservedBy == a.UserID && a.UserID != 0
		if !mine && !a.Has(auth.PermVehicleWrite) && !a.Has(auth.PermCustomerAssign) {
			return apperr.New(apperr.Forbidden, "forbidden")
		}
		return s.releaseTx(ctx, tx, a, v, "released", in.Note)
	})
	if err != nil {
		return Vehicle{}, err
	}
	s.afterCommit()
	return s.get(ctx, s.db.R, a, id, false)
}

// releaseTx returns a reserved car to stock (conditional on it still being the
// same reservation) and tells the customer's timeline.
func (s *Service) releaseTx(ctx context.Context, tx db.Querier, a auth.Actor, v Vehicle, why, note string) error {
	now := s.now()
	r, err := tx.ExecContext(ctx, `UPDATE vehicle SET status = 'in_stock', reserved_customer_id = NULL, reserved_by = NULL, reserved_until = NULL,
		version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND status = 'reserved' AND version = ?`, now, userID(a), v.ID, v.Version)
	if err != nil {
		return fmt.Errorf("inventory: release %d: %w", v.ID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "vehicle.not_reserved")
	}
	detail := map[string]any{"why": why, "customerId": v.ReservedCustomerID}
	if note != "" {
		detail["note"] = note
	}
	if err := s.recordMove(ctx, tx, a, v.ID, v.StoreID, StatusReserved, StatusInStock, detail); err != nil {
		return err
	}
	return timeline.Append(ctx, tx, timeline.Event{CustomerID: *v.ReservedCustomerID, StoreID: v.StoreID, At: now, Kind: "vehicle." + why,
		Entity: "vehicle", EntityID: v.ID, Data: map[string]any{"vin": v.VIN, "model": v.SeriesName + " " + v.ModelName}}.By(a))
}

// SellVehicle marks a car sold to a customer: from in stock (a walk-in), or from
// reserved for that same customer. Like the reservation, one conditional UPDATE
// makes a double sale impossible.
func (s *Service) SellVehicle(ctx context.Context, a auth.Actor, id int64, in SellInput) (Vehicle, error) {
	if in.CustomerID <= 0 {
		return Vehicle{}, apperr.Field("customerId", "required")
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := s.SellTx(ctx, tx, a, id, in.CustomerID, 0)
		return err
	})
	if err != nil {
		return Vehicle{}, err
	}
	s.afterCommit()
	return s.get(ctx, s.db.R, a, id, false)
}

// SellTx marks the car sold inside the caller's transaction (the sales module's
// order signing): checks, conditional update, history, audit, timeline, search
// mark. orderID 0 leaves the order unset. The caller wakes the index after commit.
func (s *Service) SellTx(ctx context.Context, tx db.Querier, a auth.Actor, vehicleID, customerID, orderID int64) (Vehicle, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Vehicle{}, err
	}
	v, err := readable(ctx, tx, a, vehicleID)
	if err != nil {
		return v, err
	}
	c, err := customerFor(ctx, tx, a, customerID, v.StoreID)
	if err != nil {
		return v, err
	}
	now := s.now()
	var order any
	if orderID > 0 {
		order = orderID
	}
	r, err := tx.ExecContext(ctx, `UPDATE vehicle SET status = 'sold', reserved_customer_id = ?, reserved_by = COALESCE(reserved_by, ?), reserved_until = NULL,
		sold_at = ?, order_id = ?, version = version + 1, updated_at = ?, updated_by = ?
		WHERE id = ? AND (status = 'in_stock' OR (status = 'reserved' AND reserved_customer_id = ?))`,
		c.ID, userID(a), now, order, now, userID(a), vehicleID, c.ID)
	if err != nil {
		return v, fmt.Errorf("inventory: sell %d: %w", vehicleID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return v, notAvailable()
	}
	detail := map[string]any{"customerId": c.ID}
	if orderID > 0 {
		detail["orderId"] = orderID
	}
	if err := s.recordMove(ctx, tx, a, vehicleID, v.StoreID, v.Status, StatusSold, detail); err != nil {
		return v, err
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: c.StoreID, At: now, Kind: "vehicle.sold",
		Entity: "vehicle", EntityID: vehicleID, Data: map[string]any{"vin": v.VIN, "model": v.SeriesName + " " + v.ModelName, "color": v.Color}}.By(a)); err != nil {
		return v, err
	}
	return loadVehicle(ctx, tx, vehicleID)
}

// ReturnToStockTx puts a sold (or reserved) car back in stock inside the
// caller's transaction — an order cancelled before delivery. A delivered car
// cannot come back this way (409 vehicle.not_available).
func (s *Service) ReturnToStockTx(ctx context.Context, tx db.Querier, a auth.Actor, vehicleID int64, reason string) error {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return err
	}
	v, err := readable(ctx, tx, a, vehicleID)
	if err != nil {
		return err
	}
	r, err := tx.ExecContext(ctx, `UPDATE vehicle SET status = 'in_stock', reserved_customer_id = NULL, reserved_by = NULL, reserved_until = NULL,
		sold_at = NULL, order_id = NULL, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND status IN ('sold', 'reserved')`,
		s.now(), userID(a), vehicleID)
	if err != nil {
		return fmt.Errorf("inventory: return %d to stock: %w", vehicleID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return notAvailable()
	}
	detail := map[string]any{"why": "order_cancelled", "reason": reason, "customerId": v.ReservedCustomerID}
	if err := s.recordMove(ctx, tx, a, vehicleID, v.StoreID, v.Status, StatusInStock, detail); err != nil {
		return err
	}
	if v.ReservedCustomerID == nil {
		return nil
	}
	return timeline.Append(ctx, tx, timeline.Event{CustomerID: *v.ReservedCustomerID, StoreID: v.StoreID, At: s.now(), Kind: "vehicle.returned",
		Entity: "vehicle", EntityID: vehicleID, Data: map[string]any{"vin": v.VIN, "reason": reason}}.By(a))
}

// ExpireReservations returns every reservation past its time to stock and tells
// the consultant who made it. Each car goes in its own transaction with the
// same conditional update, so a release or sale racing the job wins or loses
// cleanly. It returns how many it freed.
func (s *Service) ExpireReservations(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM vehicle WHERE status = 'reserved' AND reserved_until <= ? ORDER BY reserved_until LIMIT 1000`, now)
	if err != nil {
		return 0, fmt.Errorf("inventory: expired reservations: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sys := auth.System("system")
	freed := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			v, err := loadVehicle(ctx, tx, id)
			if err != nil {
				return err
			}
			if v.Status != StatusReserved || v.ReservedUntil == nil || *v.ReservedUntil > now {
				return nil // released or sold meanwhile
			}
			if err := s.releaseTx(ctx, tx, sys, v, "reservation_expired", ""); err != nil {
				if apperr.Is(err, apperr.Conflict) {
					return nil
				}
				return err
			}
			freed++
			if v.ReservedBy == nil || s.notify == nil {
				return nil
			}
			_, err = s.notify.Send(ctx, tx, notify.Message{UserID: *v.ReservedBy, StoreID: v.StoreID, Kind: "vehicle.reservation_expired",
				TitleKey: "notify.msg.vehicle_reservation_expired", Params: map[string]any{"vin": v.VIN, "model": v.SeriesName + " " + v.ModelName, "customer": v.ReservedCustomerName},
				Link: fmt.Sprintf("/inventory/vehicles/%d", v.ID), Entity: "vehicle", EntityID: v.ID,
				DedupKey: fmt.Sprintf("vehicle.reservation_expired:%d:%d", v.ID, *v.ReservedUntil), Level: notify.LevelWarning})
			return err
		})
		if err != nil {
			return freed, err
		}
	}
	if freed > 0 {
		s.log.Info("reservations expired", "count", freed)
		s.afterCommit()
	}
	return freed, nil
}

// RunAgeing tells each store's sales managers about cars that passed the store's
// warn or alarm threshold, once per car and threshold: vehicle.age_alerted
// remembers the highest threshold announced (a conditional update claims it), and
// the dedup key stops a repeat even if two runs overlap.
func (s *Service) RunAgeing(ctx context.Context) (int, error) {
	now := s.now()
	stores, err := storeIDs(ctx, s.db.R)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, storeID := range stores {
		th, err := LoadSettings(ctx, s.db.R, storeID)
		if err != nil {
			return sent, err
		}
		for level, days := range []int{1: th.WarnDays, 2: th.AlarmDays} {
			if level == 0 {
				continue
			}
			n, err := s.ageingLevel(ctx, storeID, level, now-int64(days)*day, days)
			sent += n
			if err != nil {
				return sent, err
			}
		}
	}
	if sent > 0 {
		s.afterCommit()
	}
	return sent, nil
}

func storeIDs(ctx context.Context, q db.Querier) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT store_id FROM vehicle WHERE status IN ('in_stock', 'reserved') AND age_alerted < 2`)
	if err != nil {
		return nil, fmt.Errorf("inventory: stores with stock: %w", err)
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

// ageingLevel announces one threshold in one store, in batches of 200 cars per
// transaction.
func (s *Service) ageingLevel(ctx context.Context, storeID int64, level int, before int64, days int) (int, error) {
	key := []string{"", "warn", "alarm"}[level]
	sent := 0
	for {
		n := 0
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			managers, err := salesManagers(ctx, tx, storeID)
			if err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `SELECT v.id, v.vin, v.arrival_at, s.name || ' ' || m.name FROM vehicle v
				JOIN vehicle_model m ON m.id = v.model_id JOIN vehicle_series s ON s.id = m.series_id
				WHERE v.store_id = ? AND v.status IN ('in_stock', 'reserved') AND v.age_alerted < 2 AND v.age_alerted < ? AND v.arrival_at <= ?
				ORDER BY v.arrival_at LIMIT 200`, storeID, level, before)
			if err != nil {
				return err
			}
			type car struct {
				id, arrival int64
				vin, model  string
			}
			var cars []car
			for rows.Next() {
				var c car
				if err := rows.Scan(&c.id, &c.vin, &c.arrival, &c.model); err != nil {
					rows.Close()
					return err
				}
				cars = append(cars, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, c := range cars {
				r, err := tx.ExecContext(ctx, `UPDATE vehicle SET age_alerted = ? WHERE id = ? AND age_alerted < ?`, level, c.id, level)
				if err != nil {
					return err
				}
				if k, _ := r.RowsAffected(); k == 0 {
					continue
				}
				n++
				lv := notify.LevelWarning
				if level == 2 {
					lv = notify.LevelUrgent
				}
				for _, m := range managers {
					if s.notify == nil {
						break
					}
					if _, err := s.notify.Send(ctx, tx, notify.Message{UserID: m, StoreID: storeID, Kind: "vehicle.ageing",
						TitleKey: "notify.msg.vehicle_ageing_" + key, Params: map[string]any{"vin": c.vin, "model": c.model, "days": days},
						Link: fmt.Sprintf("/inventory/vehicles/%d", c.id), Entity: "vehicle", EntityID: c.id,
						DedupKey: fmt.Sprintf("vehicle.ageing:%d:%s:%d", c.id, key, c.arrival), Level: lv}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		sent += n
		if err != nil || n == 0 {
			return sent, err
		}
	}
}

// salesManagers are the active users of the store holding the sales manager
// role; the GM when the store has none.
func salesManagers(ctx context.Context, q db.Querier, storeID int64) ([]int64, error) {
	for _, role := range []string{"sales_manager", "gm"} {
		rows, err := q.QueryContext(ctx, `SELECT u.id FROM app_user u JOIN role r ON r.id = u.role_id WHERE u.store_id = ? AND u.status = 'active' AND r.code = ? ORDER BY u.id`, storeID, role)
		if err != nil {
			return nil, fmt.Errorf("inventory: managers of store %d: %w", storeID, err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			return ids, nil
		}
	}
	return nil, nil
}

func utf8Len(s string) int { return len([]rune(s)) }
