package order

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Profit is the gross profit of one deal (S7), all in fen.
//
//	vehicleMargin   = vehiclePrice − vehicleCost
//	rebate          = the rebate entered, else vehiclePrice × expectedRebateBp ÷ 10000 (half up)
//	accessoryMargin = accessories − accessoriesCost
//	grossBefore     = vehicleMargin + rebate + accessoryMargin + serviceFee + financeCommission + insuranceCommission
//	commission      = tier amount for the unit's rank in the consultant's month + max(grossBefore, 0) × commissionBp ÷ 10000 (half up)
//	grossProfit     = grossBefore − commission
//
// Insurance premium, registration fee and purchase tax pass through to third
// parties and are not income; a trade-in is its own used-car deal.
type Profit struct {
	OrderID                int64  `json:"orderId"`
	ContractNo             string `json:"contractNo"`
	CustomerName           string `json:"customerName"`
	OwnerID                int64  `json:"ownerId"`
	OwnerName              string `json:"ownerName"`
	ModelName              string `json:"modelName"`
	VIN                    string `json:"vin"`
	Status                 string `json:"status"`
	DeliveredAt            *int64 `json:"deliveredAt"`
	VehiclePriceFen        int64  `json:"vehiclePriceFen"`
	VehicleCostFen         int64  `json:"vehicleCostFen"`
	CostKnown              bool   `json:"costKnown"` // false: no car allocated or its cost unknown (the margin counts cost 0)
	VehicleMarginFen       int64  `json:"vehicleMarginFen"`
	RebateFen              int64  `json:"rebateFen"`
	RebateExpected         bool   `json:"rebateExpected"` // the rebate is the settings' expected %
	AccessoriesFen         int64  `json:"accessoriesFen"`
	AccessoriesCostFen     int64  `json:"accessoriesCostFen"`
	AccessoryMarginFen     int64  `json:"accessoryMarginFen"`
	ServiceFeeFen          int64  `json:"serviceFeeFen"`
	FinanceCommissionFen   int64  `json:"financeCommissionFen"`
	InsuranceCommissionFen int64  `json:"insuranceCommissionFen"`
	GrossBeforeFen         int64  `json:"grossBeforeCommissionFen"`
	UnitRank               int    `json:"unitRank"` // the deal's rank in the consultant's month of delivery (projected when not delivered)
	TierFen                int64  `json:"commissionTierFen"`
	CommissionShareFen     int64  `json:"commissionShareFen"`
	CommissionFen          int64  `json:"consultantCommissionFen"`
	GrossProfitFen         int64  `json:"grossProfitFen"`
}

// tierFor is the per-unit commission of the rank-th unit of a month.
func tierFor(tiers []CommissionTier, rank int) int64 {
	var fen int64
	for _, t := range tiers {
		if rank >= t.MinUnits {
			fen = t.PerUnitFen
		}
	}
	return fen
}

// bpOf is v × bp ÷ 10000 rounded half up (v ≥ 0).
func bpOf(v, bp int64) int64 {
	if v <= 0 || bp <= 0 {
		return 0
	}
	return (v*bp + 5000) / 10000
}

