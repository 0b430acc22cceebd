package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/sales"
	"dealerdesk/app/timeline"
)

// The statuses of an order, in their order.
const (
	StatusDraft             = "draft"              // 草稿: made from the quote, not yet submitted
	StatusPendingApproval   = "pending_approval"   // 待审批: the contract is in approval
	StatusSigned            = "signed"             // 已签约
	StatusVINAllocated      = "vin_allocated"      // 已配车
	StatusPDIDone           = "pdi_done"           // PDI已完成
	StatusDeliveryScheduled = "delivery_scheduled" // 已约交车
	StatusDelivered         = "delivered"          // 已交车
	StatusClosed            = "closed"             // 已结案 (callbacks done)
	StatusCancelled         = "cancelled"          // 已取消
)

// Statuses lists every status in process order.
var Statuses = []string{StatusDraft, StatusPendingApproval, StatusSigned, StatusVINAllocated, StatusPDIDone, StatusDeliveryScheduled,
	StatusDelivered, StatusClosed, StatusCancelled}

// signedOrLater are the statuses of a signed contract that is not cancelled.
var signedOrLater = []string{StatusSigned, StatusVINAllocated, StatusPDIDone, StatusDeliveryScheduled, StatusDelivered, StatusClosed}

// Order is a sales order (订单) with its contract (合同).
type Order struct {
	ID           int64  `json:"id"`
	StoreID      int64  `json:"storeId"`
	StoreName    string `json:"storeName"`
	StoreCode    string `json:"storeCode"`
	Letterhead   string `json:"letterhead"`
	StoreAddress string `json:"storeAddress"`
	StorePhone   string `json:"storePhone"`
	CustomerID   int64  `json:"customerId"`
	CustomerName string `json:"customerName"`
	OwnerID      int64  `json:"ownerId"`
	OwnerName    string `json:"ownerName"`
	ContractNo   string `json:"contractNo"`
	Status       string `json:"status"`
	QuoteID      int64  `json:"quoteId"`
	QuoteNo      string `json:"quoteNo"`
	QuoteVersion int    `json:"quoteVersion"`
	ModelID      int64  `json:"modelId"`
	ModelName    string `json:"modelName"` // series and model
	BrandName    string `json:"brandName"`
	Color        string `json:"color"`

	MSRPFen            int64  `json:"msrpFen"`
	VehiclePriceFen    int64  `json:"vehiclePriceFen"`
	DiscountFen        int64  `json:"discountFen"`
	AccessoriesFen     int64  `json:"accessoriesFen"`
	AccessoriesCostFen *int64 `json:"accessoriesCostFen,omitempty"` // cost.read only
	InsuranceFen       int64  `json:"insuranceFen"`
	RegistrationFen    int64  `json:"registrationFen"`
	PurchaseTaxFen     int64  `json:"purchaseTaxFen"`
	ServiceFeeFen      int64  `json:"serviceFeeFen"`
	TradeInFen         int64  `json:"tradeInFen"`
	TradeInID          *int64 `json:"tradeInId"`
	TotalFen           int64  `json:"totalFen"`
	TotalCapital       string `json:"totalCapital"` // 人民币大写

	Financed       bool  `json:"financed"`
	DownPaymentFen int64 `json:"downPaymentFen"`
	LoanFen        int64 `json:"loanFen"`
	TermMonths     int   `json:"termMonths"`
	RateBP         int64 `json:"rateBp"`
	MonthlyFen     int64 `json:"monthlyFen"`

	// Deal profit inputs: cost.read only.
	FinanceCommissionFen   *int64 `json:"financeCommissionFen,omitempty"`
	InsuranceCommissionFen *int64 `json:"insuranceCommissionFen,omitempty"`
	RebateFen              *int64 `json:"rebateFen,omitempty"`
	CostHidden             bool   `json:"costHidden"`

	ReceivableFen int64 `json:"receivableFen"` // what the store collects: total − trade-in credit (the loan comes as a "loan" payment)
	PaidFen       int64 `json:"paidFen"`
	BalanceFen    int64 `json:"balanceFen"`   // receivable − paid; 0 once cancelled
	RefundDueFen  int64 `json:"refundDueFen"` // money to return to the customer (a cancelled order's payments)

	PlannedDeliveryAt *int64 `json:"plannedDeliveryAt"`
	ApprovalID        *int64 `json:"approvalId"`
	SignedAt          *int64 `json:"signedAt"`

	VehicleID    *int64 `json:"vehicleId"`
	VIN          string `json:"vin"`
	VINAt        *int64 `json:"vinAt"`
	VehicleColor string `json:"vehicleColor"`

	PDI       []PDIItem `json:"pdi"`
	PDIAt     *int64    `json:"pdiAt"`
	PDIByName string    `json:"pdiByName"`

	DeliveryAt        *int64         `json:"deliveryAt"`
	DeliveryPlace     string         `json:"deliveryPlace"`
	DeliveryChecklist []DeliveryItem `json:"deliveryChecklist"`
	DeliveredAt       *int64         `json:"deliveredAt"`
	DeliveredByName   string         `json:"deliveredByName"`
	ClosedAt          *int64         `json:"closedAt"`

	CancelReason string `json:"cancelReason"`
	CancelNote   string `json:"cancelNote"`
	CancelledAt  *int64 `json:"cancelledAt"`

	Note      string `json:"note"`
	Version   int64  `json:"version"`
	CreatedAt int64  `json:"createdAt"`
	UpdatedAt int64  `json:"updatedAt"`

	// The detail page's parts (GetOrder only).
	Payments  []Payment  `json:"payments,omitempty"`
	Callbacks []Callback `json:"callbacks,omitempty"`
	Warnings  []string   `json:"warnings,omitempty"` // e.g. order.color_mismatch after an allocation

	customerRec auth.Record
	costRaw     costFields
}

