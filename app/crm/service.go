package crm

import (
	"context"
	"log/slog"
	"strconv"

	"dealerdesk/app/approval"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/task"
)

// Service serves leads and customers.
type Service struct {
	db       *db.DB
	clock    clock.Clock
	log      *slog.Logger
	notify   *notify.Service
	approval *approval.Service
	index    *findex.Service
	tasks    *task.Service
	dataDir  string
	imports  *importRunner
	text     func(locale, key string) string
}

// Deps are the platform services crm uses.
type Deps struct {
	DB       *db.DB
	Clock    clock.Clock
	Log      *slog.Logger
	Notify   *notify.Service
	Approval *approval.Service
	Index    *findex.Service
	Tasks    *task.Service
	DataDir  string                          // imports keep their uploaded file under <DataDir>/imports until done
	Text     func(locale, key string) string // UI text for server-made files (export headers)
}

// NewService returns the CRM service and registers what it contributes to the
// platform: the lost-request approval type and the customer search documents.
func NewService(d Deps) *Service {
	s := &Service{db: d.DB, clock: d.Clock, log: d.Log, notify: d.Notify, approval: d.Approval, index: d.Index, tasks: d.Tasks, dataDir: d.DataDir, text: d.Text}
	s.imports = newImportRunner(s)
	if s.approval != nil {
		s.approval.Register(s.lostDocType())
	}
	if s.index != nil {
		s.index.Register(searchKind, auth.PermCustomerRead, s.searchDocs, s.searchAll, findex.LinkFormat("/crm/customers/%d"))
	}
	return s
}

// Jobs are the scheduled checks: deadlines and escalations every minute, the
// return of untouched leads to the pool every 10 minutes.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{
		{Name: "crm_sla", Every: jobEverySLA, Run: func(ctx context.Context) error { _, err := s.RunSLA(ctx); return err }},
		{Name: "crm_pool_return", Every: jobEveryPool, Run: func(ctx context.Context) error { _, err := s.RunPoolReturn(ctx); return err }},
	}
}

// Close stops running imports (they resume at the next start).
func (s *Service) Close() { s.imports.stop() }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

// afterCommit pushes what a committed write produced: live notifications and
// the search index. Both also catch up on their own, so a missed call only delays.
func (s *Service) afterCommit() {
	if s.notify != nil {
		s.notify.Wake()
	}
	if s.index != nil {
		s.index.Wake()
	}
}
