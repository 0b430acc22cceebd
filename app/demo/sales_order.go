package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	"dealerdesk/app/sales/tradein"
	"dealerdesk/app/task"
)

// Where a demo deal stops.
const (
	stopDraft           = "draft"            // order made from the accepted quote, not submitted
	stopPending         = "pending"          // contract in approval
	stopSigned          = "signed"           // signed with a deposit, waiting for a car
	stopAllocated       = "allocated"        // car allocated, PDI to do
	stopPDI             = "pdi"              // PDI done, delivery not yet booked
	stopScheduled       = "scheduled"        // delivery booked (today or tomorrow)
	stopDelivered       = "delivered"        // delivered, callbacks under way
	stopClosed          = "closed"           // delivered, every callback done, closed
	stopCancelSigned    = "cancel_signed"    // cancelled after signing, before a car, deposit refunded
	stopCancelAllocated = "cancel_allocated" // cancelled after the car was allocated: car back in stock, deposit refunded
)

// demoDeal is one deal of a store's demo life cycle.
type demoDeal struct {
	stop      string
	days      int  // the story (the quote) starts this many days ago
	car       bool // needs a car of the store's stock
	featured  bool // the store's demo consultant's (in store 1 the account "sales")
	tradeIn   bool // credits the customer's appraised or purchased trade-in
	financed  bool
	overLimit bool // a special price the sales manager approved
	tomorrow  bool // scheduled: tomorrow, else today
	callbacks int  // delivered: how many of the due callbacks are done
}

// demoDeals is every store's sales life cycle, the deals that need the oldest
// customers and a car first. Store 1 has one more cancelled deal.
var demoDeals = []demoDeal{
	{stop: stopClosed, days: 26, car: true, financed: true},
	{stop: stopDelivered, days: 18, car: true, featured: true, callbacks: 3},
	{stop: stopCancelAllocated, days: 15, car: true, financed: true},
	{stop: stopDelivered, days: 12, car: true, financed: true, callbacks: 2},
	{stop: stopScheduled, days: 10, car: true, featured: true},
	{stop: stopScheduled, days: 9, car: true, featured: true, financed: true, tomorrow: true},
	{stop: stopPDI, days: 7, car: true},
	{stop: stopAllocated, days: 6, car: true, overLimit: true},
	{stop: stopCancelSigned, days: 8},
	{stop: stopSigned, days: 4, tradeIn: true, financed: true},
	{stop: stopSigned, days: 3},
	{stop: stopPending, days: 2, tradeIn: true},
	{stop: stopDraft, days: 1, featured: true},
}

// demoOrderEnv is the services the demo deals go through, on one fake clock.
type demoOrderEnv struct {
	fc     *clock.Fake
	now    time.Time
	ap     *approval.Service
	quotes *sales.Service
	orders *order.Service
	tasks  *task.Service
	rng    *rand.Rand
}

