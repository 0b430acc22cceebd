package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/notify"
	"dealerdesk/app/org"
	"dealerdesk/app/timeline"
)

// Rule is one assignment rule (L3): when a new lead matches every condition
// given, it goes to the person, or to someone in the team by the strategy.
type Rule struct {
	ID             int64    `json:"id"`
	StoreID        int64    `json:"storeId"`
	Position       int      `json:"position"`
	Name           string   `json:"name"`
	Enabled        bool     `json:"enabled"`
	Channels       []string `json:"channels"`
	SeriesIDs      []int64  `json:"seriesIds"`
	Regions        []string `json:"regions"`
	TimeFrom       *int     `json:"timeFrom"` // minutes after local midnight
	TimeTo         *int     `json:"timeTo"`
	TargetKind     string   `json:"targetKind"` // team | user
	DepartmentID   *int64   `json:"departmentId"`
	DepartmentName string   `json:"departmentName"`
	UserID         *int64   `json:"userId"`
	UserName       string   `json:"userName"`
	Strategy       string   `json:"strategy"` // round_robin | fewest_open | weighted
	Version        int64    `json:"version"`
}

// RuleInput creates or edits a rule.
type RuleInput struct {
	StoreID      int64    `json:"storeId"`
	Name         string   `json:"name"`
	Enabled      bool     `json:"enabled"`
	Channels     []string `json:"channels"`
	SeriesIDs    []int64  `json:"seriesIds"`
	Regions      []string `json:"regions"`
	TimeFrom     *int     `json:"timeFrom"`
	TimeTo       *int     `json:"timeTo"`
	TargetKind   string   `json:"targetKind"`
	DepartmentID *int64   `json:"departmentId"`
	UserID       *int64   `json:"userId"`
	Strategy     string   `json:"strategy"`
	Version      int64    `json:"version"`
}

// Strategies within a team.
var Strategies = []string{"round_robin", "fewest_open", "weighted"}

// Validate checks the rule's shape.
func (in *RuleInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.Regions = normalizeTags(in.Regions)
	if in.Channels == nil {
		in.Channels = []string{}
	}
	if in.SeriesIDs == nil {
		in.SeriesIDs = []int64{}
	}
	if in.Strategy == "" {
		in.Strategy = "round_robin"
	}
	f := apperr.Fields{}
	if in.Name == "" {
		f.Add("name", "required")
	}
	limitText(f, "name", in.Name, 50)
	for _, c := range in.Channels {
		if !oneOf(c, Channels) {
			f.Add("channels", "crm.channel_unknown")
		}
	}
	if (in.TimeFrom == nil) != (in.TimeTo == nil) {
		f.Add("timeTo", "crm.time_window")
	}
	for k, v := range map[string]*int{"timeFrom": in.TimeFrom, "timeTo": in.TimeTo} {
		if v != nil && (*v < 0 || *v > 24*60) {
			f.Add(k, "out_of_range", "min", 0, "max", 24*60)
		}
	}
	switch in.TargetKind {
	case "team":
		if in.DepartmentID == nil {
			f.Add("departmentId", "required")
		}
		in.UserID = nil
	case "user":
		if in.UserID == nil {
			f.Add("userId", "required")
		}
		in.DepartmentID = nil
	default:
		f.Add("targetKind", "invalid_format")
	}
	if !oneOf(in.Strategy, Strategies) {
		f.Add("strategy", "invalid_format")
	}
	return f.Err()
}

const ruleCols = `r.id, r.store_id, r.position, r.name, r.enabled, r.channels, r.series_ids, r.regions, r.time_from, r.time_to, r.target_kind,
	r.department_id, COALESCE(d.name, ''), r.user_id, COALESCE(u.name, ''), r.strategy, r.version, r.last_user_id`

const ruleFrom = ` FROM assign_rule r LEFT JOIN department d ON d.id = r.department_id LEFT JOIN app_user u ON u.id = r.user_id`

