package sales

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/pii"
	"dealerdesk/app/timeline"
)

func (s *Service) now() int64 { return s.d.Clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: "quote",
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

func (s *Service) afterCommit() {
	if s.d.Notify != nil {
		s.d.Notify.Wake()
	}
	if s.d.Approval != nil {
		s.d.Approval.Wake()
	}
}

func conflict(code string) error { return apperr.New(apperr.Conflict, code) }

// resolved is a draft priced against the catalogue, the store's settings and the
// trade-in: what a quote version stores.
type resolved struct {
	in           QuoteInput
	comp         Quote
	modelLabel   string
	energyType   string
	colorPrice   int64
	options      []OptionLine
	acc          []AccessoryLine
	tradeInID    *int64
	tradeInLabel string
	needs        bool
	reasons      []string
	finComm      int64
	insComm      int64
}

// resolve prices a draft for a store: the model's MSRP, colour surcharge and
// options from the catalogue, the store's defaults for fees left empty, its tax
// rule and limits, the trade-in credit, and the store's average cost of the
// model in stock (for the margin). prevAcc are the accessory lines of the
// version being edited (their costs are kept for actors without cost.read).
func (s *Service) resolve(ctx context.Context, q db.Querier, a auth.Actor, d QuoteDraft, storeID, customerID int64, st QuoteSettings, prevAcc []AccessoryLine) (resolved, error) {
	var r resolved
	var name, series, brand string
	var year int
	var msrp int64
	var active bool
	err := q.QueryRowContext(ctx, `SELECT m.name, m.model_year, m.msrp, m.energy_type, m.active AND s.active AND b.active, s.name, b.name
		FROM vehicle_model m JOIN vehicle_series s ON s.id = m.series_id JOIN vehicle_brand b ON b.id = s.brand_id WHERE m.id = ?`, d.ModelID).
		Scan(&name, &year, &msrp, &r.energyType, &active, &series, &brand)
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.Field("modelId", "quote.model_unknown")
	} else if err != nil {
		return r, fmt.Errorf("sales: model %d: %w", d.ModelID, err)
	}
	if !active {
		return r, apperr.Field("modelId", "quote.model_retired")
	}
	r.modelLabel = fmt.Sprintf("%s %s %d款 %s", brand, series, year, name)
	f := apperr.Fields{}
	if d.Color != "" {
		err := q.QueryRowContext(ctx, `SELECT surcharge FROM vehicle_color WHERE model_id = ? AND name = ?`, d.ModelID, d.Color).Scan(&r.colorPrice)
		if errors.Is(err, sql.ErrNoRows) {
			f.Add("color", "quote.color_unknown")
		} else if err != nil {
			return r, fmt.Errorf("sales: colour: %w", err)
		}
	}
	var optionCost int64
	optionCostKnown := true
	seen := map[string]bool{}
	r.options = []OptionLine{}
	for i, o := range d.Options {
		if o == "" || seen[o] {
			continue
		}
		seen[o] = true
		var price int64
		var cost sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT price, cost FROM vehicle_option WHERE model_id = ? AND name = ?`, d.ModelID, o).Scan(&price, &cost)
		if errors.Is(err, sql.ErrNoRows) {
			f.Add("options."+strconv.Itoa(i), "quote.option_unknown")
			continue
		} else if err != nil {
			return r, fmt.Errorf("sales: option: %w", err)
		}
		r.options = append(r.options, OptionLine{Name: o, Price: price})
		optionCost += cost.Int64
		optionCostKnown = optionCostKnown && (cost.Valid || price == 0)
	}
	if err := f.Err(); err != nil {
		return r, err
	}
	surcharge := r.colorPrice
	for _, o := range r.options {
		surcharge += o.Price
	}

	// Accessory costs: the actor's with cost.read, else what was stored before
	// under that name, else the store's package of that name.
	prevCost := map[string]*int64{}
	for _, p := range prevAcc {
		prevCost[p.Name] = p.Cost
	}
	for _, p := range st.Packages {
		if _, ok := prevCost[p.Name]; !ok {
			prevCost[p.Name] = p.Cost
		}
	}
	r.acc = []AccessoryLine{}
	r.in.Accessories = []Accessory{}
	for _, x := range d.Accessories {
		cost := x.Cost
		if !a.Has(auth.PermCostRead) || cost == nil {
			cost = prevCost[x.Name]
		}
		if cost != nil {
			c := *cost
			cost = &c
		}
		r.acc = append(r.acc, AccessoryLine{Name: x.Name, Price: x.Price, Cost: cost})
		r.in.Accessories = append(r.in.Accessories, Accessory{Name: x.Name, Price: Fen(x.Price), Cost: Fen(deref(cost))})
	}

	r.in.MSRP, r.in.Discount, r.in.ColorSurcharge = Fen(msrp), Fen(d.Discount), Fen(surcharge)
	vehiclePrice := max(msrp-d.Discount+surcharge, 0)
	if d.Insurance != nil {
		r.in.Insurance = Fen(*d.Insurance)
	} else {
		// The estimate rounds to whole yuan, as an insurer's quote would.
		r.in.Insurance = Fen(mulDivHalfUp(vehiclePrice, int64(st.InsuranceRateBP), 10000*100) * 100)
	}
	r.in.RegistrationFee = Fen(st.RegistrationFee)
	if d.RegistrationFee != nil {
		r.in.RegistrationFee = Fen(*d.RegistrationFee)
	}
	r.in.OtherFees = Fen(st.ServiceFee)
	if d.ServiceFee != nil {
		r.in.OtherFees = Fen(*d.ServiceFee)
	}
	r.in.TaxRule = st.TaxRule(r.energyType, s.d.Clock.Now())
	r.in.Finance = d.Finance

	if d.TradeInID > 0 {
		if customerID == 0 {
			return r, apperr.Field("customerId", "required")
		}
		if s.d.TradeIns != nil {
			c, err := s.d.TradeIns.ForQuote(ctx, q, a, d.TradeInID, customerID)
			if err != nil {
				return r, err
			}
			r.in.TradeIn = Fen(c.ValueFen)
			r.tradeInLabel = c.Label
		}
		id := d.TradeInID
		r.tradeInID = &id
	}

	// The margin needs the car's cost: the average of the store's cars of this
	// model in stock or on the way (integer fen, rounded half up).
	var sum, n int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(sum(cost), 0), count(*) FROM vehicle WHERE store_id = ? AND model_id = ?
		AND status IN ('ordered', 'in_transit', 'in_stock', 'reserved') AND cost IS NOT NULL`, storeID, d.ModelID).Scan(&sum, &n); err != nil {
		return r, fmt.Errorf("sales: model cost: %w", err)
	}
	if n > 0 && optionCostKnown {
		r.in.VehicleCost = Fen(mulDivHalfUp(sum, 1, n) + optionCost)
	}

	comp, err := Compute(r.in)
	if err != nil {
		return r, err
	}
	r.comp = comp
	r.needs, r.reasons = DiscountCheck(comp, st.Limits())
	if r.reasons == nil {
		r.reasons = []string{}
	}
	r.finComm = mulDivHalfUp(int64(comp.AmountFinanced), int64(st.FinanceCommBP), 10000)
	r.insComm = mulDivHalfUp(int64(r.in.Insurance), int64(st.InsuranceCommBP), 10000)
	return r, nil
}

