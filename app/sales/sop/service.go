// Package sop is the sales SOP pipeline (DOMAIN.md S1): the stages of a store,
// their gates and entry tasks, moving a customer between stages, the kanban
// board and the time spent in each stage.
//
// Invariants: won and lost are never stages (they stay the customer's status
// and lifecycle stage in crm), so renaming or reordering stages changes no
// outcome; a move is a conditional update on customer_sop.version, so two
// people moving one customer at once cannot both win; a customer has at most
// one open stay in sop_history (a partial unique index); a stage holding
// customers cannot be deleted.
package sop

import (
	"context"
	"database/sql"
	"log/slog"
	"sort"
	"strconv"

	"dealerdesk/app/approval"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/task"
)

// Gate is a condition a stage may require before a customer leaves it. Other
// sales packages contribute gates (a test drive done, a quote approved, …);
// the stage editor lists them by Key and the UI names them with the i18n key
// sop.gates.<Key>.
type Gate struct {
	Key string
	// Check reports whether the customer meets the condition.
	Check func(ctx context.Context, q db.Querier, customerID int64) (bool, error)
}

// Deps are the services the pipeline uses.
type Deps struct {
	DB       *db.DB
	Clock    clock.Clock
	Log      *slog.Logger
	Notify   *notify.Service
	Approval *approval.Service
	Index    *findex.Service
	Tasks    *task.Service
	CRM      *crm.Service
	Text     func(locale, key string) string
}

// Service serves the pipeline.
type Service struct {
	d     Deps
	gates map[string]Gate
	order []string
}

// NewService returns the pipeline service with its built-in gates registered
// (contacted, intent_set, invited, visited, followup_planned).
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: d, gates: map[string]Gate{}}
	for _, g := range builtinGates() {
		s.RegisterGate(g)
	}
	return s
}

// RegisterGate adds a gate condition the stage editor offers. It panics on a
// duplicate key (a wiring mistake).
func (s *Service) RegisterGate(g Gate) {
	if _, dup := s.gates[g.Key]; dup || g.Key == "" || g.Check == nil {
		panic("sop: gate " + g.Key + " registered twice or incomplete")
	}
	s.gates[g.Key] = g
	s.order = append(s.order, g.Key)
}

// GateKeys returns the registered gate keys, built-in ones first, then in
// registration order.
func (s *Service) GateKeys() []string {
	return append([]string(nil), s.order...)
}

// AdvanceTx moves the customer forward to the stage with the given system key
// (clean, contact, intent, invited, visit, quote, finance, contract, delivery)
// when the customer is currently at an earlier stage; it never moves backward.
// It is called inside the transaction of the business event that proves the
// step (a test drive done, an order signed), records the move in the stage
// history as automatic, and does nothing when the store has no stage with
// that key.
func (s *Service) AdvanceTx(ctx context.Context, tx *sql.Tx, customerID int64, key string) error {
	return s.advanceTx(ctx, tx, customerID, key)
}

// Jobs are the pipeline's scheduled checks: none — time in stage is computed
// from the stays, and entry tasks remind through the task service.
func (s *Service) Jobs() []jobs.Job { return nil }

func (s *Service) now() int64 { return s.d.Clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

// afterCommit pushes what a committed write produced (task reminders, live
// notifications).
func (s *Service) afterCommit() {
	if s.d.Notify != nil {
		s.d.Notify.Wake()
	}
}

// text is the UI text of key in the actor's language (the key itself when no
// catalogue is wired, as in unit tests).
func (s *Service) text(locale, key string) string {
	if s.d.Text == nil {
		return key
	}
	if locale == "" {
		locale = "zh-CN"
	}
	return s.d.Text(locale, key)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