// costFields are the cost-side numbers kept whatever the reader may see.
type costFields struct {
	accessoriesCost, financeCommission, insuranceCommission int64
	rebate                                                  *int64
}

// PDIItem is one line of the PDI checklist: state "" (not checked), ok or issue.
type PDIItem struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	State string `json:"state"`
	Note  string `json:"note"`
}

// DeliveryItem is one line of the delivery checklist (交车).
type DeliveryItem struct {
	Key      string `json:"key"`
	Label    string `json:"label"`
	Required bool   `json:"required"`
	Done     bool   `json:"done"`
}

// Callback is a task of the after-delivery callback ladder.
type Callback struct {
	TaskID       int64  `json:"taskId"`
	Title        string `json:"title"`
	AssigneeID   int64  `json:"assigneeId"`
	AssigneeName string `json:"assigneeName"`
	DueAt        int64  `json:"dueAt"`
	Status       string `json:"status"`
	DoneAt       *int64 `json:"doneAt"`
	Note         string `json:"note"`
}

const orderCols = `o.id, o.store_id, st.name, st.code, st.letterhead, st.address, st.phone, o.customer_id, c.name, o.owner_id, COALESCE(u.name, ''),
	o.contract_no, o.status, o.quote_id, o.quote_no, o.quote_version, o.model_id, COALESCE(vs.name || ' ' || vm.name, ''), COALESCE(vb.name, ''), o.color,
	o.msrp, o.vehicle_price, o.discount, o.accessories, o.accessories_cost, o.insurance, o.registration, o.purchase_tax, o.service_fee, o.trade_in, o.trade_in_id, o.total,
	o.financed, o.down_payment, o.loan, o.term_months, o.rate_bp, o.monthly, o.finance_commission, o.insurance_commission, o.rebate, o.paid,
	o.planned_delivery_at, o.approval_id, o.signed_at, o.vehicle_id, o.vin, o.vin_at, COALESCE(v.color, ''), o.pdi, o.pdi_at, COALESCE(pu.name, ''),
	o.delivery_at, o.delivery_place, o.delivery_checklist, o.delivered_at, COALESCE(du.name, ''), o.closed_at, o.cancel_reason, o.cancel_note, o.cancelled_at,
	o.note, o.version, o.created_at, o.updated_at, c.store_id, COALESCE(c.owner_id, 0), COALESCE(c.department_id, 0)`

const orderFrom = ` FROM sales_order o JOIN store st ON st.id = o.store_id JOIN customer c ON c.id = o.customer_id
	LEFT JOIN app_user u ON u.id = o.owner_id LEFT JOIN vehicle_model vm ON vm.id = o.model_id LEFT JOIN vehicle_series vs ON vs.id = vm.series_id
	LEFT JOIN vehicle_brand vb ON vb.id = vs.brand_id LEFT JOIN vehicle v ON v.id = o.vehicle_id
	LEFT JOIN app_user pu ON pu.id = o.pdi_by LEFT JOIN app_user du ON du.id = o.delivered_by`