// Preview is a draft priced by the server, for the live totals of the form.
type Preview struct {
	Computed        Quote         `json:"computed"`
	Schedule        []Installment `json:"schedule"`
	NeedsApproval   bool          `json:"needsApproval"`
	ApprovalReasons []string      `json:"approvalReasons"`
	TotalCapital    string        `json:"totalCapital"`
	// The values the server used for the fields the form left empty.
	Insurance       int64        `json:"insurance"`
	RegistrationFee int64        `json:"registrationFee"`
	ServiceFee      int64        `json:"serviceFee"`
	ColorPrice      int64        `json:"colorPrice"`
	Options         []OptionLine `json:"options"`
	TaxRule         TaxRule      `json:"taxRule"`
	TradeInLabel    string       `json:"tradeInLabel"`
	ModelLabel      string       `json:"modelLabel"`
	Limits          Limits       `json:"limits"`
}

// PreviewQuote prices a draft without saving it (sales.write): with the
// customer's store settings when customerId is given, else the actor's store.
func (s *Service) PreviewQuote(ctx context.Context, a auth.Actor, d QuoteDraft, quoteID int64) (Preview, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Preview{}, err
	}
	d.Normalize()
	if err := d.Validate(false); err != nil {
		return Preview{}, err
	}
	storeID := a.StoreID
	var prevAcc []AccessoryLine
	if quoteID > 0 {
		r, err := s.readRow(ctx, s.d.DB.R, a, quoteID)
		if err != nil {
			return Preview{}, err
		}
		_, prevAcc, _ = r.input()
		d.CustomerID, storeID = r.CustomerID, r.StoreID
	} else if d.CustomerID > 0 {
		c, err := s.d.CRM.Readable(ctx, s.d.DB.R, a, d.CustomerID)
		if err != nil {
			return Preview{}, err
		}
		storeID = c.StoreID
	}
	st, err := LoadQuoteSettings(ctx, s.d.DB.R, storeID)
	if err != nil {
		return Preview{}, err
	}
	r, err := s.resolve(ctx, s.d.DB.R, a, d, storeID, d.CustomerID, st, prevAcc)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Computed: r.comp, NeedsApproval: r.needs, ApprovalReasons: r.reasons, TotalCapital: CapitalYuan(r.comp.Total),
		Insurance: int64(r.in.Insurance), RegistrationFee: int64(r.in.RegistrationFee), ServiceFee: int64(r.in.OtherFees),
		ColorPrice: r.colorPrice, Options: r.options, TaxRule: r.in.TaxRule, TradeInLabel: r.tradeInLabel, ModelLabel: r.modelLabel,
		Limits: st.Limits()}
	if r.comp.Financed {
		p.Schedule = Schedule(r.comp.AmountFinanced, r.comp.AnnualRateBP, r.comp.Months)
	}
	if p.Schedule == nil {
		p.Schedule = []Installment{}
	}
	if !a.Has(auth.PermCostRead) {
		p.Computed = hideCost(p.Computed)
	}
	return p, nil
}

