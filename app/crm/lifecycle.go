package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/approval"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/task"
	"dealerdesk/app/timeline"
)

// LostReasons a consultant can give (L6).
var LostReasons = []string{"bought_competitor", "bought_same_brand_elsewhere", "price", "financing", "no_longer_buying", "unreachable", "other"}

// LostInput requests that a customer be marked lost (战败申请).
type LostInput struct {
	Reason string `json:"reason"`
	Brand  string `json:"brand"` // the brand bought instead, when bought elsewhere
	Note   string `json:"note"`
}

// Validate checks the request.
func (in *LostInput) Validate() error {
	in.Brand, in.Note = strings.TrimSpace(in.Brand), strings.TrimSpace(in.Note)
	f := apperr.Fields{}
	if !oneOf(in.Reason, LostReasons) {
		f.Add("reason", "required")
	}
	if (in.Reason == "bought_competitor" || in.Reason == "bought_same_brand_elsewhere") && in.Brand == "" {
		f.Add("brand", "crm.brand_required")
	}
	limitText(f, "brand", in.Brand, 50)
	if in.Reason == "other" && in.Note == "" {
		f.Add("note", "required")
	}
	limitText(f, "note", in.Note, 1000)
	return f.Err()
}

// LostRequest is a pending or decided request.
type LostRequest struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customerId"`
	Reason     string `json:"reason"`
	Brand      string `json:"brand"`
	Note       string `json:"note"`
	Status     string `json:"status"`
	ApprovalID int64  `json:"approvalId"`
}