func scanOrder(sc interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var tradeIn, planned, approval, signed, vehicle, vinAt, pdiAt, deliveryAt, deliveredAt, closedAt, cancelledAt, rebate sql.NullInt64
	var financed int
	var pdi, checklist string
	err := sc.Scan(&o.ID, &o.StoreID, &o.StoreName, &o.StoreCode, &o.Letterhead, &o.StoreAddress, &o.StorePhone, &o.CustomerID, &o.CustomerName, &o.OwnerID, &o.OwnerName,
		&o.ContractNo, &o.Status, &o.QuoteID, &o.QuoteNo, &o.QuoteVersion, &o.ModelID, &o.ModelName, &o.BrandName, &o.Color,
		&o.MSRPFen, &o.VehiclePriceFen, &o.DiscountFen, &o.AccessoriesFen, &o.costRaw.accessoriesCost, &o.InsuranceFen, &o.RegistrationFen, &o.PurchaseTaxFen,
		&o.ServiceFeeFen, &o.TradeInFen, &tradeIn, &o.TotalFen,
		&financed, &o.DownPaymentFen, &o.LoanFen, &o.TermMonths, &o.RateBP, &o.MonthlyFen, &o.costRaw.financeCommission, &o.costRaw.insuranceCommission, &rebate, &o.PaidFen,
		&planned, &approval, &signed, &vehicle, &o.VIN, &vinAt, &o.VehicleColor, &pdi, &pdiAt, &o.PDIByName,
		&deliveryAt, &o.DeliveryPlace, &checklist, &deliveredAt, &o.DeliveredByName, &closedAt, &o.CancelReason, &o.CancelNote, &cancelledAt,
		&o.Note, &o.Version, &o.CreatedAt, &o.UpdatedAt, &o.customerRec.StoreID, &o.customerRec.OwnerID, &o.customerRec.DepartmentID)
	if err != nil {
		return o, err
	}
	o.Financed = financed == 1
	o.TradeInID, o.PlannedDeliveryAt, o.ApprovalID, o.SignedAt, o.VehicleID = ptr(tradeIn), ptr(planned), ptr(approval), ptr(signed), ptr(vehicle)
	o.VINAt, o.PDIAt, o.DeliveryAt, o.DeliveredAt, o.ClosedAt, o.CancelledAt = ptr(vinAt), ptr(pdiAt), ptr(deliveryAt), ptr(deliveredAt), ptr(closedAt), ptr(cancelledAt)
	o.costRaw.rebate = ptr(rebate)
	o.PDI, o.DeliveryChecklist = []PDIItem{}, []DeliveryItem{}
	if err := json.Unmarshal([]byte(pdi), &o.PDI); err != nil {
		return o, fmt.Errorf("order: pdi of %d: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(checklist), &o.DeliveryChecklist); err != nil {
		return o, fmt.Errorf("order: checklist of %d: %w", o.ID, err)
	}
	o.TotalCapital = sales.CapitalYuan(sales.Fen(o.TotalFen))
	o.ReceivableFen = max(o.TotalFen-o.TradeInFen, 0)
	if o.Status == StatusCancelled {
		o.RefundDueFen = o.PaidFen
	} else {
		o.BalanceFen = o.ReceivableFen - o.PaidFen
	}
	return o, nil
}

// finish hides what the reader may not see.
func (o *Order) finish(a auth.Actor) {
	if a.Has(auth.PermCostRead) {
		ac, fc, ic := o.costRaw.accessoriesCost, o.costRaw.financeCommission, o.costRaw.insuranceCommission
		o.AccessoriesCostFen, o.FinanceCommissionFen, o.InsuranceCommissionFen, o.RebateFen = &ac, &fc, &ic, o.costRaw.rebate
		return
	}
	o.CostHidden = true
}

func ptr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	x := v.Int64
	return &x
}

