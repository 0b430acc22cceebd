package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/notify"
	"dealerdesk/app/pii"
	"dealerdesk/app/timeline"
)

// LeadInput is one lead from any channel: the quick form, the website (API key),
// the showroom log or a row of an imported sheet (L1). Phone first: it is the
// identity (L2).
type LeadInput struct {
	StoreID      int64    `json:"storeId"` // default: the actor's store
	Phone        string   `json:"phone"`
	Name         string   `json:"name"`
	Gender       string   `json:"gender"`
	Channel      string   `json:"channel"`
	SourceDetail string   `json:"sourceDetail"`
	ExtID        string   `json:"extId"` // the sender's own id: posting the same lead twice is harmless
	SeriesID     *int64   `json:"seriesId"`
	ModelID      *int64   `json:"modelId"`
	Region       string   `json:"region"`
	Grade        string   `json:"grade"`
	Visit        string   `json:"visit"`
	Timeframe    string   `json:"timeframe"`
	Note         string   `json:"note"`
	Tags         []string `json:"tags"`
	Assign       string   `json:"assign"`  // auto (rules) | me | pool; default auto
	OwnerID      *int64   `json:"ownerId"` // a manager picks the owner
	Consent      *bool    `json:"consent"` // the customer agreed to be contacted for marketing
}

// LeadResult says what became of a lead.
type LeadResult struct {
	LeadID     int64  `json:"leadId"`
	CustomerID int64  `json:"customerId"`
	Outcome    string `json:"outcome"`  // new | attached
	Repeated   bool   `json:"repeated"` // the same extId was posted before: nothing changed
	// OwnerName tells a colleague who took the lead (a DCC agent hands over to
	// the consultant) even when they may not open the customer; "" for the pool
	// and for API keys.
	OwnerName string   `json:"ownerName"`
	Customer  Customer `json:"customer"`
}

// Normalize trims the input and normalizes the phone.
func (in *LeadInput) Normalize() {
	for _, p := range []*string{&in.Name, &in.Gender, &in.Channel, &in.SourceDetail, &in.ExtID, &in.Region, &in.Visit, &in.Timeframe, &in.Note, &in.Assign} {
		*p = strings.TrimSpace(*p)
	}
	in.Grade = strings.ToUpper(strings.TrimSpace(in.Grade))
	in.Tags = normalizeTags(in.Tags)
	if in.Assign == "" {
		in.Assign = "auto"
	}
}

// validate checks shapes and returns the normalized phone and its kind.
func (in *LeadInput) validate() (phone, kind string, err error) {
	f := apperr.Fields{}
	phone, kind, code := normalizePhone(in.Phone)
	if in.Phone == "" {
		f.Add("phone", "required")
	} else if code != "" {
		f.Add("phone", code)
	}
	if in.Channel == "" {
		f.Add("channel", "required")
	} else if !oneOf(in.Channel, Channels) {
		f.Add("channel", "crm.channel_unknown")
	}
	limitText(f, "sourceDetail", in.SourceDetail, 100)
	limitText(f, "extId", in.ExtID, 100)
	limitText(f, "note", in.Note, 2000)
	if !oneOf(in.Assign, []string{"auto", "me", "pool"}) {
		f.Add("assign", "invalid_format")
	}
	p := ProfileInput{Name: in.Name, Gender: in.Gender, Region: in.Region, Visit: in.Visit, Timeframe: in.Timeframe, Tags: in.Tags}
	validateProfile(f, &p)
	return phone, kind, f.Err()
}

// leadSource says where a lead came in, beyond the actor.
type leadSource struct {
	importJob    int64
	at           int64 // 0: now
	ownerAllowed bool  // the caller may name the owner without customer.assign (reception desk)
	contacted    bool  // an existing customer list: already in contact, no first-contact deadline
	quiet        bool  // no per-lead notice to the owner (an import sends one summary instead)
}

