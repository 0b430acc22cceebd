package sop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Keys are the system keys of the default stages, in their default order.
var Keys = []string{"clean", "contact", "intent", "invited", "visit", "quote", "finance", "contract", "delivery"}

// Assignees of an entry task.
const (
	AssignOwner   = "owner"   // the customer's consultant
	AssignManager = "manager" // the manager of the consultant's team (the consultant when none)
)

// EntryTask is a task created when a customer enters a stage.
type EntryTask struct {
	Title    string `json:"title"`
	DueHours int    `json:"dueHours"` // due this many hours after entry
	Assignee string `json:"assignee"` // owner | manager
}

// Stage is one column of a store's pipeline.
type Stage struct {
	ID       int64       `json:"id"`
	StoreID  int64       `json:"storeId"`
	Position int         `json:"position"`
	Name     string      `json:"name"`
	Key      string      `json:"key"` // system key, '' for the store's own stages; read-only
	Gates    []string    `json:"gates"`
	Tasks    []EntryTask `json:"tasks"`
	Active   bool        `json:"active"`
	// UnknownGates are stored gate keys no module registers (ignored when moving).
	UnknownGates []string `json:"unknownGates"`
	// Customers is how many customers stand at the stage (editor only).
	Customers int   `json:"customers"`
	Version   int64 `json:"version"`
}

// DefaultStage is a stage every store starts with.
type DefaultStage struct {
	Key   string
	Name  string
	Gates []string
	Tasks []EntryTask
}

// DefaultStages are the stages a store starts with (DOMAIN.md S1). Gates of
// other modules are listed here and kept only when registered.
func DefaultStages() []DefaultStage {
	own := func(title string, hours int) []EntryTask {
		return []EntryTask{{Title: title, DueHours: hours, Assignee: AssignOwner}}
	}
	return []DefaultStage{
		{"clean", "线索清洗", nil, nil},
		{"contact", "首次联系", []string{"contacted"}, nil},
		{"intent", "意向确认", []string{"intent_set"}, own("发送车型资料", 24)},
		{"invited", "邀约到店", nil, own("到店前电话确认邀约", 24)},
		{"visit", "接待/试驾", []string{"visited"}, nil},
		{"quote", "报价", []string{"quote_created"}, own("报价后跟进", 48)},
		{"finance", "金融方案", nil, nil},
		{"contract", "签约", []string{"order_signed"}, []EntryTask{{Title: "审核合同与定金", DueHours: 24, Assignee: AssignManager}}},
		{"delivery", "交车", nil, own("交车准备与PDI确认", 72)},
	}
}

// SeedStore gives a store without stages the default ones inside the caller's
// transaction (gates filtered by known when not nil); it does nothing when the
// store has stages. The demo and lazy seeding of new stores use it.
func SeedStore(ctx context.Context, q db.Querier, storeID, now int64, known func(string) bool) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sop_stage WHERE store_id = ?`, storeID).Scan(&n); err != nil {
		return fmt.Errorf("sop: count stages of store %d: %w", storeID, err)
	}
	if n > 0 {
		return nil
	}
	for i, d := range DefaultStages() {
		gates := []string{}
		for _, g := range d.Gates {
			if known == nil || known(g) {
				gates = append(gates, g)
			}
		}
		tasks := d.Tasks
		if tasks == nil {
			tasks = []EntryTask{}
		}
		gj, _ := json.Marshal(gates)
		tj, _ := json.Marshal(tasks)
		if _, err := q.ExecContext(ctx, `INSERT INTO sop_stage (store_id, position, name, sys_key, gates, tasks, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			storeID, i+1, d.Name, d.Key, string(gj), string(tj), now, now); err != nil {
			return fmt.Errorf("sop: seed stages of store %d: %w", storeID, err)
		}
	}
	return nil
}

const stageCols = `id, store_id, position, name, sys_key, gates, tasks, active, version`