func nullable(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func loadOrder(ctx context.Context, q db.Querier, id int64) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderCols+orderFrom+` WHERE o.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return o, fmt.Errorf("order: load %d: %w", id, err)
	}
	return o, nil
}

// readable loads an order whose customer the actor may read. Without
// customer.read at all (e.g. the parts clerk reaching the profit route with
// cost.read) the order is simply not found.
func (s *Service) readable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Order, error) {
	o, err := loadOrder(ctx, q, id)
	if err != nil {
		return o, err
	}
	if !auth.Can(a, auth.PermCustomerRead, o.customerRec) {
		return Order{}, apperr.New(apperr.NotFound, "not_found")
	}
	return o, nil
}

// writable loads an order the actor may change as a salesperson: sales.write
// and customer.write in scope of its customer.
func (s *Service) writable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	o, err := s.readable(ctx, q, a, id)
	if err != nil {
		return o, err
	}
	if s.d.CRM != nil {
		if _, err := s.d.CRM.Writable(ctx, q, a, o.CustomerID); err != nil {
			return Order{}, err
		}
	} else if err := auth.Check(a, auth.PermCustomerWrite, o.customerRec); err != nil {
		return Order{}, err
	}
	return o, nil
}

// financeAccess loads an order for finance work: finance.write and the
// customer in read scope.
func (s *Service) financeAccess(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Order, error) {
	if err := auth.Require(a, auth.PermFinanceWrite); err != nil {
		return Order{}, err
	}
	return s.readable(ctx, q, a, id)
}

// loader reads an order for a change and checks the actor's right to make it
// (writable for sales work, financeAccess for finance work).
type loader func(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Order, error)

// update runs change on the order, read with load, in one write transaction;
// once committed it wakes what the write produced (notifications, search
// marks, approval messages) and returns the order as the actor now sees it.
func (s *Service) update(ctx context.Context, a auth.Actor, id int64, load loader, change func(tx *sql.Tx, o Order) error) (Order, error) {
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		o, err := load(ctx, tx, a, id)
		if err != nil {
			return err
		}
		return change(tx, o)
	})
	if err != nil {
		return Order{}, err
	}
	s.afterCommit()
	return s.GetOrder(ctx, a, id)
}

// fresh refuses a change made on a stale copy: version is the one the client
// read (0: not sent).
func fresh(o Order, version int64) error {
	if version != 0 && version != o.Version {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

// GetOrder returns an order with its payments and callbacks.
func (s *Service) GetOrder(ctx context.Context, a auth.Actor, id int64) (Order, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return Order{}, err
	}
	o, err := s.readable(ctx, s.d.DB.R, a, id)
	if err != nil {
		return o, err
	}
	return s.detail(ctx, s.d.DB.R, a, o)
}

func (s *Service) detail(ctx context.Context, q db.Querier, a auth.Actor, o Order) (Order, error) {
	var err error
	if o.Payments, err = loadPayments(ctx, q, o.ID); err != nil {
		return o, err
	}
	if o.Callbacks, err = loadCallbacks(ctx, q, o.ID); err != nil {
		return o, err
	}
	o.finish(a)
	return o, nil
}

// CreateInput makes an order from an accepted quote.
type CreateInput struct {
	QuoteID           int64  `json:"quoteId"`
	PlannedDeliveryAt *int64 `json:"plannedDeliveryAt"` // the delivery date promised in the contract (ms)
	Note              string `json:"note"`
}

// Validate checks the shape.
func (in *CreateInput) Validate(now int64) error {
	in.Note = strings.TrimSpace(in.Note)
	f := apperr.Fields{}
	if in.QuoteID <= 0 {
		f.Add("quoteId", "required")
	}
	if in.PlannedDeliveryAt != nil && (*in.PlannedDeliveryAt < now-day || *in.PlannedDeliveryAt > now+365*day) {
		f.Add("plannedDeliveryAt", "order.date_range")
	}
	limitText(f, "note", in.Note, 500)
	return f.Err()
}

const day = int64(24 * time.Hour / time.Millisecond)

func limitText(f apperr.Fields, field, v string, max int) {
	if len([]rune(v)) > max {
		f.Add(field, "too_long", "max", max)
	}
}

// CreateOrder makes an order (a draft contract) from an accepted quote in one
// transaction: the quote is taken (it becomes "ordered" and cannot make a
// second order), the contract number is drawn from the store's sequence, and
// the quote's figures are copied and frozen.
func (s *Service) CreateOrder(ctx context.Context, a auth.Actor, in CreateInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	now := s.now()
	if err := in.Validate(now); err != nil {
		return Order{}, err
	}
	var id int64
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		if s.d.Sales == nil {
			return apperr.Field("quoteId", "order.quote_unknown")
		}
		qt, err := s.d.Sales.TakeQuoteTx(ctx, tx, a, in.QuoteID)
		if err != nil {
			return err
		}
		if qt.QuoteID == 0 || qt.CustomerID == 0 {
			return apperr.Field("quoteId", "order.quote_unknown")
		}
		if qt.TradeInID != 0 {
			if err := tradeInUsable(ctx, tx, qt.TradeInID, now); err != nil {
				return err
			}
		}
		// A trade-in credited above the total would leave the store owing the
		// customer money no order figure carries: the credit must be lowered on
		// the quote and the rest paid out as a separate trade-in purchase.
		if qt.TradeInFen > qt.TotalFen {
			return apperr.New(apperr.Conflict, "order.tradein_exceeds_total")
		}
		cust, err := s.d.CRM.Writable(ctx, tx, a, qt.CustomerID)
		if err != nil {
			return err
		}
		owner := qt.OwnerID
		if owner == 0 {
			owner = cust.OwnerID
		}
		if owner == 0 {
			owner = a.UserID
		}
		var dept sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT department_id FROM app_user WHERE id = ?`, owner).Scan(&dept); err != nil {
			return fmt.Errorf("order: consultant %d: %w", owner, err)
		}
		st, err := LoadSettings(ctx, tx, cust.StoreID)
		if err != nil {
			return err
		}
		no, err := nextNumber(ctx, tx, cust.StoreID, st.NumberFormat, s.d.Clock.Now())
		if err != nil {
			return err
		}
		fin := 0
		if qt.Financed {
			fin = 1
		}
		var planned any
		if in.PlannedDeliveryAt != nil {
			planned = *in.PlannedDeliveryAt
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO sales_order (store_id, customer_id, owner_id, department_id, contract_no, status, quote_id, quote_no, quote_version,
			model_id, color, msrp, vehicle_price, discount, accessories, accessories_cost, insurance, registration, purchase_tax, service_fee, trade_in, trade_in_id, total,
			financed, down_payment, loan, term_months, rate_bp, monthly, finance_commission, insurance_commission, planned_delivery_at, note,
			created_at, created_by, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			cust.StoreID, cust.ID, owner, dept, no, qt.QuoteID, qt.Number, qt.Version,
			qt.ModelID, qt.ColorName, qt.MSRPFen, qt.VehiclePriceFen, qt.DiscountFen, qt.AccessoriesFen, qt.AccessoriesCostFen, qt.InsuranceFen, qt.RegistrationFen,
			qt.PurchaseTaxFen, qt.ServiceFeeFen, qt.TradeInFen, nullable(qt.TradeInID), qt.TotalFen,
			fin, qt.DownPaymentFen, qt.LoanFen, qt.TermMonths, qt.RateBP, qt.MonthlyFen, qt.FinanceCommissionFen, qt.InsuranceCommissionFen, planned, in.Note,
			now, nullable(a.UserID), now, nullable(a.UserID))
		if err != nil {
			if db.IsUnique(err) {
				return apperr.New(apperr.Conflict, "order.quote_has_order")
			}
			return fmt.Errorf("order: insert: %w", err)
		}
		if id, err = r.LastInsertId(); err != nil {
			return err
		}
		o, err := loadOrder(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "create", id, o.StoreID, nil, auditView(o)); err != nil {
			return err
		}
		if err := findex.Mark(ctx, tx, searchKind, id); err != nil {
			return err
		}
		return s.event(ctx, tx, a, o, "order.created", map[string]any{"contractNo": no, "model": o.ModelName, "totalFen": o.TotalFen, "quoteNo": qt.Number})
	})
	if err != nil {
		return Order{}, err
	}
	s.afterCommit()
	return s.GetOrder(ctx, a, id)
}

