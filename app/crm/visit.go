package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/pii"
	"dealerdesk/app/timeline"
)

// Visit is one entry of the showroom traffic log (展厅客流登记, L1).
type Visit struct {
	ID             int64  `json:"id"`
	StoreID        int64  `json:"storeId"`
	CustomerID     *int64 `json:"customerId"`
	Name           string `json:"name"`
	Phone          string `json:"phone"` // masked
	ArrivedAt      int64  `json:"arrivedAt"`
	LeftAt         *int64 `json:"leftAt"`
	PartySize      int    `json:"partySize"`
	Visit          string `json:"visit"` // first | return
	ConsultantID   *int64 `json:"consultantId"`
	ConsultantName string `json:"consultantName"`
	SeriesID       *int64 `json:"seriesId"`
	SeriesName     string `json:"seriesName"`
	TestDrive      bool   `json:"testDrive"`
	Note           string `json:"note"`
	Version        int64  `json:"version"`
}

// VisitInput logs a walk-in. With a phone the visitor becomes (or is matched
// to) a customer, owned by the receiving consultant when new — the 留档率 KPI
// counts visits with a phone.
type VisitInput struct {
	StoreID      int64  `json:"storeId"`
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	ArrivedAt    int64  `json:"arrivedAt"`
	LeftAt       *int64 `json:"leftAt"`
	PartySize    int    `json:"partySize"`
	Visit        string `json:"visit"`
	ConsultantID *int64 `json:"consultantId"`
	SeriesID     *int64 `json:"seriesId"`
	TestDrive    bool   `json:"testDrive"`
	Note         string `json:"note"`
	Version      int64  `json:"version"`
}

// Validate checks the visit's shape.
func (in *VisitInput) Validate(now int64) (string, string, error) {
	in.Name, in.Note, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.Note), strings.TrimSpace(in.Phone)
	f := apperr.Fields{}
	var phone, kind string
	if in.Phone != "" {
		var code string
		if phone, kind, code = normalizePhone(in.Phone); code != "" {
			f.Add("phone", code)
		}
	}
	if in.ArrivedAt == 0 {
		in.ArrivedAt = now
	}
	if in.ArrivedAt > now+5*60000 {
		f.Add("arrivedAt", "crm.time_future")
	}
	if in.LeftAt != nil && *in.LeftAt < in.ArrivedAt {
		f.Add("leftAt", "crm.left_before_arrived")
	}
	if in.PartySize == 0 {
		in.PartySize = 1
	}
	if in.PartySize < 1 || in.PartySize > 50 {
		f.Add("partySize", "out_of_range", "min", 1, "max", 50)
	}
	if !oneOf(in.Visit, []string{"first", "return"}) {
		f.Add("visit", "required")
	}
	limitText(f, "name", in.Name, 50)
	limitText(f, "note", in.Note, 500)
	return phone, kind, f.Err()
}

const visitCols = `v.id, v.store_id, v.customer_id, v.name, v.phone, v.arrived_at, v.left_at, v.party_size, v.visit, v.consultant_id, COALESCE(u.name, ''),
	v.series_id, COALESCE(vs.name, ''), v.test_drive, v.note, v.version`
const visitFrom = ` FROM showroom_visit v LEFT JOIN app_user u ON u.id = v.consultant_id LEFT JOIN vehicle_series vs ON vs.id = v.series_id`

func scanVisit(sc interface{ Scan(...any) error }) (Visit, error) {
	var v Visit
	var cust, left, cons, series sql.NullInt64
	var td int
	if err := sc.Scan(&v.ID, &v.StoreID, &cust, &v.Name, &v.Phone, &v.ArrivedAt, &left, &v.PartySize, &v.Visit, &cons, &v.ConsultantName,
		&series, &v.SeriesName, &td, &v.Note, &v.Version); err != nil {
		return v, err
	}
	v.CustomerID, v.LeftAt, v.ConsultantID, v.SeriesID = ptr(cust), ptr(left), ptr(cons), ptr(series)
	v.TestDrive = td == 1
	v.Phone = pii.MaskPhone(v.Phone)
	return v, nil
}

