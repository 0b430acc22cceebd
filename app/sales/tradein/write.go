package tradein

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/notify"
	"dealerdesk/app/timeline"
)

func stale() error { return apperr.New(apperr.Conflict, "conflict.stale") }

// statusRefused says the trade-in's status does not allow the step.
func statusRefused(status string) error {
	e := apperr.New(apperr.Conflict, "tradein.status_refused")
	e.Details = map[string]any{"status": status}
	return e
}

// plateOpen refuses a second open trade-in of the same plate. The writer
// serializes transactions, so the check holds; the partial unique index
// trade_in_open_plate is the backstop.
func plateOpen(ctx context.Context, q db.Querier, plate string, except int64) error {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM trade_in WHERE plate = ? AND status IN ('registered', 'appraised') AND id <> ?`, plate, except).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tradein: plate check: %w", err)
	}
	return apperr.Field("plate", "tradein.plate_open")
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func (in VehicleInput) auditView() map[string]any {
	return map[string]any{"brand": in.Brand, "series": in.Series, "model": in.Model, "year": in.Year, "firstRegDate": in.FirstRegDate,
		"plate": in.Plate, "vin": in.VIN, "mileageKm": in.MileageKm, "color": in.Color, "fuel": in.Fuel, "transferCount": in.TransferCount,
		"loanOutstanding": in.LoanOutstanding, "notes": in.Notes}
}

func (t TradeIn) vehicleInput() VehicleInput {
	return VehicleInput{Brand: t.Brand, Series: t.Series, Model: t.Model, Year: t.Year, FirstRegDate: t.FirstRegDate, Plate: t.Plate, VIN: t.VIN,
		MileageKm: t.MileageKm, Color: t.Color, Fuel: t.Fuel, TransferCount: t.TransferCount, LoanOutstanding: t.LoanOutstanding, Notes: t.Notes}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Register records a customer's used car for appraisal (sales.write and
// customer.write on the customer).
func (s *Service) Register(ctx context.Context, a auth.Actor, in VehicleInput) (TradeIn, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TradeIn{}, err
	}
	if err := in.Validate(s.d.Clock.Now(), true); err != nil {
		return TradeIn{}, err
	}
	var id int64
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.d.CRM.Readable(ctx, tx, a, in.CustomerID); err != nil {
			if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden) {
				return apperr.Field("customerId", "tradein.customer_unknown")
			}
			return err
		}
		c, err := s.d.CRM.Writable(ctx, tx, a, in.CustomerID)
		if err != nil {
			return err
		}
		if err := plateOpen(ctx, tx, in.Plate, 0); err != nil {
			return err
		}
		consultant := userID(a)
		if c.OwnerID != 0 {
			consultant = c.OwnerID
		}
		now := s.now()
		err = tx.QueryRowContext(ctx, `INSERT INTO trade_in (store_id, customer_id, consultant_id, brand, series, model, year, first_reg_date, plate, vin,
			mileage_km, color, fuel, transfer_count, loan_outstanding, notes, created_at, created_by, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.StoreID, c.ID, consultant, in.Brand, in.Series, in.Model, in.Year, in.FirstRegDate, in.Plate, in.VIN,
			in.MileageKm, in.Color, in.Fuel, in.TransferCount, b2i(in.LoanOutstanding), in.Notes, now, userID(a), now, userID(a)).Scan(&id)
		if isUnique(err) {
			return apperr.Field("plate", "tradein.plate_open")
		}
		if err != nil {
			return fmt.Errorf("tradein: register: %w", err)
		}
		after := in.auditView()
		after["customerId"] = c.ID
		if err := s.audit(ctx, tx, a, "create", id, c.StoreID, nil, after); err != nil {
			return err
		}
		return timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: c.StoreID, At: now, Kind: "tradein.registered",
			Entity: "trade_in", EntityID: id, Data: map[string]any{"car": label(in.Year, in.Brand, in.Series, in.Model, in.Plate), "mileageKm": in.MileageKm}}.By(a))
	})
	if err != nil {
		return TradeIn{}, err
	}
	s.afterCommit()
	t, err := s.Get(ctx, a, id)
	if in.vinWarn {
		t.Warnings = []string{"vin.check_digit"}
	}
	return t, err
}

