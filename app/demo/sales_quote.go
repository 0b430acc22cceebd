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
	"dealerdesk/app/sales"
	"dealerdesk/app/timeline"
)

// demoAccessories are the 精品/装潢 lines demo quotes pick from (price, cost in yuan).
var demoAccessories = []struct {
	name        string
	price, cost int64
}{{"3M 全车隔热膜", 3800, 1200}, {"全包围脚垫", 680, 180}, {"行车记录仪", 1280, 420}, {"新车护理套餐（镀晶+内饰消毒）", 2980, 900}, {"底盘装甲", 1500, 450}}

var demoTZ = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// fillQuotes gives customers at the quote stage or later (by the SOP position
// when the pipeline placed them, else by lifecycle and visits) a quote each, as
// the quote service writes them: numbered per store and day, priced by
// sales.Compute with the store's default settings, the timeline entries of
// each step. Ordered/delivered customers get accepted quotes; of the others a
// mix of drafts, sent and accepted ones, and per store one quote over the
// discount limit waiting for the sales manager's approval and one approved.
func fillQuotes(ctx context.Context, d *db.DB, now time.Time) error {
	rng := rand.New(rand.NewPCG(20261123, 16))
	return d.WriteTx(ctx, func(tx *sql.Tx) error {
		var hasSOP bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'customer_sop'`).Scan(&hasSOP); err != nil {
			return err
		}
		atQuote := `c.visit <> ''`
		if hasSOP {
			atQuote = `EXISTS (SELECT 1 FROM customer_sop s JOIN sop_stage st ON st.id = s.stage_id WHERE s.customer_id = c.id
				AND st.sys_key IN ('quote', 'finance', 'contract', 'delivery'))`
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.store_id, c.owner_id, COALESCE(u.name, ''), c.name, c.stage, COALESCE(c.model_id, 0), c.color, c.payment
			FROM customer c JOIN app_user u ON u.id = c.owner_id
			WHERE c.status = 'active' AND c.owner_id IS NOT NULL AND (c.stage IN ('ordered', 'delivered') OR `+atQuote+`)
			AND NOT EXISTS (SELECT 1 FROM quote q WHERE q.customer_id = c.id) ORDER BY c.id LIMIT 80`)
		if err != nil {
			return fmt.Errorf("demo: quote customers: %w", err)
		}
		type cust struct {
			id, store, owner, model int64
			ownerName, name, stage  string
			color, payment          string
		}
		var list []cust
		for rows.Next() {
			var c cust
			if err := rows.Scan(&c.id, &c.store, &c.owner, &c.ownerName, &c.name, &c.stage, &c.model, &c.color, &c.payment); err != nil {
				rows.Close()
				return err
			}
			list = append(list, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(list) == 0 {
			return nil
		}
		models, err := quoteModels(ctx, tx)
		if err != nil || len(models) == 0 {
			return err
		}
		managers := map[int64][2]any{}
		mrows, err := tx.QueryContext(ctx, `SELECT u.store_id, u.id, u.name FROM app_user u JOIN role r ON r.id = u.role_id
			WHERE r.code = 'sales_manager' AND u.status = 'active' ORDER BY u.id`)
		if err != nil {
			return err
		}
		for mrows.Next() {
			var store, id int64
			var name string
			if err := mrows.Scan(&store, &id, &name); err != nil {
				mrows.Close()
				return err
			}
			if _, ok := managers[store]; !ok {
				managers[store] = [2]any{id, name}
			}
		}
		mrows.Close()

		st := sales.DefaultQuoteSettings()
		special := map[int64]int{} // per store: quotes over the limit made so far (1st pending, 2nd approved)
		nowMs := now.UnixMilli()
		for i, c := range list {
			m, ok := models[c.model]
			if !ok {
				m = models[modelKeys(models)[rng.IntN(len(models))]]
			}
			status := []string{sales.StatusDraft, sales.StatusSent, sales.StatusAccepted, sales.StatusSent, sales.StatusDraft, sales.StatusSent}[i%6]
			if c.stage == "ordered" || c.stage == "delivered" {
				status = sales.StatusAccepted
			}
			mgr, hasMgr := managers[c.store]
			over := false
			if status != sales.StatusAccepted && hasMgr && special[c.store] < 2 && i%3 == 1 {
				over = true
				status = []string{sales.StatusPendingApproval, sales.StatusApproved}[special[c.store]]
				special[c.store]++
			}
			created := now.Add(-time.Duration(rng.IntN(4*24)+2) * time.Hour)
			// Discounts within the default limit (8% of MSRP, 20,000 yuan), rounded to 100 yuan; 10% over it.
			pct := int64(2 + rng.IntN(5))
			if over {
				pct = 10
			}
			discount := min(m.msrp*pct/100/10000*10000, 2_000_000)
			if over {
				discount = m.msrp * pct / 100 / 10000 * 10000
			}
			color := c.color
			surcharge := int64(0)
			if s, ok := m.colors[color]; ok {
				surcharge = s
			} else {
				color, surcharge = m.firstColor, m.colors[m.firstColor]
			}
			in := sales.QuoteInput{MSRP: sales.Fen(m.msrp), Discount: sales.Fen(discount), ColorSurcharge: sales.Fen(surcharge),
				RegistrationFee: sales.Fen(st.RegistrationFee), TaxRule: st.TaxRule(m.energy, created), Accessories: []sales.Accessory{}}
			var acc []map[string]any
			for k := 0; k < 1+rng.IntN(3); k++ {
				a := demoAccessories[(i+k)%len(demoAccessories)]
				in.Accessories = append(in.Accessories, sales.Accessory{Name: a.name, Price: sales.Yuan(a.price), Cost: sales.Yuan(a.cost)})
				acc = append(acc, map[string]any{"name": a.name, "price": a.price * 100, "cost": a.cost * 100})
			}
			vp := m.msrp - discount + surcharge
			in.Insurance = sales.Fen((vp*int64(st.InsuranceRateBP)/10000 + 50) / 100 * 100)
			if c.payment == "loan" || i%3 == 0 {
				in.Finance = &sales.FinanceInput{DownPaymentBP: 3000, Months: []int{24, 36, 36, 60}[i%4], AnnualRateBP: []int{0, 299, 399, 499}[i%4]}
			}
			q, err := sales.Compute(in)
			if err != nil {
				return fmt.Errorf("demo: quote price: %w", err)
			}
			needs, reasons := sales.DiscountCheck(q, st.Limits())
			if needs != over {
				status, over = sales.StatusDraft, needs
			}
			if reasons == nil {
				reasons = []string{}
			}
			number, err := demoQuoteNumber(ctx, tx, c.store, created)
			if err != nil {
				return err
			}
			apprStatus := ""
			switch status {
			case sales.StatusPendingApproval:
				apprStatus = "pending"
			case sales.StatusApproved:
				apprStatus = "approved"
			}
			day := created.In(demoTZ).AddDate(0, 0, st.ValidityDays)
			validUntil := time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 999_000_000, demoTZ).UnixMilli()
			var fin any
			var finComm int64
			if in.Finance != nil {
				b, _ := json.Marshal(in.Finance)
				fin = string(b)
				finComm = (int64(q.AmountFinanced)*int64(st.FinanceCommBP) + 5000) / 10000 // half up, as the quote service
			}
			taxRule, _ := json.Marshal(in.TaxRule)
			accJSON, _ := json.Marshal(acc)
			reasonJSON, _ := json.Marshal(reasons)
			at := created.UnixMilli()
			var sentAt, acceptedAt any
			if status == sales.StatusSent || status == sales.StatusAccepted {
				sentAt = at + 3_600_000
			}
			if status == sales.StatusAccepted {
				acceptedAt = at + 2*3_600_000
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO quote (store_id, customer_id, owner_id, number, version, latest, status, needs_approval,
				approval_reasons, approval_status, valid_until, model_id, model_label, energy_type, color, color_price, options, msrp, discount, color_surcharge,
				accessories, insurance, registration_fee, service_fee, tax_rule, finance, trade_in, vehicle_cost,
				vehicle_price, accessory_price, accessory_cost, purchase_tax, purchase_tax_relief, total, cash_need, financed, down_payment,
				amount_financed, months, rate_bp, monthly_payment, total_interest, finance_fee, gross_profit, gross_margin_bp,
				finance_commission, insurance_commission, note, sent_at, accepted_at, created_at, created_by, updated_at, updated_by)
				VALUES (?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)`,
				c.store, c.id, c.owner, number, status, over, string(reasonJSON), apprStatus, validUntil, m.id, m.label, m.energy, color, surcharge,
				q.MSRP, q.Discount, in.ColorSurcharge, string(accJSON), in.Insurance, in.RegistrationFee, string(taxRule), fin,
				q.VehiclePrice, q.AccessoryPrice, q.AccessoryCost, q.PurchaseTax, q.PurchaseTaxRelief, q.Total, q.CashNeed, q.Financed, q.DownPayment,
				q.AmountFinanced, q.Months, q.AnnualRateBP, q.MonthlyPayment, q.TotalInterest, q.GrossProfit, q.GrossMarginBP,
				finComm, (int64(in.Insurance)*int64(st.InsuranceCommBP)+5000)/10000, sentAt, acceptedAt, at, c.owner, at, c.owner)
			if err != nil {
				return fmt.Errorf("demo: quote: %w", err)
			}
			qid, _ := res.LastInsertId()
			ev := func(kind string, when int64, actorID int64, actorName string, data map[string]any) error {
				return timeline.Append(ctx, tx, timeline.Event{CustomerID: c.id, StoreID: c.store, At: when, Kind: kind, ActorID: actorID, ActorName: actorName,
					Entity: "quote", EntityID: qid, Data: data})
			}
			base := map[string]any{"number": number, "version": 1, "total": int64(q.Total)}
			if err := ev("quote.created", at, c.owner, c.ownerName, map[string]any{"number": number, "version": 1, "model": m.label, "total": int64(q.Total), "needsApproval": over}); err != nil {
				return err
			}
			if sentAt != nil {
				if err := ev("quote.sent", sentAt.(int64), c.owner, c.ownerName, base); err != nil {
					return err
				}
			}
			if acceptedAt != nil {
				if err := ev("quote.accepted", acceptedAt.(int64), c.owner, c.ownerName, base); err != nil {
					return err
				}
			}
			if apprStatus != "" {
				if err := demoQuoteApproval(ctx, tx, c.id, c.store, c.owner, c.ownerName, qid, number, c.name, m.label, q, apprStatus, at, nowMs, mgr); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

type demoModel struct {
	id, msrp      int64
	label, energy string
	firstColor    string
	colors        map[string]int64
}

func quoteModels(ctx context.Context, tx *sql.Tx) (map[int64]demoModel, error) {
	out := map[int64]demoModel{}
	rows, err := tx.QueryContext(ctx, `SELECT m.id, m.msrp, m.energy_type, b.name || ' ' || s.name || ' ' || m.model_year || '款 ' || m.name
		FROM vehicle_model m JOIN vehicle_series s ON s.id = m.series_id JOIN vehicle_brand b ON b.id = s.brand_id
		WHERE m.active = 1 AND s.active = 1 AND b.active = 1 AND m.msrp > 0 ORDER BY m.id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		m := demoModel{colors: map[string]int64{}}
		if err := rows.Scan(&m.id, &m.msrp, &m.energy, &m.label); err != nil {
			rows.Close()
			return nil, err
		}
		out[m.id] = m
	}
	rows.Close()
	crows, err := tx.QueryContext(ctx, `SELECT model_id, name, surcharge FROM vehicle_color ORDER BY model_id, id`)
	if err != nil {
		return nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var id, s int64
		var name string
		if err := crows.Scan(&id, &name, &s); err != nil {
			return nil, err
		}
		if m, ok := out[id]; ok {
			if m.firstColor == "" {
				m.firstColor = name
			}
			m.colors[name] = s
			out[id] = m
		}
	}
	return out, crows.Err()
}

func modelKeys(m map[int64]demoModel) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// sorted, so the random pick is deterministic
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func demoQuoteNumber(ctx context.Context, tx *sql.Tx, store int64, at time.Time) (string, error) {
	var code string
	if err := tx.QueryRowContext(ctx, `SELECT code FROM store WHERE id = ?`, store).Scan(&code); err != nil {
		return "", err
	}
	day := at.In(demoTZ).Format("20060102")
	var n int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO quote_sequence (store_id, day, last) VALUES (?, ?, 1)
		ON CONFLICT (store_id, day) DO UPDATE SET last = last + 1 RETURNING last`, store, day).Scan(&n); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-Q-%s-%04d", strings.ToUpper(code), day, n), nil
}

// demoQuoteApproval writes the approval of a quote over the limit as the engine
// does with the default step (销售经理审批): pending in the manager's inbox, or
// approved by the manager.
func demoQuoteApproval(ctx context.Context, tx *sql.Tx, custID, store, owner int64, ownerName string, qid int64, number, custName, model string,
	q sales.Quote, status string, at, now int64, mgr [2]any) error {
	submitAt := at + 30*60_000
	fields, _ := json.Marshal(map[string]any{"discountFen": int64(q.Discount), "discountPct": int64(q.Discount) * 10000 / int64(q.MSRP),
		"totalFen": int64(q.Total), "msrpFen": int64(q.MSRP), "model": model, "financed": map[bool]string{true: "yes", false: "no"}[q.Financed]})
	steps := `[{"name":"销售经理审批","mode":"any","approvers":[{"kind":"role","role":"sales_manager"}]}]`
	title := fmt.Sprintf("%s 第1版 · %s · %s", number, custName, model)
	var decided any
	if status == "approved" {
		decided = submitAt + 2*3_600_000
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO approval_instance (doc_type, doc_id, store_id, customer_id, submitter_id, owner_id, title, link, fields, steps,
		status, current_step, created_at, decided_at) VALUES ('quote', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		qid, store, custID, owner, owner, title, fmt.Sprintf("/sales/quotes/%d", qid), string(fields), steps, status, submitAt, decided)
	if err != nil {
		return fmt.Errorf("demo: quote approval: %w", err)
	}
	iid, _ := res.LastInsertId()
	mgrID, mgrName := mgr[0].(int64), mgr[1].(string)
	taskStatus := "waiting"
	var remind any = now + 4*3_600_000
	if status == "approved" {
		taskStatus, remind = "approved", nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO approval_task (instance_id, step_no, approver_id, status, decided_by, waiting_since, decided_at, remind_due_at)
		VALUES (?, 1, ?, ?, ?, ?, ?, ?)`, iid, mgrID, taskStatus, map[bool]any{true: mgrID, false: nil}[status == "approved"], submitAt, decided, remind); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO approval_action (instance_id, step_no, action, actor_id, actor_name, at) VALUES (?, 1, 'submit', ?, ?, ?)`,
		iid, owner, ownerName, submitAt); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE quote SET approval_id = ? WHERE id = ?`, iid, qid); err != nil {
		return err
	}
	events := []timeline.Event{{CustomerID: custID, StoreID: store, At: submitAt, Kind: "approval.submitted", ActorID: owner, ActorName: ownerName,
		Entity: "approval", EntityID: iid, Data: map[string]any{"docType": "quote", "title": title, "step": "销售经理审批"}}}
	if status == "approved" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO approval_action (instance_id, step_no, action, actor_id, actor_name, comment, at) VALUES (?, 1, 'approve', ?, ?, '同意，尽快成交', ?)`,
			iid, mgrID, mgrName, decided); err != nil {
			return err
		}
		events = append(events,
			timeline.Event{CustomerID: custID, StoreID: store, At: decided.(int64), Kind: "approval.approved", ActorID: mgrID, ActorName: mgrName,
				Entity: "approval", EntityID: iid, Data: map[string]any{"docType": "quote", "title": title, "comment": "同意，尽快成交"}},
			timeline.Event{CustomerID: custID, StoreID: store, At: decided.(int64), Kind: "quote.approved", ActorID: mgrID, ActorName: mgrName,
				Entity: "quote", EntityID: qid, Data: map[string]any{"number": number, "version": 1, "total": int64(q.Total), "approvalId": iid}})
	}
	return timeline.Append(ctx, tx, events...)
}
