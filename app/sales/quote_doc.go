package sales

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Quote statuses (报价状态). A quote within the store's limits goes draft → sent
// → accepted → ordered; one beyond them goes draft → pending_approval →
// approved (or back to draft when rejected or returned) before it can be sent.
// expired (past valid_until) and cancelled end it; an order made from it makes
// it ordered.
const (
	StatusDraft           = "draft"
	StatusPendingApproval = "pending_approval"
	StatusApproved        = "approved"
	StatusSent            = "sent"
	StatusAccepted        = "accepted"
	StatusOrdered         = "ordered"
	StatusExpired         = "expired"
	StatusCancelled       = "cancelled"
)

// QuoteStatuses lists the statuses (list filters).
var QuoteStatuses = []string{StatusDraft, StatusPendingApproval, StatusApproved, StatusSent, StatusAccepted, StatusOrdered, StatusExpired, StatusCancelled}

// AccessoryInput is an accessory/decoration line as entered. Cost is taken
// from the actor only with cost.read; otherwise it comes from the line of the
// same name on the quote before, or from the store's package of that name.
type AccessoryInput struct {
	Name  string `json:"name"`
	Price int64  `json:"price"`
	Cost  *int64 `json:"cost"`
}

// QuoteDraft is what a consultant enters to make or change a quote. Amounts are
// fen. A null insurance, registration or service fee takes the store's default.
type QuoteDraft struct {
	CustomerID      int64            `json:"customerId"` // on create and preview
	ModelID         int64            `json:"modelId"`
	Color           string           `json:"color"`
	Options         []string         `json:"options"` // names of the model's factory options
	Discount        int64            `json:"discount"`
	Accessories     []AccessoryInput `json:"accessories"`
	Insurance       *int64           `json:"insurance"`
	RegistrationFee *int64           `json:"registrationFee"`
	ServiceFee      *int64           `json:"serviceFee"`
	Finance         *FinanceInput    `json:"finance"`
	TradeInID       int64            `json:"tradeInId"`
	Note            string           `json:"note"`
	Rev             int64            `json:"rev"` // on edit: the rev read (stale → 409 conflict.stale)
}

// OptionLine is a factory option on a quote.
type OptionLine struct {
	Name  string `json:"name"`
	Price int64  `json:"price"`
}

// AccessoryLine is an accessory/decoration line of a stored quote; Cost is null
// without cost.read.
type AccessoryLine struct {
	Name  string `json:"name"`
	Price int64  `json:"price"`
	Cost  *int64 `json:"cost"`
}

// QuoteDoc is a quote version as the API shows it. Every amount is fen.
type QuoteDoc struct {
	ID              int64    `json:"id"`
	StoreID         int64    `json:"storeId"`
	CustomerID      int64    `json:"customerId"`
	CustomerName    string   `json:"customerName"`
	CustomerPhone   string   `json:"customerPhone"` // masked
	OwnerID         *int64   `json:"ownerId"`
	OwnerName       string   `json:"ownerName"`
	OwnerPhone      string   `json:"ownerPhone"`
	Number          string   `json:"number"`
	Version         int      `json:"version"`
	Latest          bool     `json:"latest"`
	Status          string   `json:"status"`
	NeedsApproval   bool     `json:"needsApproval"`
	ApprovalReasons []string `json:"approvalReasons"`
	ApprovalStatus  string   `json:"approvalStatus"`
	ApprovalID      *int64   `json:"approvalId"`
	ValidUntil      int64    `json:"validUntil"`

	ModelID    int64        `json:"modelId"`
	ModelLabel string       `json:"modelLabel"`
	EnergyType string       `json:"energyType"`
	Color      string       `json:"color"`
	ColorPrice int64        `json:"colorPrice"`
	Options    []OptionLine `json:"options"`

	Discount        int64           `json:"discount"`
	Accessories     []AccessoryLine `json:"accessories"`
	Insurance       int64           `json:"insurance"`
	RegistrationFee int64           `json:"registrationFee"`
	ServiceFee      int64           `json:"serviceFee"`
	TaxRule         TaxRule         `json:"taxRule"`
	Finance         *FinanceInput   `json:"finance"`
	TradeInID       *int64          `json:"tradeInId"`
	TradeInLabel    string          `json:"tradeInLabel"`

	// Computed is sales.Compute of the inputs: the lines, totals, loan and (with
	// cost.read) the margin. Schedule is the month-by-month loan plan.
	Computed        Quote         `json:"computed"`
	Schedule        []Installment `json:"schedule"`
	TotalCapital    string        `json:"totalCapital"`    // 人民币大写 of the total
	CashNeedCapital string        `json:"cashNeedCapital"` // of the cash need (负… when the store pays)
	// Expected commissions (deal profit), null without cost.read.
	FinanceCommission   *int64 `json:"financeCommission"`
	InsuranceCommission *int64 `json:"insuranceCommission"`

	Note          string `json:"note"`
	Rev           int64  `json:"rev"`
	SentAt        *int64 `json:"sentAt"`
	AcceptedAt    *int64 `json:"acceptedAt"`
	OrderedAt     *int64 `json:"orderedAt"`
	CreatedAt     int64  `json:"createdAt"`
	CreatedByName string `json:"createdByName"`
	UpdatedAt     int64  `json:"updatedAt"`

	// Detail only.
	Versions   []VersionSummary `json:"versions,omitempty"`
	Letterhead *Letterhead      `json:"letterhead,omitempty"`
	StoreName  string           `json:"storeName,omitempty"`
}