// versionMeta is what a stored version has besides its figures.
type versionMeta struct {
	storeID, customerID int64
	ownerID             *int64
	number              string
	version             int
	validUntil          int64
	color, note         string
	modelID             int64
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// insertVersion writes a new latest version.
func (s *Service) insertVersion(ctx context.Context, tx *sql.Tx, a auth.Actor, m versionMeta, r resolved) (int64, error) {
	now := s.now()
	var fin any
	if r.in.Finance != nil {
		fin = jsonText(r.in.Finance)
	}
	c := r.comp
	var financeFee int64
	if r.in.Finance != nil {
		financeFee = int64(r.in.Finance.Fee)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO quote (store_id, customer_id, owner_id, number, version, latest, status, needs_approval,
		approval_reasons, valid_until, model_id, model_label, energy_type, color, color_price, options, msrp, discount, color_surcharge,
		accessories, insurance, registration_fee, service_fee, tax_rule, finance, trade_in_id, trade_in_label, trade_in, vehicle_cost,
		vehicle_price, accessory_price, accessory_cost, purchase_tax, purchase_tax_relief, total, cash_need, financed, down_payment,
		amount_financed, months, rate_bp, monthly_payment, total_interest, finance_fee, gross_profit, gross_margin_bp,
		finance_commission, insurance_commission, note, created_at, created_by, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, 1, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
		?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.storeID, m.customerID, m.ownerID, m.number, m.version, r.needs, jsonText(r.reasons), m.validUntil, m.modelID, r.modelLabel,
		r.energyType, m.color, r.colorPrice, jsonText(r.options), c.MSRP, c.Discount, r.in.ColorSurcharge, jsonText(r.acc), r.in.Insurance,
		r.in.RegistrationFee, r.in.OtherFees, jsonText(r.in.TaxRule), fin, r.tradeInID, r.tradeInLabel, r.in.TradeIn, r.in.VehicleCost,
		c.VehiclePrice, c.AccessoryPrice, c.AccessoryCost, c.PurchaseTax, c.PurchaseTaxRelief, c.Total, c.CashNeed, c.Financed, c.DownPayment,
		c.AmountFinanced, c.Months, c.AnnualRateBP, c.MonthlyPayment, c.TotalInterest, financeFee, c.GrossProfit, c.GrossMarginBP,
		r.finComm, r.insComm, m.note, now, userID(a), now, userID(a))
	if err != nil {
		if db.IsUnique(err) {
			return 0, conflict("conflict.stale")
		}
		return 0, fmt.Errorf("sales: insert quote: %w", err)
	}
	return res.LastInsertId()
}

func userID(a auth.Actor) any {
	if a.UserID == 0 {
		return nil
	}
	return a.UserID
}

// CreateQuote makes a quote for a customer (sales.write and customer.write in
// scope): numbered per store and day, priced by Compute, checked against the
// store's limits. The customer moves to the quote stage (and finance with a loan).
func (s *Service) CreateQuote(ctx context.Context, a auth.Actor, d QuoteDraft) (QuoteDoc, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return QuoteDoc{}, err
	}
	d.Normalize()
	if err := d.Validate(true); err != nil {
		return QuoteDoc{}, err
	}
	var id int64
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.d.CRM.Writable(ctx, tx, a, d.CustomerID)
		if err != nil {
			if apperr.KindOf(err) == apperr.NotFound {
				return apperr.Field("customerId", "quote.customer_unknown")
			}
			return err
		}
		if c.Status != "active" {
			return conflict("quote.customer_inactive")
		}
		st, err := LoadQuoteSettings(ctx, tx, c.StoreID)
		if err != nil {
			return err
		}
		r, err := s.resolve(ctx, tx, a, d, c.StoreID, c.ID, st, nil)
		if err != nil {
			return err
		}
		now := s.d.Clock.Now()
		number, err := nextNumber(ctx, tx, c.StoreID, now)
		if err != nil {
			return err
		}
		m := versionMeta{storeID: c.StoreID, customerID: c.ID, ownerID: ownerOf(c.OwnerID, a), number: number, version: 1,
			validUntil: endOfDay(now, st.ValidityDays), color: d.Color, note: d.Note, modelID: d.ModelID}
		if id, err = s.insertVersion(ctx, tx, a, m, r); err != nil {
			return err
		}
		if err := s.event(ctx, tx, a, c.ID, c.StoreID, id, "quote.created", map[string]any{"number": number, "version": 1,
			"model": r.modelLabel, "total": int64(r.comp.Total), "needsApproval": r.needs}); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "create", id, c.StoreID, nil, map[string]any{"number": number, "input": d, "total": r.comp.Total}); err != nil {
			return err
		}
		return s.advance(ctx, tx, c.ID, r.comp.Financed)
	})
	if err != nil {
		return QuoteDoc{}, err
	}
	s.afterCommit()
	return s.GetQuote(ctx, a, id)
}