// CreateLead takes a lead: a known phone attaches it to the existing customer
// (and tells the owner); a new phone creates the customer and assigns it.
func (s *Service) CreateLead(ctx context.Context, a auth.Actor, in LeadInput) (LeadResult, error) {
	in.Normalize()
	phone, kind, err := in.validate()
	if err != nil {
		return LeadResult{}, err
	}
	if in.StoreID == 0 {
		in.StoreID = a.StoreID
	}
	if err := storeAccess(a, auth.PermLeadCreate, in.StoreID); err != nil {
		return LeadResult{}, err
	}
	var res LeadResult
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		st, err := LoadSettings(ctx, tx, in.StoreID)
		if err != nil {
			return err
		}
		res, err = s.intakeTx(ctx, tx, a, st, in, phone, kind, leadSource{})
		return err
	})
	if err != nil {
		return LeadResult{}, err
	}
	s.afterCommit()
	c, err := getCustomer(ctx, s.db.R, res.CustomerID, s.now())
	if err != nil {
		return res, err
	}
	// The answer shows the customer only to those who may read it (a website's
	// key or a colleague whose lead attached to someone else's customer gets ids).
	if a.UserID != 0 {
		res.OwnerName = c.OwnerName
	}
	if auth.Can(a, auth.PermCustomerRead, c.record()) {
		res.Customer = c
	} else {
		res.Customer = Customer{ID: c.ID, StoreID: c.StoreID, Tags: []string{}}
	}
	return res, nil
}

// intakeTx is the one path every lead takes, inside the caller's transaction.
func (s *Service) intakeTx(ctx context.Context, tx *sql.Tx, a auth.Actor, st Settings, in LeadInput, phone, kind string, src leadSource) (LeadResult, error) {
	now := src.at
	if now == 0 {
		now = s.now()
	}
	var res LeadResult
	if in.ExtID != "" {
		err := tx.QueryRowContext(ctx, `SELECT id, customer_id, outcome FROM lead WHERE store_id = ? AND channel = ? AND ext_id = ?`,
			in.StoreID, in.Channel, in.ExtID).Scan(&res.LeadID, &res.CustomerID, &res.Outcome)
		if err == nil {
			res.Repeated = true
			return res, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return res, fmt.Errorf("crm: look up lead %q: %w", in.ExtID, err)
		}
	}
	f := apperr.Fields{}
	if err := checkRefs(ctx, tx, f, st, in.Grade, in.SeriesID, in.ModelID); err != nil {
		return res, err
	}
	if in.OwnerID != nil && !a.Has(auth.PermCustomerAssign) && !src.ownerAllowed {
		f.Add("ownerId", "forbidden")
	}
	if in.Assign == "me" && (a.UserID == 0 || !a.Has(auth.PermCustomerWrite)) {
		f.Add("assign", "crm.assign_me")
	}
	if err := f.Err(); err != nil {
		return res, err
	}

	var custID int64
	err := tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_phone WHERE store_id = ? AND phone = ?`, in.StoreID, phone).Scan(&custID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res.Outcome = "new"
		custID, err = s.insertCustomer(ctx, tx, a, in, phone, kind, now)
		if err != nil {
			return res, err
		}
	case err != nil:
		return res, fmt.Errorf("crm: look up phone: %w", err)
	default:
		res.Outcome = "attached"
	}
	res.CustomerID = custID
	r, err := tx.ExecContext(ctx, `INSERT INTO lead (store_id, customer_id, channel, source_detail, ext_id, series_id, note, outcome, created_by, api_key_id, import_job_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.StoreID, custID, in.Channel, in.SourceDetail, in.ExtID, nullIDp(in.SeriesID), in.Note, res.Outcome,
		nullID(a.UserID), nullID(a.APIKeyID), nullID(src.importJob), now)
	if err != nil {
		return res, fmt.Errorf("crm: insert lead: %w", err)
	}
	res.LeadID, _ = r.LastInsertId()

	c, err := getCustomer(ctx, tx, custID, now)
	if err != nil {
		return res, err
	}
	data := map[string]any{"channel": in.Channel, "sourceDetail": in.SourceDetail, "note": in.Note, "leadId": res.LeadID}
	if in.SeriesID != nil {
		data["seriesId"] = *in.SeriesID
	}
	kindEv := "lead.created"
	if res.Outcome == "attached" {
		kindEv = "lead.attached"
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: custID, StoreID: in.StoreID, At: now, Kind: kindEv, Entity: "lead", EntityID: res.LeadID, Data: data}.By(a)); err != nil {
		return res, err
	}
	if res.Outcome == "new" {
		if err := s.emit(ctx, tx, "customer.created", "customer", custID, c, phone, map[string]any{"channel": in.Channel, "grade": c.Grade}); err != nil {
			return res, err
		}
	}
	ev := map[string]any{"leadId": res.LeadID, "channel": in.Channel, "sourceDetail": in.SourceDetail, "outcome": res.Outcome, "extId": in.ExtID}
	if in.SeriesID != nil {
		ev["seriesId"] = *in.SeriesID
	}
	if err := s.emit(ctx, tx, "lead.created", "lead", res.LeadID, c, phone, ev); err != nil {
		return res, err
	}

	if res.Outcome == "attached" {
		if err := s.attachLead(ctx, tx, a, st, c, in, now, src); err != nil {
			return res, err
		}
	} else if err := s.assignNew(ctx, tx, a, st, c, in, now, src); err != nil {
		return res, err
	}
	if err := findex.Mark(ctx, tx, searchKind, custID); err != nil {
		return res, err
	}
	return res, s.auditAt(ctx, tx, a, "create", "lead", res.LeadID, in.StoreID, now, nil, map[string]any{"customerId": custID, "channel": in.Channel, "outcome": res.Outcome, "extId": in.ExtID})
}