func scanStage(sc interface{ Scan(...any) error }) (Stage, error) {
	var st Stage
	var gates, tasks string
	var active int
	if err := sc.Scan(&st.ID, &st.StoreID, &st.Position, &st.Name, &st.Key, &gates, &tasks, &active, &st.Version); err != nil {
		return st, err
	}
	st.Active = active == 1
	st.Gates, st.Tasks = []string{}, []EntryTask{}
	if err := json.Unmarshal([]byte(gates), &st.Gates); err != nil {
		return st, fmt.Errorf("sop: stage %d gates: %w", st.ID, err)
	}
	if err := json.Unmarshal([]byte(tasks), &st.Tasks); err != nil {
		return st, fmt.Errorf("sop: stage %d tasks: %w", st.ID, err)
	}
	return st, nil
}

// loadStages returns a store's stages in board order (all of them, inactive too).
func loadStages(ctx context.Context, q db.Querier, storeID int64) ([]Stage, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+stageCols+` FROM sop_stage WHERE store_id = ? ORDER BY position, id`, storeID)
	if err != nil {
		return nil, fmt.Errorf("sop: stages of store %d: %w", storeID, err)
	}
	defer rows.Close()
	var out []Stage
	for rows.Next() {
		st, err := scanStage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// pipeline is a store's stages with the lookups a move and the board need.
type pipeline struct {
	stages []Stage
	byID   map[int64]int // index in stages
}

func newPipeline(stages []Stage) pipeline {
	p := pipeline{stages: stages, byID: map[int64]int{}}
	for i, st := range stages {
		p.byID[st.ID] = i
	}
	return p
}

// first is the first active stage: where a customer without a row stands.
func (p pipeline) first() (Stage, bool) {
	for _, st := range p.stages {
		if st.Active {
			return st, true
		}
	}
	return Stage{}, false
}

func (p pipeline) get(id int64) (Stage, bool) {
	i, ok := p.byID[id]
	if !ok {
		return Stage{}, false
	}
	return p.stages[i], true
}

// stagesFor loads a store's stages, seeding the defaults for a store that has
// none yet (a store created after the migration). Seeding writes, so it runs
// on the writer once; later calls only read.
func (s *Service) stagesFor(ctx context.Context, q db.Querier, storeID int64) (pipeline, error) {
	stages, err := loadStages(ctx, q, storeID)
	if err != nil || len(stages) > 0 {
		return newPipeline(stages), err
	}
	var exists int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM store WHERE id = ?`, storeID).Scan(&exists); err != nil {
		return pipeline{}, fmt.Errorf("sop: store %d: %w", storeID, err)
	}
	if exists == 0 {
		return pipeline{}, apperr.New(apperr.NotFound, "not_found")
	}
	seed := func(w db.Querier) error { return SeedStore(ctx, w, storeID, s.now(), s.known) }
	if tx, ok := q.(*sql.Tx); ok {
		err = seed(tx)
	} else {
		err = s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error { return seed(tx) })
	}
	if err != nil {
		return pipeline{}, err
	}
	if _, ok := q.(*sql.Tx); ok {
		stages, err = loadStages(ctx, q, storeID)
	} else {
		stages, err = loadStages(ctx, s.d.DB.W, storeID)
	}
	return newPipeline(stages), err
}

func (s *Service) known(key string) bool { _, ok := s.gates[key]; return ok }

// decorate marks the gate keys no module registered.
func (s *Service) decorate(st *Stage) {
	st.UnknownGates = []string{}
	for _, g := range st.Gates {
		if !s.known(g) {
			st.UnknownGates = append(st.UnknownGates, g)
		}
	}
}

// StageList is the editor's view: the stages and the gates one can choose.
type StageList struct {
	Items []Stage    `json:"items"`
	Gates []GateInfo `json:"gates"`
}

// GateInfo names a registered gate; the UI labels it sop.gates.<key>.
type GateInfo struct {
	Key string `json:"key"`
}

// storeOf picks the store a request is about: the one asked for, else the
// actor's current store; a store outside a non-group actor's home is not found.
func storeOf(a auth.Actor, storeID int64) (int64, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if storeID == 0 {
		storeID = a.HomeStoreID
	}
	if storeID <= 0 {
		return 0, apperr.New(apperr.NotFound, "not_found")
	}
	if a.Scope != auth.ScopeGroup && storeID != a.HomeStoreID {
		return 0, apperr.New(apperr.NotFound, "not_found")
	}
	return storeID, nil
}

// Gates lists the registered gates.
func (s *Service) Gates() []GateInfo {
	out := make([]GateInfo, len(s.order))
	for i, k := range s.order {
		out[i] = GateInfo{Key: k}
	}
	return out
}

// ListStages returns a store's stages (inactive ones too) with how many
// customers stand at each, and the registered gates.
func (s *Service) ListStages(ctx context.Context, a auth.Actor, storeID int64) (StageList, error) {
	out := StageList{Items: []Stage{}, Gates: s.Gates()}
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return out, err
	}
	storeID, err := storeOf(a, storeID)
	if err != nil {
		return out, err
	}
	p, err := s.stagesFor(ctx, s.d.DB.R, storeID)
	if err != nil {
		return out, err
	}
	counts, err := stageCounts(ctx, s.d.DB.R, storeID, p)
	if err != nil {
		return out, err
	}
	for _, st := range p.stages {
		s.decorate(&st)
		st.Customers = counts[st.ID]
		out.Items = append(out.Items, st)
	}
	return out, nil
}

// stageCounts counts the customers standing at each stage: rows, and for the
// first active stage also the customers without a row. Lost, dormant and merged
// customers keep their row (a reactivated customer comes back where it was),
// so they count as using the stage.
func stageCounts(ctx context.Context, q db.Querier, storeID int64, p pipeline) (map[int64]int, error) {
	out := map[int64]int{}
	rows, err := q.QueryContext(ctx, `SELECT stage_id, count(*) FROM customer_sop WHERE store_id = ? GROUP BY stage_id`, storeID)
	if err != nil {
		return nil, fmt.Errorf("sop: stage counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if f, ok := p.first(); ok {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM customer c WHERE c.store_id = ? AND c.status = 'active' AND c.stage IN ('lead', 'prospect', 'ordered')
			AND NOT EXISTS (SELECT 1 FROM customer_sop cs WHERE cs.customer_id = c.id)`, storeID).Scan(&n); err != nil {
			return nil, fmt.Errorf("sop: customers without a stage: %w", err)
		}
		out[f.ID] += n
	}
	return out, nil
}