// LogVisit records a walk-in (reception desk or consultant).
func (s *Service) LogVisit(ctx context.Context, a auth.Actor, in VisitInput) (Visit, error) {
	now := s.now()
	phone, kind, err := in.Validate(now)
	if err != nil {
		return Visit{}, err
	}
	if in.StoreID == 0 {
		in.StoreID = a.StoreID
	}
	if err := storeAccess(a, auth.PermLeadCreate, in.StoreID); err != nil {
		return Visit{}, err
	}
	var id int64
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if in.ConsultantID != nil {
			if err := checkOwner(ctx, tx, *in.ConsultantID, in.StoreID, "consultantId"); err != nil {
				return err
			}
		}
		var custID sql.NullInt64
		if phone != "" {
			st, err := LoadSettings(ctx, tx, in.StoreID)
			if err != nil {
				return err
			}
			lead := LeadInput{StoreID: in.StoreID, Phone: in.Phone, Name: in.Name, Channel: "walk_in", SeriesID: in.SeriesID, Visit: in.Visit, Note: in.Note, Assign: "auto"}
			if in.ConsultantID != nil {
				lead.Assign = "me"
				if *in.ConsultantID != a.UserID {
					lead.Assign, lead.OwnerID = "auto", in.ConsultantID
				}
			}
			// The reception desk hands the walk-in to the consultant who received it.
			res, err := s.intakeTx(ctx, tx, a, st, lead, phone, kind, leadSource{at: now, ownerAllowed: true})
			if err != nil {
				return err
			}
			custID = sql.NullInt64{Int64: res.CustomerID, Valid: true}
			if _, err := tx.ExecContext(ctx, `UPDATE customer SET visit = CASE WHEN visit = '' THEN 'first' ELSE 'return' END WHERE id = ?`, res.CustomerID); err != nil {
				return err
			}
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO showroom_visit (store_id, customer_id, name, phone, arrived_at, left_at, party_size, visit, consultant_id, series_id, test_drive, note, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.StoreID, custID, in.Name, phone, in.ArrivedAt, in.LeftAt, in.PartySize, in.Visit,
			nullIDp(in.ConsultantID), nullIDp(in.SeriesID), boolInt(in.TestDrive), in.Note, nullID(a.UserID), now, now)
		if err != nil {
			return fmt.Errorf("crm: log visit: %w", err)
		}
		id, _ = r.LastInsertId()
		if custID.Valid {
			if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: custID.Int64, StoreID: in.StoreID, At: in.ArrivedAt, Kind: "visit", Entity: "showroom_visit", EntityID: id,
				Data: map[string]any{"visit": in.Visit, "partySize": in.PartySize, "testDrive": in.TestDrive}}.By(a)); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "create", "showroom_visit", id, in.StoreID, nil, map[string]any{"visit": in.Visit, "customerId": custID.Int64})
	})
	if err != nil {
		return Visit{}, err
	}
	s.afterCommit()
	return scanVisit(s.db.R.QueryRowContext(ctx, `SELECT `+visitCols+visitFrom+` WHERE v.id = ?`, id))
}

// LeaveInput records when a visitor left.
type LeaveInput struct {
	LeftAt  int64 `json:"leftAt"`
	Version int64 `json:"version"`
}

// VisitLeft sets the leave time of a visit.
func (s *Service) VisitLeft(ctx context.Context, a auth.Actor, id int64, in LeaveInput) (Visit, error) {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		v, err := scanVisit(tx.QueryRowContext(ctx, `SELECT `+visitCols+visitFrom+` WHERE v.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "not_found")
		} else if err != nil {
			return err
		}
		if err := storeAccess(a, auth.PermLeadCreate, v.StoreID); err != nil {
			return err
		}
		if in.LeftAt == 0 {
			in.LeftAt = s.now()
		}
		if in.LeftAt < v.ArrivedAt {
			return apperr.Field("leftAt", "crm.left_before_arrived")
		}
		r, err := tx.ExecContext(ctx, `UPDATE showroom_visit SET left_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, in.LeftAt, s.now(), id, in.Version)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		return s.audit(ctx, tx, a, "update", "showroom_visit", id, v.StoreID, map[string]any{"leftAt": v.LeftAt}, map[string]any{"leftAt": in.LeftAt})
	})
	if err != nil {
		return Visit{}, err
	}
	return scanVisit(s.db.R.QueryRowContext(ctx, `SELECT `+visitCols+visitFrom+` WHERE v.id = ?`, id))
}

// VisitDay is one day's traffic log with its counts.
type VisitDay struct {
	Items     []Visit `json:"items"`
	Total     int     `json:"total"`
	First     int     `json:"first"`
	Return    int     `json:"return"`
	WithPhone int     `json:"withPhone"` // 留档: visits whose contact details were kept
	TestDrive int     `json:"testDrive"`
}

// ListVisits returns the traffic log between from and to (default: today).
func (s *Service) ListVisits(ctx context.Context, a auth.Actor, storeID, from, to int64) (VisitDay, error) {
	out := VisitDay{Items: []Visit{}}
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermLeadCreate, storeID); err != nil {
		if err2 := storeAccess(a, auth.PermCustomerRead, storeID); err2 != nil {
			return out, err
		}
	}
	if from == 0 {
		var err error
		if from, to, err = s.dayBounds(ctx, storeID); err != nil {
			return out, err
		}
	}
	if to <= from || to-from > 32*24*3600*1000 {
		return out, apperr.Field("to", "crm.range_too_long")
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+visitCols+visitFrom+` WHERE v.store_id = ? AND v.arrived_at >= ? AND v.arrived_at < ? ORDER BY v.arrived_at DESC, v.id DESC LIMIT 1000`, storeID, from, to)
	if err != nil {
		return out, fmt.Errorf("crm: visits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanVisit(rows)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, v)
		out.Total++
		if v.Visit == "first" {
			out.First++
		} else {
			out.Return++
		}
		if v.Phone != "" {
			out.WithPhone++
		}
		if v.TestDrive {
			out.TestDrive++
		}
	}
	return out, rows.Err()
}
