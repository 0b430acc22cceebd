package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/pii"
)

// wmi is the world manufacturer code of the demo brands' Chinese joint ventures.
var wmi = map[string]string{"丰田": "LVG", "一汽-大众": "LFV", "比亚迪": "LC0", "本田": "LHG", "别克": "LSG"}

const vinChars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

// demoVIN makes a valid China-built VIN: WMI, five random characters, the check
// digit, model year T (2026), a plant letter and a six-digit serial.
func demoVIN(rng *rand.Rand, brand string, serial int) string {
	w := wmi[brand]
	if w == "" {
		w = "LJD"
	}
	b := []byte(w)
	for i := 0; i < 5; i++ {
		b = append(b, vinChars[rng.IntN(len(vinChars))])
	}
	b = append(b, '0', 'T', "ABCDEFGH"[rng.IntN(8)])
	b = append(b, []byte(fmt.Sprintf("%06d", serial%1000000))...)
	d, _ := pii.VINCheckDigit(string(b))
	b[8] = d
	return string(b)
}

// FillStock adds perStore vehicles to every store, of the store's brand (any
// brand when the catalogue has none of it): a few ordered and in transit, most
// in stock with arrivals spread over five months (so some are past the 60- and
// 90-day thresholds), and one reserved for a customer of the store when it has
// customers. No car is sold or delivered here: those are the cars the demo
// orders allocate and deliver (fillOrders), so every sold car has its order. Plain inserts with their history rows and
// search marks, consistent with what the stock service writes.
func FillStock(ctx context.Context, d *db.DB, now time.Time, perStore int) (int, error) {
	rng := rand.New(rand.NewPCG(20261123, 11))
	nowMs := now.UnixMilli()
	const dayMs = 24 * 60 * 60 * 1000
	type model struct {
		id, msrp int64
		brand    string
		colors   []string
	}
	var models []model
	rows, err := d.R.QueryContext(ctx, `SELECT m.id, m.msrp, b.name, COALESCE((SELECT group_concat(name, ',') FROM vehicle_color c WHERE c.model_id = m.id), '')
		FROM vehicle_model m JOIN vehicle_series s ON s.id = m.series_id JOIN vehicle_brand b ON b.id = s.brand_id ORDER BY m.id`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var m model
		var colors string
		if err := rows.Scan(&m.id, &m.msrp, &m.brand, &colors); err != nil {
			rows.Close()
			return 0, err
		}
		for _, c := range splitComma(colors) {
			m.colors = append(m.colors, c)
		}
		models = append(models, m)
	}
	rows.Close()
	if len(models) == 0 {
		return 0, nil
	}
	type store struct {
		id    int64
		brand string
	}
	var stores []store
	rows, err = d.R.QueryContext(ctx, `SELECT id, brand FROM store ORDER BY id`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var s store
		if err := rows.Scan(&s.id, &s.brand); err != nil {
			rows.Close()
			return 0, err
		}
		stores = append(stores, s)
	}
	rows.Close()
	made := 0
	serial := 100000
	err = d.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, st := range stores {
			var mine []model
			for _, m := range models {
				if m.brand == st.brand {
					mine = append(mine, m)
				}
			}
			if len(mine) == 0 {
				mine = models
			}
			// A customer and its owner to hold the one reservation, when the store has customers.
			var custID, ownerID sql.NullInt64
			_ = tx.QueryRowContext(ctx, `SELECT id, owner_id FROM customer WHERE store_id = ? AND owner_id IS NOT NULL AND status = 'active' ORDER BY id LIMIT 1`, st.id).Scan(&custID, &ownerID)
			reserved := false
			for i := 0; i < perStore; i++ {
				m := mine[rng.IntN(len(mine))]
				serial++
				vin := demoVIN(rng, m.brand, serial)
				color := ""
				if len(m.colors) > 0 {
					color = m.colors[rng.IntN(len(m.colors))]
				}
				cost := m.msrp * int64(85+rng.IntN(8)) / 100
				status := "in_stock"
				var arrival, expected, until any
				var cust, by any
				switch k := i % 12; {
				case k == 0:
					status = "ordered"
					expected = nowMs + int64(20+rng.IntN(20))*dayMs
				case k == 1 || k == 2:
					status = "in_transit"
					expected = nowMs + int64(2+rng.IntN(10))*dayMs
				}
				days := rng.IntN(150) // up to five months: some past 60 and 90 days
				if i%12 == 5 {
					days = 95 + rng.IntN(40) // at least one overdue car per dozen
				}
				if status != "ordered" && status != "in_transit" {
					arrival = nowMs - int64(days)*dayMs
				}
				if status == "in_stock" && !reserved && custID.Valid {
					status, reserved = "reserved", true
					cust, by, until = custID.Int64, ownerID.Int64, nowMs+48*60*60*1000
				}
				loc := fmt.Sprintf("%c区-%02d", 'A'+rng.IntN(3), 1+rng.IntN(40))
				if status == "ordered" || status == "in_transit" {
					loc = ""
				}
				created := nowMs - int64(days+5)*dayMs
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO vehicle (store_id, vin, vin_rev, model_id, color, status, location, arrival_at, expected_at, sold_at,
					cost, msrp, reserved_customer_id, reserved_by, reserved_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
					st.id, vin, reverseString(vin), m.id, color, status, loc, arrival, expected, nil, cost, m.msrp, cust, by, until, created, nowMs).Scan(&id); err != nil {
					return fmt.Errorf("demo: vehicle: %w", err)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO vehicle_event (vehicle_id, at, by_name, from_status, to_status, detail) VALUES (?, ?, 'demo', '', ?, '{"how":"demo"}')`,
					id, created, status); err != nil {
					return err
				}
				if err := findex.Mark(ctx, tx, "vehicle", id); err != nil {
					return err
				}
				made++
			}
		}
		return nil
	})
	return made, err
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