func scanRule(sc interface{ Scan(...any) error }) (Rule, int64, error) {
	var r Rule
	var enabled int
	var ch, se, re string
	var from, to, dept, user, last sql.NullInt64
	if err := sc.Scan(&r.ID, &r.StoreID, &r.Position, &r.Name, &enabled, &ch, &se, &re, &from, &to, &r.TargetKind, &dept, &r.DepartmentName,
		&user, &r.UserName, &r.Strategy, &r.Version, &last); err != nil {
		return r, 0, err
	}
	r.Enabled = enabled == 1
	if err := errors.Join(json.Unmarshal([]byte(ch), &r.Channels), json.Unmarshal([]byte(se), &r.SeriesIDs), json.Unmarshal([]byte(re), &r.Regions)); err != nil {
		return r, 0, fmt.Errorf("crm: rule %d: %w", r.ID, err)
	}
	if from.Valid {
		v := int(from.Int64)
		r.TimeFrom = &v
	}
	if to.Valid {
		v := int(to.Int64)
		r.TimeTo = &v
	}
	r.DepartmentID, r.UserID = ptr(dept), ptr(user)
	return r, last.Int64, nil
}

func listRules(ctx context.Context, q db.Querier, storeID int64) ([]Rule, []int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ruleCols+ruleFrom+` WHERE r.store_id = ? ORDER BY r.position, r.id`, storeID)
	if err != nil {
		return nil, nil, fmt.Errorf("crm: rules: %w", err)
	}
	defer rows.Close()
	out, last := []Rule{}, []int64{}
	for rows.Next() {
		r, l, err := scanRule(rows)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
		last = append(last, l)
	}
	return out, last, rows.Err()
}

// ListRules returns the store's rules in order.
func (s *Service) ListRules(ctx context.Context, a auth.Actor, storeID int64) ([]Rule, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, storeID); err != nil {
		return nil, err
	}
	r, _, err := listRules(ctx, s.db.R, storeID)
	return r, err
}

func (s *Service) checkRuleTarget(ctx context.Context, q db.Querier, in RuleInput) error {
	if in.DepartmentID != nil {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM department WHERE id = ? AND store_id = ?`, *in.DepartmentID, in.StoreID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.Field("departmentId", "crm.department_invalid")
		}
	}
	if in.UserID != nil {
		return checkOwner(ctx, q, *in.UserID, in.StoreID, "userId")
	}
	return nil
}

// CreateRule appends a rule at the end of the store's list.
func (s *Service) CreateRule(ctx context.Context, a auth.Actor, in RuleInput) (Rule, error) {
	if in.StoreID == 0 {
		in.StoreID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, in.StoreID); err != nil {
		return Rule{}, err
	}
	if err := in.Validate(); err != nil {
		return Rule{}, err
	}
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkRuleTarget(ctx, tx, in); err != nil {
			return err
		}
		ch, _ := json.Marshal(in.Channels)
		se, _ := json.Marshal(in.SeriesIDs)
		re, _ := json.Marshal(in.Regions)
		now := s.now()
		r, err := tx.ExecContext(ctx, `INSERT INTO assign_rule (store_id, position, name, enabled, channels, series_ids, regions, time_from, time_to, target_kind,
			department_id, user_id, strategy, created_at, updated_at)
			VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM assign_rule WHERE store_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.StoreID, in.StoreID, in.Name, boolInt(in.Enabled), string(ch), string(se), string(re), in.TimeFrom, in.TimeTo, in.TargetKind,
			nullIDp(in.DepartmentID), nullIDp(in.UserID), in.Strategy, now, now)
		if err != nil {
			return fmt.Errorf("crm: create rule: %w", err)
		}
		id, _ = r.LastInsertId()
		return s.audit(ctx, tx, a, "create", "assign_rule", id, in.StoreID, nil, in)
	})
	if err != nil {
		return Rule{}, err
	}
	return s.getRule(ctx, id)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Service) getRule(ctx context.Context, id int64) (Rule, error) {
	r, _, err := scanRule(s.db.R.QueryRowContext(ctx, `SELECT `+ruleCols+ruleFrom+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "not_found")
	}
	return r, err
}

