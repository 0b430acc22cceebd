package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/findex"
	"dealerdesk/app/task"
	"dealerdesk/app/timeline"
)

// Followup is one follow-up record (跟进记录, L7).
type Followup struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customerId"`
	UserID     int64  `json:"userId"`
	UserName   string `json:"userName"`
	At         int64  `json:"at"`
	Method     string `json:"method"`
	Content    string `json:"content"`
	Result     string `json:"result"`
	Grade      string `json:"grade"`
	NextStep   string `json:"nextStep"`
	NextAt     *int64 `json:"nextAt"`
	TaskID     *int64 `json:"taskId"`
}

// FollowupInput records a follow-up. The next step, with its time, becomes a
// task with a reminder (RemindMinutes before it; default 15).
type FollowupInput struct {
	Method        string `json:"method"`
	Content       string `json:"content"`
	Result        string `json:"result"`
	Grade         string `json:"grade"` // optional new grade
	NextStep      string `json:"nextStep"`
	NextAt        *int64 `json:"nextAt"`
	RemindMinutes *int   `json:"remindMinutes"`
}

// Follow-up methods and results.
var (
	Methods = []string{"phone", "wechat", "visit", "sms", "other"}
	Results = []string{"reached", "no_answer", "invited", "visited", "not_interested", "other"}
)

// Validate checks shapes; now is for "the next step is in the past".
func (in *FollowupInput) Validate(now int64) error {
	in.Content, in.NextStep = strings.TrimSpace(in.Content), strings.TrimSpace(in.NextStep)
	in.Grade = strings.ToUpper(strings.TrimSpace(in.Grade))
	f := apperr.Fields{}
	if !oneOf(in.Method, Methods) {
		f.Add("method", "required")
	}
	if in.Content == "" {
		f.Add("content", "required")
	}
	limitText(f, "content", in.Content, 2000)
	if !oneOf(in.Result, Results) {
		f.Add("result", "required")
	}
	limitText(f, "nextStep", in.NextStep, 200)
	if in.NextStep != "" && in.NextAt == nil {
		f.Add("nextAt", "crm.next_at_required")
	}
	if in.NextAt != nil && *in.NextAt < now-5*60*1000 {
		f.Add("nextAt", "crm.next_at_past")
	}
	if in.NextAt != nil && *in.NextAt > now+366*24*3600*1000 {
		f.Add("nextAt", "out_of_range", "min", 0, "max", 366)
	}
	if in.RemindMinutes != nil && (*in.RemindMinutes < 0 || *in.RemindMinutes > 7*24*60) {
		f.Add("remindMinutes", "out_of_range", "min", 0, "max", 7*24*60)
	}
	return f.Err()
}

