package tradein

import (
	"context"
	"fmt"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// ListFilter selects trade-ins (indexes in 0015_tradein.sql).
type ListFilter struct {
	StoreID      int64    `json:"storeId" query:"storeId"`
	Statuses     []string `json:"status" query:"status"` // comma list
	CustomerID   int64    `json:"customerId" query:"customerId"`
	ConsultantID int64    `json:"consultantId" query:"consultantId"`
	Q            string   `json:"q" query:"q"` // plate fragment (浙A·123, A123) or make/model text
	Cursor       string   `json:"cursor" query:"cursor"`
	Limit        int      `json:"limit" query:"limit"`
}

// Validate checks and completes the filter.
func (f *ListFilter) Validate() error {
	e := apperr.Fields{}
	for _, st := range f.Statuses {
		if !oneOf(st, Statuses) {
			e.Add("status", "invalid_format")
		}
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		e.Add("limit", "out_of_range", "min", 1, "max", 200)
	}
	f.Q = strings.TrimSpace(f.Q)
	limitText(e, "q", f.Q, 30)
	return e.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// plateQuery folds a typed plate fragment the way plates are stored.
func plateQuery(q string) string {
	return strings.NewReplacer("·", "", "•", "", " ", "", ".", "", "-", "").Replace(strings.ToUpper(q))
}

// List returns a page of the trade-ins whose customers the actor may read,
// newest first (keyset on id).
func (s *Service) List(ctx context.Context, a auth.Actor, f ListFilter) (api.List[TradeIn], error) {
	out := api.List[TradeIn]{Items: []TradeIn{}}
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return out, err
	}
	if err := f.Validate(); err != nil {
		return out, err
	}
	w := sq.And{auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "c.store_id", Owner: "c.owner_id", Department: "c.department_id"})}
	if f.StoreID != 0 {
		w = append(w, sq.Eq{"t.store_id": f.StoreID})
	}
	if len(f.Statuses) > 0 {
		w = append(w, sq.Eq{"t.status": f.Statuses})
	}
	if f.CustomerID != 0 {
		w = append(w, sq.Eq{"t.customer_id": f.CustomerID})
	}
	if f.ConsultantID != 0 {
		w = append(w, sq.Eq{"t.consultant_id": f.ConsultantID})
	}
	if f.Q != "" {
		like := "%" + escapeLike(f.Q) + "%"
		plate := "%" + escapeLike(plateQuery(f.Q)) + "%"
		w = append(w, sq.Expr(`(t.plate LIKE ? ESCAPE '\' OR t.brand LIKE ? ESCAPE '\' OR t.series LIKE ? ESCAPE '\' OR t.model LIKE ? ESCAPE '\' OR c.name LIKE ? ESCAPE '\')`,
			plate, like, like, like, like))
	}
	if f.Cursor != "" {
		cur, err := api.ParseCursor(f.Cursor)
		if err != nil {
			return out, err
		}
		w = append(w, sq.Lt{"t.id": cur.ID})
	}
	query, args, err := sq.Select(tradeInCols).From(strings.TrimPrefix(tradeInFrom, " FROM ")).Where(w).
		OrderBy("t.id DESC").Limit(uint64(f.Limit + 1)).ToSql()
	if err != nil {
		return out, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("tradein: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return out, err
		}
		t.CostHidden = !a.Has(auth.PermCostRead)
		out.Items = append(out.Items, t)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(out.Items) > f.Limit {
		out.Items = out.Items[:f.Limit]
		out.Next = api.Cursor{ID: out.Items[f.Limit-1].ID}.Encode()
	}
	return out, nil
}

// StatsQuery selects the store and period of the trade-in figures.
type StatsQuery struct {
	StoreID int64 `json:"storeId" query:"storeId"` // default: the actor's store
	From    int64 `json:"from" query:"from"`       // ms, inclusive; default the start of this month (UTC+8)
	To      int64 `json:"to" query:"to"`           // ms, exclusive; default just after now
}

// Stats are a store's trade-in figures for a period.
type Stats struct {
	StoreID       int64 `json:"storeId"`
	From          int64 `json:"from"`
	To            int64 `json:"to"`
	Registered    int   `json:"registered"`    // cars registered in the period
	Appraisals    int   `json:"appraisals"`    // appraisals made (re-appraisals count)
	AppraisedCars int   `json:"appraisedCars"` // distinct cars appraised
	AvgOfferedFen int64 `json:"avgOfferedFen"` // mean offered value of those appraisals
	Purchased     int   `json:"purchased"`     // agreements signed
	PurchasedFen  int64 `json:"purchasedFen"`  // their agreed prices together
}

var cst = time.FixedZone("CST", 8*3600)

// Stats returns the trade-in figures of a store for a period (report.read; a
// store outside the actor's scope is 404).
func (s *Service) Stats(ctx context.Context, a auth.Actor, q StatsQuery) (Stats, error) {
	if err := auth.Require(a, auth.PermReportRead); err != nil {
		return Stats{}, err
	}
	if q.StoreID == 0 {
		q.StoreID = a.StoreID
		if q.StoreID == 0 {
			q.StoreID = a.HomeStoreID
		}
	}
	if a.Scope != auth.ScopeGroup && q.StoreID != a.HomeStoreID {
		return Stats{}, apperr.New(apperr.NotFound, "not_found")
	}
	now := s.d.Clock.Now()
	if q.To == 0 {
		q.To = now.UnixMilli() + 1
	}
	if q.From == 0 {
		n := now.In(cst)
		q.From = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, cst).UnixMilli()
	}
	if q.From >= q.To {
		return Stats{}, apperr.Field("from", "tradein.period")
	}
	st := Stats{StoreID: q.StoreID, From: q.From, To: q.To}
	r := s.d.DB.R
	var sum int64
	if err := r.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT trade_in_id), COALESCE(sum(offered_fen), 0) FROM trade_in_appraisal
		WHERE store_id = ? AND at >= ? AND at < ?`, q.StoreID, q.From, q.To).Scan(&st.Appraisals, &st.AppraisedCars, &sum); err != nil {
		return st, fmt.Errorf("tradein: stats: %w", err)
	}
	if st.Appraisals > 0 { // integer mean, rounded half up to the fen
		st.AvgOfferedFen = (sum + int64(st.Appraisals)/2) / int64(st.Appraisals)
	}
	if err := r.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(agreed_fen), 0) FROM trade_in WHERE store_id = ? AND agreed_at >= ? AND agreed_at < ?`,
		q.StoreID, q.From, q.To).Scan(&st.Purchased, &st.PurchasedFen); err != nil {
		return st, fmt.Errorf("tradein: stats: %w", err)
	}
	if err := r.QueryRowContext(ctx, `SELECT count(*) FROM trade_in WHERE store_id = ? AND created_at >= ? AND created_at < ?`,
		q.StoreID, q.From, q.To).Scan(&st.Registered); err != nil {
		return st, fmt.Errorf("tradein: stats: %w", err)
	}
	return st, nil
}