// tradeInUsable checks, in the order's transaction, that the trade-in the
// quote credits still stands: purchased, or appraised with the offer still
// valid (not cancelled, declined or expired since the quote), and not credited
// already by another live order — one used car pays towards one new car. The
// writer's BEGIN IMMEDIATE serialises two orders racing for it.
func tradeInUsable(ctx context.Context, tx *sql.Tx, tradeInID, now int64) error {
	var status string
	var validUntil sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT status, valid_until FROM trade_in WHERE id = ?`, tradeInID).Scan(&status, &validUntil)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("order: trade-in %d: %w", tradeInID, err)
	}
	if err != nil || !(status == "purchased" || (status == "appraised" && validUntil.Valid && validUntil.Int64 > now)) {
		e := apperr.New(apperr.Conflict, "order.tradein_unavailable")
		e.Details = map[string]any{"tradeInId": tradeInID, "status": status}
		return e
	}
	var used bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sales_order WHERE trade_in_id = ? AND status <> 'cancelled')`, tradeInID).Scan(&used); err != nil {
		return fmt.Errorf("order: trade-in %d in use: %w", tradeInID, err)
	}
	if used {
		e := apperr.New(apperr.Conflict, "order.tradein_used")
		e.Details = map[string]any{"tradeInId": tradeInID}
		return e
	}
	return nil
}

