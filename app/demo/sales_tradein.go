package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"dealerdesk/app/db"
	"dealerdesk/app/sales/tradein"
	"dealerdesk/app/timeline"
)

// usedCars are the makes and series customers trade in (any make: used cars
// are not the store's brand).
var usedCars = []struct{ brand, series, model, fuel string }{
	{"大众", "朗逸", "1.5L 自动舒适版", "petrol"}, {"大众", "速腾", "280TSI 豪华型", "petrol"}, {"丰田", "卡罗拉", "1.2T 精英版", "petrol"},
	{"本田", "思域", "220TURBO 劲动版", "petrol"}, {"日产", "轩逸", "1.6L 舒适版", "petrol"}, {"别克", "英朗", "15N 精英型", "petrol"},
	{"比亚迪", "秦PLUS", "DM-i 55KM 领先型", "phev"}, {"特斯拉", "Model 3", "标准续航版", "ev"}, {"哈弗", "H6", "1.5T 两驱都市版", "petrol"},
	{"宝马", "3系", "325Li M运动套装", "petrol"}, {"奥迪", "A4L", "40 TFSI 时尚型", "petrol"}, {"吉利", "帝豪", "1.5L CVT 豪华型", "petrol"},
	{"五菱", "宏光MINIEV", "悦享款", "ev"}, {"长安", "CS75 PLUS", "1.5T 尊贵型", "petrol"},
}

var usedColors = []string{"白", "黑", "银灰", "蓝", "红", "珍珠白"}

