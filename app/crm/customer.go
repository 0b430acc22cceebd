package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/pii"
	"dealerdesk/app/timeline"
)

// Channels a lead can come from (L1).
var Channels = []string{"walk_in", "phone", "dcc", "website", "autohome", "dongchedi", "yiche", "wechat", "referral", "auto_show", "campaign", "oem", "other"}

// Stages of the customer lifecycle (L6); lost and dormant are statuses beside them.
var Stages = []string{"lead", "prospect", "ordered", "delivered", "owner"}

func oneOf(v string, set []string) bool {
	for _, x := range set {
		if x == v {
			return true
		}
	}
	return false
}

// Phone is one of a customer's numbers.
type Phone struct {
	ID      int64  `json:"id"`
	Phone   string `json:"phone"` // masked
	Kind    string `json:"kind"`
	Primary bool   `json:"primary"`
}

// Customer is the 360° profile (L5). Phone and ID number are always masked here;
// the full values come only from the audited reveal call.
type Customer struct {
	ID             int64    `json:"id"`
	StoreID        int64    `json:"storeId"`
	StoreName      string   `json:"storeName"`
	OwnerID        *int64   `json:"ownerId"`
	OwnerName      string   `json:"ownerName"`
	DepartmentID   *int64   `json:"departmentId"`
	Name           string   `json:"name"`
	Phone          string   `json:"phone"`
	Phones         []Phone  `json:"phones,omitempty"`
	Gender         string   `json:"gender"`
	Birthday       string   `json:"birthday"`
	Region         string   `json:"region"`
	Address        string   `json:"address"`
	Occupation     string   `json:"occupation"`
	Family         string   `json:"family"`
	Wechat         string   `json:"wechat"`
	IDNo           string   `json:"idNo"`
	BudgetMin      int64    `json:"budgetMin"`
	BudgetMax      int64    `json:"budgetMax"`
	CurrentCar     string   `json:"currentCar"`
	SeriesID       *int64   `json:"seriesId"`
	SeriesName     string   `json:"seriesName"`
	ModelID        *int64   `json:"modelId"`
	ModelName      string   `json:"modelName"`
	Color          string   `json:"color"`
	Timeframe      string   `json:"timeframe"`
	Payment        string   `json:"payment"`
	TradeIn        bool     `json:"tradeIn"`
	Channel        string   `json:"channel"`
	SourceDetail   string   `json:"sourceDetail"`
	Grade          string   `json:"grade"`
	Visit          string   `json:"visit"`
	Stage          string   `json:"stage"`
	Status         string   `json:"status"`
	LostReason     string   `json:"lostReason"`
	LostBrand      string   `json:"lostBrand"`
	StatusAt       *int64   `json:"statusAt"`
	Remark         string   `json:"remark"`
	Consent        bool     `json:"consent"`
	Tags           []string `json:"tags"`
	AssignedAt     *int64   `json:"assignedAt"`
	FirstContactAt *int64   `json:"firstContactAt"`
	LastContactAt  *int64   `json:"lastContactAt"`
	NextFollowupAt *int64   `json:"nextFollowupAt"`
	SLAKind        string   `json:"slaKind"`
	SLADueAt       *int64   `json:"slaDueAt"`
	SLALevel       int      `json:"slaLevel"`
	Overdue        bool     `json:"overdue"`
	MergedInto     *int64   `json:"mergedInto,omitempty"`
	PendingLostID  *int64   `json:"pendingLostId"`
	// PendingLostApprovalID is the approval deciding the pending lost request.
	PendingLostApprovalID *int64 `json:"pendingLostApprovalId"`
	CreatedAt             int64  `json:"createdAt"`
	UpdatedAt             int64  `json:"updatedAt"`
	Version               int64  `json:"version"`
}

func (c Customer) record() auth.Record {
	return auth.Record{StoreID: c.StoreID, OwnerID: deref(c.OwnerID), DepartmentID: deref(c.DepartmentID)}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func ptr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	x := v.Int64
	return &x
}

