package tradein

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
)

// tradeInCols are the columns scan reads, in its order (t: trade_in, c: customer).
const tradeInCols = `t.id, t.store_id, t.customer_id, c.name, t.consultant_id, COALESCE(uc.name, ''), t.brand, t.series, t.model, t.year,
	t.first_reg_date, t.plate, t.vin, t.mileage_km, t.color, t.fuel, t.transfer_count, t.loan_outstanding, t.notes, t.status,
	t.appraisal_no, t.offered_fen, t.valid_until, t.appraised_at, COALESCE(ua.name, ''),
	t.agreed_fen, t.handover_date, t.seller_name, t.payment_note, t.agreed_at, COALESCE(ug.name, ''), COALESCE(uf.name, ''),
	t.close_reason, t.version, t.created_at, t.updated_at`

const tradeInFrom = ` FROM trade_in t JOIN customer c ON c.id = t.customer_id
	LEFT JOIN app_user uc ON uc.id = t.consultant_id LEFT JOIN app_user ua ON ua.id = t.appraised_by
	LEFT JOIN app_user ug ON ug.id = t.agreed_by LEFT JOIN app_user uf ON uf.id = t.confirmed_by`

type scanner interface{ Scan(...any) error }

func scan(r scanner) (TradeIn, error) {
	var t TradeIn
	var consultant, offered, validUntil, appraisedAt, agreed, agreedAt sql.NullInt64
	var loan int
	var handover, seller, payment, agreedBy, confirmedBy string
	err := r.Scan(&t.ID, &t.StoreID, &t.CustomerID, &t.CustomerName, &consultant, &t.ConsultantName, &t.Brand, &t.Series, &t.Model, &t.Year,
		&t.FirstRegDate, &t.Plate, &t.VIN, &t.MileageKm, &t.Color, &t.Fuel, &t.TransferCount, &loan, &t.Notes, &t.Status,
		&t.AppraisalNo, &offered, &validUntil, &appraisedAt, &t.AppraisedByName,
		&agreed, &handover, &seller, &payment, &agreedAt, &agreedBy, &confirmedBy,
		&t.CloseReason, &t.Version, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	t.ConsultantID = ptr(consultant)
	t.OfferedFen, t.ValidUntil, t.AppraisedAt = ptr(offered), ptr(validUntil), ptr(appraisedAt)
	t.LoanOutstanding = loan == 1
	if agreed.Valid {
		t.Agreement = &Agreement{AgreedFen: agreed.Int64, HandoverDate: handover, SellerName: seller, PaymentNote: payment,
			AgreedAt: agreedAt.Int64, AgreedByName: agreedBy, ConfirmedByName: confirmedBy}
	}
	t.Label = label(t.Year, t.Brand, t.Series, t.Model, t.Plate)
	return t, nil
}

func ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// load reads a trade-in (no access check); 404 when there is none.
func load(ctx context.Context, q db.Querier, id int64) (TradeIn, error) {
	t, err := scan(q.QueryRowContext(ctx, `SELECT `+tradeInCols+tradeInFrom+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return t, fmt.Errorf("tradein: load %d: %w", id, err)
	}
	return t, nil
}

// loadAppraisals reads the appraisal versions, newest first.
func loadAppraisals(ctx context.Context, q db.Querier, id int64) ([]Appraisal, error) {
	rows, err := q.QueryContext(ctx, `SELECT no, at, by_name, checklist, offered_fen, valid_until, expected_resale_fen, recon_cost_fen, remarks
		FROM trade_in_appraisal WHERE trade_in_id = ? ORDER BY no DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("tradein: appraisals of %d: %w", id, err)
	}
	defer rows.Close()
	out := []Appraisal{}
	for rows.Next() {
		var p Appraisal
		var list string
		var resale, recon sql.NullInt64
		if err := rows.Scan(&p.No, &p.At, &p.ByName, &list, &p.OfferedFen, &p.ValidUntil, &resale, &recon, &p.Remarks); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(list), &p.Checklist); err != nil {
			return nil, fmt.Errorf("tradein: checklist of %d: %w", id, err)
		}
		p.ExpectedResaleFen, p.ReconCostFen = ptr(resale), ptr(recon)
		out = append(out, p)
	}
	return out, rows.Err()
}

// internal returns the internal figures of the latest appraisal.
func internal(ctx context.Context, q db.Querier, id int64, no int) (resale, recon *int64, err error) {
	if no == 0 {
		return nil, nil, nil
	}
	var a, b sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT expected_resale_fen, recon_cost_fen FROM trade_in_appraisal WHERE trade_in_id = ? AND no = ?`, id, no).Scan(&a, &b)
	if err != nil {
		return nil, nil, fmt.Errorf("tradein: appraisal %d/%d: %w", id, no, err)
	}
	return ptr(a), ptr(b), nil
}

// readable loads a trade-in the actor may read: customer.read on its customer
// (404 otherwise).
func (s *Service) readable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (TradeIn, crm.CustomerRef, error) {
	t, err := load(ctx, q, id)
	if err != nil {
		return t, crm.CustomerRef{}, err
	}
	c, err := s.d.CRM.Readable(ctx, q, a, t.CustomerID)
	if err != nil {
		return TradeIn{}, c, notFound(err)
	}
	return t, c, nil
}

// writable loads a trade-in the actor may change: sales.write, and
// customer.write in the customer's scope.
func (s *Service) writable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (TradeIn, crm.CustomerRef, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TradeIn{}, crm.CustomerRef{}, err
	}
	t, err := load(ctx, q, id)
	if err != nil {
		return t, crm.CustomerRef{}, err
	}
	if _, err := s.d.CRM.Readable(ctx, q, a, t.CustomerID); err != nil {
		return TradeIn{}, crm.CustomerRef{}, notFound(err)
	}
	c, err := s.d.CRM.Writable(ctx, q, a, t.CustomerID)
	if err != nil {
		return TradeIn{}, c, err
	}
	return t, c, nil
}

// notFound hides a record outside the actor's reach: a role that reaches the
// route but not the customer sees 404, never whether the record exists.
func notFound(err error) error {
	if apperr.Is(err, apperr.Forbidden) || apperr.Is(err, apperr.NotFound) {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return err
}

// finish completes a trade-in for the actor: the internal figures only with
// cost.read, the appraisal history on the detail page.
func (s *Service) finish(ctx context.Context, q db.Querier, a auth.Actor, t *TradeIn, history bool) error {
	cost := a.Has(auth.PermCostRead)
	t.CostHidden = !cost
	if cost {
		var err error
		if t.ExpectedResaleFen, t.ReconCostFen, err = internal(ctx, q, t.ID, t.AppraisalNo); err != nil {
			return err
		}
	}
	if !history {
		return nil
	}
	list, err := loadAppraisals(ctx, q, t.ID)
	if err != nil {
		return err
	}
	if !cost {
		for i := range list {
			list[i].ExpectedResaleFen, list[i].ReconCostFen = nil, nil
		}
	}
	t.Appraisals = list
	return nil
}

// Get returns a trade-in with its appraisal history.
func (s *Service) Get(ctx context.Context, a auth.Actor, id int64) (TradeIn, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return TradeIn{}, err
	}
	t, _, err := s.readable(ctx, s.d.DB.R, a, id)
	if err != nil {
		return t, err
	}
	return t, s.finish(ctx, s.d.DB.R, a, &t, true)
}