// fillOrders plays each store's sales life cycle (demoDeals, 12–13 deals a
// store) through the quote, approval, order, stock and task services
// themselves, on a fake clock going back up to four weeks: the quote made
// (some financed, some crediting a trade-in, one over the discount limit and
// approved by the sales manager), sent and accepted, the order and contract,
// deposit, approval, car allocated from stock, PDI, delivery booked, balance
// and loan paid, delivery, callbacks, closing, and cancellations with the
// deposit refunded. So the stock, quotes, approvals, tasks, audit, timeline
// and the customers' lifecycle and pipeline stages are what the product
// writes. Customers are the consultants' visited customers without an order;
// the oldest ones get the oldest deals.
func fillOrders(ctx context.Context, d *db.DB, now time.Time) (err error) {
	// The deals are a few hundred small transactions, and with synchronous=FULL
	// each commit waits for the disk. Demo data is made again rather than
	// recovered, so the writer (one connection) skips that wait while the deals
	// are played — WAL with NORMAL stays consistent — and is back to FULL after.
	if _, err := d.W.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("demo: orders: %w", err)
	}
	defer func() {
		if _, e := d.W.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); e != nil && err == nil {
			err = fmt.Errorf("demo: orders: %w", e)
		}
	}()
	fc := clock.NewFake(now)
	log := slog.New(slog.DiscardHandler)
	ap := approval.NewService(d, nil, fc, log)
	crmSvc := crm.NewService(crm.Deps{DB: d, Clock: fc, Log: log, Approval: ap})
	inv := inventory.NewService(inventory.Deps{DB: d, Clock: fc, Log: log})
	sopSvc := sop.NewService(sop.Deps{DB: d, Clock: fc, Log: log, CRM: crmSvc})
	tasks := task.NewService(d, nil, fc, log)
	tis := tradein.NewService(tradein.Deps{DB: d, Clock: fc, Log: log, Approval: ap, Tasks: tasks, CRM: crmSvc, SOP: sopSvc})
	salesSvc := sales.NewService(sales.Deps{DB: d, Clock: fc, Log: log, Approval: ap, Tasks: tasks, CRM: crmSvc, Inventory: inv, SOP: sopSvc, TradeIns: tis})
	svc := order.NewService(order.Deps{DB: d, Clock: fc, Log: log, Approval: ap, Tasks: tasks, CRM: crmSvc, Inventory: inv, SOP: sopSvc, Sales: salesSvc})
	env := &demoOrderEnv{fc: fc, now: now, ap: ap, quotes: salesSvc, orders: svc, tasks: tasks, rng: rand.New(rand.NewPCG(20261123, 17))}

	plan, err := demoOrderPlan(ctx, d, now)
	if err != nil {
		return err
	}
	for _, p := range plan {
		if err := env.play(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// demoPlanned is a deal given to a customer, with the car (or model) it is about.
type demoPlanned struct {
	deal              demoDeal
	cust              demoCustomer
	store             orderStore
	model             int64
	color             string
	vehicle           int64 // the car to allocate (car deals)
	tradeIn, tiReady  int64 // the trade-in to credit and when its offer was made
	tiValue           int64 // its credit
	manager, finance  int64
	ownerName, mgrNm  string
	deliveryAt, start time.Time
}

type demoCustomer struct {
	id, store, owner, created, model int64
	ownerName, color                 string
	hasQuote, quoteBusy              bool
	tradeIn, tiReady, tiValue        int64
}

type orderStore struct {
	id, manager, finance, featured int64
	managerName, financeName       string
	models                         []int64          // the store's brand's active models, most cars in stock first
	colors                         map[int64]string // each model's first colour
	msrp                           map[int64]int64
	cars                           map[int64][]demoCar
}

type demoCar struct {
	id    int64
	color string
}

// demoOrderPlan gives every store's deals a customer: for each deal in turn the
// oldest free customer that fits (the demo consultant's for featured deals, one
// with a usable trade-in for trade-in deals, else one without a quote yet), and
// to deals that need a car the oldest in-stock car of the customer's model, or
// of the model with the most cars left.
func demoOrderPlan(ctx context.Context, d *db.DB, now time.Time) ([]demoPlanned, error) {
	nowMs := now.UnixMilli()
	stores, err := orderStores(ctx, d)
	if err != nil {
		return nil, err
	}
	rows, err := d.R.QueryContext(ctx, `SELECT c.id, c.store_id, c.owner_id, u.name, c.created_at, COALESCE(c.model_id, 0), c.color,
		EXISTS (SELECT 1 FROM quote q WHERE q.customer_id = c.id),
		EXISTS (SELECT 1 FROM quote q WHERE q.customer_id = c.id AND q.status IN ('pending_approval', 'approved', 'accepted')),
		COALESCE((SELECT t.id FROM trade_in t WHERE t.customer_id = c.id AND t.status IN ('appraised', 'purchased') AND t.valid_until > ? ORDER BY t.id LIMIT 1), 0),
		COALESCE((SELECT max(t.appraised_at, COALESCE(t.agreed_at, 0)) FROM trade_in t WHERE t.customer_id = c.id AND t.status IN ('appraised', 'purchased') AND t.valid_until > ? ORDER BY t.id LIMIT 1), 0),
		COALESCE((SELECT COALESCE(t.agreed_fen, t.offered_fen) FROM trade_in t WHERE t.customer_id = c.id AND t.status IN ('appraised', 'purchased') AND t.valid_until > ? ORDER BY t.id LIMIT 1), 0)
		FROM customer c JOIN app_user u ON u.id = c.owner_id AND u.status = 'active' JOIN role r ON r.id = u.role_id AND r.code = 'sales'
		JOIN customer_sop s ON s.customer_id = c.id JOIN sop_stage st ON st.id = s.stage_id
		WHERE c.status = 'active' AND st.sys_key IN ('visit', 'quote', 'finance')
		AND NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.customer_id = c.id)
		ORDER BY c.store_id, c.created_at, c.id`, nowMs, nowMs, nowMs)
	if err != nil {
		return nil, fmt.Errorf("demo: order customers: %w", err)
	}
	byStore := map[int64][]demoCustomer{}
	for rows.Next() {
		var c demoCustomer
		if err := rows.Scan(&c.id, &c.store, &c.owner, &c.ownerName, &c.created, &c.model, &c.color, &c.hasQuote, &c.quoteBusy, &c.tradeIn, &c.tiReady, &c.tiValue); err != nil {
			rows.Close()
			return nil, err
		}
		byStore[c.store] = append(byStore[c.store], c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	const dayMs = int64(24 * time.Hour / time.Millisecond)
	var out []demoPlanned
	for _, st := range stores {
		if st.manager == 0 || len(st.models) == 0 {
			continue
		}
		used := map[int64]bool{}
		for i, deal := range demoDeals {
			if deal.stop == stopCancelSigned && st.id != stores[0].id {
				continue
			}
			start := nowMs - int64(deal.days)*dayMs
			fits := func(c demoCustomer, strict bool) bool {
				switch {
				case used[c.id] || c.created >= start-dayMs:
					return false
				case deal.tradeIn:
					return c.tradeIn != 0 && !c.quoteBusy && (!deal.featured || c.owner == st.featured)
				case !strict:
					return !c.quoteBusy
				}
				return !c.hasQuote && (!deal.featured || c.owner == st.featured)
			}
			pick := -1
			for _, strict := range []bool{true, false} {
				for k, c := range byStore[st.id] {
					if fits(c, strict) {
						pick = k
						break
					}
				}
				if pick >= 0 || deal.tradeIn {
					break
				}
			}
			if pick < 0 && deal.tradeIn { // no usable trade-in: the deal goes without one
				deal.tradeIn = false
				for k, c := range byStore[st.id] {
					if fits(c, true) || fits(c, false) {
						pick = k
						break
					}
				}
			}
			if pick < 0 {
				continue
			}
			c := byStore[st.id][pick]
			used[c.id] = true
			p := demoPlanned{deal: deal, cust: c, store: st, manager: st.manager, finance: st.finance, ownerName: c.ownerName, mgrNm: st.managerName,
				start: time.UnixMilli(start)}
			if deal.tradeIn {
				p.tradeIn, p.tiReady, p.tiValue = c.tradeIn, c.tiReady, c.tiValue
				if t := c.tiReady + 3_600_000; t > start {
					p.start = time.UnixMilli(t)
				}
			}
			p.model = c.model
			if _, ok := st.colors[p.model]; !ok {
				p.model = st.models[i%len(st.models)]
			}
			if deal.car {
				if len(st.cars[p.model]) == 0 {
					p.model = 0
					for _, m := range st.models {
						if len(st.cars[m]) > 0 && (p.model == 0 || len(st.cars[m]) > len(st.cars[p.model])) {
							p.model = m
						}
					}
					if p.model == 0 {
						continue // no car left in the store: skip the deal
					}
				}
				car := st.cars[p.model][0]
				st.cars[p.model] = st.cars[p.model][1:]
				p.vehicle, p.color = car.id, car.color
			} else {
				p.color = st.colors[p.model]
				if c.color != "" && c.model == p.model {
					p.color = c.color
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// orderStores are the stores with their sales manager, finance clerk, demo
// consultant, models and in-stock cars (oldest first).
func orderStores(ctx context.Context, d *db.DB) ([]orderStore, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT s.id,
		COALESCE((SELECT m.id FROM app_user m JOIN role r ON r.id = m.role_id WHERE m.store_id = s.id AND r.code = 'sales_manager' AND m.status = 'active' ORDER BY m.id LIMIT 1), 0),
		COALESCE((SELECT m.name FROM app_user m JOIN role r ON r.id = m.role_id WHERE m.store_id = s.id AND r.code = 'sales_manager' AND m.status = 'active' ORDER BY m.id LIMIT 1), ''),
		COALESCE((SELECT m.id FROM app_user m JOIN role r ON r.id = m.role_id WHERE m.store_id = s.id AND r.code = 'finance' AND m.status = 'active' ORDER BY m.id LIMIT 1), 0),
		COALESCE((SELECT m.name FROM app_user m JOIN role r ON r.id = m.role_id WHERE m.store_id = s.id AND r.code = 'finance' AND m.status = 'active' ORDER BY m.id LIMIT 1), ''),
		COALESCE((SELECT m.id FROM app_user m JOIN role r ON r.id = m.role_id WHERE m.store_id = s.id AND r.code = 'sales' AND m.status = 'active'
			ORDER BY m.username = 'sales' DESC, m.id LIMIT 1), 0)
		FROM store s ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("demo: order stores: %w", err)
	}
	var out []orderStore
	for rows.Next() {
		st := orderStore{colors: map[int64]string{}, msrp: map[int64]int64{}, cars: map[int64][]demoCar{}}
		if err := rows.Scan(&st.id, &st.manager, &st.managerName, &st.finance, &st.financeName, &st.featured); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		st := &out[i]
		mrows, err := d.R.QueryContext(ctx, `SELECT m.id, m.msrp, COALESCE((SELECT c.name FROM vehicle_color c WHERE c.model_id = m.id ORDER BY c.id LIMIT 1), '')
			FROM vehicle_model m JOIN vehicle_series se ON se.id = m.series_id JOIN vehicle_brand b ON b.id = se.brand_id JOIN store s ON s.brand = b.name
			WHERE s.id = ? AND m.active = 1 AND se.active = 1 AND b.active = 1 AND m.msrp > 0
			ORDER BY (SELECT count(*) FROM vehicle v WHERE v.store_id = s.id AND v.model_id = m.id AND v.status = 'in_stock') DESC, m.id`, st.id)
		if err != nil {
			return nil, err
		}
		for mrows.Next() {
			var id, msrp int64
			var color string
			if err := mrows.Scan(&id, &msrp, &color); err != nil {
				mrows.Close()
				return nil, err
			}
			st.models = append(st.models, id)
			st.colors[id], st.msrp[id] = color, msrp
		}
		mrows.Close()
		vrows, err := d.R.QueryContext(ctx, `SELECT id, model_id, color FROM vehicle WHERE store_id = ? AND status = 'in_stock' AND cost IS NOT NULL
			ORDER BY arrival_at, id`, st.id)
		if err != nil {
			return nil, err
		}
		for vrows.Next() {
			var c demoCar
			var model int64
			if err := vrows.Scan(&c.id, &model, &c.color); err != nil {
				vrows.Close()
				return nil, err
			}
			if _, ok := st.colors[model]; ok {
				st.cars[model] = append(st.cars[model], c)
			}
		}
		vrows.Close()
	}
	return out, nil
}

// play runs one deal through the services up to its stop.
func (e *demoOrderEnv) play(ctx context.Context, p demoPlanned) error {
	const hour, dayDur = time.Hour, 24 * time.Hour
	deal := p.deal
	consultant := demoActor(p.cust.owner, p.ownerName, p.store.id)
	manager := demoActor(p.manager, p.mgrNm, p.store.id)
	finance := manager
	if p.finance != 0 {
		finance = demoActor(p.finance, p.store.financeName, p.store.id)
	}
	// The story's time unit: a day, shorter when a trade-in offer made it start late.
	gap := dayDur
	if left := e.now.Sub(p.start) / 8; left < gap {
		gap = left
	}
	at := func(units float64) time.Time { return p.start.Add(time.Duration(units * float64(gap))) }
	fail := func(what string, err error) error {
		return fmt.Errorf("demo: %s (customer %d, deal %s): %w", what, p.cust.id, deal.stop, err)
	}

	// The quote: made, (approved,) sent and accepted.
	e.fc.Set(p.start)
	draft := sales.QuoteDraft{CustomerID: p.cust.id, ModelID: p.model, Color: p.color, TradeInID: p.tradeIn, Accessories: []sales.AccessoryInput{}}
	for k := 0; k < 1+e.rng.IntN(2); k++ {
		a := demoAccessories[(int(p.cust.id)+k)%len(demoAccessories)]
		cost := a.cost * 100
		draft.Accessories = append(draft.Accessories, sales.AccessoryInput{Name: a.name, Price: a.price * 100, Cost: &cost})
	}
	if deal.financed {
		draft.Finance = &sales.FinanceInput{DownPaymentBP: []int{3000, 4000, 5000}[e.rng.IntN(3)], Months: []int{24, 36, 36, 60}[e.rng.IntN(4)],
			AnnualRateBP: []int{0, 299, 399}[e.rng.IntN(3)]}
	}
	msrp := p.store.msrp[p.model]
	if deal.overLimit {
		draft.Discount = msrp * 10 / 100 / 10000 * 10000 // 10 %: above the 8 % the consultant may give
	} else {
		draft.Discount = min(msrp*int64(3+e.rng.IntN(4))/100/10000*10000, 1_500_000)
	}
	if p.tiValue > msrp-draft.Discount {
		draft.TradeInID = 0 // worth more than the new car: bought as a separate used-car deal
	}
	if draft.TradeInID != 0 {
		draft.Note = "含二手车置换"
	}
	doc, err := e.quotes.CreateQuote(ctx, consultant, draft)
	if err != nil {
		return fail("quote", err)
	}
	if doc.NeedsApproval {
		e.fc.Set(at(0.2))
		if doc, err = e.quotes.SubmitQuote(ctx, consultant, doc.ID, sales.ActInput{Rev: doc.Rev, Note: "客户诚意足，申请特价"}); err != nil {
			return fail("submit quote", err)
		}
		if doc.ApprovalID == nil {
			return fail("submit quote", fmt.Errorf("no approval"))
		}
		e.fc.Set(at(0.5))
		if _, err := e.ap.Approve(ctx, manager, *doc.ApprovalID, approval.ActInput{Comment: "同意特价，本月冲量"}); err != nil {
			return fail("approve quote", err)
		}
		if doc, err = e.quotes.GetQuote(ctx, consultant, doc.ID); err != nil {
			return fail("quote", err)
		}
	}
	e.fc.Set(at(0.6))
	if doc, err = e.quotes.SendQuote(ctx, consultant, doc.ID, sales.ActInput{Rev: doc.Rev}); err != nil {
		return fail("send quote", err)
	}
	e.fc.Set(at(1))
	if doc, err = e.quotes.AcceptQuote(ctx, consultant, doc.ID, sales.ActInput{Rev: doc.Rev}); err != nil {
		return fail("accept quote", err)
	}

	// The order and its contract.
	e.fc.Set(at(1).Add(hour))
	planned := e.now.Add(time.Duration(5+deal.days) * dayDur).UnixMilli()
	if deal.car {
		planned = at(6).UnixMilli()
	}
	o, err := e.orders.CreateOrder(ctx, consultant, order.CreateInput{QuoteID: doc.ID, PlannedDeliveryAt: &planned})
	if err != nil {
		return fail("order", err)
	}
	if deal.stop == stopDraft {
		return nil
	}
	e.fc.Advance(10 * time.Minute)
	if o, err = e.orders.AddPayment(ctx, consultant, o.ID, order.PaymentInput{Kind: "deposit", Method: []string{"wechat", "card", "alipay", "transfer"}[e.rng.IntN(4)],
		AmountFen: min(int64(5_000+5_000*e.rng.IntN(3))*100, o.BalanceFen), Reference: "定金收据"}); err != nil {
		return fail("deposit", err)
	}
	e.fc.Advance(10 * time.Minute)
	if o, err = e.orders.SubmitContract(ctx, consultant, o.ID, order.VersionInput{}); err != nil {
		return fail("submit contract", err)
	}
	if deal.stop == stopPending || o.ApprovalID == nil {
		return nil
	}
	e.fc.Advance(2 * hour)
	if _, err := e.ap.Approve(ctx, manager, *o.ApprovalID, approval.ActInput{Comment: "同意"}); err != nil {
		return fail("approve contract", err)
	}
	cancel := func(units float64, reason, note string) error {
		e.fc.Set(at(units))
		if o, err = e.orders.Cancel(ctx, manager, o.ID, order.CancelInput{Reason: reason, Note: note}); err != nil {
			return fail("cancel", err)
		}
		e.fc.Set(at(units + 0.5))
		if o.RefundDueFen > 0 {
			if _, err = e.orders.Refund(ctx, finance, o.ID, order.RefundInput{Method: "transfer", AmountFen: o.RefundDueFen, Reason: "订单取消，退还定金"}); err != nil {
				return fail("refund", err)
			}
		}
		return nil
	}
	switch deal.stop {
	case stopSigned:
		return nil
	case stopCancelSigned:
		return cancel(3, "customer_changed_mind", "家人意见不统一，客户决定暂不购车")
	}

	// The car, the PDI, the delivery booked.
	e.fc.Set(at(2))
	if o, err = e.orders.AllocateVehicle(ctx, consultant, o.ID, order.AllocateInput{VehicleID: p.vehicle}); err != nil {
		return fail("allocate", err)
	}
	switch deal.stop {
	case stopAllocated:
		return nil
	case stopCancelAllocated:
		return cancel(4, "finance_refused", "贷款审批未通过，客户暂缓购车")
	}
	e.fc.Set(at(3))
	if o, err = e.orders.SavePDI(ctx, consultant, o.ID, demoPDI(o)); err != nil {
		return fail("PDI", err)
	}
	if deal.stop == stopPDI {
		return nil
	}
	e.fc.Set(at(3).Add(hour))
	delivery := demoDeliveryTime(e.now, deal)
	if deal.stop != stopScheduled {
		d := at(5).In(demoTZ)
		delivery = time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, demoTZ)
	}
	if o, err = e.orders.ScheduleDelivery(ctx, consultant, o.ID, order.ScheduleInput{DeliveryAt: delivery.UnixMilli(), Place: "交车区 " + fmt.Sprint(1+o.ID%3) + " 号"}); err != nil {
		return fail("schedule delivery", err)
	}
	pay := func() error {
		if o.Financed && o.LoanFen > 0 && o.LoanFen <= o.BalanceFen {
			if o, err = e.orders.AddPayment(ctx, consultant, o.ID, order.PaymentInput{Kind: "payment", Method: "loan", AmountFen: o.LoanFen, Reference: "银行放款通知"}); err != nil {
				return fail("loan", err)
			}
		}
		if o.BalanceFen > 0 {
			if o, err = e.orders.AddPayment(ctx, consultant, o.ID, order.PaymentInput{Kind: "payment", Method: "transfer", AmountFen: o.BalanceFen, Reference: "尾款"}); err != nil {
				return fail("balance", err)
			}
		}
		return nil
	}
	if deal.stop == stopScheduled {
		if !deal.tomorrow { // today's delivery: paid in full, ready to hand over
			e.fc.Set(at(4))
			return pay()
		}
		return nil
	}

	// Delivery day: the rest paid, the checklist ticked, the car handed over.
	e.fc.Set(delivery.Add(-3 * hour))
	if err := pay(); err != nil {
		return err
	}
	items := make([]order.DeliveryItem, len(o.DeliveryChecklist))
	for i, it := range o.DeliveryChecklist {
		items[i] = order.DeliveryItem{Key: it.Key, Done: true}
	}
	if o, err = e.orders.SaveChecklist(ctx, consultant, o.ID, order.ChecklistInput{Items: items}); err != nil {
		return fail("checklist", err)
	}
	e.fc.Set(delivery.Add(hour))
	if o, err = e.orders.Deliver(ctx, consultant, o.ID, order.VersionInput{}); err != nil {
		return fail("deliver", err)
	}
	// The callbacks: done by whoever the ladder gave them to.
	notes := []string{"客户对车辆和交车过程满意", "已提醒首保时间，客户用车正常", "客户反馈油耗/续航符合预期，愿意转介绍", "满月回访：无质量问题，已邀约首保"}
	done := deal.callbacks
	if deal.stop == stopClosed {
		done = len(o.Callbacks)
	}
	latest := e.now.Add(-3 * hour)
	for i, cb := range o.Callbacks {
		if i >= done {
			break
		}
		when := time.UnixMilli(cb.DueAt).Add(-3 * hour)
		if when.After(latest) {
			if deal.stop != stopClosed {
				break
			}
			when = latest
		}
		e.fc.Set(when)
		if _, err := e.tasks.Complete(ctx, demoActor(cb.AssigneeID, cb.AssigneeName, p.store.id), cb.TaskID, notes[i%len(notes)]); err != nil {
			return fail("callback", err)
		}
	}
	if deal.stop != stopClosed {
		return nil
	}
	// Finance confirms the money and closes the deal.
	for _, pm := range o.Payments {
		if pm.Status == "recorded" {
			if _, err := e.orders.ConfirmPayment(ctx, finance, o.ID, pm.ID); err != nil {
				return fail("confirm payment", err)
			}
		}
	}
	e.fc.Set(e.now.Add(-2 * hour))
	if _, err := e.orders.Close(ctx, manager, o.ID, order.VersionInput{}); err != nil {
		return fail("close", err)
	}
	return nil
}

// demoDeliveryTime is when a scheduled deal's car is handed over: today at
// 15:00 (Beijing time; later in the day when that has passed) or tomorrow at
// 10:00, so the consultant's workbench shows today's delivery.
func demoDeliveryTime(now time.Time, deal demoDeal) time.Time {
	n := now.In(demoTZ)
	if deal.tomorrow {
		return time.Date(n.Year(), n.Month(), n.Day()+1, 10, 0, 0, 0, demoTZ)
	}
	t := time.Date(n.Year(), n.Month(), n.Day(), 15, 0, 0, 0, demoTZ)
	if later := n.Add(time.Hour).Truncate(30 * time.Minute); t.Before(later) && later.Day() == n.Day() {
		t = later
	}
	return t
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
