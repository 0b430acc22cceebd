package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// vehicleCols and vehicleFrom read a vehicle with the names it shows.
const vehicleCols = `v.id, v.store_id, st.name, v.vin, v.model_id, m.name, m.model_year, s.id, s.name, b.id, b.name, m.energy_type,
	v.color, v.options, v.status, v.location, v.arrival_at, v.expected_at, v.sold_at, v.cost, v.msrp,
	v.reserved_customer_id, COALESCE(c.name, ''), v.reserved_by, COALESCE(ru.name, ''), v.reserved_until, v.order_id,
	v.note, v.version, v.created_at, v.created_by, v.updated_at, v.updated_by`

const vehicleJoins = ` JOIN vehicle_model m ON m.id = v.model_id JOIN vehicle_series s ON s.id = m.series_id JOIN vehicle_brand b ON b.id = s.brand_id
	JOIN store st ON st.id = v.store_id LEFT JOIN customer c ON c.id = v.reserved_customer_id LEFT JOIN app_user ru ON ru.id = v.reserved_by`

type scanner interface{ Scan(dest ...any) error }

func scanVehicle(r scanner) (Vehicle, error) {
	var v Vehicle
	err := r.Scan(&v.ID, &v.StoreID, &v.StoreName, &v.VIN, &v.ModelID, &v.ModelName, &v.ModelYear, &v.SeriesID, &v.SeriesName, &v.BrandID, &v.BrandName, &v.EnergyType,
		&v.Color, &v.Options, &v.Status, &v.Location, &v.ArrivalAt, &v.ExpectedAt, &v.SoldAt, &v.Cost, &v.MSRP,
		&v.ReservedCustomerID, &v.ReservedCustomerName, &v.ReservedBy, &v.ReservedByName, &v.ReservedUntil, &v.OrderID,
		&v.Note, &v.Version, &v.CreatedAt, &v.CreatedBy, &v.UpdatedAt, &v.UpdatedBy)
	return v, err
}

// loadVehicle reads a vehicle as stored (cost included: callers finish it for the actor).
func loadVehicle(ctx context.Context, q db.Querier, id int64) (Vehicle, error) {
	v, err := scanVehicle(q.QueryRowContext(ctx, `SELECT `+vehicleCols+` FROM vehicle v`+vehicleJoins+` WHERE v.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return v, fmt.Errorf("inventory: vehicle %d: %w", id, err)
	}
	return v, nil
}

const day = 24 * 60 * 60 * 1000

// finish computes the days in stock and the age level, and hides the cost from
// actors without cost.read.
func (v *Vehicle) finish(now int64, th Settings, costVisible bool) {
	if v.ArrivalAt != nil {
		end := now
		if v.SoldAt != nil {
			end = *v.SoldAt
		}
		d := 0
		if end > *v.ArrivalAt {
			d = int((end - *v.ArrivalAt) / day)
		}
		v.DaysInStock = &d
		v.AgeLevel = th.Level(d)
	}
	if !costVisible {
		v.Cost, v.CostHidden = nil, true
	}
}

func loadHistory(ctx context.Context, q db.Querier, id int64) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, by, by_name, from_status, to_status, detail FROM vehicle_event WHERE vehicle_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("inventory: history of %d: %w", id, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var detail string
		if err := rows.Scan(&e.ID, &e.At, &e.By, &e.ByName, &e.FromStatus, &e.ToStatus, &detail); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, fmt.Errorf("inventory: event %d detail: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// eventTx appends a history row.
func (s *Service) eventTx(ctx context.Context, q db.Querier, a auth.Actor, id int64, from, to string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("inventory: event detail: %w", err)
	}
	name := a.Name
	if name == "" {
		name = a.Username
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_event (vehicle_id, at, by, by_name, from_status, to_status, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, s.now(), userID(a), name, from, to, string(b)); err != nil {
		return fmt.Errorf("inventory: event of %d: %w", id, err)
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