// RequestLost starts the lost-customer approval; the customer becomes lost only
// when it is approved.
func (s *Service) RequestLost(ctx context.Context, a auth.Actor, id int64, in LostInput) (LostRequest, error) {
	if err := in.Validate(); err != nil {
		return LostRequest{}, err
	}
	var out LostRequest
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if c.Status != "active" {
			return apperr.New(apperr.Conflict, "crm.not_active")
		}
		if a.UserID == 0 {
			return apperr.New(apperr.Forbidden, "forbidden")
		}
		now := s.now()
		r, err := tx.ExecContext(ctx, `INSERT INTO lost_request (customer_id, store_id, reason, brand, note, requested_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, c.StoreID, in.Reason, in.Brand, in.Note, a.UserID, now)
		if db.IsUnique(err) {
			return apperr.New(apperr.Conflict, "crm.lost_pending")
		} else if err != nil {
			return fmt.Errorf("crm: lost request: %w", err)
		}
		rid, _ := r.LastInsertId()
		inst, err := s.approval.Submit(ctx, tx, a, lostDocType, rid)
		if err != nil {
			return err
		}
		out = LostRequest{ID: rid, CustomerID: id, Reason: in.Reason, Brand: in.Brand, Note: in.Note, Status: "pending", ApprovalID: inst.ID}
		return s.audit(ctx, tx, a, "request_lost", "customer", id, c.StoreID, nil, in)
	})
	if err != nil {
		return LostRequest{}, err
	}
	s.afterCommit()
	return out, nil
}

const lostDocType = "crm.lost"

func (s *Service) lostDocType() approval.DocType {
	return approval.DocType{
		Type:     lostDocType,
		ReadPerm: auth.PermCustomerRead,
		Describe: func(ctx context.Context, q db.Querier, docID int64) (approval.Doc, error) {
			var r LostRequest
			var custID int64
			err := q.QueryRowContext(ctx, `SELECT customer_id, reason, brand, note FROM lost_request WHERE id = ?`, docID).Scan(&custID, &r.Reason, &r.Brand, &r.Note)
			if errors.Is(err, sql.ErrNoRows) {
				return approval.Doc{}, apperr.New(apperr.NotFound, "not_found")
			} else if err != nil {
				return approval.Doc{}, err
			}
			c, err := getCustomer(ctx, q, custID, s.now())
			if err != nil {
				return approval.Doc{}, err
			}
			return approval.Doc{StoreID: c.StoreID, OwnerID: deref(c.OwnerID), DepartmentID: deref(c.DepartmentID), CustomerID: c.ID,
				Title: displayName(c), Link: customerLink(c.ID),
				Fields: map[string]any{"reason": r.Reason, "brand": r.Brand, "note": r.Note, "grade": c.Grade, "channel": c.Channel, "stage": c.Stage}}, nil
		},
		Decided: s.lostDecided,
		Default: []approval.Step{{Name: "销售经理审批", Mode: approval.ModeAny, Approvers: []approval.Approver{{Kind: approval.ApproverRole, Role: "sales_manager"}}}},
		FieldsInfo: []approval.FieldInfo{
			{Key: "reason", Type: approval.FieldEnum, Options: LostReasons, Label: "crm.field.lostReason", OptionLabel: "crm.lostReason"},
			{Key: "grade", Type: approval.FieldText, Label: "crm.field.grade"},
			{Key: "channel", Type: approval.FieldEnum, Options: Channels, Label: "crm.field.channel", OptionLabel: "crm.channel"},
			{Key: "stage", Type: approval.FieldEnum, Options: Stages, Label: "crm.field.stage", OptionLabel: "crm.stage"},
			{Key: "brand", Type: approval.FieldText, Label: "crm.field.lostBrand"},
			{Key: "note", Type: approval.FieldText, Label: "crm.field.note"},
		},
	}
}

// lostDecided applies the approval's outcome to the request and the customer.
func (s *Service) lostDecided(ctx context.Context, tx *sql.Tx, inst approval.Instance, outcome approval.Outcome, by auth.Actor) error {
	now := s.now()
	var custID int64
	var reason, brand string
	if err := tx.QueryRowContext(ctx, `SELECT customer_id, reason, brand FROM lost_request WHERE id = ?`, inst.DocID).Scan(&custID, &reason, &brand); err != nil {
		return fmt.Errorf("crm: lost request %d: %w", inst.DocID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE lost_request SET status = ?, decided_at = ? WHERE id = ? AND status = 'pending'`, string(outcome), now, inst.DocID); err != nil {
		return err
	}
	if outcome != approval.Approved {
		return nil
	}
	c, err := getCustomer(ctx, tx, custID, now)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customer SET status = 'lost', grade = ?, lost_reason = ?, lost_brand = ?, status_at = ?,
		next_followup_at = NULL, updated_at = ?, version = version + 1 WHERE id = ?`, lostGrade, reason, brand, now, now, custID); err != nil {
		return err
	}
	if err := clearSLA(ctx, tx, custID); err != nil {
		return err
	}
	if err := task.CancelOpen(ctx, tx, custID, "followup", now); err != nil {
		return err
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: custID, StoreID: c.StoreID, At: now, Kind: "customer.lost",
		Data: map[string]any{"reason": reason, "brand": brand}}.By(by)); err != nil {
		return err
	}
	if err := s.emit(ctx, tx, "customer.lost", "customer", custID, c, "", map[string]any{"reason": reason, "brand": brand, "approvalId": inst.ID}); err != nil {
		return err
	}
	return findex.Mark(ctx, tx, searchKind, custID)
}

// lostGrade is the grade a lost customer gets (F in the default set).
const lostGrade = "F"

// SetDormant puts an active customer to sleep (休眠): no deadlines, no pool return.
func (s *Service) SetDormant(ctx context.Context, a auth.Actor, id int64, note string) (Customer, error) {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if c.Status != "active" {
			return apperr.New(apperr.Conflict, "crm.not_active")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET status = 'dormant', status_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		if err := clearSLA(ctx, tx, id); err != nil {
			return err
		}
		if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: id, StoreID: c.StoreID, At: now, Kind: "customer.dormant", Data: map[string]any{"note": strings.TrimSpace(note)}}.By(a)); err != nil {
			return err
		}
		if err := findex.Mark(ctx, tx, searchKind, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "dormant", "customer", id, c.StoreID, map[string]any{"status": c.Status}, map[string]any{"status": "dormant"})
	})
	if err != nil {
		return Customer{}, err
	}
	s.afterCommit()
	return s.GetCustomer(ctx, a, id)
}

// Reactivate brings a lost or dormant customer back (to prospect, with a
// follow-up due by the grade's cadence).
func (s *Service) Reactivate(ctx context.Context, a auth.Actor, id int64) (Customer, error) {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if c.Status != "lost" && c.Status != "dormant" {
			return apperr.New(apperr.Conflict, "crm.not_inactive")
		}
		if err := s.reactivateTx(ctx, tx, a, c, s.now(), "manual"); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "reactivate", "customer", id, c.StoreID, map[string]any{"status": c.Status}, map[string]any{"status": "active"})
	})
	if err != nil {
		return Customer{}, err
	}
	s.afterCommit()
	return s.GetCustomer(ctx, a, id)
}

func (s *Service) reactivateTx(ctx context.Context, tx *sql.Tx, a auth.Actor, c Customer, now int64, why string) error {
	st, err := LoadSettings(ctx, tx, c.StoreID)
	if err != nil {
		return err
	}
	grade := c.Grade
	if grade == lostGrade || grade == "" {
		if len(st.Grades) > 0 {
			grade = "C"
			if _, ok := st.grade(grade); !ok {
				grade = st.Grades[len(st.Grades)-1].Code
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customer SET status = 'active', grade = ?, stage = CASE WHEN stage IN ('lead', 'prospect') THEN 'prospect' ELSE stage END,
		lost_reason = '', lost_brand = '', status_at = ?, touched_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`, grade, now, now, now, c.ID); err != nil {
		return err
	}
	if c.OwnerID != nil {
		if g, ok := st.grade(grade); ok && g.CadenceDays > 0 {
			if err := s.markContacted(ctx, tx, c.ID, st, grade, now, 0); err != nil {
				return err
			}
		}
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: c.StoreID, At: now, Kind: "customer.reactivated", Data: map[string]any{"from": c.Status, "via": why}}.By(a)); err != nil {
		return err
	}
	return findex.Mark(ctx, tx, searchKind, c.ID)
}