func (s *Service) auditAt(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id, storeID, at int64, before, after any) error {
	return s.audit(ctx, q, a, action, entity, id, storeID, before, after)
}

func (s *Service) insertCustomer(ctx context.Context, tx *sql.Tx, a auth.Actor, in LeadInput, phone, kind string, now int64) (int64, error) {
	consent := 0
	if in.Consent != nil && *in.Consent {
		consent = 1
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO customer (store_id, name, phone, gender, region, series_id, model_id, timeframe, channel, source_detail, grade, visit,
		remark, consent, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.StoreID, in.Name, phone, in.Gender, in.Region, nullIDp(in.SeriesID), nullIDp(in.ModelID), in.Timeframe, in.Channel, in.SourceDetail, in.Grade, in.Visit,
		in.Note, consent, nullID(a.UserID), now, now)
	if err != nil {
		return 0, fmt.Errorf("crm: insert customer: %w", err)
	}
	id, _ := r.LastInsertId()
	if _, err := tx.ExecContext(ctx, `INSERT INTO customer_phone (customer_id, store_id, phone, phone_rev, kind, is_primary, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)`,
		id, in.StoreID, phone, reverse(phone), kind, now); err != nil {
		return 0, fmt.Errorf("crm: insert phone: %w", err)
	}
	if err := setTags(ctx, tx, id, in.StoreID, in.Tags); err != nil {
		return 0, err
	}
	if in.Consent != nil {
		if err := insertConsent(ctx, tx, id, in.StoreID, *in.Consent, consentMethodFor(in.Channel), "", a.UserID, now); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func consentMethodFor(channel string) string {
	switch channel {
	case "website", "autohome", "dongchedi", "yiche":
		return "web_form"
	case "wechat":
		return "wechat"
	case "walk_in", "auto_show":
		return "paper"
	}
	return "verbal"
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// attachLead handles a lead whose phone is known: fill gaps in the profile,
// bring a lost or dormant customer back, assign one in the pool, tell the owner.
func (s *Service) attachLead(ctx context.Context, tx *sql.Tx, a auth.Actor, st Settings, c Customer, in LeadInput, now int64, src leadSource) error {
	if _, err := tx.ExecContext(ctx, `UPDATE customer SET
		name = CASE WHEN name = '' THEN ? ELSE name END,
		region = CASE WHEN region = '' THEN ? ELSE region END,
		series_id = COALESCE(series_id, ?),
		updated_at = ?, version = version + 1 WHERE id = ?`, in.Name, in.Region, nullIDp(in.SeriesID), now, c.ID); err != nil {
		return fmt.Errorf("crm: fill customer %d: %w", c.ID, err)
	}
	if c.Status == "lost" || c.Status == "dormant" {
		if err := s.reactivateTx(ctx, tx, a, c, now, "lead"); err != nil {
			return err
		}
	}
	if c.OwnerID == nil {
		c.Status = "active"
		return s.assignNew(ctx, tx, a, st, c, in, now, src)
	}
	if *c.OwnerID == a.UserID || src.quiet {
		return nil
	}
	_, err := s.notify.Send(ctx, tx, notify.Message{UserID: *c.OwnerID, StoreID: c.StoreID, Kind: "lead.returned", TitleKey: "notify.msg.lead_returned",
		Params: map[string]any{"name": displayName(c), "channel": in.Channel}, Link: customerLink(c.ID), Entity: "customer", EntityID: c.ID, Level: "info"})
	return err
}

func customerLink(id int64) string { return fmt.Sprintf("/crm/customers/%d", id) }

// emit queues a webhook event about customer c (notify.Emit) in the transaction:
// every subscriber gets the masked phone, only those that opted in to personal
// data the full phone and the name. phone is the full number when the caller
// has it ("" reads it).
func (s *Service) emit(ctx context.Context, q db.Querier, typ, entity string, entityID int64, c Customer, phone string, data map[string]any) error {
	if phone == "" {
		if err := q.QueryRowContext(ctx, `SELECT phone FROM customer WHERE id = ?`, c.ID).Scan(&phone); err != nil {
			return fmt.Errorf("crm: phone of customer %d: %w", c.ID, err)
		}
	}
	data["customerId"] = c.ID
	data["phone"] = pii.MaskPhone(phone)
	return s.notify.Emit(ctx, q, notify.Event{Type: typ, StoreID: c.StoreID, Entity: entity, EntityID: entityID, Data: data,
		Personal: map[string]any{"phone": phone, "name": c.Name}})
}

func displayName(c Customer) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Phone
}

// assignNew picks the owner of a customer that has none: the one a manager
// chose, the creator ("me"), the rules, or the pool.
func (s *Service) assignNew(ctx context.Context, tx *sql.Tx, a auth.Actor, st Settings, c Customer, in LeadInput, now int64, src leadSource) error {
	var owner, ruleID int64
	reason := "auto"
	switch {
	case in.OwnerID != nil:
		if err := checkOwner(ctx, tx, *in.OwnerID, c.StoreID, "ownerId"); err != nil {
			return err
		}
		owner, reason = *in.OwnerID, "manual"
	case in.Assign == "me":
		owner, reason = a.UserID, "creator"
	case in.Assign == "pool":
	default:
		var err error
		owner, ruleID, err = s.pickOwner(ctx, tx, st, c, in.Channel, now)
		if err != nil {
			return err
		}
	}
	if src.importJob != 0 && reason == "auto" && owner == 0 {
		reason = "import"
	}
	if owner == 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET owner_id = NULL, department_id = NULL WHERE id = ?`, c.ID); err != nil {
			return err
		}
		if src.quiet {
			return nil // an import tells the managers once, at its end
		}
		return s.tellManagers(ctx, tx, c, "lead.unassigned", "notify.msg.lead_unassigned", map[string]any{"name": displayName(c)}, fmt.Sprintf("unassigned:%d:%d", c.ID, now))
	}
	contacted := src.contacted || (reason == "creator" && (in.Channel == "walk_in" || in.Channel == "auto_show"))
	return s.setOwner(ctx, tx, a, st, c, owner, reason, ruleID, now, contacted, src.quiet)
}

// setOwner makes userID the customer's owner, records the history, starts the
// first-contact deadline (unless already contacted) and tells the new owner.
func (s *Service) setOwner(ctx context.Context, tx *sql.Tx, a auth.Actor, st Settings, c Customer, userID int64, reason string, ruleID, now int64, contacted, quiet bool) error {
	var dept sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT department_id FROM app_user WHERE id = ?`, userID).Scan(&dept); err != nil {
		return fmt.Errorf("crm: owner %d: %w", userID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE customer SET owner_id = ?, department_id = ?, assigned_at = ?, touched_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		userID, dept, now, now, now, c.ID); err != nil {
		return fmt.Errorf("crm: set owner: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO customer_assignment (customer_id, store_id, from_user, to_user, reason, rule_id, by_user, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.StoreID, nullIDp(c.OwnerID), userID, reason, nullID(ruleID), nullID(a.UserID), now); err != nil {
		return fmt.Errorf("crm: assignment history: %w", err)
	}
	var toName string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM app_user WHERE id = ?`, userID).Scan(&toName); err != nil {
		return err
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: c.StoreID, At: now, Kind: "customer.assigned",
		Data: map[string]any{"from": c.OwnerName, "to": toName, "reason": reason}}.By(a)); err != nil {
		return err
	}
	from := any(nil)
	if c.OwnerID != nil {
		from = *c.OwnerID
	}
	if err := s.emit(ctx, tx, "lead.assigned", "customer", c.ID, c, "", map[string]any{"ownerId": userID, "ownerName": toName, "fromOwnerId": from, "reason": reason}); err != nil {
		return err
	}
	// The deadline: a first contact if there has been none, else the cadence.
	switch {
	case contacted:
		if err := s.markContacted(ctx, tx, c.ID, st, c.Grade, now, 0); err != nil {
			return err
		}
	case c.FirstContactAt == nil && c.Status == "active":
		// The clock starts when the owner gets the lead: an imported sheet's
		// last-week lead time must not make it overdue on arrival.
		from := max(now, s.now())
		due := st.AddWorking(time.UnixMilli(from), time.Duration(st.FirstContactMinutes)*time.Minute).UnixMilli()
		if err := setSLA(ctx, tx, c.ID, "first_contact", due); err != nil {
			return err
		}
	}
	if userID == a.UserID || quiet {
		return nil
	}
	_, err := s.notify.Send(ctx, tx, notify.Message{UserID: userID, StoreID: c.StoreID, Kind: "lead.assigned", TitleKey: "notify.msg.lead_assigned",
		Params: map[string]any{"name": displayName(c), "minutes": st.FirstContactMinutes}, Link: customerLink(c.ID), Entity: "customer", EntityID: c.ID,
		DedupKey: fmt.Sprintf("assigned:%d:%d:%d", c.ID, userID, now), Level: "warning"})
	return err
}

// setSLA starts watching a deadline: level 0, first reminder at the deadline.
func setSLA(ctx context.Context, q db.Querier, id int64, kind string, due int64) error {
	_, err := q.ExecContext(ctx, `UPDATE customer SET sla_kind = ?, sla_due_at = ?, sla_level = 0, sla_next_at = ? WHERE id = ?`, kind, due, due, id)
	if err != nil {
		return fmt.Errorf("crm: set deadline: %w", err)
	}
	return nil
}

// clearSLA stops watching (lost, dormant, ordered, no cadence).
func clearSLA(ctx context.Context, q db.Querier, id int64) error {
	_, err := q.ExecContext(ctx, `UPDATE customer SET sla_kind = '', sla_due_at = NULL, sla_level = 0, sla_next_at = NULL WHERE id = ?`, id)
	return err
}

// markContacted records a contact: the first-contact deadline is met and the
// next follow-up is due at next (or by the grade's cadence).
func (s *Service) markContacted(ctx context.Context, q db.Querier, id int64, st Settings, grade string, now, next int64) error {
	if _, err := q.ExecContext(ctx, `UPDATE customer SET first_contact_at = COALESCE(first_contact_at, ?), last_contact_at = ?, touched_at = ?,
		stage = CASE WHEN stage = 'lead' THEN 'prospect' ELSE stage END WHERE id = ?`, now, now, now, id); err != nil {
		return fmt.Errorf("crm: mark contacted: %w", err)
	}
	if next == 0 {
		if g, ok := st.grade(grade); ok && g.CadenceDays > 0 {
			next = st.NextOpen(time.UnixMilli(now).Add(time.Duration(g.CadenceDays) * 24 * time.Hour)).UnixMilli()
		}
	}
	if _, err := q.ExecContext(ctx, `UPDATE customer SET next_followup_at = ? WHERE id = ?`, nullID(next), id); err != nil {
		return err
	}
	if next == 0 {
		return clearSLA(ctx, q, id)
	}
	return setSLA(ctx, q, id, "followup", next)
}

// rescheduleForGrade moves the next follow-up when the grade changes and no
// explicit date is set later than the new cadence allows.
func (s *Service) rescheduleForGrade(ctx context.Context, q db.Querier, id int64, st Settings, grade string) error {
	var last, next sql.NullInt64
	var kind, status string
	if err := q.QueryRowContext(ctx, `SELECT last_contact_at, next_followup_at, sla_kind, status FROM customer WHERE id = ?`, id).Scan(&last, &next, &kind, &status); err != nil {
		return err
	}
	if !last.Valid || kind == "first_contact" || status != "active" {
		return nil
	}
	g, ok := st.grade(grade)
	if !ok || g.CadenceDays == 0 {
		if _, err := q.ExecContext(ctx, `UPDATE customer SET next_followup_at = NULL WHERE id = ?`, id); err != nil {
			return err
		}
		return clearSLA(ctx, q, id)
	}
	due := st.NextOpen(time.UnixMilli(last.Int64).Add(time.Duration(g.CadenceDays) * 24 * time.Hour)).UnixMilli()
	if next.Valid && next.Int64 <= due {
		return nil
	}
	if _, err := q.ExecContext(ctx, `UPDATE customer SET next_followup_at = ? WHERE id = ?`, due, id); err != nil {
		return err
	}
	return setSLA(ctx, q, id, "followup", due)
}

// checkOwner verifies a user can own customers of the store.
func checkOwner(ctx context.Context, q db.Querier, userID, storeID int64, field string) error {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM app_user u JOIN role_permission rp ON rp.role_id = u.role_id AND rp.permission = ?
		WHERE u.id = ? AND u.store_id = ? AND u.status = 'active'`, auth.PermCustomerWrite, userID, storeID).Scan(&n)
	if err != nil {
		return fmt.Errorf("crm: check owner: %w", err)
	}
	if n == 0 {
		return apperr.Field(field, "crm.owner_invalid")
	}
	return nil
}

// tellManagers notifies the store's lead managers (customer.assign, store scope).
func (s *Service) tellManagers(ctx context.Context, q db.Querier, c Customer, kind, title string, params map[string]any, dedup string) error {
	ids, err := storeManagers(ctx, q, c.StoreID, c.DepartmentID)
	if err != nil {
		return err
	}
	var msgs []notify.Message
	for _, id := range ids {
		msgs = append(msgs, notify.Message{UserID: id, StoreID: c.StoreID, Kind: kind, TitleKey: title, Params: params, Link: customerLink(c.ID),
			Entity: "customer", EntityID: c.ID, DedupKey: dedup, Level: "warning"})
	}
	if len(msgs) == 0 {
		return nil
	}
	_, err = s.notify.Send(ctx, q, msgs...)
	return err
}

// storeManagers are who escalations go to: the manager of the owner's team if
// set, else the active users of the store who may assign leads (store scope).
func storeManagers(ctx context.Context, q db.Querier, storeID int64, deptID *int64) ([]int64, error) {
	if deptID != nil {
		var m sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT d.manager_id FROM department d JOIN app_user u ON u.id = d.manager_id AND u.status = 'active' WHERE d.id = ?`, *deptID).Scan(&m)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if m.Valid {
			return []int64{m.Int64}, nil
		}
	}
	ids, err := usersWith(ctx, q, storeID, auth.PermCustomerAssign, "store", "")
	if err != nil {
		return nil, err
	}
	// The GM is the second escalation, not the first.
	gms, err := usersWith(ctx, q, storeID, auth.PermCustomerRead, "", gmRole)
	if err != nil {
		return nil, err
	}
	isGM := map[int64]bool{}
	for _, id := range gms {
		isGM[id] = true
	}
	var out []int64
	for _, id := range ids {
		if !isGM[id] {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return gms, nil
	}
	return out, nil
}

// gmRole is the general manager's role code (the last escalation).
const gmRole = "gm"

// usersWith lists active users of a store whose role has perm (and, if given,
// the scope or role code).
func usersWith(ctx context.Context, q db.Querier, storeID int64, perm, scope, roleCode string) ([]int64, error) {
	query := `SELECT u.id FROM app_user u JOIN role r ON r.id = u.role_id JOIN role_permission rp ON rp.role_id = r.id AND rp.permission = ?
		WHERE u.store_id = ? AND u.status = 'active'`
	args := []any{perm, storeID}
	if scope != "" {
		query += ` AND r.scope = ?`
		args = append(args, scope)
	}
	if roleCode != "" {
		query += ` AND r.code = ?`
		args = append(args, roleCode)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("crm: users with %s: %w", perm, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