func ownerOf(owner int64, a auth.Actor) *int64 {
	if owner != 0 {
		return &owner
	}
	if a.UserID != 0 {
		id := a.UserID
		return &id
	}
	return nil
}

// advance moves the customer to the quote stage, and the finance stage when the
// quote has a loan (never backward).
func (s *Service) advance(ctx context.Context, tx *sql.Tx, customerID int64, financed bool) error {
	if s.d.SOP == nil {
		return nil
	}
	if err := s.d.SOP.AdvanceTx(ctx, tx, customerID, "quote"); err != nil {
		return err
	}
	if financed {
		return s.d.SOP.AdvanceTx(ctx, tx, customerID, "finance")
	}
	return nil
}

func (s *Service) event(ctx context.Context, q db.Querier, a auth.Actor, customerID, storeID, quoteID int64, kind string, data map[string]any) error {
	return timeline.Append(ctx, q, timeline.Event{CustomerID: customerID, StoreID: storeID, At: s.now(), Kind: kind,
		Entity: "quote", EntityID: quoteID, Data: data}.By(a))
}

// writableRow loads a quote the actor may change: sales.write and customer.write
// on its customer in scope.
func (s *Service) writableRow(ctx context.Context, q db.Querier, a auth.Actor, id int64) (row, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return row{}, err
	}
	r, err := loadRow(ctx, q, id)
	if err != nil {
		return r, err
	}
	c, err := s.d.CRM.Writable(ctx, q, a, r.CustomerID)
	if err != nil {
		return r, err
	}
	if c.Status != "active" {
		return r, conflict("quote.customer_inactive")
	}
	return r, nil
}