// fillTradeIns gives about a fifth of the assigned customers at the quote stage
// or later a trade-in: most appraised with a valid offer, some purchased, a few
// waiting for the appraiser or declined, and exactly one whose offer expired.
// Rows, appraisal versions and timeline events are what the service writes.
func fillTradeIns(ctx context.Context, d *db.DB, now time.Time) error {
	rng := rand.New(rand.NewPCG(20261123, 8))
	nowMs := now.UnixMilli()
	const dayMs = int64(24 * time.Hour / time.Millisecond)
	return d.WriteTx(ctx, func(tx *sql.Tx) error {
		type cust struct {
			id, store, owner int64
			name, ownerName  string
		}
		var list []cust
		scan := func(q string) error {
			rows, err := tx.QueryContext(ctx, q)
			if err != nil {
				return fmt.Errorf("demo: trade-in customers: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var c cust
				if err := rows.Scan(&c.id, &c.store, &c.owner, &c.name, &c.ownerName); err != nil {
					return err
				}
				list = append(list, c)
			}
			return rows.Err()
		}
		// Customers at the store's quote stage or a later one.
		if err := scan(`SELECT c.id, c.store_id, c.owner_id, c.name, u.name FROM customer c
			JOIN customer_sop cs ON cs.customer_id = c.id JOIN sop_stage st ON st.id = cs.stage_id
			JOIN sop_stage q ON q.store_id = cs.store_id AND q.sys_key = 'quote'
			JOIN app_user u ON u.id = c.owner_id
			WHERE c.status <> 'merged' AND st.position >= q.position ORDER BY c.id`); err != nil {
			return err
		}
		if len(list) == 0 { // no pipeline positions: the assigned customers who visited, ordered or bought
			if err := scan(`SELECT c.id, c.store_id, c.owner_id, c.name, u.name FROM customer c JOIN app_user u ON u.id = c.owner_id
				WHERE c.status <> 'merged' AND (c.stage IN ('ordered', 'delivered', 'owner') OR c.visit <> '') ORDER BY c.id`); err != nil {
				return err
			}
		}
		expiredDone := false
		seq := 0
		for _, c := range list {
			if rng.IntN(5) != 0 {
				continue
			}
			seq++
			car := usedCars[rng.IntN(len(usedCars))]
			year := now.Year() - 3 - rng.IntN(9)
			plate := fmt.Sprintf("浙%c%05d", 'A'+rune(rng.IntN(8)), seq*37%100000)
			if car.fuel == "ev" {
				plate = fmt.Sprintf("浙%cD%05d", 'A'+rune(rng.IntN(8)), seq*37%100000)
			}
			mileage := int64((now.Year()-year)*12000 + rng.IntN(15000))
			registered := nowMs - int64(3+rng.IntN(20))*dayMs
			status := tradein.StatusAppraised
			switch r := rng.IntN(20); {
			case !expiredDone:
				status, expiredDone = tradein.StatusExpired, true
			case r < 2:
				status = tradein.StatusRegistered
			case r < 6:
				status = tradein.StatusPurchased
			case r < 7:
				status = tradein.StatusDeclined
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO trade_in (store_id, customer_id, consultant_id, brand, series, model, year, first_reg_date, plate,
				mileage_km, color, fuel, transfer_count, loan_outstanding, status, created_at, created_by, updated_at, updated_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?, ?) RETURNING id`,
				c.store, c.id, c.owner, car.brand, car.series, car.model, year, fmt.Sprintf("%d-%02d-%02d", year, 1+rng.IntN(12), 1+rng.IntN(28)), plate,
				mileage, usedColors[rng.IntN(len(usedColors))], car.fuel, rng.IntN(3), tradeInFlag(rng.IntN(6) == 0), registered, c.owner, registered, c.owner).Scan(&id); err != nil {
				return fmt.Errorf("demo: trade-in: %w", err)
			}
			label := fmt.Sprintf("%d %s %s %s %s", year, car.brand, car.series, car.model, tradein.FormatPlate(plate))
			ev := []timeline.Event{{CustomerID: c.id, StoreID: c.store, At: registered, Kind: "tradein.registered", ActorID: c.owner, ActorName: c.ownerName,
				Entity: "trade_in", EntityID: id, Data: map[string]any{"car": label, "mileageKm": mileage}}}
			if status == tradein.StatusRegistered {
				if err := timeline.Append(ctx, tx, ev...); err != nil {
					return err
				}
				continue
			}
			appraised := registered + int64(1+rng.IntN(20))*3600_000
			validUntil := appraised + 7*dayMs
			if status == tradein.StatusExpired {
				appraised = nowMs - 10*dayMs
				validUntil = appraised + 7*dayMs
			} else if validUntil <= nowMs {
				appraised = nowMs - int64(1+rng.IntN(5))*dayMs
				validUntil = appraised + 7*dayMs
			}
			if appraised < registered {
				registered = appraised - 3600_000
			}
			offered := int64(30_000+rng.IntN(120)*1_000) * 100 // fen: 30,000–149,000 yuan in whole thousands
			checklist := tradein.Checklist{}
			for _, k := range tradein.Categories {
				checklist[k] = tradein.CheckItem{Grade: "ok"}
			}
			for n := rng.IntN(4); n > 0; n-- {
				k := tradein.Categories[rng.IntN(len(tradein.Categories))]
				if rng.IntN(5) == 0 && k != "accident" {
					checklist[k] = tradein.CheckItem{Grade: "major", Note: "需维修"}
				} else {
					checklist[k] = tradein.CheckItem{Grade: "minor", Note: "轻微划痕/磨损"}
				}
			}
			checkJSON, _ := json.Marshal(checklist)
			resale := offered + offered*int64(8+rng.IntN(10))/100
			recon := int64(1_000+rng.IntN(70)*100) * 100
			if _, err := tx.ExecContext(ctx, `INSERT INTO trade_in_appraisal (trade_in_id, store_id, no, at, by, by_name, checklist, offered_fen, valid_until,
				expected_resale_fen, recon_cost_fen, remarks) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, '')`,
				id, c.store, appraised, c.owner, c.ownerName, string(checkJSON), offered, validUntil, resale, recon); err != nil {
				return fmt.Errorf("demo: appraisal: %w", err)
			}
			ev = append(ev, timeline.Event{CustomerID: c.id, StoreID: c.store, At: appraised, Kind: "tradein.appraised", ActorID: c.owner, ActorName: c.ownerName,
				Entity: "trade_in", EntityID: id, Data: map[string]any{"car": label, "offeredFen": offered, "validUntil": validUntil, "no": 1}})
			var agreed, agreedAt any
			handover, seller, closeReason := "", "", ""
			updated := appraised
			switch status {
			case tradein.StatusPurchased:
				at := appraised + int64(1+rng.IntN(48))*3600_000
				if at > nowMs {
					at = nowMs
				}
				price := offered - int64(rng.IntN(3))*100_000
				agreed, agreedAt, updated = price, at, at
				handover = time.UnixMilli(at + 3*dayMs).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
				seller = c.name
				ev = append(ev, timeline.Event{CustomerID: c.id, StoreID: c.store, At: at, Kind: "tradein.purchased", ActorID: c.owner, ActorName: c.ownerName,
					Entity: "trade_in", EntityID: id, Data: map[string]any{"car": label, "agreedFen": price, "handoverDate": handover}})
			case tradein.StatusExpired:
				updated = validUntil
				ev = append(ev, timeline.Event{CustomerID: c.id, StoreID: c.store, At: validUntil, Kind: "tradein.expired", ActorName: "system",
					Entity: "trade_in", EntityID: id, Data: map[string]any{"car": label, "offeredFen": offered, "validUntil": validUntil}})
			case tradein.StatusDeclined:
				updated = appraised + 3600_000
				closeReason = "客户嫌报价低"
				ev = append(ev, timeline.Event{CustomerID: c.id, StoreID: c.store, At: updated, Kind: "tradein.declined", ActorID: c.owner, ActorName: c.ownerName,
					Entity: "trade_in", EntityID: id, Data: map[string]any{"car": label, "reason": closeReason}})
			}
			if _, err := tx.ExecContext(ctx, `UPDATE trade_in SET status = ?, appraisal_no = 1, offered_fen = ?, valid_until = ?, appraised_at = ?, appraised_by = ?,
				agreed_fen = ?, agreed_at = ?, agreed_by = CASE WHEN ? IS NULL THEN NULL ELSE ? END, handover_date = ?, seller_name = ?, close_reason = ?,
				created_at = ?, version = 3, updated_at = ? WHERE id = ?`,
				status, offered, validUntil, appraised, c.owner, agreed, agreedAt, agreed, c.owner, handover, seller, closeReason, registered, updated, id); err != nil {
				return fmt.Errorf("demo: trade-in status: %w", err)
			}
			ev[0].At = registered
			if err := timeline.Append(ctx, tx, ev...); err != nil {
				return err
			}
		}
		return nil
	})
}

func tradeInFlag(b bool) int {
	if b {
		return 1
	}
	return 0
}