// UpdateRule edits a rule (its position stays; see MoveRules).
func (s *Service) UpdateRule(ctx context.Context, a auth.Actor, id int64, in RuleInput) (Rule, error) {
	if err := in.Validate(); err != nil {
		return Rule{}, err
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, _, err := scanRule(tx.QueryRowContext(ctx, `SELECT `+ruleCols+ruleFrom+` WHERE r.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "not_found")
		} else if err != nil {
			return err
		}
		if err := storeAccess(a, auth.PermCustomerAssign, before.StoreID); err != nil {
			return err
		}
		in.StoreID = before.StoreID
		if err := s.checkRuleTarget(ctx, tx, in); err != nil {
			return err
		}
		ch, _ := json.Marshal(in.Channels)
		se, _ := json.Marshal(in.SeriesIDs)
		re, _ := json.Marshal(in.Regions)
		res, err := tx.ExecContext(ctx, `UPDATE assign_rule SET name=?, enabled=?, channels=?, series_ids=?, regions=?, time_from=?, time_to=?, target_kind=?,
			department_id=?, user_id=?, strategy=?, version=version+1, updated_at=? WHERE id=? AND version=?`,
			in.Name, boolInt(in.Enabled), string(ch), string(se), string(re), in.TimeFrom, in.TimeTo, in.TargetKind,
			nullIDp(in.DepartmentID), nullIDp(in.UserID), in.Strategy, s.now(), id, in.Version)
		if err != nil {
			return fmt.Errorf("crm: update rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		return s.audit(ctx, tx, a, "update", "assign_rule", id, before.StoreID, before, in)
	})
	if err != nil {
		return Rule{}, err
	}
	return s.getRule(ctx, id)
}

// DeleteRule removes a rule.
func (s *Service) DeleteRule(ctx context.Context, a auth.Actor, id int64) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, _, err := scanRule(tx.QueryRowContext(ctx, `SELECT `+ruleCols+ruleFrom+` WHERE r.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "not_found")
		} else if err != nil {
			return err
		}
		if err := storeAccess(a, auth.PermCustomerAssign, before.StoreID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM assign_rule WHERE id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "assign_rule", id, before.StoreID, before, nil)
	})
}

// OrderInput is the new order of a store's rules (all of their ids).
type OrderInput struct {
	StoreID int64   `json:"storeId"`
	IDs     []int64 `json:"ids"`
}

// MoveRules sets the order of the store's rules.
func (s *Service) MoveRules(ctx context.Context, a auth.Actor, in OrderInput) ([]Rule, error) {
	if in.StoreID == 0 {
		in.StoreID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, in.StoreID); err != nil {
		return nil, err
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		rules, _, err := listRules(ctx, tx, in.StoreID)
		if err != nil {
			return err
		}
		have := map[int64]bool{}
		for _, r := range rules {
			have[r.ID] = true
		}
		seen := map[int64]bool{}
		for _, id := range in.IDs {
			if !have[id] || seen[id] {
				return apperr.Field("ids", "crm.rule_order")
			}
			seen[id] = true
		}
		if len(seen) != len(have) {
			return apperr.Field("ids", "crm.rule_order")
		}
		for i, id := range in.IDs {
			if _, err := tx.ExecContext(ctx, `UPDATE assign_rule SET position = ?, version = version + 1 WHERE id = ?`, i+1, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "reorder", "assign_rule", 0, in.StoreID, nil, in.IDs)
	})
	if err != nil {
		return nil, err
	}
	r, _, err := listRules(ctx, s.db.R, in.StoreID)
	return r, err
}

