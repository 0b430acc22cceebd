package demo

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"dealerdesk/app/approval"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/inventory"
	"dealerdesk/app/sales"
	"dealerdesk/app/sales/order"
	"dealerdesk/app/sales/sop"
	"dealerdesk/app/task"
)

// fillOrders turns up to six accepted quotes per store into orders through the
// order service itself (so stock, quotes, approvals, tasks, audit and the
// timeline are exactly what the product writes), each at its own point of the
// process, on a fake clock going back a few weeks:
//
//	0: signed with a deposit, waiting for a car
//	1: contract in approval
//	2: car allocated, PDI to do
//	3: PDI done, delivery booked for the coming days, balance still due
//	4: delivered 12 days ago, fully paid, the first two callbacks done
//	5: cancelled (after the car was allocated when there was one: back in stock), deposit refunded
func fillOrders(ctx context.Context, d *db.DB, now time.Time) error {
	quotes, err := demoAcceptedQuotes(ctx, d)
	if err != nil || len(quotes) == 0 {
		return err
	}
	fc := clock.NewFake(now)
	log := slog.New(slog.DiscardHandler)
	ap := approval.NewService(d, nil, fc, log)
	crmSvc := crm.NewService(crm.Deps{DB: d, Clock: fc, Log: log, Approval: ap})
	inv := inventory.NewService(inventory.Deps{DB: d, Clock: fc, Log: log})
	sopSvc := sop.NewService(sop.Deps{DB: d, Clock: fc, Log: log, CRM: crmSvc})
	salesSvc := sales.NewService(sales.Deps{DB: d, Clock: fc, Log: log, Approval: ap, CRM: crmSvc, Inventory: inv, SOP: sopSvc})
	tasks := task.NewService(d, nil, fc, log)
	svc := order.NewService(order.Deps{DB: d, Clock: fc, Log: log, Approval: ap, Tasks: tasks, CRM: crmSvc, Inventory: inv, SOP: sopSvc, Sales: salesSvc})

	const dayDur = 24 * time.Hour
	plan, err := demoOrderPlan(ctx, d, quotes)
	if err != nil {
		return err
	}
	for _, p := range plan {
		q, step := p.q, p.step
		consultant := demoActor(q.owner, q.ownerName, q.store)
		manager := demoActor(q.manager, "", q.store)
		start := now.Add(-time.Duration(20-step) * dayDur).Add(time.Duration(step) * time.Hour)
		fc.Set(start)
		planned := now.Add(time.Duration(7+step*2) * dayDur).UnixMilli()
		o, err := svc.CreateOrder(ctx, consultant, order.CreateInput{QuoteID: q.id, PlannedDeliveryAt: &planned})
		if err != nil {
			return fmt.Errorf("demo: order from quote %d: %w", q.id, err)
		}
		if step != 1 {
			if o, err = svc.AddPayment(ctx, consultant, o.ID, order.PaymentInput{Kind: "deposit", Method: []string{"wechat", "card", "alipay", "transfer"}[step%4],
				AmountFen: min(500_000, o.BalanceFen)}); err != nil {
				return fmt.Errorf("demo: deposit of order %d: %w", o.ID, err)
			}
		}
		if o, err = svc.SubmitContract(ctx, consultant, o.ID, order.VersionInput{}); err != nil {
			return fmt.Errorf("demo: submit order %d: %w", o.ID, err)
		}
		if step == 1 || q.manager == 0 || o.ApprovalID == nil {
			continue
		}
		fc.Advance(2 * time.Hour)
		if _, err := ap.Approve(ctx, manager, *o.ApprovalID, approval.ActInput{Comment: "同意"}); err != nil {
			return fmt.Errorf("demo: approve contract %d: %w", o.ID, err)
		}
		if step == 0 {
			continue
		}
		vehicle, err := demoStockCar(ctx, d, q.store, q.model, q.color)
		if err != nil {
			return err
		}
		if vehicle == 0 && step != 5 {
			continue // no car of the model in stock: the order waits, like step 0
		}
		if vehicle != 0 {
			fc.Advance(dayDur)
			if o, err = svc.AllocateVehicle(ctx, consultant, o.ID, order.AllocateInput{VehicleID: vehicle}); err != nil {
				return fmt.Errorf("demo: allocate to order %d: %w", o.ID, err)
			}
		}
		switch step {
		case 2:
			continue
		case 5:
			fc.Advance(3 * dayDur)
			if o, err = svc.Cancel(ctx, manager, o.ID, order.CancelInput{Reason: "finance_refused", Note: "贷款审批未通过，客户暂缓购车"}); err != nil {
				return fmt.Errorf("demo: cancel order %d: %w", o.ID, err)
			}
			fc.Advance(dayDur)
			finance := demoActor(q.finance, "", q.store)
			if q.finance == 0 {
				finance = manager
			}
			if o.PaidFen > 0 {
				if _, err = svc.Refund(ctx, finance, o.ID, order.RefundInput{Method: "transfer", AmountFen: o.PaidFen, Reason: "订单取消，退还定金"}); err != nil {
					return fmt.Errorf("demo: refund order %d: %w", o.ID, err)
				}
			}
			continue
		}
		fc.Advance(dayDur)
		if o, err = svc.SavePDI(ctx, consultant, o.ID, demoPDI(o)); err != nil {
			return fmt.Errorf("demo: PDI of order %d: %w", o.ID, err)
		}
		at := now.Add(2 * dayDur).Truncate(time.Hour)
		if step == 4 {
			at = fc.Now().Add(2 * dayDur).Truncate(time.Hour)
		}
		if o, err = svc.ScheduleDelivery(ctx, consultant, o.ID, order.ScheduleInput{DeliveryAt: at.UnixMilli(), Place: "交车区 1 号"}); err != nil {
			return fmt.Errorf("demo: schedule order %d: %w", o.ID, err)
		}
		if step == 3 {
			continue
		}
		fc.Set(at.Add(-3 * time.Hour))
		if o.Financed && o.LoanFen > 0 && o.LoanFen <= o.BalanceFen {
			if o, err = svc.AddPayment(ctx, consultant, o.ID, order.PaymentInput{Kind: "payment", Method: "loan", AmountFen: o.LoanFen, Reference: "放款通知"}); err != nil {
				return fmt.Errorf("demo: loan of order %d: %w", o.ID, err)
			}
		}
		if o.BalanceFen > 0 {
			if o, err = svc.AddPayment(ctx, consultant, o.ID, order.PaymentInput{Kind: "payment", Method: "transfer", AmountFen: o.BalanceFen}); err != nil {
				return fmt.Errorf("demo: balance of order %d: %w", o.ID, err)
			}
		}
		items := make([]order.DeliveryItem, len(o.DeliveryChecklist))
		for i, it := range o.DeliveryChecklist {
			items[i] = order.DeliveryItem{Key: it.Key, Done: true}
		}
		if o, err = svc.SaveChecklist(ctx, consultant, o.ID, order.ChecklistInput{Items: items}); err != nil {
			return fmt.Errorf("demo: checklist of order %d: %w", o.ID, err)
		}
		fc.Set(at.Add(time.Hour))
		if o, err = svc.Deliver(ctx, consultant, o.ID, order.VersionInput{}); err != nil {
			return fmt.Errorf("demo: deliver order %d: %w", o.ID, err)
		}
		for i, cb := range o.Callbacks {
			if i >= 2 || cb.AssigneeID != q.owner {
				break
			}
			fc.Set(time.UnixMilli(cb.DueAt).Add(-3 * time.Hour))
			if _, err := tasks.Complete(ctx, consultant, cb.TaskID, []string{"客户对车辆和交车过程满意", "已提醒首保时间，客户用车正常"}[i]); err != nil {
				return fmt.Errorf("demo: callback of order %d: %w", o.ID, err)
			}
		}
	}
	return nil
}

