package sop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/task"
	"dealerdesk/app/timeline"
)

// How a stay began.
const (
	HowInitial  = "initial"  // the implicit first stage, made explicit by the first move
	HowManual   = "manual"   // moved by a person, gates met
	HowOverride = "override" // moved by a manager past unmet gates, with a reason
	HowAuto     = "auto"     // moved by a business event (AdvanceTx)
)

// position is where a customer stands now.
type position struct {
	CustomerID int64
	StoreID    int64
	StageID    int64
	EnteredAt  int64
	Version    int64 // 0: no customer_sop row yet (at the first stage since created)
	Status     string
	Lifecycle  string
	CreatedAt  int64
	OwnerID    int64
	DeptID     int64
	Name       string
}

// open reports whether the customer is still in the pipeline: active, not yet
// delivered (won) — lost and dormant customers are off the board.
func (p position) open() bool {
	return p.Status == "active" && (p.Lifecycle == "lead" || p.Lifecycle == "prospect" || p.Lifecycle == "ordered")
}

// locate reads where the customer stands (the first active stage when no row).
func (s *Service) locate(ctx context.Context, q db.Querier, customerID int64, pl pipeline) (position, error) {
	var p position
	var stage, entered, version, owner, dept sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT c.id, c.store_id, c.status, c.stage, c.created_at, c.owner_id, c.department_id, c.name, cs.stage_id, cs.entered_at, cs.version
		FROM customer c LEFT JOIN customer_sop cs ON cs.customer_id = c.id WHERE c.id = ?`, customerID).
		Scan(&p.CustomerID, &p.StoreID, &p.Status, &p.Lifecycle, &p.CreatedAt, &owner, &dept, &p.Name, &stage, &entered, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return p, fmt.Errorf("sop: locate customer %d: %w", customerID, err)
	}
	p.OwnerID, p.DeptID = owner.Int64, dept.Int64
	if stage.Valid {
		p.StageID, p.EnteredAt, p.Version = stage.Int64, entered.Int64, version.Int64
		return p, nil
	}
	if f, ok := pl.first(); ok {
		p.StageID = f.ID
	}
	p.EnteredAt = p.CreatedAt
	return p, nil
}

// Missing is a gate a move lacks.
type Missing struct {
	Key       string `json:"key"` // label: sop.gates.<key>
	StageID   int64  `json:"stageId"`
	StageName string `json:"stageName"`
}

// missingFor checks the gates of every active stage from the current one up to
// (not including) the target: leaving the current stage and skipping the ones
// between both need their conditions. Unregistered keys are ignored. Each gate
// is named once, in board order.
func (s *Service) missingFor(ctx context.Context, q db.Querier, pl pipeline, customerID int64, from, to Stage) ([]Missing, error) {
	out := []Missing{}
	seen := map[string]bool{}
	for _, st := range pl.stages {
		if st.Position < from.Position || st.Position >= to.Position || (!st.Active && st.ID != from.ID) {
			continue
		}
		if st.Position == from.Position && st.ID != from.ID {
			continue
		}
		for _, key := range st.Gates {
			g, ok := s.gates[key]
			if !ok || seen[key] {
				continue
			}
			seen[key] = true
			met, err := g.Check(ctx, q, customerID)
			if err != nil {
				return nil, err
			}
			if !met {
				out = append(out, Missing{Key: key, StageID: st.ID, StageName: st.Name})
			}
		}
	}
	return out, nil
}

// forward reports whether to lies after from on the board.
func forward(from, to Stage) bool {
	return to.Position > from.Position || (to.Position == from.Position && to.ID > from.ID)
}

// MoveInput moves a customer to a stage. Version is the customer's SOP
// version the mover saw (0 when the customer had no stage row yet): a move made
// meanwhile makes this one a 409 instead of silently overriding it.
type MoveInput struct {
	ToStageID int64  `json:"toStageId"`
	Version   *int64 `json:"version"`
	Override  bool   `json:"override"` // a manager moves past unmet gates
	Reason    string `json:"reason"`   // required with override
}

// Move moves a customer forward or backward to an active stage of its store
// (sales.write and customer.write on the customer). Moving forward needs the
// gates of the current stage and of every skipped stage: otherwise 422
// sop.gates_unmet with details.missing (each gate's key), unless a manager
// (customer.assign) overrides with a reason.
func (s *Service) Move(ctx context.Context, a auth.Actor, customerID int64, in MoveInput) (State, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return State{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	f := apperr.Fields{}
	if in.ToStageID <= 0 {
		f.Add("toStageId", "required")
	}
	if in.Version == nil {
		f.Add("version", "required")
	}
	if utf8.RuneCountInString(in.Reason) > 200 {
		f.Add("reason", "too_long", "max", 200)
	}
	if in.Override && in.Reason == "" {
		f.Add("reason", "sop.reason_required")
	}
	if err := f.Err(); err != nil {
		return State{}, err
	}
	if in.Override && !a.Has(auth.PermCustomerAssign) {
		return State{}, apperr.New(apperr.Forbidden, "sop.override_forbidden")
	}
	var tasks int
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		ref, err := s.d.CRM.Writable(ctx, tx, a, customerID)
		if err != nil {
			return err
		}
		pl, err := s.stagesFor(ctx, tx, ref.StoreID)
		if err != nil {
			return err
		}
		p, err := s.locate(ctx, tx, customerID, pl)
		if err != nil {
			return err
		}
		if !p.open() {
			return apperr.New(apperr.Conflict, "sop.customer_closed")
		}
		if *in.Version != p.Version {
			return apperr.New(apperr.Conflict, "sop.moved_meanwhile")
		}
		to, ok := pl.get(in.ToStageID)
		if !ok {
			return apperr.Field("toStageId", "sop.stage_unknown")
		}
		if !to.Active {
			return apperr.Field("toStageId", "sop.stage_inactive")
		}
		if to.ID == p.StageID {
			return apperr.Field("toStageId", "sop.same_stage")
		}
		from, _ := pl.get(p.StageID)
		how := HowManual
		var missing []Missing
		if forward(from, to) {
			if missing, err = s.missingFor(ctx, tx, pl, customerID, from, to); err != nil {
				return err
			}
		}
		if len(missing) > 0 {
			if !in.Override {
				return s.unmet(a, missing)
			}
			how = HowOverride
		}
		tasks, err = s.moveTx(ctx, tx, a, p, from, to, how, in.Reason, missing)
		return err
	})
	if err != nil {
		return State{}, err
	}
	if tasks > 0 {
		s.afterCommit()
	}
	return s.State(ctx, a, customerID)
}

// unmet is the 422 naming every missing gate: details.missing lists the keys
// (the UI labels them sop.gates.<key>), details.names the same in the actor's
// language for the message ("还差：已试驾、已报价").
func (s *Service) unmet(a auth.Actor, missing []Missing) error {
	keys := make([]string, len(missing))
	names := make([]string, len(missing))
	for i, m := range missing {
		keys[i] = m.Key
		names[i] = s.text(a.Locale, "sop.gates."+m.Key)
	}
	sep := "、"
	if a.Locale == "en" {
		sep = ", "
	}
	e := apperr.New(apperr.Unprocessable, "sop.gates_unmet")
	e.Details = map[string]any{"missing": missing, "keys": keys, "names": strings.Join(names, sep), "canOverride": a.Has(auth.PermCustomerAssign)}
	return e
}

// moveTx records the move: the conditional update of the customer's position
// (its version must still be p.Version), the stays, the entry tasks, the
// timeline and the audit. It returns how many tasks it created.
func (s *Service) moveTx(ctx context.Context, tx db.Querier, a auth.Actor, p position, from, to Stage, how, reason string, missing []Missing) (int, error) {
	now := s.now()
	if now < p.EnteredAt {
		now = p.EnteredAt
	}
	var by any
	if a.UserID != 0 {
		by = a.UserID
	}
	if p.Version == 0 {
		// The first move: the customer stood at the first stage since created.
		r, err := tx.ExecContext(ctx, `INSERT INTO customer_sop (customer_id, store_id, stage_id, entered_at, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
			ON CONFLICT (customer_id) DO NOTHING`, p.CustomerID, p.StoreID, to.ID, now, now)
		if err != nil {
			return 0, fmt.Errorf("sop: place customer %d: %w", p.CustomerID, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return 0, apperr.New(apperr.Conflict, "sop.moved_meanwhile")
		}
		if from.ID != 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sop_history (customer_id, store_id, stage_id, stage_name, entered_at, left_at, how, by_name)
				VALUES (?, ?, ?, ?, ?, ?, 'initial', '')`, p.CustomerID, p.StoreID, from.ID, from.Name, p.EnteredAt, now); err != nil {
				return 0, fmt.Errorf("sop: initial stay of %d: %w", p.CustomerID, err)
			}
		}
	} else {
		r, err := tx.ExecContext(ctx, `UPDATE customer_sop SET stage_id = ?, entered_at = ?, version = version + 1, updated_at = ? WHERE customer_id = ? AND version = ?`,
			to.ID, now, now, p.CustomerID, p.Version)
		if err != nil {
			return 0, fmt.Errorf("sop: move customer %d: %w", p.CustomerID, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return 0, apperr.New(apperr.Conflict, "sop.moved_meanwhile")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sop_history SET left_at = max(entered_at, ?) WHERE customer_id = ? AND left_at IS NULL`, now, p.CustomerID); err != nil {
			return 0, fmt.Errorf("sop: close stay of %d: %w", p.CustomerID, err)
		}
	}
	var fromID any
	if from.ID != 0 {
		fromID = from.ID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sop_history (customer_id, store_id, stage_id, stage_name, from_stage_id, entered_at, how, by_user, by_name, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.CustomerID, p.StoreID, to.ID, to.Name, fromID, now, how, by, a.Name, reason); err != nil {
		return 0, fmt.Errorf("sop: stay of %d: %w", p.CustomerID, err)
	}
	n, err := s.entryTasks(ctx, tx, a, p, to, now)
	if err != nil {
		return 0, err
	}
	// The timeline shows the data's keys as labelled lines (crm.field.<key>):
	// from, to, and for an override or an automatic move a flag and the reason.
	data := map[string]any{"from": from.Name, "to": to.Name, "fromStageId": from.ID, "toStageId": to.ID}
	switch how {
	case HowOverride:
		data["override"], data["reason"] = true, reason
	case HowAuto:
		data["auto"] = true
	}
	var overridden []string
	for _, m := range missing {
		overridden = append(overridden, m.Key)
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: p.CustomerID, StoreID: p.StoreID, At: now, Kind: "sop.moved",
		Entity: "sop_stage", EntityID: to.ID, Data: data}.By(a)); err != nil {
		return 0, err
	}
	return n, s.audit(ctx, tx, a, "sop.move", "customer", p.CustomerID, p.StoreID,
		map[string]any{"stageId": from.ID, "stage": from.Name, "version": p.Version},
		map[string]any{"stageId": to.ID, "stage": to.Name, "how": how, "reason": reason, "overridden": overridden})
}

// entryTasks creates the stage's entry tasks for the customer's consultant or
// their team's manager; a customer in the pool (no owner) gets none.
func (s *Service) entryTasks(ctx context.Context, tx db.Querier, a auth.Actor, p position, to Stage, now int64) (int, error) {
	if len(to.Tasks) == 0 || p.OwnerID == 0 {
		return 0, nil
	}
	n := 0
	for _, t := range to.Tasks {
		assignee := p.OwnerID
		if t.Assignee == AssignManager {
			var mgr sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT d.manager_id FROM department d JOIN app_user u ON u.id = d.manager_id AND u.status = 'active' WHERE d.id = ?`, p.DeptID).Scan(&mgr)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return n, fmt.Errorf("sop: team manager: %w", err)
			}
			if mgr.Valid {
				assignee = mgr.Int64
			}
		}
		due := now + int64(t.DueHours)*time.Hour.Milliseconds()
		if _, err := task.Create(ctx, tx, task.New{StoreID: p.StoreID, AssigneeID: assignee, Title: t.Title, Kind: "sop", CustomerID: p.CustomerID,
			Entity: "sop_stage", EntityID: to.ID, DueAt: due, RemindAt: due, CreatedBy: a.UserID}, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// advanceTx is AdvanceTx: an automatic forward move, gates not asked (the
// event is the proof), never backward, nothing when the stage is missing or
// inactive or the customer is closed.
func (s *Service) advanceTx(ctx context.Context, tx *sql.Tx, customerID int64, key string) error {
	var storeID int64
	err := tx.QueryRowContext(ctx, `SELECT store_id FROM customer WHERE id = ?`, customerID).Scan(&storeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sop: advance customer %d: %w", customerID, err)
	}
	pl, err := s.stagesFor(ctx, tx, storeID)
	if err != nil {
		return err
	}
	var to Stage
	for _, st := range pl.stages {
		if st.Key == key && st.Active {
			to = st
		}
	}
	if to.ID == 0 {
		return nil
	}
	p, err := s.locate(ctx, tx, customerID, pl)
	if err != nil {
		return err
	}
	if p.Status != "active" && p.Status != "dormant" {
		return nil
	}
	from, _ := pl.get(p.StageID)
	if from.ID != 0 && !forward(from, to) {
		return nil
	}
	a, ok := auth.FromContext(ctx)
	if !ok {
		a = auth.System("sop")
	}
	if _, err := s.moveTx(ctx, tx, a, p, from, to, HowAuto, "", nil); err != nil {
		return err
	}
	return nil
}

// Stay is one stay of a customer in a stage.
type Stay struct {
	StageID   int64   `json:"stageId"`
	StageName string  `json:"stageName"`
	FromID    *int64  `json:"fromStageId"`
	EnteredAt int64   `json:"enteredAt"`
	LeftAt    *int64  `json:"leftAt"` // nil: still there
	Days      float64 `json:"days"`   // time in the stage, in days (one decimal)
	How       string  `json:"how"`
	ByName    string  `json:"byName"`
	Reason    string  `json:"reason"`
}

// GateStatus is one gate of the current stage and whether it is met.
type GateStatus struct {
	Key string `json:"key"`
	Met bool   `json:"met"`
}

// State is a customer's place in the pipeline for the customer page.
type State struct {
	CustomerID  int64        `json:"customerId"`
	StoreID     int64        `json:"storeId"`
	StageID     int64        `json:"stageId"`
	StageName   string       `json:"stageName"`
	StageKey    string       `json:"stageKey"`
	EnteredAt   int64        `json:"enteredAt"`
	DaysInStage int          `json:"daysInStage"`
	Version     int64        `json:"version"`
	Open        bool         `json:"open"`  // on the board: active and not yet delivered
	Gates       []GateStatus `json:"gates"` // the current stage's gates (to leave it forward)
	Stages      []Stage      `json:"stages"`
	History     []Stay       `json:"history"`
}

const day = 24 * 60 * 60 * 1000

// State returns where a customer stands, the gates to leave, the stages to move
// to and the history with time in each stage (customer.read in scope).
func (s *Service) State(ctx context.Context, a auth.Actor, customerID int64) (State, error) {
	ref, err := s.d.CRM.Readable(ctx, s.d.DB.R, a, customerID)
	if err != nil {
		return State{}, err
	}
	pl, err := s.stagesFor(ctx, s.d.DB.R, ref.StoreID)
	if err != nil {
		return State{}, err
	}
	p, err := s.locate(ctx, s.d.DB.R, customerID, pl)
	if err != nil {
		return State{}, err
	}
	now := s.now()
	cur, _ := pl.get(p.StageID)
	st := State{CustomerID: customerID, StoreID: p.StoreID, StageID: cur.ID, StageName: cur.Name, StageKey: cur.Key, EnteredAt: p.EnteredAt,
		DaysInStage: int(max(0, now-p.EnteredAt) / day), Version: p.Version, Open: p.open(), Gates: []GateStatus{}, Stages: []Stage{}, History: []Stay{}}
	for _, key := range cur.Gates {
		g, ok := s.gates[key]
		if !ok {
			continue
		}
		met, err := g.Check(ctx, s.d.DB.R, customerID)
		if err != nil {
			return st, err
		}
		st.Gates = append(st.Gates, GateStatus{Key: key, Met: met})
	}
	for _, x := range pl.stages {
		s.decorate(&x)
		st.Stages = append(st.Stages, x)
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT stage_id, stage_name, from_stage_id, entered_at, left_at, how, by_name, reason FROM sop_history
		WHERE customer_id = ? ORDER BY entered_at, id`, customerID)
	if err != nil {
		return st, fmt.Errorf("sop: history of %d: %w", customerID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h Stay
		var fromID, left sql.NullInt64
		if err := rows.Scan(&h.StageID, &h.StageName, &fromID, &h.EnteredAt, &left, &h.How, &h.ByName, &h.Reason); err != nil {
			return st, err
		}
		end := now
		if fromID.Valid {
			h.FromID = &fromID.Int64
		}
		if left.Valid {
			h.LeftAt, end = &left.Int64, left.Int64
		}
		h.Days = float64((max(0, end-h.EnteredAt)*10)/day) / 10
		st.History = append(st.History, h)
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	if len(st.History) == 0 && cur.ID != 0 {
		// Never moved: one implicit stay at the first stage since the customer came.
		st.History = append(st.History, Stay{StageID: cur.ID, StageName: cur.Name, EnteredAt: p.EnteredAt, How: HowInitial,
			Days: float64((max(0, now-p.EnteredAt)*10)/day) / 10})
	}
	return st, nil
}