// readRow loads a quote the actor may read (customer.read on its customer).
func (s *Service) readRow(ctx context.Context, q db.Querier, a auth.Actor, id int64) (row, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return row{}, err
	}
	r, err := loadRow(ctx, q, id)
	if err != nil {
		return r, err
	}
	rec, _, err := customerRecord(ctx, q, r.CustomerID)
	if err != nil {
		return r, err
	}
	return r, auth.Check(a, auth.PermCustomerRead, rec)
}

// UpdateQuote changes a quote. A draft (also one rejected or sent back) is
// changed in place; an approved, sent, accepted or expired one gets a new
// version (the old one stays readable, no longer latest) that starts as a
// draft and needs approval again when over the limits. The rev read must be
// the current one (409 conflict.stale).
func (s *Service) UpdateQuote(ctx context.Context, a auth.Actor, id int64, d QuoteDraft) (QuoteDoc, error) {
	d.Normalize()
	if err := d.Validate(false); err != nil {
		return QuoteDoc{}, err
	}
	outID := id
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := s.writableRow(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := editable(old, d.Rev); err != nil {
			return err
		}
		st, err := LoadQuoteSettings(ctx, tx, old.StoreID)
		if err != nil {
			return err
		}
		_, prevAcc, err := old.input()
		if err != nil {
			return err
		}
		r, err := s.resolve(ctx, tx, a, d, old.StoreID, old.CustomerID, st, prevAcc)
		if err != nil {
			return err
		}
		before, _ := old.doc(auth.System("audit"))
		if old.Status == StatusDraft {
			if err := s.rewriteDraft(ctx, tx, a, old, d, r); err != nil {
				return err
			}
			return s.audit(ctx, tx, a, "update", id, old.StoreID, before.auditView(), map[string]any{"input": d, "total": r.comp.Total})
		}
		// A new version: the old one stops being latest in the same transaction.
		res, err := tx.ExecContext(ctx, `UPDATE quote SET latest = 0, rev = rev + 1, updated_at = ?, updated_by = ? WHERE id = ? AND rev = ? AND latest = 1`,
			s.now(), userID(a), id, old.Rev)
		if err != nil {
			return fmt.Errorf("sales: supersede quote %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("conflict.stale")
		}
		m := versionMeta{storeID: old.StoreID, customerID: old.CustomerID, ownerID: nullable(old.OwnerID), number: old.Number,
			version: old.Version + 1, validUntil: endOfDay(s.d.Clock.Now(), st.ValidityDays), color: d.Color, note: d.Note, modelID: d.ModelID}
		if outID, err = s.insertVersion(ctx, tx, a, m, r); err != nil {
			return err
		}
		if err := s.event(ctx, tx, a, old.CustomerID, old.StoreID, outID, "quote.revised", map[string]any{"number": old.Number,
			"version": m.version, "model": r.modelLabel, "total": int64(r.comp.Total), "needsApproval": r.needs}); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "revise", outID, old.StoreID, before.auditView(), map[string]any{"input": d, "version": m.version, "total": r.comp.Total}); err != nil {
			return err
		}
		return s.advance(ctx, tx, old.CustomerID, r.comp.Financed)
	})
	if err != nil {
		return QuoteDoc{}, err
	}
	s.afterCommit()
	return s.GetQuote(ctx, a, outID)
}

// editable refuses changes to a quote that is not the latest, stale, waiting
// for approval, ordered or cancelled.
func editable(r row, rev int64) error {
	if !r.Latest {
		return conflict("quote.superseded")
	}
	if rev != r.Rev {
		return conflict("conflict.stale")
	}
	switch r.Status {
	case StatusPendingApproval:
		return conflict("quote.approval_pending")
	case StatusOrdered:
		return conflict("quote.already_ordered")
	case StatusCancelled:
		return conflict("quote.cancelled")
	}
	return nil
}