// computeProfit works a deal's profit out of its figures.
func computeProfit(o Order, cost *int64, st Settings, rank int) Profit {
	p := Profit{OrderID: o.ID, ContractNo: o.ContractNo, CustomerName: o.CustomerName, OwnerID: o.OwnerID, OwnerName: o.OwnerName, ModelName: o.ModelName,
		VIN: o.VIN, Status: o.Status, DeliveredAt: o.DeliveredAt, VehiclePriceFen: o.VehiclePriceFen, AccessoriesFen: o.AccessoriesFen,
		AccessoriesCostFen: o.costRaw.accessoriesCost, ServiceFeeFen: o.ServiceFeeFen, FinanceCommissionFen: o.costRaw.financeCommission,
		InsuranceCommissionFen: o.costRaw.insuranceCommission, UnitRank: rank}
	if cost != nil {
		p.VehicleCostFen, p.CostKnown = *cost, true
	}
	p.VehicleMarginFen = p.VehiclePriceFen - p.VehicleCostFen
	if o.costRaw.rebate != nil {
		p.RebateFen = *o.costRaw.rebate
	} else {
		p.RebateFen, p.RebateExpected = bpOf(o.VehiclePriceFen, st.ExpectedRebateBP), true
	}
	p.AccessoryMarginFen = p.AccessoriesFen - p.AccessoriesCostFen
	p.GrossBeforeFen = p.VehicleMarginFen + p.RebateFen + p.AccessoryMarginFen + p.ServiceFeeFen + p.FinanceCommissionFen + p.InsuranceCommissionFen
	p.TierFen = tierFor(st.CommissionTiers, rank)
	p.CommissionShareFen = bpOf(p.GrossBeforeFen, st.CommissionBP)
	p.CommissionFen = p.TierFen + p.CommissionShareFen
	p.GrossProfitFen = p.GrossBeforeFen - p.CommissionFen
	return p
}

// monthBounds are the first and next-month instants (ms) of t's month in China time.
func monthBounds(t time.Time) (int64, int64) {
	t = t.In(chinaTime)
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, chinaTime)
	return start.UnixMilli(), start.AddDate(0, 1, 0).UnixMilli()
}

// unitRank is the deal's rank among the consultant's deliveries of its month
// (1 = first). A deal not delivered yet is ranked as the next delivery of
// the current month.
func unitRank(ctx context.Context, q db.Querier, o Order, now time.Time) (int, error) {
	at := now
	if o.DeliveredAt != nil {
		at = time.UnixMilli(*o.DeliveredAt)
	}
	from, to := monthBounds(at)
	var n int
	var err error
	if o.DeliveredAt != nil {
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM sales_order WHERE owner_id = ? AND delivered_at >= ? AND delivered_at < ? AND status IN ('delivered', 'closed')
			AND (delivered_at < ? OR (delivered_at = ? AND id <= ?))`, o.OwnerID, from, to, *o.DeliveredAt, *o.DeliveredAt, o.ID).Scan(&n)
	} else {
		err = q.QueryRowContext(ctx, `SELECT count(*) + 1 FROM sales_order WHERE owner_id = ? AND delivered_at >= ? AND delivered_at < ? AND status IN ('delivered', 'closed')`,
			o.OwnerID, from, to).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("order: unit rank of %d: %w", o.ID, err)
	}
	return n, nil
}

func (s *Service) profitOf(ctx context.Context, q db.Querier, o Order, st Settings) (Profit, error) {
	var cost *int64
	if o.VehicleID != nil {
		var c sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT cost FROM vehicle WHERE id = ?`, *o.VehicleID).Scan(&c); err != nil {
			return Profit{}, fmt.Errorf("order: cost of %d: %w", o.ID, err)
		}
		cost = ptr(c)
	}
	rank, err := unitRank(ctx, q, o, s.d.Clock.Now())
	if err != nil {
		return Profit{}, err
	}
	return computeProfit(o, cost, st, rank), nil
}

// GetProfit is one deal's profit (cost.read and the customer in read scope).
func (s *Service) GetProfit(ctx context.Context, a auth.Actor, id int64) (Profit, error) {
	if err := auth.Require(a, auth.PermCostRead); err != nil {
		return Profit{}, err
	}
	o, err := s.readable(ctx, s.d.DB.R, a, id)
	if err != nil {
		return Profit{}, err
	}
	st, err := LoadSettings(ctx, s.d.DB.R, o.StoreID)
	if err != nil {
		return Profit{}, err
	}
	return s.profitOf(ctx, s.d.DB.R, o, st)
}