// matches reports whether a rule takes a lead with these facts at local minute m.
func (r Rule) matches(channel string, seriesID *int64, region string, minute int) bool {
	if !r.Enabled {
		return false
	}
	if len(r.Channels) > 0 && !oneOf(channel, r.Channels) {
		return false
	}
	if len(r.SeriesIDs) > 0 {
		ok := false
		for _, id := range r.SeriesIDs {
			if seriesID != nil && *seriesID == id {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.Regions) > 0 {
		ok := false
		for _, p := range r.Regions {
			if strings.HasPrefix(region, p) || strings.Contains(region, p) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if r.TimeFrom != nil && r.TimeTo != nil {
		from, to := *r.TimeFrom, *r.TimeTo
		if from <= to {
			if minute < from || minute >= to {
				return false
			}
		} else if minute < from && minute >= to { // window across midnight, e.g. 18:00–09:00
			return false
		}
	}
	return true
}

// pickOwner runs the store's rules for a new lead. 0 means nobody matched (the pool).
func (s *Service) pickOwner(ctx context.Context, tx *sql.Tx, st Settings, c Customer, channel string, now int64) (owner, ruleID int64, err error) {
	rules, last, err := listRules(ctx, tx, c.StoreID)
	if err != nil {
		return 0, 0, err
	}
	local := time.UnixMilli(now).In(st.location())
	minute := local.Hour()*60 + local.Minute()
	for i, r := range rules {
		if !r.matches(channel, c.SeriesID, c.Region, minute) {
			continue
		}
		var cands []int64
		if r.TargetKind == "user" {
			cands = []int64{*r.UserID}
			if err := checkOwner(ctx, tx, *r.UserID, c.StoreID, "userId"); err != nil {
				continue // the person left or lost the right: try the next rule
			}
		} else {
			cands, err = teamMembers(ctx, tx, *r.DepartmentID)
			if err != nil {
				return 0, 0, err
			}
		}
		absent, err := org.AbsentAt(ctx, tx, cands, now)
		if err != nil {
			return 0, 0, err
		}
		var present []int64
		for _, id := range cands {
			if !absent[id] {
				present = append(present, id)
			}
		}
		if len(present) == 0 {
			continue
		}
		var pick int64
		switch r.Strategy {
		case "fewest_open":
			pick, err = fewestOpen(ctx, tx, present)
		case "weighted":
			pick, err = weighted(ctx, tx, present, now)
		default:
			pick = nextAfter(present, last[i])
		}
		if err != nil {
			return 0, 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assign_rule SET last_user_id = ? WHERE id = ?`, pick, r.ID); err != nil {
			return 0, 0, err
		}
		return pick, r.ID, nil
	}
	return 0, 0, nil
}

// teamMembers are the active users of a department who may own customers.
func teamMembers(ctx context.Context, q db.Querier, deptID int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id FROM app_user u JOIN role_permission rp ON rp.role_id = u.role_id AND rp.permission = ?
		JOIN role r ON r.id = u.role_id
		WHERE u.department_id = ? AND u.status = 'active' AND r.scope IN ('own', 'team') ORDER BY u.id`, auth.PermCustomerWrite, deptID)
	if err != nil {
		return nil, fmt.Errorf("crm: team members: %w", err)
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

// nextAfter is round robin: the first id after last in id order, wrapping.
func nextAfter(ids []int64, last int64) int64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if id > last {
			return id
		}
	}
	return ids[0]
}

func inArgs(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(",?", len(ids)-1) + ")", args
}

// fewestOpen picks whoever owns the fewest open leads (lead/prospect, active);
// ties go to the lowest id.
func fewestOpen(ctx context.Context, q db.Querier, ids []int64) (int64, error) {
	in, args := inArgs(ids)
	counts := map[int64]int{}
	rows, err := q.QueryContext(ctx, `SELECT owner_id, count(*) FROM customer WHERE owner_id IN `+in+` AND status = 'active' AND stage IN ('lead', 'prospect') GROUP BY owner_id`, args...)
	if err != nil {
		return 0, fmt.Errorf("crm: open counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return 0, err
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	best := ids[0]
	for _, id := range ids[1:] {
		if counts[id] < counts[best] || (counts[id] == counts[best] && id < best) {
			best = id
		}
	}
	return best, nil
}

// weighted shares leads in proportion to each person's conversion rate over
// the last 90 days (orders ÷ leads assigned, smoothed so a newcomer starts near
// the average). The rate is measured up to a day ago so that it holds still
// while today's leads are shared: whoever is furthest below their share of the
// last 24 hours' leads gets the next one, deterministically.
func weighted(ctx context.Context, q db.Querier, ids []int64, now int64) (int64, error) {
	const day = 24 * 3600 * 1000
	since, dayAgo := now-90*day, now-day
	in, args := inArgs(ids)
	count := func(query string, extra ...any) (map[int64]float64, error) {
		out := map[int64]float64{}
		rows, err := q.QueryContext(ctx, query, append(append([]any{}, args...), extra...)...)
		if err != nil {
			return nil, fmt.Errorf("crm: weights: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var n float64
			if err := rows.Scan(&id, &n); err != nil {
				return nil, err
			}
			out[id] = n
		}
		return out, rows.Err()
	}
	assigned, err := count(`SELECT to_user, count(*) FROM customer_assignment WHERE to_user IN `+in+` AND at >= ? AND at <= ? GROUP BY to_user`, since, dayAgo)
	if err != nil {
		return 0, err
	}
	won, err := count(`SELECT owner_id, count(*) FROM customer WHERE owner_id IN `+in+` AND ordered_at >= ? AND ordered_at <= ? GROUP BY owner_id`, since, dayAgo)
	if err != nil {
		return 0, err
	}
	recent, err := count(`SELECT to_user, count(*) FROM customer_assignment WHERE to_user IN `+in+` AND at > ? GROUP BY to_user`, dayAgo)
	if err != nil {
		return 0, err
	}
	best, bestScore := int64(0), 0.0
	for _, id := range ids {
		w := (won[id] + 1) / (assigned[id] + 2) // conversion, smoothed
		score := (recent[id] + 1) / w           // lower: further below the share
		if best == 0 || score < bestScore || (score == bestScore && id < best) {
			best, bestScore = id, score
		}
	}
	return best, nil
}

// AssignInput reassigns one customer.
type AssignInput struct {
	OwnerID int64  `json:"ownerId"`
	Note    string `json:"note"`
}

// Reassign gives a customer to another consultant (managers; L3).
func (s *Service) Reassign(ctx context.Context, a auth.Actor, id int64, in AssignInput) (Customer, error) {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := getCustomer(ctx, tx, id, s.now())
		if err != nil {
			return err
		}
		if err := auth.Check(a, auth.PermCustomerAssign, c.record()); err != nil {
			return err
		}
		if c.Status == "merged" {
			return apperr.New(apperr.Conflict, "crm.merged")
		}
		if in.OwnerID == 0 {
			return apperr.Field("ownerId", "required")
		}
		if c.OwnerID != nil && *c.OwnerID == in.OwnerID {
			return apperr.Field("ownerId", "crm.same_owner")
		}
		if err := checkOwner(ctx, tx, in.OwnerID, c.StoreID, "ownerId"); err != nil {
			return err
		}
		st, err := LoadSettings(ctx, tx, c.StoreID)
		if err != nil {
			return err
		}
		if err := s.moveOwner(ctx, tx, a, st, c, in.OwnerID, "manual", s.now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "assign", "customer", id, c.StoreID, map[string]any{"ownerId": c.OwnerID}, map[string]any{"ownerId": in.OwnerID, "note": in.Note})
	})
	if err != nil {
		return Customer{}, err
	}
	s.afterCommit()
	return s.GetCustomer(ctx, a, id)
}

// moveOwner hands a customer (and its open tasks) to another owner, tells the
// previous owner, and restarts a pending first-contact deadline.
func (s *Service) moveOwner(ctx context.Context, tx *sql.Tx, a auth.Actor, st Settings, c Customer, to int64, reason string, now int64) error {
	if err := s.setOwner(ctx, tx, a, st, c, to, reason, 0, now, false, false); err != nil {
		return err
	}
	if c.OwnerID != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE task SET assignee_id = ?, updated_at = ?, version = version + 1 WHERE customer_id = ? AND assignee_id = ? AND status = 'open'`,
			to, now, c.ID, *c.OwnerID); err != nil {
			return fmt.Errorf("crm: move tasks: %w", err)
		}
		if *c.OwnerID != a.UserID {
			if _, err := s.notify.Send(ctx, tx, notify.Message{UserID: *c.OwnerID, StoreID: c.StoreID, Kind: "customer.reassigned", TitleKey: "notify.msg.customer_taken",
				Params: map[string]any{"name": displayName(c)}, Link: "", Entity: "customer", EntityID: c.ID, Level: "info"}); err != nil {
				return err
			}
		}
	}
	return findex.Mark(ctx, tx, searchKind, c.ID)
}

// TransferInput moves everything one consultant owns to others (离职交接).
type TransferInput struct {
	FromUserID int64   `json:"fromUserId"`
	ToUserIDs  []int64 `json:"toUserIds"`
	Note       string  `json:"note"`
}

// TransferResult counts what moved.
type TransferResult struct {
	Moved   int           `json:"moved"`
	PerUser map[int64]int `json:"perUser"`
}

// transferBatch keeps each write transaction short so others are not held up.
const transferBatch = 200

// Transfer moves all customers of a leaving consultant to the given colleagues,
// evenly (round robin), with history on every customer.
func (s *Service) Transfer(ctx context.Context, a auth.Actor, in TransferInput) (TransferResult, error) {
	res := TransferResult{PerUser: map[int64]int{}}
	if in.FromUserID == 0 {
		return res, apperr.Field("fromUserId", "required")
	}
	if len(in.ToUserIDs) == 0 {
		return res, apperr.Field("toUserIds", "required")
	}
	var storeID int64
	if err := s.db.R.QueryRowContext(ctx, `SELECT store_id FROM app_user WHERE id = ?`, in.FromUserID).Scan(&storeID); errors.Is(err, sql.ErrNoRows) {
		return res, apperr.Field("fromUserId", "crm.owner_invalid")
	} else if err != nil {
		return res, err
	}
	if err := storeAccess(a, auth.PermCustomerAssign, storeID); err != nil {
		return res, err
	}
	for _, id := range in.ToUserIDs {
		if id == in.FromUserID {
			return res, apperr.Field("toUserIds", "crm.same_owner")
		}
		if err := checkOwner(ctx, s.db.R, id, storeID, "toUserIds"); err != nil {
			return res, err
		}
	}
	st, err := LoadSettings(ctx, s.db.R, storeID)
	if err != nil {
		return res, err
	}
	next := 0
	for {
		n := 0
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id FROM customer WHERE owner_id = ? AND status <> 'merged' ORDER BY id LIMIT ?`, in.FromUserID, transferBatch)
			if err != nil {
				return err
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			now := s.now()
			for _, id := range ids {
				c, err := getCustomer(ctx, tx, id, now)
				if err != nil {
					return err
				}
				to := in.ToUserIDs[next%len(in.ToUserIDs)]
				next++
				if err := s.moveOwner(ctx, tx, a, st, c, to, "transfer", now); err != nil {
					return err
				}
				res.PerUser[to]++
				n++
			}
			if n == 0 {
				return nil
			}
			return s.audit(ctx, tx, a, "transfer", "customer", 0, storeID, map[string]any{"fromUserId": in.FromUserID},
				map[string]any{"toUserIds": in.ToUserIDs, "count": n, "firstId": ids[0], "lastId": ids[len(ids)-1], "note": in.Note})
		})
		if err != nil {
			return res, err
		}
		res.Moved += n
		s.afterCommit()
		if n < transferBatch {
			return res, nil
		}
	}
}

// Claim takes a customer from the shared pool (公海), within the store's limits.
func (s *Service) Claim(ctx context.Context, a auth.Actor, id int64) (Customer, error) {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := getCustomer(ctx, tx, id, s.now())
		if err != nil {
			return err
		}
		if err := storeAccess(a, auth.PermCustomerWrite, c.StoreID); err != nil {
			return err
		}
		if a.UserID == 0 {
			return apperr.New(apperr.Forbidden, "forbidden")
		}
		if c.OwnerID != nil || c.Status != "active" {
			return apperr.New(apperr.Conflict, "crm.already_claimed")
		}
		st, err := LoadSettings(ctx, tx, c.StoreID)
		if err != nil {
			return err
		}
		now := s.now()
		local := time.UnixMilli(now).In(st.location())
		dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location()).UnixMilli()
		var claims int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM customer_assignment WHERE to_user = ? AND reason = 'claim' AND at >= ?`, a.UserID, dayStart).Scan(&claims); err != nil {
			return err
		}
		if claims >= st.ClaimsPerDay {
			return apperr.New(apperr.Conflict, "crm.claim_limit")
		}
		if st.MaxOpenPerUser > 0 {
			var open int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM customer WHERE owner_id = ? AND status = 'active' AND stage IN ('lead', 'prospect')`, a.UserID).Scan(&open); err != nil {
				return err
			}
			if open >= st.MaxOpenPerUser {
				return apperr.New(apperr.Conflict, "crm.open_limit")
			}
		}
		// The conditional update is the guard when two people claim at once.
		r, err := tx.ExecContext(ctx, `UPDATE customer SET owner_id = ? WHERE id = ? AND owner_id IS NULL AND status = 'active'`, a.UserID, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "crm.already_claimed")
		}
		if err := s.setOwner(ctx, tx, a, st, c, a.UserID, "claim", 0, now, false, false); err != nil {
			return err
		}
		if err := findex.Mark(ctx, tx, searchKind, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "claim", "customer", id, c.StoreID, nil, nil)
	})
	if err != nil {
		return Customer{}, err
	}
	s.afterCommit()
	return s.GetCustomer(ctx, a, id)
}