// editable: the car's data may change until the trade-in is closed.
func editable(status string) bool {
	return status == StatusRegistered || status == StatusAppraised || status == StatusExpired
}

// Update edits the car's data; the version must be the one read (409 otherwise).
func (s *Service) Update(ctx context.Context, a auth.Actor, id int64, in VehicleInput) (TradeIn, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TradeIn{}, err
	}
	if err := in.Validate(s.d.Clock.Now(), false); err != nil {
		return TradeIn{}, err
	}
	warn := false
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, _, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return stale()
		}
		if !editable(cur.Status) {
			return statusRefused(cur.Status)
		}
		if in.Plate != cur.Plate && cur.Status != StatusExpired {
			if err := plateOpen(ctx, tx, in.Plate, id); err != nil {
				return err
			}
		}
		warn = in.vinWarn && in.VIN != cur.VIN
		r, err := tx.ExecContext(ctx, `UPDATE trade_in SET brand = ?, series = ?, model = ?, year = ?, first_reg_date = ?, plate = ?, vin = ?, mileage_km = ?,
			color = ?, fuel = ?, transfer_count = ?, loan_outstanding = ?, notes = ?, version = version + 1, updated_at = ?, updated_by = ?
			WHERE id = ? AND version = ?`,
			in.Brand, in.Series, in.Model, in.Year, in.FirstRegDate, in.Plate, in.VIN, in.MileageKm,
			in.Color, in.Fuel, in.TransferCount, b2i(in.LoanOutstanding), in.Notes, s.now(), userID(a), id, in.Version)
		if isUnique(err) {
			return apperr.Field("plate", "tradein.plate_open")
		}
		if err != nil {
			return fmt.Errorf("tradein: update %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return stale()
		}
		return s.audit(ctx, tx, a, "update", id, cur.StoreID, cur.vehicleInput().auditView(), in.auditView())
	})
	if err != nil {
		return TradeIn{}, err
	}
	s.afterCommit()
	t, err := s.Get(ctx, a, id)
	if warn {
		t.Warnings = []string{"vin.check_digit"}
	}
	return t, err
}

