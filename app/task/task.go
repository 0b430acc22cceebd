// Package task is the one task list (DOMAIN.md L7 next steps, S6 callbacks, O2
// office tasks): a task has an assignee, a due time and an optional reminder,
// and may point at a customer or another record. Domains create tasks inside
// their own transactions; the reminder job sends each reminder once (claimed by
// a conditional update, so a restart never repeats one).
package task

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/timeline"
)

// Task is one to-do.
type Task struct {
	ID           int64  `json:"id"`
	StoreID      int64  `json:"storeId"`
	AssigneeID   int64  `json:"assigneeId"`
	AssigneeName string `json:"assigneeName"`
	Title        string `json:"title"`
	Note         string `json:"note"`
	Kind         string `json:"kind"` // followup, callback, todo …
	CustomerID   *int64 `json:"customerId"`
	CustomerName string `json:"customerName"`
	Entity       string `json:"entity,omitempty"`
	EntityID     int64  `json:"entityId,omitempty"`
	DueAt        int64  `json:"dueAt"`
	RemindAt     *int64 `json:"remindAt"`
	Status       string `json:"status"`
	DoneAt       *int64 `json:"doneAt"`
	Overdue      bool   `json:"overdue"`
	Version      int64  `json:"version"`
}

// Service serves tasks.
type Service struct {
	db     *db.DB
	clock  clock.Clock
	log    *slog.Logger
	notify *notify.Service
}

// NewService returns the task service.
func NewService(d *db.DB, n *notify.Service, c clock.Clock, log *slog.Logger) *Service {
	return &Service{db: d, notify: n, clock: c, log: log}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// New is a task to create.
type New struct {
	StoreID    int64
	AssigneeID int64
	Title      string
	Note       string
	Kind       string
	CustomerID int64
	Entity     string
	EntityID   int64
	DueAt      int64
	RemindAt   int64 // 0: no reminder
	CreatedBy  int64
}

// Create adds a task inside the caller's transaction and returns its id.
func Create(ctx context.Context, q db.Querier, t New, now int64) (int64, error) {
	if t.Kind == "" {
		t.Kind = "todo"
	}
	var cust, remind, by any
	if t.CustomerID != 0 {
		cust = t.CustomerID
	}
	if t.RemindAt != 0 {
		remind = t.RemindAt
	}
	if t.CreatedBy != 0 {
		by = t.CreatedBy
	}
	r, err := q.ExecContext(ctx, `INSERT INTO task (store_id, assignee_id, title, note, kind, customer_id, entity, entity_id, due_at, remind_at, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.StoreID, t.AssigneeID, t.Title, t.Note, t.Kind, cust, t.Entity, t.EntityID, t.DueAt, remind, by, now, now)
	if err != nil {
		return 0, fmt.Errorf("task: create: %w", err)
	}
	return r.LastInsertId()
}

// CancelOpen cancels a customer's open tasks of a kind (e.g. pending follow-ups
// when the customer is lost).
func CancelOpen(ctx context.Context, q db.Querier, customerID int64, kind string, now int64) error {
	_, err := q.ExecContext(ctx, `UPDATE task SET status = 'cancelled', updated_at = ?, version = version + 1 WHERE customer_id = ? AND kind = ? AND status = 'open'`, now, customerID, kind)
	return err
}

const cols = `t.id, t.store_id, t.assignee_id, COALESCE(u.name, ''), t.title, t.note, t.kind, t.customer_id, COALESCE(c.name, ''), t.entity, t.entity_id,
	t.due_at, t.remind_at, t.status, t.done_at, t.version`
const from = ` FROM task t LEFT JOIN app_user u ON u.id = t.assignee_id LEFT JOIN customer c ON c.id = t.customer_id`

func scan(sc interface{ Scan(...any) error }, now int64) (Task, error) {
	var t Task
	var cust, remind, done sql.NullInt64
	if err := sc.Scan(&t.ID, &t.StoreID, &t.AssigneeID, &t.AssigneeName, &t.Title, &t.Note, &t.Kind, &cust, &t.CustomerName, &t.Entity, &t.EntityID,
		&t.DueAt, &remind, &t.Status, &done, &t.Version); err != nil {
		return t, err
	}
	if cust.Valid {
		t.CustomerID = &cust.Int64
	}
	if remind.Valid {
		t.RemindAt = &remind.Int64
	}
	if done.Valid {
		t.DoneAt = &done.Int64
	}
	t.Overdue = t.Status == "open" && t.DueAt < now
	return t, nil
}

// Filter selects tasks.
type Filter struct {
	AssigneeID int64 // 0: the actor
	CustomerID int64
	Status     string // open (default) | done | all
	DueBefore  int64
	DueAfter   int64
	Limit      int
}

// List returns tasks: one's own, or a customer's (with read access checked by
// the caller through the customer), due time ascending.
func (s *Service) List(ctx context.Context, a auth.Actor, f Filter) ([]Task, error) {
	where := "1"
	var args []any
	if f.CustomerID != 0 {
		where += " AND t.customer_id = ?"
		args = append(args, f.CustomerID)
	} else {
		if f.AssigneeID == 0 {
			f.AssigneeID = a.UserID
		}
		if f.AssigneeID != a.UserID {
			// Someone else's list: a manager over their records.
			var store, dept sql.NullInt64
			if err := s.db.R.QueryRowContext(ctx, `SELECT store_id, department_id FROM app_user WHERE id = ?`, f.AssigneeID).Scan(&store, &dept); err != nil {
				return nil, apperr.New(apperr.NotFound, "not_found")
			}
			if err := auth.Check(a, auth.PermCustomerRead, auth.Record{StoreID: store.Int64, OwnerID: f.AssigneeID, DepartmentID: dept.Int64}); err != nil {
				return nil, err
			}
		}
		where += " AND t.assignee_id = ?"
		args = append(args, f.AssigneeID)
	}
	switch f.Status {
	case "", "open":
		where += " AND t.status = 'open'"
	case "done":
		where += " AND t.status = 'done'"
	case "all":
	default:
		return nil, apperr.Field("status", "invalid_format")
	}
	if f.DueBefore != 0 {
		where += " AND t.due_at < ?"
		args = append(args, f.DueBefore)
	}
	if f.DueAfter != 0 {
		where += " AND t.due_at >= ?"
		args = append(args, f.DueAfter)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+cols+from+` WHERE `+where+` ORDER BY t.due_at, t.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("task: list: %w", err)
	}
	defer rows.Close()
	now := s.now()
	out := []Task{}
	for rows.Next() {
		t, err := scan(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Complete marks the actor's task done (the assignee, or a manager over them).
func (s *Service) Complete(ctx context.Context, a auth.Actor, id int64, note string) (Task, error) {
	var out Task
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		t, err := scan(tx.QueryRowContext(ctx, `SELECT `+cols+from+` WHERE t.id = ?`, id), now)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "not_found")
		} else if err != nil {
			return err
		}
		if t.AssigneeID != a.UserID {
			var dept sql.NullInt64
			tx.QueryRowContext(ctx, `SELECT department_id FROM app_user WHERE id = ?`, t.AssigneeID).Scan(&dept)
			if err := auth.Check(a, auth.PermCustomerAssign, auth.Record{StoreID: t.StoreID, OwnerID: t.AssigneeID, DepartmentID: dept.Int64}); err != nil {
				return err
			}
		}
		r, err := tx.ExecContext(ctx, `UPDATE task SET status = 'done', done_at = ?, note = CASE WHEN ? <> '' THEN ? ELSE note END, updated_at = ?, version = version + 1
			WHERE id = ? AND status = 'open'`, now, note, note, now, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "task.not_open")
		}
		if t.CustomerID != nil {
			if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: *t.CustomerID, StoreID: t.StoreID, At: now, Kind: "task.done", Entity: "task", EntityID: id,
				Data: map[string]any{"title": t.Title, "note": note}}.By(a)); err != nil {
				return err
			}
		}
		if err := audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: now, Action: "complete", Entity: "task", EntityID: strconv.FormatInt(id, 10), StoreID: t.StoreID}); err != nil {
			return err
		}
		out, err = scan(tx.QueryRowContext(ctx, `SELECT `+cols+from+` WHERE t.id = ?`, id), now)
		return err
	})
	return out, err
}

