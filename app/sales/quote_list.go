package sales

import (
	"context"
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// ListFilter selects quotes for the list (indexes in 0016_quote.sql).
type ListFilter struct {
	StoreID     int64    `json:"storeId" query:"storeId"`
	CustomerID  int64    `json:"customerId" query:"customerId"`
	OwnerID     int64    `json:"ownerId" query:"ownerId"`
	Statuses    []string `json:"status" query:"status"` // comma list
	Q           string   `json:"q" query:"q"`           // quote number or customer name
	AllVersions bool     `json:"-" query:"versions"`    // versions=all: every version, not only the latest
	Cursor      string   `json:"cursor" query:"cursor"`
	Limit       int      `json:"limit" query:"limit"`
}

// QuoteSummary is a quote in the list.
type QuoteSummary struct {
	ID             int64  `json:"id"`
	Number         string `json:"number"`
	Version        int    `json:"version"`
	Latest         bool   `json:"latest"`
	Status         string `json:"status"`
	StoreID        int64  `json:"storeId"`
	CustomerID     int64  `json:"customerId"`
	CustomerName   string `json:"customerName"`
	OwnerID        *int64 `json:"ownerId"`
	OwnerName      string `json:"ownerName"`
	ModelLabel     string `json:"modelLabel"`
	Color          string `json:"color"`
	MSRP           int64  `json:"msrp"`
	Discount       int64  `json:"discount"`
	Total          int64  `json:"total"`
	Financed       bool   `json:"financed"`
	MonthlyPayment int64  `json:"monthlyPayment"`
	NeedsApproval  bool   `json:"needsApproval"`
	ApprovalStatus string `json:"approvalStatus"`
	ValidUntil     int64  `json:"validUntil"`
	CreatedAt      int64  `json:"createdAt"`
}

// ListQuotes lists the quotes whose customers the actor may read, newest first.
func (s *Service) ListQuotes(ctx context.Context, a auth.Actor, f ListFilter) (api.List[QuoteSummary], error) {
	out := api.List[QuoteSummary]{Items: []QuoteSummary{}}
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return out, err
	}
	cur, err := api.ParseCursor(f.Cursor)
	if err != nil {
		return out, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	w := sq.And{auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "c.store_id", Owner: "c.owner_id", Department: "c.department_id"})}
	if !f.AllVersions {
		w = append(w, sq.Eq{"q.latest": 1})
	}
	if f.StoreID > 0 {
		w = append(w, sq.Eq{"q.store_id": f.StoreID})
	}
	if f.CustomerID > 0 {
		w = append(w, sq.Eq{"q.customer_id": f.CustomerID})
	}
	if f.OwnerID > 0 {
		w = append(w, sq.Eq{"q.owner_id": f.OwnerID})
	}
	if len(f.Statuses) > 0 {
		for _, st := range f.Statuses {
			if !oneOf(st, QuoteStatuses) {
				return out, apperr.Field("status", "invalid_format")
			}
		}
		w = append(w, sq.Eq{"q.status": f.Statuses})
	}
	if t := strings.TrimSpace(f.Q); t != "" {
		like := "%" + strings.NewReplacer("%", "", "_", "").Replace(t) + "%"
		w = append(w, sq.Or{sq.Like{"q.number": like}, sq.Like{"c.name": like}})
	}
	if cur.ID > 0 {
		w = append(w, sq.Lt{"q.id": cur.ID})
	}
	query, args, err := sq.Select(`q.id, q.number, q.version, q.latest, q.status, q.store_id, q.customer_id, c.name, q.owner_id, coalesce(u.name, ''),
		q.model_label, q.color, q.msrp, q.discount, q.total, q.financed, q.monthly_payment, q.needs_approval, q.approval_status, q.valid_until, q.created_at`).
		From("quote q").Join("customer c ON c.id = q.customer_id").LeftJoin("app_user u ON u.id = q.owner_id").
		Where(w).OrderBy("q.id DESC").Limit(uint64(f.Limit + 1)).ToSql()
	if err != nil {
		return out, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("sales: list quotes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x QuoteSummary
		var owner *int64
		if err := rows.Scan(&x.ID, &x.Number, &x.Version, &x.Latest, &x.Status, &x.StoreID, &x.CustomerID, &x.CustomerName, &owner, &x.OwnerName,
			&x.ModelLabel, &x.Color, &x.MSRP, &x.Discount, &x.Total, &x.Financed, &x.MonthlyPayment, &x.NeedsApproval, &x.ApprovalStatus,
			&x.ValidUntil, &x.CreatedAt); err != nil {
			return out, err
		}
		x.OwnerID = owner
		out.Items = append(out.Items, x)
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