// StageInput creates or edits a stage. Version is required on edit.
type StageInput struct {
	StoreID int64       `json:"storeId"` // create only; default the actor's store
	Name    string      `json:"name"`
	Gates   []string    `json:"gates"`
	Tasks   []EntryTask `json:"tasks"`
	Active  *bool       `json:"active"` // default true
	Version int64       `json:"version"`
}

// Normalize trims the input and fills defaults.
func (in *StageInput) Normalize() {
	in.Name = strings.TrimSpace(in.Name)
	if in.Gates == nil {
		in.Gates = []string{}
	}
	if in.Tasks == nil {
		in.Tasks = []EntryTask{}
	}
	seen := map[string]bool{}
	gates := in.Gates[:0]
	for _, g := range in.Gates {
		if g = strings.TrimSpace(g); g != "" && !seen[g] {
			seen[g] = true
			gates = append(gates, g)
		}
	}
	in.Gates = gates
	for i := range in.Tasks {
		in.Tasks[i].Title = strings.TrimSpace(in.Tasks[i].Title)
		if in.Tasks[i].Assignee == "" {
			in.Tasks[i].Assignee = AssignOwner
		}
	}
}

// Validate checks the shape; known says which gate keys exist. A gate key that
// was stored before may stay even when no module registers it now (keep).
func (in StageInput) Validate(known func(string) bool, keep map[string]bool) error {
	f := apperr.Fields{}
	if in.Name == "" {
		f.Add("name", "required")
	} else if utf8.RuneCountInString(in.Name) > 20 {
		f.Add("name", "too_long", "max", 20)
	}
	for _, g := range in.Gates {
		if !known(g) && !keep[g] {
			f.Add("gates", "sop.gate_unknown", "key", g)
		}
	}
	if len(in.Gates) > 10 {
		f.Add("gates", "out_of_range", "min", 0, "max", 10)
	}
	if len(in.Tasks) > 5 {
		f.Add("tasks", "out_of_range", "min", 0, "max", 5)
	}
	for i, t := range in.Tasks {
		field := fmt.Sprintf("tasks.%d", i)
		switch {
		case t.Title == "":
			f.Add(field+".title", "required")
		case utf8.RuneCountInString(t.Title) > 60:
			f.Add(field+".title", "too_long", "max", 60)
		}
		if t.DueHours < 0 || t.DueHours > 24*30 {
			f.Add(field+".dueHours", "out_of_range", "min", 0, "max", 24*30)
		}
		if t.Assignee != AssignOwner && t.Assignee != AssignManager {
			f.Add(field+".assignee", "sop.assignee_invalid")
		}
	}
	return f.Err()
}