// ReleaseInput returns a customer to the pool.
type ReleaseInput struct {
	Reason string `json:"reason"`
}

// Release puts a customer back into the pool (the owner or a manager).
func (s *Service) Release(ctx context.Context, a auth.Actor, id int64, in ReleaseInput) error {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		return apperr.Field("reason", "required")
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if c.OwnerID == nil {
			return apperr.New(apperr.Conflict, "crm.in_pool")
		}
		if err := s.toPool(ctx, tx, a, c, s.now(), in.Reason); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "release", "customer", id, c.StoreID, map[string]any{"ownerId": c.OwnerID}, map[string]any{"reason": in.Reason})
	})
	if err == nil {
		s.afterCommit()
	}
	return err
}

// toPool clears the owner and the deadline, with history.
func (s *Service) toPool(ctx context.Context, tx *sql.Tx, a auth.Actor, c Customer, now int64, reason string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE customer SET owner_id = NULL, department_id = NULL, sla_kind = '', sla_due_at = NULL, sla_level = 0, sla_next_at = NULL,
		updated_at = ?, version = version + 1 WHERE id = ?`, now, c.ID); err != nil {
		return fmt.Errorf("crm: to pool: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO customer_assignment (customer_id, store_id, from_user, to_user, reason, by_user, at) VALUES (?, ?, ?, NULL, 'pool', ?, ?)`,
		c.ID, c.StoreID, nullIDp(c.OwnerID), nullID(a.UserID), now); err != nil {
		return err
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: c.ID, StoreID: c.StoreID, At: now, Kind: "customer.pooled",
		Data: map[string]any{"from": c.OwnerName, "reason": reason}}.By(a)); err != nil {
		return err
	}
	return findex.Mark(ctx, tx, searchKind, c.ID)
}