// RunReminders sends the reminders that are due, each once. It returns how many.
func (s *Service) RunReminders(ctx context.Context) (int, error) {
	sent := 0
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		rows, err := tx.QueryContext(ctx, `SELECT `+cols+from+` WHERE t.status = 'open' AND t.reminded_at IS NULL AND t.remind_at IS NOT NULL AND t.remind_at <= ? LIMIT 500`, now)
		if err != nil {
			return err
		}
		var due []Task
		for rows.Next() {
			t, err := scan(rows, now)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, t)
		}
		rows.Close()
		for _, t := range due {
			r, err := tx.ExecContext(ctx, `UPDATE task SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL`, now, t.ID)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				continue
			}
			link := ""
			if t.CustomerID != nil {
				link = fmt.Sprintf("/crm/customers/%d", *t.CustomerID)
			}
			if _, err := s.notify.Send(ctx, tx, notify.Message{UserID: t.AssigneeID, StoreID: t.StoreID, Kind: "task.reminder", TitleKey: "notify.msg.task_reminder",
				Params: map[string]any{"title": t.Title, "customer": t.CustomerName, "dueAt": t.DueAt}, Link: link, Entity: "task", EntityID: t.ID,
				DedupKey: fmt.Sprintf("task:%d:%d", t.ID, *t.RemindAt), Level: "info"}); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	if sent > 0 {
		s.notify.Wake()
	}
	return sent, err
}

// Jobs: reminders every minute.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "task_reminders", Every: time.Minute, Run: func(ctx context.Context) error { _, err := s.RunReminders(ctx); return err }}}
}

// Routes is the task route table.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/tasks", Perm: api.SignedIn, Summary: "My tasks (or a colleague's, for managers): open by default, due time ascending", Query: listQuery{}, Out: api.List[Task]{}, Handler: s.hList},
		{Method: http.MethodPost, Path: "/tasks/:id/done", Perm: api.SignedIn, Summary: "Mark a task done", In: doneInput{}, Out: Task{}, Handler: s.hDone},
	}
}

type listQuery struct {
	AssigneeID int64  `query:"assigneeId"`
	Status     string `query:"status"`
	DueBefore  int64  `query:"dueBefore"`
	DueAfter   int64  `query:"dueAfter"`
	Limit      int    `query:"limit"`
}

type doneInput struct {
	Note string `json:"note"`
}

func (s *Service) hList(c echo.Context) error {
	f := Filter{Status: c.QueryParam("status")}
	var err error
	if f.AssigneeID, err = api.QueryInt64(c, "assigneeId"); err != nil {
		return err
	}
	if f.DueBefore, err = api.QueryInt64(c, "dueBefore"); err != nil {
		return err
	}
	if f.DueAfter, err = api.QueryInt64(c, "dueAfter"); err != nil {
		return err
	}
	if f.Limit, err = api.Limit(c); err != nil {
		return err
	}
	out, err := s.List(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Task]{Items: out})
}

func (s *Service) hDone(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in doneInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.Complete(c.Request().Context(), api.Actor(c), id, in.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