func stageJSON(in StageInput) (string, string) {
	g, _ := json.Marshal(in.Gates)
	t, _ := json.Marshal(in.Tasks)
	return string(g), string(t)
}

func uniqueName(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE") && strings.Contains(err.Error(), "sop_stage.name")
}

// CreateStage adds a store's own stage at the end of the board (customer.assign).
func (s *Service) CreateStage(ctx context.Context, a auth.Actor, in StageInput) (Stage, error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return Stage{}, err
	}
	storeID, err := storeOf(a, in.StoreID)
	if err != nil {
		return Stage{}, err
	}
	in.Normalize()
	if err := in.Validate(s.known, nil); err != nil {
		return Stage{}, err
	}
	active := in.Active == nil || *in.Active
	var id int64
	err = s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.stagesFor(ctx, tx, storeID); err != nil {
			return err
		}
		gates, tasks := stageJSON(in)
		now := s.now()
		err := tx.QueryRowContext(ctx, `INSERT INTO sop_stage (store_id, position, name, gates, tasks, active, created_at, updated_at)
			VALUES (?, (SELECT COALESCE(max(position), 0) + 1 FROM sop_stage WHERE store_id = ?), ?, ?, ?, ?, ?, ?) RETURNING id`,
			storeID, storeID, in.Name, gates, tasks, boolInt(active), now, now).Scan(&id)
		if uniqueName(err) {
			return apperr.Field("name", "sop.name_taken")
		}
		if err != nil {
			return fmt.Errorf("sop: create stage: %w", err)
		}
		return s.audit(ctx, tx, a, "sop.stage_create", "sop_stage", id, storeID, nil, map[string]any{"name": in.Name, "gates": in.Gates, "tasks": in.Tasks, "active": active})
	})
	if err != nil {
		return Stage{}, err
	}
	return s.stage(ctx, s.d.DB.R, id)
}

func (s *Service) stage(ctx context.Context, q db.Querier, id int64) (Stage, error) {
	st, err := scanStage(q.QueryRowContext(ctx, `SELECT `+stageCols+` FROM sop_stage WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return st, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return st, fmt.Errorf("sop: stage %d: %w", id, err)
	}
	s.decorate(&st)
	return st, nil
}

// editable loads a stage a manager of its store may change.
func (s *Service) editable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Stage, error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return Stage{}, err
	}
	st, err := s.stage(ctx, q, id)
	if err != nil {
		return st, err
	}
	if _, err := storeOf(a, st.StoreID); err != nil {
		return st, err
	}
	return st, nil
}

// UpdateStage changes a stage's name, gates, entry tasks and active flag; the
// system key and the position stay (reorder with ReorderStages). Version is
// checked: an edit made meanwhile is a 409, never overwritten.
func (s *Service) UpdateStage(ctx context.Context, a auth.Actor, id int64, in StageInput) (Stage, error) {
	in.Normalize()
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		st, err := s.editable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, g := range st.Gates {
			keep[g] = true
		}
		if err := in.Validate(s.known, keep); err != nil {
			return err
		}
		if in.Version == 0 {
			return apperr.Field("version", "required")
		}
		active := st.Active
		if in.Active != nil {
			active = *in.Active
		}
		if !active && st.Active {
			p, err := s.stagesFor(ctx, tx, st.StoreID)
			if err != nil {
				return err
			}
			n := 0
			for _, x := range p.stages {
				if x.Active && x.ID != id {
					n++
				}
			}
			if n == 0 {
				return apperr.New(apperr.Conflict, "sop.last_active_stage")
			}
		}
		gates, tasks := stageJSON(in)
		r, err := tx.ExecContext(ctx, `UPDATE sop_stage SET name = ?, gates = ?, tasks = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			in.Name, gates, tasks, boolInt(active), s.now(), id, in.Version)
		if uniqueName(err) {
			return apperr.Field("name", "sop.name_taken")
		}
		if err != nil {
			return fmt.Errorf("sop: update stage %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "sop.stage_changed")
		}
		return s.audit(ctx, tx, a, "sop.stage_update", "sop_stage", id, st.StoreID,
			map[string]any{"name": st.Name, "gates": st.Gates, "tasks": st.Tasks, "active": st.Active},
			map[string]any{"name": in.Name, "gates": in.Gates, "tasks": in.Tasks, "active": active})
	})
	if err != nil {
		return Stage{}, err
	}
	return s.stage(ctx, s.d.DB.R, id)
}