// VersionSummary is one version of a quote in the detail's version list.
type VersionSummary struct {
	ID        int64  `json:"id"`
	Version   int    `json:"version"`
	Latest    bool   `json:"latest"`
	Status    string `json:"status"`
	Discount  int64  `json:"discount"`
	Total     int64  `json:"total"`
	CreatedAt int64  `json:"createdAt"`
}

// row is a stored quote version.
type row struct {
	ID, StoreID, CustomerID     int64
	OwnerID                     sql.NullInt64
	Number                      string
	Version                     int
	Latest, NeedsApproval       bool
	Status, Reasons, ApprStatus string
	ApprovalID                  sql.NullInt64
	ValidUntil, ModelID         int64
	ModelLabel, EnergyType      string
	Color                       string
	ColorPrice                  int64
	Options                     string
	MSRP, Discount, ColorSurch  int64
	Accessories                 string
	Insurance, RegFee, ServFee  int64
	TaxRule                     string
	Finance                     sql.NullString
	TradeInID                   sql.NullInt64
	TradeInLabel                string
	TradeIn, VehicleCost        int64
	Total, CashNeed, MonthlyPay int64
	DownPayment, AmountFinanced int64
	Months, RateBP              int
	PurchaseTax, AccessoryPrice int64
	AccessoryCost, VehiclePrice int64
	GrossMarginBP               int
	FinanceComm, InsuranceComm  int64
	Note                        string
	Rev                         int64
	SentAt, AcceptedAt, Ordered sql.NullInt64
	CreatedAt, UpdatedAt        int64
	CreatedBy                   sql.NullInt64
}

const rowCols = `q.id, q.store_id, q.customer_id, q.owner_id, q.number, q.version, q.latest, q.needs_approval, q.status, q.approval_reasons,
	q.approval_status, q.approval_id, q.valid_until, q.model_id, q.model_label, q.energy_type, q.color, q.color_price, q.options,
	q.msrp, q.discount, q.color_surcharge, q.accessories, q.insurance, q.registration_fee, q.service_fee, q.tax_rule, q.finance,
	q.trade_in_id, q.trade_in_label, q.trade_in, q.vehicle_cost, q.total, q.cash_need, q.monthly_payment, q.down_payment,
	q.amount_financed, q.months, q.rate_bp, q.purchase_tax, q.accessory_price, q.accessory_cost, q.vehicle_price, q.gross_margin_bp,
	q.finance_commission, q.insurance_commission, q.note, q.rev, q.sent_at, q.accepted_at, q.ordered_at, q.created_at, q.updated_at, q.created_by`

type scanner interface{ Scan(...any) error }

func scanRow(sc scanner) (row, error) {
	var r row
	err := sc.Scan(&r.ID, &r.StoreID, &r.CustomerID, &r.OwnerID, &r.Number, &r.Version, &r.Latest, &r.NeedsApproval, &r.Status, &r.Reasons,
		&r.ApprStatus, &r.ApprovalID, &r.ValidUntil, &r.ModelID, &r.ModelLabel, &r.EnergyType, &r.Color, &r.ColorPrice, &r.Options,
		&r.MSRP, &r.Discount, &r.ColorSurch, &r.Accessories, &r.Insurance, &r.RegFee, &r.ServFee, &r.TaxRule, &r.Finance,
		&r.TradeInID, &r.TradeInLabel, &r.TradeIn, &r.VehicleCost, &r.Total, &r.CashNeed, &r.MonthlyPay, &r.DownPayment,
		&r.AmountFinanced, &r.Months, &r.RateBP, &r.PurchaseTax, &r.AccessoryPrice, &r.AccessoryCost, &r.VehiclePrice, &r.GrossMarginBP,
		&r.FinanceComm, &r.InsuranceComm, &r.Note, &r.Rev, &r.SentAt, &r.AcceptedAt, &r.Ordered, &r.CreatedAt, &r.UpdatedAt, &r.CreatedBy)
	return r, err
}

