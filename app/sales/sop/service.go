// Package sop is the sales SOP pipeline (DOMAIN.md S1): the stages of a store,
// their gates and entry tasks, moving a customer between stages, the kanban
// board and the time spent in each stage.
package sop

import (
	"context"
	"database/sql"
	"log/slog"

	"dealerdesk/app/api"
	"dealerdesk/app/approval"
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

// NewService returns the pipeline service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, gates: map[string]Gate{}}
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

// AdvanceTx moves the customer forward to the stage with the given system key
// (clean, contact, intent, invited, visit, quote, finance, contract, delivery)
// when the customer is currently at an earlier stage; it never moves backward.
// It is called inside the transaction of the business event that proves the
// step (a test drive done, an order signed), records the move in the stage
// history as automatic, and does nothing when the store has no stage with
// that key.
func (s *Service) AdvanceTx(ctx context.Context, tx *sql.Tx, customerID int64, key string) error {
	return nil // TODO(sop): implemented by the pipeline work
}

// Routes are the pipeline's HTTP routes.
func (s *Service) Routes() []api.Route { return nil }

// Jobs are the pipeline's scheduled checks.
func (s *Service) Jobs() []jobs.Job { return nil }