// Appraise records an appraisal as a new version: the checklist, the offered
// value and how long it holds. A re-appraisal (also of an expired offer)
// replaces the current offer and keeps the earlier ones. Who lacks cost.read
// cannot set the internal figures; the previous version's carry over.
func (s *Service) Appraise(ctx context.Context, a auth.Actor, id int64, in AppraiseInput) (TradeIn, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TradeIn{}, err
	}
	now := s.now()
	validUntil, err := in.Validate(now)
	if err != nil {
		return TradeIn{}, err
	}
	err = s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return stale()
		}
		if !editable(cur.Status) {
			return statusRefused(cur.Status)
		}
		if cur.Status == StatusExpired {
			// Reviving an expired trade-in opens it again: its plate must be free.
			if err := plateOpen(ctx, tx, cur.Plate, id); err != nil {
				return apperr.New(apperr.Conflict, "tradein.plate_open")
			}
		}
		resale, recon := in.ExpectedResaleFen, in.ReconCostFen
		if !a.Has(auth.PermCostRead) {
			if resale, recon, err = internal(ctx, tx, id, cur.AppraisalNo); err != nil {
				return err
			}
		}
		list, err := json.Marshal(in.Checklist)
		if err != nil {
			return err
		}
		no := cur.AppraisalNo + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO trade_in_appraisal (trade_in_id, store_id, no, at, by, by_name, checklist, offered_fen, valid_until,
			expected_resale_fen, recon_cost_fen, remarks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, cur.StoreID, no, now, userID(a), a.Name, string(list), in.OfferedFen, validUntil, resale, recon, in.Remarks); err != nil {
			if isUnique(err) {
				return stale()
			}
			return fmt.Errorf("tradein: appraisal %d: %w", id, err)
		}
		r, err := tx.ExecContext(ctx, `UPDATE trade_in SET status = 'appraised', appraisal_no = ?, offered_fen = ?, valid_until = ?, appraised_at = ?, appraised_by = ?,
			version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ?`,
			no, in.OfferedFen, validUntil, now, userID(a), now, userID(a), id, in.Version)
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "tradein.plate_open")
		}
		if err != nil {
			return fmt.Errorf("tradein: appraise %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return stale()
		}
		before := map[string]any{"status": cur.Status, "appraisalNo": cur.AppraisalNo, "offeredFen": cur.OfferedFen, "validUntil": cur.ValidUntil}
		after := map[string]any{"status": StatusAppraised, "appraisalNo": no, "offeredFen": in.OfferedFen, "validUntil": validUntil,
			"checklist": in.Checklist, "remarks": in.Remarks}
		if a.Has(auth.PermCostRead) {
			after["expectedResaleFen"], after["reconCostFen"] = resale, recon
		}
		if err := s.audit(ctx, tx, a, "tradein.appraise", id, cur.StoreID, before, after); err != nil {
			return err
		}
		return timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: cur.StoreID, At: now, Kind: "tradein.appraised",
			Entity: "trade_in", EntityID: id, Data: map[string]any{"car": cur.Label, "offeredFen": in.OfferedFen, "validUntil": validUntil, "no": no}}.By(a))
	})
	if err != nil {
		return TradeIn{}, err
	}
	s.afterCommit()
	return s.Get(ctx, a, id)
}

// Agree records the purchase agreement (收车协议) of an appraised car whose
// offer still holds. The price may be below the offer; above it only a
// manager (customer.assign) may go, with managerConfirm, and by at most
// MaxAbovePercent.
func (s *Service) Agree(ctx context.Context, a auth.Actor, id int64, in AgreementInput) (TradeIn, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TradeIn{}, err
	}
	if err := in.Validate(); err != nil {
		return TradeIn{}, err
	}
	now := s.now()
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return stale()
		}
		if cur.Status != StatusAppraised {
			return statusRefused(cur.Status)
		}
		if *cur.ValidUntil <= now {
			return apperr.New(apperr.Conflict, "tradein.expired")
		}
		offered := *cur.OfferedFen
		var confirmed any
		if in.AgreedFen > offered {
			if !a.Has(auth.PermCustomerAssign) {
				return apperr.Field("agreedFen", "tradein.above_offer")
			}
			if !in.ManagerConfirm {
				return apperr.Field("agreedFen", "tradein.confirm_above_offer")
			}
			if in.AgreedFen > offered+offered*MaxAbovePercent/100 {
				return apperr.Field("agreedFen", "tradein.above_limit", "percent", MaxAbovePercent)
			}
			confirmed = userID(a)
		}
		r, err := tx.ExecContext(ctx, `UPDATE trade_in SET status = 'purchased', agreed_fen = ?, handover_date = ?, seller_name = ?, payment_note = ?,
			agreed_at = ?, agreed_by = ?, confirmed_by = ?, version = version + 1, updated_at = ?, updated_by = ?
			WHERE id = ? AND version = ? AND status = 'appraised'`,
			in.AgreedFen, in.HandoverDate, in.SellerName, in.PaymentNote, now, userID(a), confirmed, now, userID(a), id, in.Version)
		if err != nil {
			return fmt.Errorf("tradein: agreement %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return stale()
		}
		after := map[string]any{"status": StatusPurchased, "agreedFen": in.AgreedFen, "offeredFen": offered, "handoverDate": in.HandoverDate,
			"sellerName": in.SellerName, "paymentNote": in.PaymentNote, "aboveOffer": confirmed != nil}
		if err := s.audit(ctx, tx, a, "tradein.agreement", id, cur.StoreID, map[string]any{"status": cur.Status}, after); err != nil {
			return err
		}
		return timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: cur.StoreID, At: now, Kind: "tradein.purchased",
			Entity: "trade_in", EntityID: id, Data: map[string]any{"car": cur.Label, "agreedFen": in.AgreedFen, "handoverDate": in.HandoverDate}}.By(a))
	})
	if err != nil {
		return TradeIn{}, err
	}
	s.afterCommit()
	return s.Get(ctx, a, id)
}