func nullID(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

func nullIDp(p *int64) sql.NullInt64 {
	if p == nil || *p == 0 {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// customerCols is the SELECT list scanCustomer reads (alias c for customer).
const customerCols = `c.id, c.store_id, COALESCE(st.name, ''), c.owner_id, COALESCE(u.name, ''), c.department_id, c.name, c.phone, c.gender, c.birthday,
	c.region, c.address, c.occupation, c.family, c.wechat, c.id_no, c.budget_min, c.budget_max, c.current_car, c.series_id, COALESCE(vs.name, ''),
	c.model_id, COALESCE(vm.name, ''), c.color, c.timeframe, c.payment, c.trade_in, c.channel, c.source_detail, c.grade, c.visit, c.stage, c.status,
	c.lost_reason, c.lost_brand, c.status_at, c.remark, c.consent, c.assigned_at, c.first_contact_at, c.last_contact_at, c.next_followup_at,
	c.sla_kind, c.sla_due_at, c.sla_level, c.merged_into, c.created_at, c.updated_at, c.version`

// customerFrom joins the names the list and the profile show.
const customerFrom = ` FROM customer c
	LEFT JOIN store st ON st.id = c.store_id
	LEFT JOIN app_user u ON u.id = c.owner_id
	LEFT JOIN vehicle_series vs ON vs.id = c.series_id
	LEFT JOIN vehicle_model vm ON vm.id = c.model_id`

func scanCustomer(sc interface{ Scan(...any) error }, now int64) (Customer, error) {
	var c Customer
	var owner, dept, series, model, statusAt, assigned, first, last, next, due, merged sql.NullInt64
	var tradeIn, consent int
	err := sc.Scan(&c.ID, &c.StoreID, &c.StoreName, &owner, &c.OwnerName, &dept, &c.Name, &c.Phone, &c.Gender, &c.Birthday,
		&c.Region, &c.Address, &c.Occupation, &c.Family, &c.Wechat, &c.IDNo, &c.BudgetMin, &c.BudgetMax, &c.CurrentCar, &series, &c.SeriesName,
		&model, &c.ModelName, &c.Color, &c.Timeframe, &c.Payment, &tradeIn, &c.Channel, &c.SourceDetail, &c.Grade, &c.Visit, &c.Stage, &c.Status,
		&c.LostReason, &c.LostBrand, &statusAt, &c.Remark, &consent, &assigned, &first, &last, &next,
		&c.SLAKind, &due, &c.SLALevel, &merged, &c.CreatedAt, &c.UpdatedAt, &c.Version)
	if err != nil {
		return c, err
	}
	c.OwnerID, c.DepartmentID, c.SeriesID, c.ModelID, c.StatusAt = ptr(owner), ptr(dept), ptr(series), ptr(model), ptr(statusAt)
	c.AssignedAt, c.FirstContactAt, c.LastContactAt, c.NextFollowupAt, c.SLADueAt, c.MergedInto = ptr(assigned), ptr(first), ptr(last), ptr(next), ptr(due), ptr(merged)
	c.TradeIn, c.Consent = tradeIn == 1, consent == 1
	c.Phone = pii.MaskPhone(c.Phone)
	c.IDNo = pii.MaskIDNo(c.IDNo)
	c.Overdue = c.Status == "active" && due.Valid && due.Int64 < now
	c.Tags = []string{}
	return c, nil
}

// getCustomer loads one customer (masked) without an access check.
func getCustomer(ctx context.Context, q db.Querier, id, now int64) (Customer, error) {
	c, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerCols+customerFrom+` WHERE c.id = ?`, id), now)
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return c, fmt.Errorf("crm: get customer %d: %w", id, err)
	}
	return c, nil
}

