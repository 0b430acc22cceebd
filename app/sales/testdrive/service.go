// Package testdrive is test drives (DOMAIN.md S2): the test-drive fleet, the
// booking calendar that refuses overlaps of a car or a consultant, licence
// check and agreement, mileage out and in, feedback and no-shows.
package testdrive

import (
	"log/slog"

	"dealerdesk/app/api"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/inventory"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/sales/sop"
	"dealerdesk/app/task"
)

// Deps are the services test drives use.
type Deps struct {
	DB        *db.DB
	Clock     clock.Clock
	Log       *slog.Logger
	Notify    *notify.Service
	Approval  *approval.Service
	Index     *findex.Service
	Tasks     *task.Service
	Attach    *attach.Service
	CRM       *crm.Service
	Inventory *inventory.Service
	SOP       *sop.Service
	Text      func(locale, key string) string
}

// Service serves test drives.
type Service struct {
	d Deps
}

// NewService returns the test-drive service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// Gates are the SOP gate conditions test drives provide.
func (s *Service) Gates() []sop.Gate { return nil }

// Routes are the test-drive HTTP routes.
func (s *Service) Routes() []api.Route { return nil }

// Jobs are the scheduled checks (reminders, no-shows).
func (s *Service) Jobs() []jobs.Job { return nil }