// ReorderInput is the new board order: every stage id of the store, once.
type ReorderInput struct {
	StoreID int64   `json:"storeId"`
	IDs     []int64 `json:"ids"`
}

// ReorderStages sets the board order. The list must name exactly the store's
// stages (else someone added or removed one meanwhile: 409). Customers keep
// their stage; only "forward" changes meaning.
func (s *Service) ReorderStages(ctx context.Context, a auth.Actor, in ReorderInput) (StageList, error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return StageList{}, err
	}
	storeID, err := storeOf(a, in.StoreID)
	if err != nil {
		return StageList{}, err
	}
	if len(in.IDs) == 0 {
		return StageList{}, apperr.Field("ids", "required")
	}
	err = s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		p, err := s.stagesFor(ctx, tx, storeID)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, id := range in.IDs {
			if _, ok := p.byID[id]; !ok || seen[id] {
				return apperr.New(apperr.Conflict, "sop.stages_changed")
			}
			seen[id] = true
		}
		if len(seen) != len(p.stages) {
			return apperr.New(apperr.Conflict, "sop.stages_changed")
		}
		before := make([]int64, len(p.stages))
		for i, st := range p.stages {
			before[i] = st.ID
		}
		now := s.now()
		for i, id := range in.IDs {
			if _, err := tx.ExecContext(ctx, `UPDATE sop_stage SET position = ?, version = version + 1, updated_at = ? WHERE id = ? AND position <> ?`, i+1, now, id, i+1); err != nil {
				return fmt.Errorf("sop: reorder: %w", err)
			}
		}
		return s.audit(ctx, tx, a, "sop.stage_reorder", "store", storeID, storeID, map[string]any{"ids": before}, map[string]any{"ids": in.IDs})
	})
	if err != nil {
		return StageList{}, err
	}
	return s.ListStages(ctx, a, storeID)
}

// DeleteStage removes a store's own stage that no customer stands at. System
// stages are deactivated instead (automatic moves aim at them); a stage in use
// is refused with how many customers stand there.
func (s *Service) DeleteStage(ctx context.Context, a auth.Actor, id, version int64) error {
	return s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		st, err := s.editable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if st.Key != "" {
			return apperr.New(apperr.Conflict, "sop.system_stage")
		}
		p, err := s.stagesFor(ctx, tx, st.StoreID)
		if err != nil {
			return err
		}
		counts, err := stageCounts(ctx, tx, st.StoreID, p)
		if err != nil {
			return err
		}
		if n := counts[id]; n > 0 {
			e := apperr.New(apperr.Conflict, "sop.stage_in_use")
			e.Details = map[string]any{"customers": n}
			return e
		}
		if version == 0 {
			return apperr.Field("version", "required")
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM sop_stage WHERE id = ? AND version = ?`, id, version)
		if err != nil {
			return fmt.Errorf("sop: delete stage %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "sop.stage_changed")
		}
		return s.audit(ctx, tx, a, "sop.stage_delete", "sop_stage", id, st.StoreID, map[string]any{"name": st.Name, "gates": st.Gates, "tasks": st.Tasks}, nil)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