// rewriteDraft replaces the figures of a draft in place (rev checked).
func (s *Service) rewriteDraft(ctx context.Context, tx *sql.Tx, a auth.Actor, old row, d QuoteDraft, r resolved) error {
	var fin any
	var financeFee int64
	if r.in.Finance != nil {
		fin, financeFee = jsonText(r.in.Finance), int64(r.in.Finance.Fee)
	}
	c := r.comp
	res, err := tx.ExecContext(ctx, `UPDATE quote SET needs_approval = ?, approval_reasons = ?, approval_status = '', model_id = ?, model_label = ?,
		energy_type = ?, color = ?, color_price = ?, options = ?, msrp = ?, discount = ?, color_surcharge = ?, accessories = ?, insurance = ?,
		registration_fee = ?, service_fee = ?, tax_rule = ?, finance = ?, trade_in_id = ?, trade_in_label = ?, trade_in = ?, vehicle_cost = ?,
		vehicle_price = ?, accessory_price = ?, accessory_cost = ?, purchase_tax = ?, purchase_tax_relief = ?, total = ?, cash_need = ?,
		financed = ?, down_payment = ?, amount_financed = ?, months = ?, rate_bp = ?, monthly_payment = ?, total_interest = ?, finance_fee = ?,
		gross_profit = ?, gross_margin_bp = ?, finance_commission = ?, insurance_commission = ?, note = ?, rev = rev + 1, updated_at = ?, updated_by = ?
		WHERE id = ? AND rev = ? AND status = 'draft' AND latest = 1`,
		r.needs, jsonText(r.reasons), d.ModelID, r.modelLabel, r.energyType, d.Color, r.colorPrice, jsonText(r.options), c.MSRP, c.Discount,
		r.in.ColorSurcharge, jsonText(r.acc), r.in.Insurance, r.in.RegistrationFee, r.in.OtherFees, jsonText(r.in.TaxRule), fin, r.tradeInID,
		r.tradeInLabel, r.in.TradeIn, r.in.VehicleCost, c.VehiclePrice, c.AccessoryPrice, c.AccessoryCost, c.PurchaseTax, c.PurchaseTaxRelief,
		c.Total, c.CashNeed, c.Financed, c.DownPayment, c.AmountFinanced, c.Months, c.AnnualRateBP, c.MonthlyPayment, c.TotalInterest,
		financeFee, c.GrossProfit, c.GrossMarginBP, r.finComm, r.insComm, d.Note, s.now(), userID(a), old.ID, old.Rev)
	if err != nil {
		return fmt.Errorf("sales: update quote %d: %w", old.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("conflict.stale")
	}
	return nil
}

// auditView is the part of a quote the audit log keeps as "before".
func (d QuoteDoc) auditView() map[string]any {
	return map[string]any{"number": d.Number, "version": d.Version, "status": d.Status, "modelId": d.ModelID, "color": d.Color,
		"discount": d.Discount, "total": int64(d.Computed.Total), "rev": d.Rev}
}

// ActInput is a status action on a quote: the rev read, and a note (the reason
// of a cancellation).
type ActInput struct {
	Rev  int64  `json:"rev"`
	Note string `json:"note"`
}

// act runs a status change on the latest version of a quote with the rev the
// user read: check decides whether the move is allowed and returns the UPDATE's
// SET part; the UPDATE is conditional on the status and rev it saw.
func (s *Service) act(ctx context.Context, a auth.Actor, id int64, in ActInput, action string,
	check func(r row, now int64) (to string, err error), after func(tx *sql.Tx, r row) error) (QuoteDoc, error) {
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		r, err := s.writableRow(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if !r.Latest {
			return conflict("quote.superseded")
		}
		if in.Rev != r.Rev {
			return conflict("conflict.stale")
		}
		now := s.now()
		to, err := check(r, now)
		if err != nil {
			return err
		}
		set, args := ``, []any{to, now, userID(a)}
		switch to {
		case StatusSent:
			set, args = `, sent_at = ?`, append(args, now)
		case StatusAccepted:
			set, args = `, accepted_at = ?`, append(args, now)
		case StatusPendingApproval:
			set = `, approval_status = 'pending', approval_id = NULL`
		}
		res, err := tx.ExecContext(ctx, `UPDATE quote SET status = ?, rev = rev + 1, updated_at = ?, updated_by = ?`+set+
			` WHERE id = ? AND rev = ? AND status = ?`, append(args, id, r.Rev, r.Status)...)
		if err != nil {
			return fmt.Errorf("sales: %s quote %d: %w", action, id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("conflict.stale")
		}
		if after != nil {
			if err := after(tx, r); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, action, id, r.StoreID, map[string]any{"status": r.Status, "rev": r.Rev}, map[string]any{"status": to, "note": in.Note})
	})
	if err != nil {
		return QuoteDoc{}, err
	}
	s.afterCommit()
	return s.GetQuote(ctx, a, id)
}

// stepEvent is the after step of act that puts the status change on the
// customer's timeline: kind, the quote's number and version, and one more
// field (the total, or the user's note).
func (s *Service) stepEvent(ctx context.Context, a auth.Actor, kind string, field func(r row) (string, any)) func(tx *sql.Tx, r row) error {
	return func(tx *sql.Tx, r row) error {
		k, v := field(r)
		return s.event(ctx, tx, a, r.CustomerID, r.StoreID, r.ID, kind, map[string]any{"number": r.Number, "version": r.Version, k: v})
	}
}

// approvalBlock is the error of a quote over the limits that is not approved.
func approvalBlock(r row) error {
	switch {
	case r.Status == StatusPendingApproval:
		return conflict("quote.approval_pending")
	case r.ApprStatus == "rejected":
		return conflict("quote.approval_rejected")
	}
	return conflict("quote.needs_approval")
}

func expired(r row, now int64) bool { return r.ValidUntil < now }

// SubmitQuote starts the approval of a draft over the store's limits (one
// pending approval per quote; the routing rules see discountFen, discountPct,
// marginPct …). The approval's decision moves the quote on (quoteDecided).
func (s *Service) SubmitQuote(ctx context.Context, a auth.Actor, id int64, in ActInput) (QuoteDoc, error) {
	return s.act(ctx, a, id, in, "submit", func(r row, now int64) (string, error) {
		switch {
		case r.Status == StatusPendingApproval:
			return "", conflict("quote.approval_pending")
		case r.Status != StatusDraft:
			return "", conflict("quote.not_draft")
		case !r.NeedsApproval:
			return "", conflict("quote.approval_not_needed")
		case expired(r, now):
			return "", conflict("quote.expired")
		}
		return StatusPendingApproval, nil
	}, func(tx *sql.Tx, r row) error {
		if s.d.Approval == nil {
			return fmt.Errorf("sales: no approval engine")
		}
		inst, err := s.d.Approval.Submit(ctx, tx, a, QuoteDocType, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE quote SET approval_id = ? WHERE id = ?`, inst.ID, id)
		return err
	})
}

// SendQuote issues a quote to the customer: a draft within the limits, or an
// approved one.
func (s *Service) SendQuote(ctx context.Context, a auth.Actor, id int64, in ActInput) (QuoteDoc, error) {
	return s.act(ctx, a, id, in, "send", func(r row, now int64) (string, error) {
		switch {
		case r.Status == StatusApproved || (r.Status == StatusDraft && !r.NeedsApproval):
		case r.Status == StatusDraft || r.Status == StatusPendingApproval:
			return "", approvalBlock(r)
		case r.Status == StatusSent:
			return "", conflict("quote.already_sent")
		default:
			return "", conflict("quote.not_draft")
		}
		if expired(r, now) {
			return "", conflict("quote.expired")
		}
		return StatusSent, nil
	}, s.stepEvent(ctx, a, "quote.sent", func(r row) (string, any) { return "total", r.Total }))
}

// AcceptQuote records that the customer agrees to a sent (or approved) quote:
// it can now become an order.
func (s *Service) AcceptQuote(ctx context.Context, a auth.Actor, id int64, in ActInput) (QuoteDoc, error) {
	return s.act(ctx, a, id, in, "accept", func(r row, now int64) (string, error) {
		switch {
		case r.Status == StatusSent || r.Status == StatusApproved:
		case r.Status == StatusDraft && !r.NeedsApproval:
			return "", conflict("quote.not_sent")
		case r.Status == StatusDraft || r.Status == StatusPendingApproval:
			return "", approvalBlock(r)
		case r.Status == StatusAccepted:
			return "", conflict("quote.already_accepted")
		case r.Status == StatusOrdered:
			return "", conflict("quote.already_ordered")
		default:
			return "", conflict("quote.not_sent")
		}
		if expired(r, now) {
			return "", conflict("quote.expired")
		}
		return StatusAccepted, nil
	}, s.stepEvent(ctx, a, "quote.accepted", func(r row) (string, any) { return "total", r.Total }))
}

// CancelQuote ends a quote (not while its approval runs, nor once ordered).
func (s *Service) CancelQuote(ctx context.Context, a auth.Actor, id int64, in ActInput) (QuoteDoc, error) {
	return s.act(ctx, a, id, in, "cancel", func(r row, now int64) (string, error) {
		switch r.Status {
		case StatusPendingApproval:
			return "", conflict("quote.approval_pending")
		case StatusOrdered:
			return "", conflict("quote.already_ordered")
		case StatusCancelled:
			return "", conflict("quote.cancelled")
		}
		return StatusCancelled, nil
	}, s.stepEvent(ctx, a, "quote.cancelled", func(row) (string, any) { return "note", in.Note }))
}

// GetQuote returns a quote version with its versions, the customer and
// consultant and the store's letterhead (customer.read on its customer).
func (s *Service) GetQuote(ctx context.Context, a auth.Actor, id int64) (QuoteDoc, error) {
	q := s.d.DB.R
	r, err := s.readRow(ctx, q, a, id)
	if err != nil {
		return QuoteDoc{}, err
	}
	d, err := r.doc(a)
	if err != nil {
		return d, err
	}
	var phone string
	if err := q.QueryRowContext(ctx, `SELECT name, phone FROM customer WHERE id = ?`, r.CustomerID).Scan(&d.CustomerName, &phone); err != nil {
		return d, fmt.Errorf("sales: customer: %w", err)
	}
	d.CustomerPhone = pii.MaskPhone(phone)
	if r.OwnerID.Valid {
		var p sql.NullString
		if err := q.QueryRowContext(ctx, `SELECT name, phone FROM app_user WHERE id = ?`, r.OwnerID.Int64).Scan(&d.OwnerName, &p); err != nil {
			return d, fmt.Errorf("sales: owner: %w", err)
		}
		d.OwnerPhone = p.String
	}
	if r.CreatedBy.Valid {
		_ = q.QueryRowContext(ctx, `SELECT name FROM app_user WHERE id = ?`, r.CreatedBy.Int64).Scan(&d.CreatedByName)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, version, latest, status, discount, total, created_at FROM quote WHERE number = ? ORDER BY version DESC`, r.Number)
	if err != nil {
		return d, fmt.Errorf("sales: versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v VersionSummary
		if err := rows.Scan(&v.ID, &v.Version, &v.Latest, &v.Status, &v.Discount, &v.Total, &v.CreatedAt); err != nil {
			return d, err
		}
		d.Versions = append(d.Versions, v)
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	st, err := LoadQuoteSettings(ctx, q, r.StoreID)
	if err != nil {
		return d, err
	}
	d.Letterhead = &st.Letterhead
	_ = q.QueryRowContext(ctx, `SELECT name FROM store WHERE id = ?`, r.StoreID).Scan(&d.StoreName)
	return d, nil
}

// ExpireQuotes ends the quotes still open (draft, approved, sent) past their
// valid-until, each with a timeline entry. Accepted quotes wait for their order.
func (s *Service) ExpireQuotes(ctx context.Context) (int, error) {
	now := s.now()
	ids, err := db.IDs(ctx, s.d.DB.R, `SELECT id FROM quote WHERE status IN ('draft', 'approved', 'sent') AND valid_until < ? ORDER BY id LIMIT 1000`, now)
	if err != nil {
		return 0, fmt.Errorf("sales: expiry scan: %w", err)
	}
	sys := auth.System("system")
	n := 0
	for _, id := range ids {
		err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
			r, err := loadRow(ctx, tx, id)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE quote SET status = 'expired', rev = rev + 1, updated_at = ?, updated_by = NULL
				WHERE id = ? AND status IN ('draft', 'approved', 'sent') AND valid_until < ?`, now, id, now)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil
			}
			n++
			if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: r.CustomerID, StoreID: r.StoreID, At: now, Kind: "quote.expired",
				Entity: "quote", EntityID: id, Data: map[string]any{"number": r.Number, "version": r.Version}}); err != nil {
				return err
			}
			return s.audit(ctx, tx, sys, "expire", id, r.StoreID, map[string]any{"status": r.Status}, map[string]any{"status": StatusExpired})
		})
		if err != nil {
			return n, fmt.Errorf("sales: expire quote %d: %w", id, err)
		}
	}
	if n > 0 {
		s.afterCommit()
	}
	return n, nil
}

// The expiry job runs every few minutes: validity is counted in days.
const jobEveryExpiry = 5 * time.Minute