// AddFollowup records a follow-up: the deadline clock restarts, the grade may
// change, the planned follow-up task is done and the next step becomes a task.
func (s *Service) AddFollowup(ctx context.Context, a auth.Actor, id int64, in FollowupInput) (Followup, error) {
	now := s.now()
	if err := in.Validate(now); err != nil {
		return Followup{}, err
	}
	var out Followup
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if a.UserID == 0 {
			return apperr.New(apperr.Forbidden, "forbidden")
		}
		st, err := LoadSettings(ctx, tx, c.StoreID)
		if err != nil {
			return err
		}
		if in.Grade != "" && in.Grade != c.Grade {
			f := apperr.Fields{}
			if err := checkRefs(ctx, tx, f, st, in.Grade, nil, nil); err != nil {
				return err
			}
			if err := f.Err(); err != nil {
				return err
			}
		}
		// The planned follow-up is done by this one.
		if _, err := tx.ExecContext(ctx, `UPDATE task SET status = 'done', done_at = ?, updated_at = ?, version = version + 1 WHERE customer_id = ? AND kind = 'followup' AND status = 'open' AND assignee_id = ?`,
			now, now, id, a.UserID); err != nil {
			return err
		}
		var taskID int64
		if in.NextStep != "" && in.NextAt != nil {
			remind := 15
			if in.RemindMinutes != nil {
				remind = *in.RemindMinutes
			}
			assignee := a.UserID
			if c.OwnerID != nil {
				assignee = *c.OwnerID
			}
			taskID, err = task.Create(ctx, tx, task.New{StoreID: c.StoreID, AssigneeID: assignee, Title: in.NextStep, Kind: "followup", CustomerID: id,
				DueAt: *in.NextAt, RemindAt: *in.NextAt - int64(remind)*60000, CreatedBy: a.UserID}, now)
			if err != nil {
				return err
			}
		}
		grade := c.Grade
		if in.Grade != "" {
			grade = in.Grade
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO followup (customer_id, store_id, user_id, at, method, content, result, grade, next_step, next_at, task_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, c.StoreID, a.UserID, now, in.Method, in.Content, in.Result, grade, in.NextStep, in.NextAt, nullID(taskID), now)
		if err != nil {
			return fmt.Errorf("crm: insert follow-up: %w", err)
		}
		fid, _ := r.LastInsertId()
		visit := c.Visit
		if in.Result == "visited" {
			if visit == "" {
				visit = "first"
			} else {
				visit = "return"
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET grade = ?, visit = ?, updated_at = ?, version = version + 1 WHERE id = ?`, grade, visit, now, id); err != nil {
			return err
		}
		reached := in.Result != "no_answer"
		var next int64
		if in.NextAt != nil {
			next = *in.NextAt
		}
		if reached || c.FirstContactAt != nil {
			if err := s.markContacted(ctx, tx, id, st, grade, now, next); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE customer SET touched_at = ? WHERE id = ?`, now, id); err != nil {
			// An unanswered first call keeps the first-contact deadline running.
			return err
		}
		data := map[string]any{"method": in.Method, "content": in.Content, "result": in.Result, "nextStep": in.NextStep}
		if in.NextAt != nil {
			data["nextAt"] = *in.NextAt
		}
		if grade != c.Grade {
			data["gradeFrom"], data["gradeTo"] = c.Grade, grade
		}
		if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: id, StoreID: c.StoreID, At: now, Kind: "followup", Entity: "followup", EntityID: fid, Data: data}.By(a)); err != nil {
			return err
		}
		if err := findex.Mark(ctx, tx, searchKind, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "create", "followup", fid, c.StoreID, nil, map[string]any{"customerId": id, "method": in.Method, "result": in.Result, "grade": grade}); err != nil {
			return err
		}
		out = Followup{ID: fid, CustomerID: id, UserID: a.UserID, UserName: a.Name, At: now, Method: in.Method, Content: in.Content, Result: in.Result,
			Grade: grade, NextStep: in.NextStep, NextAt: in.NextAt}
		if taskID != 0 {
			out.TaskID = &taskID
		}
		return nil
	})
	if err != nil {
		return Followup{}, err
	}
	s.afterCommit()
	return out, nil
}

// ListFollowups returns a customer's follow-ups, newest first.
func (s *Service) ListFollowups(ctx context.Context, a auth.Actor, id int64) (api.List[Followup], error) {
	out := api.List[Followup]{Items: []Followup{}}
	if _, err := s.readable(ctx, s.db.R, a, id); err != nil {
		return out, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT f.id, f.customer_id, f.user_id, COALESCE(u.name, ''), f.at, f.method, f.content, f.result, f.grade, f.next_step, f.next_at, f.task_id
		FROM followup f LEFT JOIN app_user u ON u.id = f.user_id WHERE f.customer_id = ? ORDER BY f.at DESC, f.id DESC LIMIT 200`, id)
	if err != nil {
		return out, fmt.Errorf("crm: follow-ups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f Followup
		var next, tid sql.NullInt64
		if err := rows.Scan(&f.ID, &f.CustomerID, &f.UserID, &f.UserName, &f.At, &f.Method, &f.Content, &f.Result, &f.Grade, &f.NextStep, &next, &tid); err != nil {
			return out, err
		}
		f.NextAt, f.TaskID = ptr(next), ptr(tid)
		out.Items = append(out.Items, f)
	}
	return out, rows.Err()
}

// dayBounds returns the start of the actor's store day and of the next.
func (s *Service) dayBounds(ctx context.Context, storeID int64) (int64, int64, error) {
	st, err := LoadSettings(ctx, s.db.R, storeID)
	if err != nil {
		return 0, 0, err
	}
	l := s.clock.Now().In(st.location())
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, l.Location())
	return start.UnixMilli(), start.AddDate(0, 0, 1).UnixMilli(), nil
}