// loadRow reads a quote version; not_found when there is none.
func loadRow(ctx context.Context, q db.Querier, id int64) (row, error) {
	r, err := scanRow(q.QueryRowContext(ctx, `SELECT `+rowCols+` FROM quote q WHERE q.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return r, fmt.Errorf("sales: quote %d: %w", id, err)
	}
	return r, nil
}

// input rebuilds the sales.Compute input of a stored version.
func (r row) input() (QuoteInput, []AccessoryLine, error) {
	in := QuoteInput{MSRP: Fen(r.MSRP), Discount: Fen(r.Discount), ColorSurcharge: Fen(r.ColorSurch), Insurance: Fen(r.Insurance),
		RegistrationFee: Fen(r.RegFee), OtherFees: Fen(r.ServFee), TradeIn: Fen(r.TradeIn), VehicleCost: Fen(r.VehicleCost)}
	var acc []AccessoryLine
	if err := json.Unmarshal([]byte(r.Accessories), &acc); err != nil {
		return in, nil, fmt.Errorf("sales: quote %d accessories: %w", r.ID, err)
	}
	for _, a := range acc {
		in.Accessories = append(in.Accessories, Accessory{Name: a.Name, Price: Fen(a.Price), Cost: Fen(deref(a.Cost))})
	}
	if err := json.Unmarshal([]byte(r.TaxRule), &in.TaxRule); err != nil {
		return in, nil, fmt.Errorf("sales: quote %d tax rule: %w", r.ID, err)
	}
	if r.Finance.Valid {
		in.Finance = &FinanceInput{}
		if err := json.Unmarshal([]byte(r.Finance.String), in.Finance); err != nil {
			return in, nil, fmt.Errorf("sales: quote %d finance: %w", r.ID, err)
		}
	}
	return in, acc, nil
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

func nullable(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

// doc turns a stored version into the API shape, re-pricing it with Compute
// (the stored totals are what Compute gave when it was saved; the same inputs
// give the same figures). Cost figures only with cost.read.
func (r row) doc(a auth.Actor) (QuoteDoc, error) {
	in, acc, err := r.input()
	if err != nil {
		return QuoteDoc{}, err
	}
	comp, err := Compute(in)
	if err != nil {
		return QuoteDoc{}, fmt.Errorf("sales: quote %d does not price: %w", r.ID, err)
	}
	d := QuoteDoc{ID: r.ID, StoreID: r.StoreID, CustomerID: r.CustomerID, OwnerID: nullable(r.OwnerID), Number: r.Number, Version: r.Version,
		Latest: r.Latest, Status: r.Status, NeedsApproval: r.NeedsApproval, ApprovalStatus: r.ApprStatus, ApprovalID: nullable(r.ApprovalID),
		ValidUntil: r.ValidUntil, ModelID: r.ModelID, ModelLabel: r.ModelLabel, EnergyType: r.EnergyType, Color: r.Color, ColorPrice: r.ColorPrice,
		Discount: r.Discount, Accessories: acc, Insurance: r.Insurance, RegistrationFee: r.RegFee, ServiceFee: r.ServFee, TaxRule: in.TaxRule,
		Finance: in.Finance, TradeInID: nullable(r.TradeInID), TradeInLabel: r.TradeInLabel, Computed: comp,
		TotalCapital: CapitalYuan(comp.Total), CashNeedCapital: CapitalYuan(comp.CashNeed), Note: r.Note, Rev: r.Rev,
		SentAt: nullable(r.SentAt), AcceptedAt: nullable(r.AcceptedAt), OrderedAt: nullable(r.Ordered), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Reasons), &d.ApprovalReasons); err != nil || d.ApprovalReasons == nil {
		d.ApprovalReasons = []string{}
	}
	if err := json.Unmarshal([]byte(r.Options), &d.Options); err != nil || d.Options == nil {
		d.Options = []OptionLine{}
	}
	if d.Accessories == nil {
		d.Accessories = []AccessoryLine{}
	}
	if comp.Financed {
		d.Schedule = Schedule(comp.AmountFinanced, comp.AnnualRateBP, comp.Months)
	}
	if d.Schedule == nil {
		d.Schedule = []Installment{}
	}
	if a.Has(auth.PermCostRead) {
		d.FinanceCommission, d.InsuranceCommission = &r.FinanceComm, &r.InsuranceComm
	} else {
		d.Computed = hideCost(d.Computed)
		for i := range d.Accessories {
			d.Accessories[i].Cost = nil
		}
	}
	return d, nil
}

// hideCost clears the deal-profit figures of a computed quote.
func hideCost(q Quote) Quote {
	q.CostKnown, q.VehicleCost, q.AccessoryCost, q.GrossProfit, q.GrossMarginBP = false, 0, 0, 0, 0
	return q
}

// record is the quote's place for permission checks: its customer's.
func customerRecord(ctx context.Context, q db.Querier, customerID int64) (auth.Record, string, error) {
	var owner, dept sql.NullInt64
	var rec auth.Record
	var status string
	err := q.QueryRowContext(ctx, `SELECT store_id, owner_id, department_id, status FROM customer WHERE id = ?`, customerID).Scan(&rec.StoreID, &owner, &dept, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, "", apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return rec, "", fmt.Errorf("sales: customer %d: %w", customerID, err)
	}
	rec.OwnerID, rec.DepartmentID = owner.Int64, dept.Int64
	return rec, status, nil
}

// China time: quote numbers and validity days follow the calendar of the stores.
var chinaTZ = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// endOfDay returns the last millisecond of the China calendar day days after t.
func endOfDay(t time.Time, days int) int64 {
	d := t.In(chinaTZ).AddDate(0, 0, days)
	end := time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 999_000_000, chinaTZ)
	return end.UnixMilli()
}

// nextNumber takes the next quote number of the store's day inside tx: one
// UPSERT on quote_sequence, so two transactions can never get the same one.
func nextNumber(ctx context.Context, tx *sql.Tx, storeID int64, now time.Time) (string, error) {
	var code string
	if err := tx.QueryRowContext(ctx, `SELECT code FROM store WHERE id = ?`, storeID).Scan(&code); err != nil {
		return "", fmt.Errorf("sales: store %d code: %w", storeID, err)
	}
	day := now.In(chinaTZ).Format("20060102")
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO quote_sequence (store_id, day, last) VALUES (?, ?, 1)
		ON CONFLICT (store_id, day) DO UPDATE SET last = last + 1 RETURNING last`, storeID, day).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("sales: quote number: %w", err)
	}
	return fmt.Sprintf("%s-Q-%s-%04d", strings.ToUpper(code), day, n), nil
}