// auditView is what the audit log keeps of an order (no cost figures).
func auditView(o Order) map[string]any {
	m := map[string]any{"contractNo": o.ContractNo, "status": o.Status, "customerId": o.CustomerID, "ownerId": o.OwnerID, "quoteId": o.QuoteID,
		"totalFen": o.TotalFen, "vehiclePriceFen": o.VehiclePriceFen, "paidFen": o.PaidFen, "version": o.Version}
	if o.VehicleID != nil {
		m["vehicleId"], m["vin"] = *o.VehicleID, o.VIN
	}
	if o.PlannedDeliveryAt != nil {
		m["plannedDeliveryAt"] = *o.PlannedDeliveryAt
	}
	if o.DeliveryAt != nil {
		m["deliveryAt"] = *o.DeliveryAt
	}
	return m
}

// event appends an order event to the customer's timeline.
func (s *Service) event(ctx context.Context, tx db.Querier, a auth.Actor, o Order, kind string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	if _, ok := data["contractNo"]; !ok {
		data["contractNo"] = o.ContractNo
	}
	return timeline.Append(ctx, tx, timeline.Event{CustomerID: o.CustomerID, StoreID: o.StoreID, At: s.now(), Kind: kind, Entity: "order", EntityID: o.ID, Data: data}.By(a))
}

// move changes an order's status from one of from to `to` with extra column
// values, on the condition that it is still in the status and version read
// (BEGIN IMMEDIATE serialises writers; the version catches a request made from
// a stale page). version 0 in the request skips the page check.
func (s *Service) move(ctx context.Context, tx db.Querier, a auth.Actor, o Order, reqVersion int64, from []string, to string, set map[string]any) (Order, error) {
	if reqVersion != 0 && reqVersion != o.Version {
		return o, apperr.New(apperr.Conflict, "conflict.stale")
	}
	if !contains(from, o.Status) {
		return o, wrongStatus(o.Status)
	}
	cols := []string{"status = ?", "version = version + 1", "updated_at = ?", "updated_by = ?"}
	args := []any{to, s.now(), nullable(a.UserID)}
	for _, k := range sortedKeys(set) {
		cols = append(cols, k+" = ?")
		args = append(args, set[k])
	}
	args = append(args, o.ID, o.Status, o.Version)
	r, err := tx.ExecContext(ctx, `UPDATE sales_order SET `+strings.Join(cols, ", ")+` WHERE id = ? AND status = ? AND version = ?`, args...)
	if err != nil {
		if db.IsUnique(err) {
			return o, apperr.New(apperr.Conflict, "order.vin_taken")
		}
		return o, fmt.Errorf("order: move %d to %s: %w", o.ID, to, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return o, apperr.New(apperr.Conflict, "conflict.stale")
	}
	after, err := loadOrder(ctx, tx, o.ID)
	if err != nil {
		return after, err
	}
	if err := findex.Mark(ctx, tx, searchKind, o.ID); err != nil {
		return after, err
	}
	action := "status"
	if to == o.Status {
		action = "update"
	}
	return after, s.audit(ctx, tx, a, action, o.ID, o.StoreID, auditView(o), auditView(after))
}

// wrongStatus is the 409 for an action the order's status does not allow.
func wrongStatus(status string) error {
	e := apperr.New(apperr.Conflict, "order.wrong_status")
	e.Details = map[string]any{"status": status}
	return e
}

func contains(set []string, v string) bool {
	for _, x := range set {
		if x == v {
			return true
		}
	}
	return false
}

// CustomerOrders lists a customer's orders (the customer page's tab).
func (s *Service) CustomerOrders(ctx context.Context, a auth.Actor, customerID int64) ([]Order, error) {
	if _, err := s.d.CRM.Readable(ctx, s.d.DB.R, a, customerID); err != nil {
		return nil, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT `+orderCols+orderFrom+` WHERE o.customer_id = ? ORDER BY o.id DESC LIMIT 100`, customerID)
	if err != nil {
		return nil, fmt.Errorf("order: customer %d orders: %w", customerID, err)
	}
	defer rows.Close()
	out := []Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		o.finish(a)
		out = append(out, o)
	}
	return out, rows.Err()
}

// customerRef is used where the crm service is needed with a nil check.
var _ = crm.CustomerRef{}
