package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"dealerdesk/app/db"
)

// cityPlate is the plate prefix of the demo stores' cities.
var cityPlate = map[string]string{"杭州": "浙A", "宁波": "浙B", "温州": "浙C", "绍兴": "浙D", "湖州": "浙E", "嘉兴": "浙F", "金华": "浙G",
	"台州": "浙J", "苏州": "苏E", "无锡": "苏B"}

var tdRoutes = []string{"市区常规路线（约 8 公里）", "快速路路线（约 15 公里）", "综合路况路线（约 20 公里）"}
var tdComments = []string{"动力比预想的好，加速很顺", "座椅舒适，后排空间够用", "车机反应有点慢", "隔音不错，高速很安静",
	"转向偏轻，家里人开着方便", "油耗表现满意，想再比较一下竞品", "", "刹车脚感很好", "内饰做工比较满意", ""}

// fillTestDrives gives every demo store two or three test-drive cars of its
// brand and six weeks of their calendar: past drives completed with feedback,
// some no-shows and cancellations, and bookings for the coming week, each for
// a customer of the consultant running it. Slots start at 10:00–16:15 and end
// by the next whole hour, with at most one booking per car and per consultant
// in each, so nothing overlaps (the triggers of 0014 would refuse it). Plain
// inserts, with the timeline entries and reminder tasks the service would have
// written; about 40 ms for the three demo stores.
func fillTestDrives(ctx context.Context, d *db.DB, now time.Time) error {
	rng := rand.New(rand.NewPCG(20261123, 17))
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	nowMs := now.UnixMilli()
	return d.WriteTx(ctx, func(tx *sql.Tx) error {
		type store struct {
			id         int64
			brand, loc string
		}
		var stores []store
		rows, err := tx.QueryContext(ctx, `SELECT id, brand, name FROM store ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s store
			if err := rows.Scan(&s.id, &s.brand, &s.loc); err != nil {
				rows.Close()
				return err
			}
			stores = append(stores, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for si, st := range stores {
			if err := fillStoreDrives(ctx, tx, rng, loc, now, nowMs, si, st.id, st.brand, st.loc); err != nil {
				return fmt.Errorf("demo: test drives of store %d: %w", st.id, err)
			}
		}
		return nil
	})
}

func fillStoreDrives(ctx context.Context, tx *sql.Tx, rng *rand.Rand, loc *time.Location, now time.Time, nowMs int64, si int, storeID int64, brand, storeName string) error {
	// The store's models (its brand first), and its consultants with their customers.
	type model struct {
		id    int64
		label string
		color string
	}
	var models []model
	rows, err := tx.QueryContext(ctx, `SELECT m.id, s.name || ' ' || m.name, COALESCE((SELECT name FROM vehicle_color c WHERE c.model_id = m.id ORDER BY c.id LIMIT 1), '')
		FROM vehicle_model m JOIN vehicle_series s ON s.id = m.series_id JOIN vehicle_brand b ON b.id = s.brand_id
		WHERE m.active = 1 ORDER BY b.name = ? DESC, s.id, m.id`, brand)
	if err != nil {
		return err
	}
	for rows.Next() {
		var m model
		if err := rows.Scan(&m.id, &m.label, &m.color); err != nil {
			rows.Close()
			return err
		}
		models = append(models, m)
	}
	rows.Close()
	if len(models) == 0 {
		return nil
	}
	type consultant struct {
		id        int64
		name      string
		customers []struct {
			id   int64
			name string
		}
	}
	var staff []*consultant
	byID := map[int64]*consultant{}
	rows, err = tx.QueryContext(ctx, `SELECT u.id, u.name FROM app_user u JOIN role r ON r.id = u.role_id WHERE u.store_id = ? AND r.code = 'sales' AND u.status = 'active' ORDER BY u.id`, storeID)
	if err != nil {
		return err
	}
	for rows.Next() {
		c := &consultant{}
		if err := rows.Scan(&c.id, &c.name); err != nil {
			rows.Close()
			return err
		}
		staff = append(staff, c)
		byID[c.id] = c
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT id, name, owner_id FROM customer WHERE store_id = ? AND status = 'active' AND owner_id IS NOT NULL ORDER BY id LIMIT 2000`, storeID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, owner int64
		var name string
		if err := rows.Scan(&id, &name, &owner); err != nil {
			rows.Close()
			return err
		}
		if c := byID[owner]; c != nil {
			c.customers = append(c.customers, struct {
				id   int64
				name string
			}{id, name})
		}
	}
	rows.Close()

	// The fleet: 2–3 cars, the first models of different series.
	prefix := "浙A"
	for city, p := range cityPlate {
		if strings.Contains(storeName, city) {
			prefix = p
		}
	}
	nCars := 2 + (si % 2)
	type car struct {
		id      int64
		label   string
		mileage int64
	}
	var cars []*car
	created := nowMs - 120*24*3600*1000
	for i := 0; i < nCars && i < len(models); i++ {
		m := models[(i*3)%len(models)]
		plate := fmt.Sprintf("%sD%05d", prefix, 10000+si*1000+i*37+rng.IntN(30))
		mileage := int64(800 + rng.IntN(4000))
		r, err := tx.ExecContext(ctx, `INSERT INTO test_drive_car (store_id, model_id, plate, color, mileage, status, note, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'active', '', ?, ?)`, storeID, m.id, plate, m.color, mileage, created, created)
		if err != nil {
			return err
		}
		id, _ := r.LastInsertId()
		cars = append(cars, &car{id: id, label: m.label + " " + plate, mileage: mileage})
	}
	var withCustomers []*consultant
	for _, c := range staff {
		if len(c.customers) > 0 {
			withCustomers = append(withCustomers, c)
		}
	}
	if len(withCustomers) == 0 {
		return nil
	}

	insDrive, err := tx.PrepareContext(ctx, `INSERT INTO test_drive (store_id, customer_id, car_id, consultant_id, start_at, end_at, status, route, note,
		licence_no, licence_class, licence_expiry, licence_checked_at, agreement_signer, agreement_at, started_at, mileage_out, ended_at, mileage_in,
		rating, rating_comfort, rating_power, rating_handling, rating_tech, intent_change, feedback, cancel_reason, closed_at, closed_by,
		created_at, created_by, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insDrive.Close()
	insEvent, err := tx.PrepareContext(ctx, `INSERT INTO timeline_event (customer_id, store_id, at, kind, actor_id, actor_name, entity, entity_id, data) VALUES (?, ?, ?, ?, ?, ?, 'test_drive', ?, ?)`)
	if err != nil {
		return err
	}
	defer insEvent.Close()
	event := func(cust, at int64, kind string, by *consultant, id int64, data map[string]any) error {
		var actor any
		name := "system"
		if by != nil {
			actor, name = by.id, by.name
		}
		b, _ := json.Marshal(data)
		_, err := insEvent.ExecContext(ctx, cust, storeID, at, kind, actor, name, id, string(b))
		return err
	}

	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	hours := []int{10, 11, 13, 14, 15, 16}
	for day := -35; day <= 6; day++ {
		date := today.AddDate(0, 0, day)
		for _, h := range hours {
			used := map[int64]bool{}
			for _, cr := range cars {
				if rng.IntN(100) >= 30 {
					continue
				}
				cons := withCustomers[rng.IntN(len(withCustomers))]
				if used[cons.id] {
					continue
				}
				used[cons.id] = true
				cust := cons.customers[rng.IntN(len(cons.customers))]
				start := date.Add(time.Duration(h) * time.Hour)
				if rng.IntN(2) == 0 {
					start = start.Add(15 * time.Minute)
				}
				end := start.Add(time.Duration(30+15*rng.IntN(2)) * time.Minute) // ends by the next whole hour: no overlap
				startMs, endMs := start.UnixMilli(), end.UnixMilli()
				bookedAt := startMs - int64(1+rng.IntN(3))*24*3600*1000
				if bookedAt > nowMs {
					bookedAt = nowMs - 3600*1000
				}
				route := tdRoutes[rng.IntN(len(tdRoutes))]
				status := "booked"
				if endMs <= nowMs {
					switch n := rng.IntN(100); {
					case n < 72:
						status = "completed"
					case n < 88:
						status = "no_show"
					default:
						status = "cancelled"
					}
				} else if startMs <= nowMs {
					continue // nothing half-way through at the moment of the demo
				}
				var licNo, licClass, licExp, signer, intent, comment, reason string
				var checked, agreed, started, mOut, ended, mIn, closed, closedBy any
				var rating, comfort, power, handling, tech int
				switch status {
				case "completed":
					licNo = fmt.Sprintf("3301%02d19%02d%02d%02d%04d", 2+rng.IntN(8), 70+rng.IntN(30), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(10000))
					licClass, licExp = []string{"C1", "C1", "C1", "C2", "B2"}[rng.IntN(5)], fmt.Sprintf("%d-%02d-%02d", 2027+rng.IntN(8), 1+rng.IntN(12), 1+rng.IntN(28))
					signer = cust.name
					checked, agreed, started = startMs-5*60000, startMs-5*60000, startMs
					dist := int64(6 + rng.IntN(20))
					mOut, mIn, ended = cr.mileage, cr.mileage+dist, endMs
					cr.mileage += dist
					rating = 3 + rng.IntN(3)
					comfort, power, handling, tech = 3+rng.IntN(3), 3+rng.IntN(3), 3+rng.IntN(3), 2+rng.IntN(4)
					intent = []string{"up", "up", "same", "same", "down"}[rng.IntN(5)]
					comment = tdComments[rng.IntN(len(tdComments))]
				case "no_show":
					closed = startMs + 30*60000
					if rng.IntN(2) == 0 {
						closedBy = cons.id
					}
				case "cancelled":
					reason = []string{"客户临时有事", "客户改约其他时间", "天气原因", "客户已在其他店试驾"}[rng.IntN(4)]
					closed, closedBy = startMs-(2+int64(rng.IntN(20)))*3600*1000, cons.id
				}
				r, err := insDrive.ExecContext(ctx, storeID, cust.id, cr.id, cons.id, startMs, endMs, status, route,
					licNo, licClass, licExp, checked, signer, agreed, started, mOut, ended, mIn,
					rating, comfort, power, handling, tech, intent, comment, reason, closed, closedBy,
					bookedAt, cons.id, bookedAt, cons.id)
				if err != nil {
					return err
				}
				id, _ := r.LastInsertId()
				if err := event(cust.id, bookedAt, "testdrive.booked", cons, id, map[string]any{"car": cr.label, "startAt": startMs, "endAt": endMs,
					"consultant": cons.name, "route": route}); err != nil {
					return err
				}
				switch status {
				case "completed":
					if err := event(cust.id, startMs, "testdrive.started", cons, id, map[string]any{"car": cr.label, "mileageOut": mOut, "route": route}); err != nil {
						return err
					}
					if err := event(cust.id, endMs, "testdrive.completed", cons, id, map[string]any{"car": cr.label, "rating": rating,
						"distanceKm": mIn.(int64) - mOut.(int64), "intentChange": intent, "comment": comment}); err != nil {
						return err
					}
				case "no_show":
					by := cons
					if closedBy == nil {
						by = nil
					}
					if err := event(cust.id, closed.(int64), "testdrive.no_show", by, id, map[string]any{"car": cr.label, "startAt": startMs}); err != nil {
						return err
					}
				case "cancelled":
					if err := event(cust.id, closed.(int64), "testdrive.cancelled", cons, id, map[string]any{"car": cr.label, "startAt": startMs, "reason": reason}); err != nil {
						return err
					}
				case "booked":
					remind := max(startMs-3600*1000, bookedAt)
					if _, err := tx.ExecContext(ctx, `INSERT INTO task (store_id, assignee_id, title, note, kind, customer_id, entity, entity_id, due_at, remind_at, created_by, created_at, updated_at)
						VALUES (?, ?, ?, '', 'test_drive', ?, 'test_drive', ?, ?, ?, ?, ?, ?)`, storeID, cons.id,
						fmt.Sprintf("试驾提醒：%s · %s · %s", cust.name, cr.label, start.Format("01-02 15:04")), cust.id, id, startMs, remind, cons.id, bookedAt, bookedAt); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, cr := range cars {
		if _, err := tx.ExecContext(ctx, `UPDATE test_drive_car SET mileage = ? WHERE id = ?`, cr.mileage, cr.id); err != nil {
			return err
		}
	}
	return nil
}