type demoPlanned struct {
	q    demoQuote
	step int
}

// demoOrderPlan gives each store's accepted quotes a step: the steps that need
// a car (delivered, delivery booked, cancelled after allocation, allocated) go
// to quotes whose model has a car in stock, the others (waiting for a car, in
// approval) to the rest; at most six per store.
func demoOrderPlan(ctx context.Context, d *db.DB, quotes []demoQuote) ([]demoPlanned, error) {
	var out []demoPlanned
	byStore := map[int64][]demoQuote{}
	var stores []int64
	for _, q := range quotes {
		if _, ok := byStore[q.store]; !ok {
			stores = append(stores, q.store)
		}
		byStore[q.store] = append(byStore[q.store], q)
	}
	for _, st := range stores {
		carSteps, otherSteps := []int{4, 3, 2, 5}, []int{0, 5, 1, 0, 1, 0}
		stock := map[int64]int{}
		n := 0
		for _, q := range byStore[st] {
			if n == 6 {
				break
			}
			if _, ok := stock[q.model]; !ok {
				var c int
				if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM vehicle WHERE store_id = ? AND model_id = ? AND status = 'in_stock'`, st, q.model).Scan(&c); err != nil {
					return nil, err
				}
				stock[q.model] = c
			}
			if stock[q.model] > 0 && len(carSteps) > 0 {
				stock[q.model]--
				out = append(out, demoPlanned{q, carSteps[0]})
				carSteps = carSteps[1:]
			} else {
				out = append(out, demoPlanned{q, otherSteps[0]})
				otherSteps = otherSteps[1:]
			}
			n++
		}
	}
	return out, nil
}

type demoQuote struct {
	id, store, owner, model, manager, finance int64
	ownerName, color                          string
}

// demoAcceptedQuotes are the accepted, order-ready quotes of the demo with the
// store's sales manager and finance clerk.
func demoAcceptedQuotes(ctx context.Context, d *db.DB) ([]demoQuote, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT q.id, q.store_id, q.owner_id, COALESCE(u.name, ''), q.model_id, q.color,
		COALESCE((SELECT m.id FROM app_user m JOIN role r ON r.id = m.role_id WHERE m.store_id = q.store_id AND r.code = 'sales_manager' AND m.status = 'active' ORDER BY m.id LIMIT 1), 0),
		COALESCE((SELECT m.id FROM app_user m JOIN role r ON r.id = m.role_id WHERE m.store_id = q.store_id AND r.code = 'finance' AND m.status = 'active' ORDER BY m.id LIMIT 1), 0)
		FROM quote q JOIN app_user u ON u.id = q.owner_id JOIN customer c ON c.id = q.customer_id
		WHERE q.status = 'accepted' AND q.latest = 1 AND (q.needs_approval = 0 OR q.approval_status = 'approved') AND c.status = 'active'
		ORDER BY q.store_id, q.id`)
	if err != nil {
		return nil, fmt.Errorf("demo: accepted quotes: %w", err)
	}
	defer rows.Close()
	var out []demoQuote
	for rows.Next() {
		var q demoQuote
		if err := rows.Scan(&q.id, &q.store, &q.owner, &q.ownerName, &q.model, &q.color, &q.manager, &q.finance); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// demoStockCar is an in-stock car of the model in the store, the quoted colour
// first, the oldest first; 0 when there is none.
func demoStockCar(ctx context.Context, d *db.DB, store, model int64, color string) (int64, error) {
	var id int64
	err := d.W.QueryRowContext(ctx, `SELECT id FROM vehicle WHERE store_id = ? AND model_id = ? AND status = 'in_stock'
		ORDER BY color = ? DESC, arrival_at, id LIMIT 1`, store, model, color).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

func demoPDI(o order.Order) order.PDIInput {
	in := order.PDIInput{Complete: true}
	for _, it := range o.PDI {
		in.Items = append(in.Items, order.PDIItem{Key: it.Key, State: "ok"})
	}
	return in
}

// demoActor acts for a demo user with every permission in the store (the demo
// plays what each person would do in the product).
func demoActor(userID int64, name string, store int64) auth.Actor {
	a := auth.System(name)
	a.UserID, a.Name, a.StoreID, a.HomeStoreID = userID, name, store, store
	if a.Name == "" {
		a.Name = "demo"
	}
	return a
}