// Decline records that the customer turned the offer down.
func (s *Service) Decline(ctx context.Context, a auth.Actor, id int64, in CloseInput) (TradeIn, error) {
	return s.close(ctx, a, id, in, StatusDeclined, []string{StatusAppraised, StatusExpired})
}

// Cancel withdraws a trade-in that is not purchased.
func (s *Service) Cancel(ctx context.Context, a auth.Actor, id int64, in CloseInput) (TradeIn, error) {
	return s.close(ctx, a, id, in, StatusCancelled, []string{StatusRegistered, StatusAppraised, StatusExpired})
}

func (s *Service) close(ctx context.Context, a auth.Actor, id int64, in CloseInput, to string, from []string) (TradeIn, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TradeIn{}, err
	}
	if err := in.Validate(); err != nil {
		return TradeIn{}, err
	}
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return stale()
		}
		if !oneOf(cur.Status, from) {
			return statusRefused(cur.Status)
		}
		// A live order credits the car's value: the trade-in cannot go while
		// the order stands (cancel the order first). Orders live above this
		// package, so the check reads their table.
		var inOrder bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sales_order WHERE trade_in_id = ? AND status <> 'cancelled')`, id).Scan(&inOrder); err != nil {
			return fmt.Errorf("tradein: orders of %d: %w", id, err)
		}
		if inOrder {
			return apperr.New(apperr.Conflict, "tradein.in_order")
		}
		now := s.now()
		r, err := tx.ExecContext(ctx, `UPDATE trade_in SET status = ?, close_reason = ?, version = version + 1, updated_at = ?, updated_by = ?
			WHERE id = ? AND version = ?`, to, in.Reason, now, userID(a), id, in.Version)
		if err != nil {
			return fmt.Errorf("tradein: %s %d: %w", to, id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return stale()
		}
		if err := s.audit(ctx, tx, a, "tradein."+to, id, cur.StoreID, map[string]any{"status": cur.Status}, map[string]any{"status": to, "reason": in.Reason}); err != nil {
			return err
		}
		return timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: cur.StoreID, At: now, Kind: "tradein." + to,
			Entity: "trade_in", EntityID: id, Data: map[string]any{"car": cur.Label, "reason": in.Reason}}.By(a))
	})
	if err != nil {
		return TradeIn{}, err
	}
	s.afterCommit()
	return s.Get(ctx, a, id)
}

// ExpireAppraisals marks every appraised trade-in past its valid-until as
// expired (except one a live order credits: the offer holds for that order), each in its own transaction with a conditional update (a
// re-appraisal or agreement racing the job wins or loses cleanly), and
// returns how many it expired.
func (s *Service) ExpireAppraisals(ctx context.Context) (int, error) {
	now := s.now()
	ids, err := db.IDs(ctx, s.d.DB.R, `SELECT id FROM trade_in WHERE status = 'appraised' AND valid_until <= ?
		AND NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.trade_in_id = trade_in.id AND o.status <> 'cancelled')
		ORDER BY valid_until LIMIT 1000`, now)
	if err != nil {
		return 0, fmt.Errorf("tradein: expired appraisals: %w", err)
	}
	sys := auth.System("system")
	n := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
			t, err := load(ctx, tx, id)
			if err != nil {
				return err
			}
			r, err := tx.ExecContext(ctx, `UPDATE trade_in SET status = 'expired', version = version + 1, updated_at = ?, updated_by = NULL
				WHERE id = ? AND status = 'appraised' AND valid_until <= ?
				AND NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.trade_in_id = trade_in.id AND o.status <> 'cancelled')`, now, id, now)
			if err != nil {
				return fmt.Errorf("tradein: expire %d: %w", id, err)
			}
			if k, _ := r.RowsAffected(); k == 0 {
				return nil // re-appraised or agreed meanwhile, or an order credits it: the offer holds for that order
			}
			n++
			if err := s.audit(ctx, tx, sys, "tradein.expired", id, t.StoreID, map[string]any{"status": t.Status}, map[string]any{"status": StatusExpired}); err != nil {
				return err
			}
			if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: t.CustomerID, StoreID: t.StoreID, At: now, Kind: "tradein.expired",
				Entity: "trade_in", EntityID: id, Data: map[string]any{"car": t.Label, "offeredFen": t.OfferedFen, "validUntil": t.ValidUntil}}.By(sys)); err != nil {
				return err
			}
			if t.ConsultantID == nil || s.d.Notify == nil {
				return nil
			}
			// The consultant re-appraises or tells the customer; once per offer (the dedup key names its valid-until).
			_, err = s.d.Notify.Send(ctx, tx, notify.Message{UserID: *t.ConsultantID, StoreID: t.StoreID, Kind: "tradein.expired",
				TitleKey: "notify.msg.tradein_expired", Params: map[string]any{"car": t.Label, "customer": t.CustomerName},
				Link: fmt.Sprintf("/sales/trade-ins/%d", id), Entity: "trade_in", EntityID: id,
				DedupKey: fmt.Sprintf("tradein.expired:%d:%d", id, *t.ValidUntil), Level: notify.LevelWarning})
			return err
		})
		if err != nil {
			return n, err
		}
	}
	if n > 0 {
		s.d.Log.Info("trade-in appraisals expired", "count", n)
		s.afterCommit()
	}
	return n, nil
}

// ForQuote returns the credit of an appraised trade-in of the customer for a
// quote. Errors are apperr field errors on "tradeInId" (tradein.not_found,
// tradein.other_customer, tradein.not_appraised, tradein.expired,
// tradein.cancelled). A purchased trade-in credits its agreed price; an
// appraised one its offered value. Both need the offer's valid-until ahead.
func (s *Service) ForQuote(ctx context.Context, q db.Querier, a auth.Actor, tradeInID, customerID int64) (Credit, error) {
	const field = "tradeInId"
	if tradeInID <= 0 {
		return Credit{}, apperr.Field(field, "tradein.not_found")
	}
	t, err := load(ctx, q, tradeInID)
	if apperr.Is(err, apperr.NotFound) {
		return Credit{}, apperr.Field(field, "tradein.not_found")
	}
	if err != nil {
		return Credit{}, err
	}
	if _, err := s.d.CRM.Readable(ctx, q, a, t.CustomerID); err != nil {
		if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden) {
			return Credit{}, apperr.Field(field, "tradein.not_found")
		}
		return Credit{}, err
	}
	switch {
	case t.CustomerID != customerID:
		return Credit{}, apperr.Field(field, "tradein.other_customer")
	case t.Status == StatusCancelled || t.Status == StatusDeclined:
		return Credit{}, apperr.Field(field, "tradein.cancelled")
	case t.Status == StatusRegistered || t.OfferedFen == nil:
		return Credit{}, apperr.Field(field, "tradein.not_appraised")
	case t.Status == StatusExpired || *t.ValidUntil <= s.now():
		return Credit{}, apperr.Field(field, "tradein.expired")
	}
	value := *t.OfferedFen
	if t.Agreement != nil {
		value = t.Agreement.AgreedFen
	}
	return Credit{ID: t.ID, CustomerID: t.CustomerID, ValueFen: value, ValidUntil: *t.ValidUntil, Label: t.Label}, nil
}