// ConsentInput records a consent given or withdrawn (P2).
type ConsentInput struct {
	Granted bool   `json:"granted"`
	Method  string `json:"method"`
	Note    string `json:"note"`
}

// Consent is one consent record.
type Consent struct {
	ID      int64  `json:"id"`
	Granted bool   `json:"granted"`
	Scope   string `json:"scope"`
	Method  string `json:"method"`
	Note    string `json:"note"`
	ByName  string `json:"byName"`
	At      int64  `json:"at"`
}

var consentMethods = []string{"paper", "verbal", "web_form", "wechat", "sms", "other"}

func insertConsent(ctx context.Context, q db.Querier, custID, storeID int64, granted bool, method, note string, by, now int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO customer_consent (customer_id, store_id, granted, method, note, by_user, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		custID, storeID, boolInt(granted), method, note, nullID(by), now)
	if err != nil {
		return fmt.Errorf("crm: consent: %w", err)
	}
	_, err = q.ExecContext(ctx, `UPDATE customer SET consent = ? WHERE id = ?`, boolInt(granted), custID)
	return err
}

// RecordConsent stores a consent change with who and how.
func (s *Service) RecordConsent(ctx context.Context, a auth.Actor, id int64, in ConsentInput) ([]Consent, error) {
	in.Note = strings.TrimSpace(in.Note)
	if !oneOf(in.Method, consentMethods) {
		return nil, apperr.Field("method", "required")
	}
	if len([]rune(in.Note)) > 500 {
		return nil, apperr.Field("note", "too_long", "max", 500)
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := insertConsent(ctx, tx, id, c.StoreID, in.Granted, in.Method, in.Note, a.UserID, now); err != nil {
			return err
		}
		if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: id, StoreID: c.StoreID, At: now, Kind: "customer.consent",
			Data: map[string]any{"granted": in.Granted, "method": in.Method}}.By(a)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "consent", "customer", id, c.StoreID, map[string]any{"consent": c.Consent}, in)
	})
	if err != nil {
		return nil, err
	}
	return s.ListConsents(ctx, a, id)
}

// ListConsents returns a customer's consent history, newest first.
func (s *Service) ListConsents(ctx context.Context, a auth.Actor, id int64) ([]Consent, error) {
	if _, err := s.readable(ctx, s.db.R, a, id); err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT k.id, k.granted, k.scope, k.method, k.note, COALESCE(u.name, ''), k.at FROM customer_consent k
		LEFT JOIN app_user u ON u.id = k.by_user WHERE k.customer_id = ? ORDER BY k.at DESC, k.id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		var k Consent
		var g int
		if err := rows.Scan(&k.ID, &g, &k.Scope, &k.Method, &k.Note, &k.ByName, &k.At); err != nil {
			return nil, err
		}
		k.Granted = g == 1
		out = append(out, k)
	}
	return out, rows.Err()
}