// loadTags fills the tags of the customers with one query.
func loadTags(ctx context.Context, q db.Querier, list []Customer) error {
	if len(list) == 0 {
		return nil
	}
	idx := map[int64]int{}
	args := make([]any, len(list))
	for i, c := range list {
		idx[c.ID] = i
		args[i] = c.ID
	}
	rows, err := q.QueryContext(ctx, `SELECT customer_id, tag FROM customer_tag WHERE customer_id IN (?`+strings.Repeat(",?", len(list)-1)+`) ORDER BY tag`, args...)
	if err != nil {
		return fmt.Errorf("crm: tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		list[idx[id]].Tags = append(list[idx[id]].Tags, tag)
	}
	return rows.Err()
}

func loadPhones(ctx context.Context, q db.Querier, id int64) ([]Phone, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, phone, kind, is_primary FROM customer_phone WHERE customer_id = ? ORDER BY is_primary DESC, id`, id)
	if err != nil {
		return nil, fmt.Errorf("crm: phones: %w", err)
	}
	defer rows.Close()
	out := []Phone{}
	for rows.Next() {
		var p Phone
		var primary int
		if err := rows.Scan(&p.ID, &p.Phone, &p.Kind, &primary); err != nil {
			return nil, err
		}
		p.Phone, p.Primary = pii.MaskPhone(p.Phone), primary == 1
		out = append(out, p)
	}
	return out, rows.Err()
}

func pendingLost(ctx context.Context, q db.Querier, id int64) (*int64, error) {
	var rid int64
	err := q.QueryRowContext(ctx, `SELECT id FROM lost_request WHERE customer_id = ? AND status = 'pending'`, id).Scan(&rid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &rid, nil
}

// readable loads a customer the actor may read. A merged customer answers with
// its mergedInto id so links keep working.
func (s *Service) readable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Customer, error) {
	c, err := getCustomer(ctx, q, id, s.now())
	if err != nil {
		return c, err
	}
	if c.Status == "merged" && c.MergedInto != nil {
		if auth.Can(a, auth.PermCustomerRead, c.record()) {
			return c, nil
		}
	}
	return c, auth.Check(a, auth.PermCustomerRead, c.record())
}

// writable loads a customer the actor may change.
func (s *Service) writable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Customer, error) {
	c, err := getCustomer(ctx, q, id, s.now())
	if err != nil {
		return c, err
	}
	if err := auth.Check(a, auth.PermCustomerWrite, c.record()); err != nil {
		return c, err
	}
	if c.Status == "merged" {
		return c, apperr.New(apperr.Conflict, "crm.merged")
	}
	return c, nil
}

// GetCustomer returns the full profile.
func (s *Service) GetCustomer(ctx context.Context, a auth.Actor, id int64) (Customer, error) {
	c, err := s.readable(ctx, s.db.R, a, id)
	if err != nil {
		return c, err
	}
	if c.Phones, err = loadPhones(ctx, s.db.R, id); err != nil {
		return c, err
	}
	list := []Customer{c}
	if err := loadTags(ctx, s.db.R, list); err != nil {
		return c, err
	}
	c = list[0]
	if c.PendingLostID, err = pendingLost(ctx, s.db.R, id); err != nil {
		return c, err
	}
	if c.PendingLostID != nil && s.approval != nil {
		inst, err := s.approval.PendingFor(ctx, s.db.R, lostDocType, *c.PendingLostID)
		if err != nil {
			return c, err
		}
		if inst != nil {
			c.PendingLostApprovalID = &inst.ID
		}
	}
	return c, nil
}

// ProfileInput edits the profile fields (L5). Version guards against lost updates.
type ProfileInput struct {
	Name       string   `json:"name"`
	Gender     string   `json:"gender"`
	Birthday   string   `json:"birthday"`
	Region     string   `json:"region"`
	Address    string   `json:"address"`
	Occupation string   `json:"occupation"`
	Family     string   `json:"family"`
	Wechat     string   `json:"wechat"`
	IDNo       string   `json:"idNo"` // a masked value (unchanged) keeps the stored number
	BudgetMin  int64    `json:"budgetMin"`
	BudgetMax  int64    `json:"budgetMax"`
	CurrentCar string   `json:"currentCar"`
	SeriesID   *int64   `json:"seriesId"`
	ModelID    *int64   `json:"modelId"`
	Color      string   `json:"color"`
	Timeframe  string   `json:"timeframe"`
	Payment    string   `json:"payment"`
	TradeIn    bool     `json:"tradeIn"`
	Grade      string   `json:"grade"`
	Visit      string   `json:"visit"`
	Remark     string   `json:"remark"`
	Tags       []string `json:"tags"`
	Version    int64    `json:"version"`
}

var birthdayRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func limitText(f apperr.Fields, field, v string, max int) {
	if utf8.RuneCountInString(v) > max {
		f.Add(field, "too_long", "max", max)
	}
}

// Normalize trims text fields and tidies tags.
func (in *ProfileInput) Normalize() {
	for _, p := range []*string{&in.Name, &in.Gender, &in.Birthday, &in.Region, &in.Address, &in.Occupation, &in.Family, &in.Wechat, &in.IDNo, &in.CurrentCar, &in.Color, &in.Timeframe, &in.Payment, &in.Visit, &in.Remark} {
		*p = strings.TrimSpace(*p)
	}
	in.Grade = strings.ToUpper(strings.TrimSpace(in.Grade))
	in.IDNo = strings.ToUpper(in.IDNo)
	in.Tags = normalizeTags(in.Tags)
}

func normalizeTags(tags []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

// Validate checks shapes; grade and catalogue ids are checked against the store.
func (in *ProfileInput) Validate() error {
	f := apperr.Fields{}
	validateProfile(f, in)
	return f.Err()
}

func validateProfile(f apperr.Fields, in *ProfileInput) {
	limitText(f, "name", in.Name, 50)
	if !oneOf(in.Gender, []string{"", "m", "f"}) {
		f.Add("gender", "invalid_format")
	}
	if in.Birthday != "" {
		if _, err := time.Parse("2006-01-02", in.Birthday); err != nil || !birthdayRe.MatchString(in.Birthday) {
			f.Add("birthday", "invalid_format")
		}
	}
	limitText(f, "region", in.Region, 100)
	limitText(f, "address", in.Address, 200)
	limitText(f, "occupation", in.Occupation, 50)
	limitText(f, "family", in.Family, 200)
	limitText(f, "wechat", in.Wechat, 50)
	if in.IDNo != "" && !strings.Contains(in.IDNo, "*") && !pii.ValidIDNo(in.IDNo) {
		f.Add("idNo", "idno.invalid")
	}
	if in.BudgetMin < 0 || in.BudgetMin > 1e12 {
		f.Add("budgetMin", "out_of_range", "min", 0, "max", 10000000000)
	}
	if in.BudgetMax < 0 || in.BudgetMax > 1e12 {
		f.Add("budgetMax", "out_of_range", "min", 0, "max", 10000000000)
	} else if in.BudgetMax != 0 && in.BudgetMax < in.BudgetMin {
		f.Add("budgetMax", "crm.budget_order")
	}
	limitText(f, "currentCar", in.CurrentCar, 100)
	limitText(f, "color", in.Color, 30)
	if !oneOf(in.Timeframe, []string{"", "7d", "15d", "30d", "90d", "later"}) {
		f.Add("timeframe", "invalid_format")
	}
	if !oneOf(in.Payment, []string{"", "full", "loan"}) {
		f.Add("payment", "invalid_format")
	}
	if !oneOf(in.Visit, []string{"", "first", "return"}) {
		f.Add("visit", "invalid_format")
	}
	limitText(f, "remark", in.Remark, 2000)
	if len(in.Tags) > 30 {
		f.Add("tags", "out_of_range", "min", 0, "max", 30)
	}
	for _, t := range in.Tags {
		if utf8.RuneCountInString(t) > 20 {
			f.Add("tags", "crm.tag_too_long", "max", 20)
		}
	}
}

// orderedGrade is the grade of a customer with an order (O in the default set).
const orderedGrade = "O"

// checkRefs validates grade (store settings) and catalogue ids inside the transaction.
func checkRefs(ctx context.Context, q db.Querier, f apperr.Fields, st Settings, grade string, seriesID, modelID *int64) error {
	if grade != "" {
		if _, ok := st.grade(grade); !ok {
			f.Add("grade", "crm.grade_unknown")
		} else if grade == lostGrade || grade == orderedGrade {
			// Lost comes only from an approved lost request, ordered from an order.
			f.Add("grade", "crm.grade_reserved")
		}
	}
	if seriesID != nil {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM vehicle_series WHERE id = ?`, *seriesID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			f.Add("seriesId", "crm.series_unknown")
		}
	}
	if modelID != nil {
		var sid int64
		err := q.QueryRowContext(ctx, `SELECT series_id FROM vehicle_model WHERE id = ?`, *modelID).Scan(&sid)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && seriesID != nil && sid != *seriesID) {
			f.Add("modelId", "crm.model_unknown")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// UpdateProfile saves the profile (owner, or anyone with customer.write in scope).
func (s *Service) UpdateProfile(ctx context.Context, a auth.Actor, id int64, in ProfileInput) (Customer, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return Customer{}, err
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		st, err := LoadSettings(ctx, tx, before.StoreID)
		if err != nil {
			return err
		}
		f := apperr.Fields{}
		changed := in.Grade
		if changed == before.Grade {
			changed = "" // an unchanged grade (even F on a lost customer) is fine
		}
		if err := checkRefs(ctx, tx, f, st, changed, in.SeriesID, in.ModelID); err != nil {
			return err
		}
		if in.Grade == "" && before.Grade != "" {
			f.Add("grade", "required")
		}
		if err := f.Err(); err != nil {
			return err
		}
		idNo := in.IDNo
		if strings.Contains(idNo, "*") {
			if err := tx.QueryRowContext(ctx, `SELECT id_no FROM customer WHERE id = ?`, id).Scan(&idNo); err != nil {
				return err
			}
		}
		now := s.now()
		tradeIn := 0
		if in.TradeIn {
			tradeIn = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET name=?, gender=?, birthday=?, region=?, address=?, occupation=?, family=?, wechat=?, id_no=?,
			budget_min=?, budget_max=?, current_car=?, series_id=?, model_id=?, color=?, timeframe=?, payment=?, trade_in=?, grade=?, visit=?, remark=?,
			version=version+1, updated_at=? WHERE id=? AND version=?`,
			in.Name, in.Gender, in.Birthday, in.Region, in.Address, in.Occupation, in.Family, in.Wechat, idNo,
			in.BudgetMin, in.BudgetMax, in.CurrentCar, nullIDp(in.SeriesID), nullIDp(in.ModelID), in.Color, in.Timeframe, in.Payment, tradeIn, in.Grade, in.Visit, in.Remark,
			now, id, in.Version); err != nil {
			return fmt.Errorf("crm: update customer %d: %w", id, err)
		}
		if err := setTags(ctx, tx, id, before.StoreID, in.Tags); err != nil {
			return err
		}
		if before.Grade != in.Grade {
			if err := s.rescheduleForGrade(ctx, tx, id, st, in.Grade); err != nil {
				return err
			}
			if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: id, StoreID: before.StoreID, At: now, Kind: "customer.grade",
				Data: map[string]any{"from": before.Grade, "to": in.Grade}}.By(a)); err != nil {
				return err
			}
		}
		if err := findex.Mark(ctx, tx, searchKind, id); err != nil {
			return err
		}
		after := in
		after.IDNo = pii.MaskIDNo(idNo)
		return s.audit(ctx, tx, a, "update", "customer", id, before.StoreID, profileAudit(before), after)
	})
	if err != nil {
		return Customer{}, err
	}
	s.afterCommit()
	return s.GetCustomer(ctx, a, id)
}

// profileAudit is the before-image of a profile edit (masked values only).
func profileAudit(c Customer) map[string]any {
	return map[string]any{"name": c.Name, "grade": c.Grade, "region": c.Region, "seriesId": c.SeriesID, "modelId": c.ModelID,
		"timeframe": c.Timeframe, "payment": c.Payment, "idNo": c.IDNo, "remark": c.Remark, "version": c.Version}
}

func setTags(ctx context.Context, q db.Querier, id, storeID int64, tags []string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM customer_tag WHERE customer_id = ?`, id); err != nil {
		return fmt.Errorf("crm: clear tags: %w", err)
	}
	for _, t := range tags {
		if _, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO customer_tag (customer_id, tag, store_id) VALUES (?, ?, ?)`, id, t, storeID); err != nil {
			return fmt.Errorf("crm: add tag: %w", err)
		}
	}
	return nil
}

// RevealPhone returns the customer's full phone numbers (pi.reveal), audited.
func (s *Service) RevealPhone(ctx context.Context, a auth.Actor, id int64) (Revealed, error) {
	var out Revealed
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := auth.Require(a, auth.PermPIReveal); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT phone FROM customer_phone WHERE customer_id = ? ORDER BY is_primary DESC, id`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			out.Phones = append(out.Phones, p)
		}
		rows.Close()
		if err := tx.QueryRowContext(ctx, `SELECT id_no FROM customer WHERE id = ?`, id).Scan(&out.IDNo); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "reveal", "customer", id, c.StoreID, nil, map[string]any{"fields": []string{"phone", "idNo"}})
	})
	return out, err
}