// Normalize trims the texts of a draft.
func (d *QuoteDraft) Normalize() {
	d.Color, d.Note = strings.TrimSpace(d.Color), strings.TrimSpace(d.Note)
	for i := range d.Accessories {
		d.Accessories[i].Name = strings.TrimSpace(d.Accessories[i].Name)
	}
	for i := range d.Options {
		d.Options[i] = strings.TrimSpace(d.Options[i])
	}
}

// Validate checks the parts of a draft Compute does not see.
func (d *QuoteDraft) Validate(create bool) error {
	f := apperr.Fields{}
	if create && d.CustomerID <= 0 {
		f.Add("customerId", "required")
	}
	if d.ModelID <= 0 {
		f.Add("modelId", "required")
	}
	if d.Discount < 0 || d.Discount > int64(MaxAmount) {
		f.Add("discount", "quote.amount_range")
	}
	for name, p := range map[string]*int64{"insurance": d.Insurance, "registrationFee": d.RegistrationFee, "serviceFee": d.ServiceFee} {
		if p != nil && (*p < 0 || *p > int64(MaxAmount)) {
			f.Add(name, "quote.amount_range")
		}
	}
	if utf8.RuneCountInString(d.Note) > 1000 {
		f.Add("note", "too_long", "max", 1000)
	}
	if d.TradeInID < 0 {
		f.Add("tradeInId", "invalid_format")
	}
	for i, a := range d.Accessories {
		if a.Cost != nil && (*a.Cost < 0 || *a.Cost > int64(MaxAmount)) {
			f.Add("accessories."+strconv.Itoa(i)+".cost", "quote.amount_range")
		}
	}
	return f.Err()
}
