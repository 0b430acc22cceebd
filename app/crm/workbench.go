package crm

import (
	"context"
	"fmt"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/task"
)

// Workbench is a consultant's day (工作台, L7): new leads waiting for a first
// contact, follow-ups due today, overdue ones, and today's tasks, with counts.
type Workbench struct {
	NewLeads      []Customer  `json:"newLeads"`
	NewLeadsCount int         `json:"newLeadsCount"`
	DueToday      []Customer  `json:"dueToday"`
	DueTodayCount int         `json:"dueTodayCount"`
	Overdue       []Customer  `json:"overdue"`
	OverdueCount  int         `json:"overdueCount"`
	Tasks         []task.Task `json:"tasks"`
	TasksCount    int         `json:"tasksCount"`
	PoolCount     int         `json:"poolCount"`
	DayStart      int64       `json:"dayStart"`
	DayEnd        int64       `json:"dayEnd"`
}

const workbenchList = 20

// GetWorkbench returns the actor's workbench (or a team member's, for managers).
func (s *Service) GetWorkbench(ctx context.Context, a auth.Actor, userID int64) (Workbench, error) {
	var w Workbench
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return w, err
	}
	if userID == 0 {
		userID = a.UserID
	}
	if userID == 0 {
		return w, apperr.New(apperr.Forbidden, "forbidden")
	}
	var storeID int64
	var dept *int64
	if err := s.db.R.QueryRowContext(ctx, `SELECT store_id, department_id FROM app_user WHERE id = ?`, userID).Scan(&storeID, &dept); err != nil {
		return w, apperr.New(apperr.NotFound, "not_found")
	}
	if userID != a.UserID {
		if err := auth.Check(a, auth.PermCustomerRead, auth.Record{StoreID: storeID, OwnerID: userID, DepartmentID: deref(dept)}); err != nil {
			return w, err
		}
	}
	start, end, err := s.dayBounds(ctx, storeID)
	if err != nil {
		return w, err
	}
	w.DayStart, w.DayEnd = start, end
	now := s.now()
	lists := []struct {
		where string
		args  []any
		dst   *[]Customer
		count *int
		order string
	}{
		{`c.owner_id = ? AND c.status = 'active' AND c.first_contact_at IS NULL`, []any{userID}, &w.NewLeads, &w.NewLeadsCount, `c.assigned_at DESC, c.id DESC`},
		{`c.owner_id = ? AND c.status = 'active' AND c.sla_kind = 'followup' AND c.sla_due_at >= ? AND c.sla_due_at < ?`, []any{userID, now, end}, &w.DueToday, &w.DueTodayCount, `c.sla_due_at, c.id`},
		{`c.owner_id = ? AND c.status = 'active' AND c.sla_due_at < ?`, []any{userID, now}, &w.Overdue, &w.OverdueCount, `c.sla_due_at, c.id`},
	}
	for _, l := range lists {
		if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM customer c WHERE `+l.where, l.args...).Scan(l.count); err != nil {
			return w, fmt.Errorf("crm: workbench count: %w", err)
		}
		rows, err := s.db.R.QueryContext(ctx, `SELECT `+customerCols+customerFrom+` WHERE `+l.where+` ORDER BY `+l.order+fmt.Sprintf(" LIMIT %d", workbenchList), l.args...)
		if err != nil {
			return w, fmt.Errorf("crm: workbench: %w", err)
		}
		*l.dst = []Customer{}
		for rows.Next() {
			c, err := scanCustomer(rows, now)
			if err != nil {
				rows.Close()
				return w, err
			}
			*l.dst = append(*l.dst, c)
		}
		rows.Close()
		if err := loadTags(ctx, s.db.R, *l.dst); err != nil {
			return w, err
		}
	}
	tasks, err := s.tasks.List(ctx, a, task.Filter{AssigneeID: userID, DueBefore: end, Limit: 50})
	if err != nil {
		return w, err
	}
	w.Tasks, w.TasksCount = tasks, len(tasks)
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM customer WHERE store_id = ? AND owner_id IS NULL AND status = 'active'`, storeID).Scan(&w.PoolCount); err != nil {
		return w, err
	}
	return w, nil
}
