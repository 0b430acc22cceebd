// Package testdrive is test drives (DOMAIN.md S2): the test-drive fleet, the
// booking calendar that refuses overlaps of a car or a consultant, licence
// check and agreement, mileage out and in, feedback and no-shows.
//
// Invariants (migration 0014 and the tests in this package prove them):
//   - no two active bookings (booked, in progress) of one car or one
//     consultant overlap; intervals are half-open [start, end). The check and
//     the insert share one BEGIN IMMEDIATE transaction on the single writer,
//     and triggers refuse any overlapping write that bypasses the service;
//   - a plate is unique within a store; a car's odometer never goes back;
//   - a drive starts only with a checked, unexpired licence and a signed
//     agreement, and ends with mileage in ≥ out and an overall rating;
//   - every step is version-checked (409 conflict.stale), audited and on the
//     customer's timeline; bookings are read and changed with the rights on
//     their customer, while every reader of a store sees its cars' occupancy.
package testdrive

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"dealerdesk/app/api"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
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

// AttachEntity is the attachment owner type of a test drive (the scanned
// agreement or a photo of the licence).
const AttachEntity = "test_drive"

// NewService returns the test-drive service. It registers test drives as
// owners of attachments: whoever may read the customer sees the scans, whoever
// may run the drive (sales.write on the customer) uploads them.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: d}
	if d.Attach != nil {
		d.Attach.Register(AttachEntity, s.attachOwner)
	}
	return s
}

// GateTestDriveDone is the SOP gate "a completed test drive".
const GateTestDriveDone = "test_drive_done"

// Gates are the SOP gate conditions test drives provide.
func (s *Service) Gates() []sop.Gate {
	return []sop.Gate{{Key: GateTestDriveDone, Check: TestDriveDone}}
}

// TestDriveDone reports whether the customer has completed a test drive.
func TestDriveDone(ctx context.Context, q db.Querier, customerID int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM test_drive WHERE customer_id = ? AND status = 'completed')`, customerID).Scan(&n)
	return n == 1, err
}

// Routes are the test-drive HTTP routes.
func (s *Service) Routes() []api.Route { return append(s.carRoutes(), s.driveRoutes()...) }

// The no-show job runs every minute: a booking is marked within a minute of its
// grace running out, and a restart loses nothing (it looks at the data).
const jobEveryNoShow = time.Minute

// Jobs are the scheduled checks: bookings never started become no-shows.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "test_drive_no_show", Every: jobEveryNoShow, Run: func(ctx context.Context) error { _, err := s.MarkNoShows(ctx); return err }}}
}

func (s *Service) now() int64 { return s.d.Clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

// afterCommit wakes the live notifications (reminder tasks, no-show notices).
func (s *Service) afterCommit() {
	if s.d.Notify != nil {
		s.d.Notify.Wake()
	}
}

// text is the UI text of key in zh-CN (server-made task titles), key when unknown.
func (s *Service) text(key string, params map[string]string) string {
	t := key
	if s.d.Text != nil {
		if v := s.d.Text("zh-CN", key); v != "" {
			t = v
		}
	}
	for k, v := range params {
		t = strings.ReplaceAll(t, "{"+k+"}", v)
	}
	return t
}

func userID(a auth.Actor) any {
	if a.UserID == 0 {
		return nil
	}
	return a.UserID
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	x := v.Int64
	return &x
}

// storeOf picks the store a request is about: the asked one for group roles,
// else the actor's home store (another store answers not_found).
func storeOf(a auth.Actor, asked int64) (int64, bool) {
	if asked == 0 {
		if a.StoreID != 0 {
			asked = a.StoreID
		} else {
			asked = a.HomeStoreID
		}
	}
	if a.Scope != auth.ScopeGroup && asked != a.HomeStoreID {
		return asked, false
	}
	return asked, true
}