// ProfitQuery selects the deliveries of a period for the profit report.
type ProfitQuery struct {
	From    int64 `query:"from"` // delivered at or after (ms); default: this month
	To      int64 `query:"to"`   // delivered before (ms)
	StoreID int64 `query:"storeId"`
	OwnerID int64 `query:"ownerId"`
}

// ProfitReport is the deals delivered in a period with totals per consultant.
type ProfitReport struct {
	From       int64            `json:"from"`
	To         int64            `json:"to"`
	Items      []Profit         `json:"items"`
	Consultant []ConsultantLine `json:"consultants"`
	Total      ConsultantLine   `json:"total"`
	Truncated  bool             `json:"truncated"`
}

// ConsultantLine sums one consultant's deals.
type ConsultantLine struct {
	OwnerID        int64  `json:"ownerId"`
	OwnerName      string `json:"ownerName"`
	Units          int    `json:"units"`
	GrossBeforeFen int64  `json:"grossBeforeCommissionFen"`
	CommissionFen  int64  `json:"consultantCommissionFen"`
	GrossProfitFen int64  `json:"grossProfitFen"`
}

const reportCap = 5000

// Report lists the profit of the deals delivered in a period (cost.read; the
// orders in the actor's customer scope).
func (s *Service) Report(ctx context.Context, a auth.Actor, in ProfitQuery) (ProfitReport, error) {
	if err := auth.Require(a, auth.PermCostRead); err != nil {
		return ProfitReport{}, err
	}
	if in.From == 0 {
		in.From, _ = monthBounds(s.d.Clock.Now())
	}
	if in.To == 0 {
		_, in.To = monthBounds(time.UnixMilli(in.From))
	}
	if in.To <= in.From || in.To-in.From > 400*day {
		return ProfitReport{}, apperr.Field("to", "order.period_range")
	}
	w := sq.And{sq.Expr("o.delivered_at >= ? AND o.delivered_at < ?", in.From, in.To), sq.Eq{"o.status": []string{StatusDelivered, StatusClosed}},
		auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "c.store_id", Owner: "c.owner_id", Department: "c.department_id"})}
	if in.StoreID != 0 {
		w = append(w, sq.Eq{"o.store_id": in.StoreID})
	}
	if in.OwnerID != 0 {
		w = append(w, sq.Eq{"o.owner_id": in.OwnerID})
	}
	query, args, err := sq.Select(orderCols).From(orderFrom[len(" FROM "):]).Where(w).OrderBy("o.delivered_at", "o.id").Limit(reportCap + 1).ToSql()
	if err != nil {
		return ProfitReport{}, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, query, args...)
	if err != nil {
		return ProfitReport{}, fmt.Errorf("order: profit report: %w", err)
	}
	var orders []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return ProfitReport{}, err
		}
		orders = append(orders, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ProfitReport{}, err
	}
	out := ProfitReport{From: in.From, To: in.To, Items: []Profit{}, Consultant: []ConsultantLine{}}
	if len(orders) > reportCap {
		orders, out.Truncated = orders[:reportCap], true
	}
	settings := map[int64]Settings{}
	byOwner := map[int64]int{}
	for _, o := range orders {
		st, ok := settings[o.StoreID]
		if !ok {
			if st, err = LoadSettings(ctx, s.d.DB.R, o.StoreID); err != nil {
				return out, err
			}
			settings[o.StoreID] = st
		}
		p, err := s.profitOf(ctx, s.d.DB.R, o, st)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, p)
		i, ok := byOwner[o.OwnerID]
		if !ok {
			i = len(out.Consultant)
			byOwner[o.OwnerID] = i
			out.Consultant = append(out.Consultant, ConsultantLine{OwnerID: o.OwnerID, OwnerName: o.OwnerName})
		}
		for _, l := range []*ConsultantLine{&out.Consultant[i], &out.Total} {
			l.Units++
			l.GrossBeforeFen += p.GrossBeforeFen
			l.CommissionFen += p.CommissionFen
			l.GrossProfitFen += p.GrossProfitFen
		}
	}
	return out, nil
}