// Revealed is the unmasked contact data.
type Revealed struct {
	Phones []string `json:"phones"`
	IDNo   string   `json:"idNo"`
}

// CustomerRef is what other sales documents need of a customer: where it
// belongs, who owns it and its name and state.
type CustomerRef struct {
	ID           int64
	StoreID      int64
	OwnerID      int64 // 0 while the customer is in the pool
	DepartmentID int64
	Name         string
	Status       string // active, lost, dormant, merged
	Stage        string // lifecycle: lead, prospect, ordered, delivered, owner
}

// Record is the customer's place for permission checks.
func (r CustomerRef) Record() auth.Record {
	return auth.Record{StoreID: r.StoreID, OwnerID: r.OwnerID, DepartmentID: r.DepartmentID}
}

func refOf(c Customer) CustomerRef {
	return CustomerRef{ID: c.ID, StoreID: c.StoreID, OwnerID: deref(c.OwnerID), DepartmentID: deref(c.DepartmentID), Name: c.Name, Status: c.Status, Stage: c.Stage}
}

// Readable loads a customer the actor may read (customer.read in scope);
// not_found or forbidden otherwise. Sales documents (test drives, quotes,
// orders) are read with the rights on their customer.
func (s *Service) Readable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (CustomerRef, error) {
	c, err := s.readable(ctx, q, a, id)
	return refOf(c), err
}

// Writable loads a customer the actor may change (customer.write in scope);
// a merged customer is a conflict.
func (s *Service) Writable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (CustomerRef, error) {
	c, err := s.writable(ctx, q, a, id)
	return refOf(c), err
}