// RunPoolReturn returns leads untouched for the store's PoolDays to the pool and
// tells their former owners. It returns how many moved.
func (s *Service) RunPoolReturn(ctx context.Context) (int, error) {
	stores, err := activeStores(ctx, s.db.R)
	if err != nil {
		return 0, err
	}
	total := 0
	sys := auth.System("pool")
	for _, storeID := range stores {
		st, err := LoadSettings(ctx, s.db.R, storeID)
		if err != nil {
			return total, err
		}
		if st.PoolDays == 0 {
			continue
		}
		for {
			n := 0
			err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
				now := s.now()
				cutoff := now - int64(st.PoolDays)*24*3600*1000
				rows, err := tx.QueryContext(ctx, `SELECT id FROM customer WHERE touched_at < ? AND owner_id IS NOT NULL AND status = 'active' AND stage IN ('lead', 'prospect') AND store_id = ? LIMIT 200`, cutoff, storeID)
				if err != nil {
					return err
				}
				var ids []int64
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						rows.Close()
						return err
					}
					ids = append(ids, id)
				}
				rows.Close()
				for _, id := range ids {
					c, err := getCustomer(ctx, tx, id, now)
					if err != nil {
						return err
					}
					if err := s.toPool(ctx, tx, sys, c, now, "untouched"); err != nil {
						return err
					}
					if _, err := s.notify.Send(ctx, tx, notify.Message{UserID: *c.OwnerID, StoreID: c.StoreID, Kind: "customer.pooled", TitleKey: "notify.msg.customer_pooled",
						Params: map[string]any{"name": displayName(c), "days": st.PoolDays}, Entity: "customer", EntityID: c.ID,
						DedupKey: fmt.Sprintf("pooled:%d:%d", c.ID, deref(c.AssignedAt)), Level: "info"}); err != nil {
						return err
					}
					n++
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
			if n > 0 {
				s.afterCommit()
			}
			if n < 200 {
				break
			}
		}
	}
	return total, nil
}

func activeStores(ctx context.Context, q db.Querier) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM store WHERE status = 'active' ORDER BY id`)
	if err != nil {
		return nil, err
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
