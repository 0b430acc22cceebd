package approval

import (
	"context"
	"database/sql"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/org"
)

// Detail is an instance with its ladder of steps, its history and what the
// reader may do now.
type Detail struct {
	Instance
	Ladder  []StepView `json:"steps"`
	History []Action   `json:"history"`
	Can     Can        `json:"can"`
}

// Can says which actions the reader may take now.
type Can struct {
	Decide        bool   `json:"decide"` // approve, reject, send back
	Withdraw      bool   `json:"withdraw"`
	Comment       bool   `json:"comment"`
	ActingForID   *int64 `json:"actingForId"` // set when the reader decides as someone's delegate
	ActingForName string `json:"actingForName"`
}

// StepView is one step with its approvers' tasks.
type StepView struct {
	No     int        `json:"no"`
	Name   string     `json:"name"`
	Mode   string     `json:"mode"`
	Status string     `json:"status"` // queued | waiting | approved | rejected | returned | skipped
	Tasks  []TaskView `json:"tasks"`
}

// TaskView is one approver's part in a step.
type TaskView struct {
	ID            int64  `json:"id"`
	ApproverID    int64  `json:"approverId"`
	ApproverName  string `json:"approverName"`
	Status        string `json:"status"`
	DecidedByID   *int64 `json:"decidedById"`
	DecidedByName string `json:"decidedByName"`
	ActingFor     *int64 `json:"actingFor"` // the approver, when their delegate decided
	Comment       string `json:"comment"`
	WaitingSince  *int64 `json:"waitingSince"`
	DecidedAt     *int64 `json:"decidedAt"`
	RemindedCount int    `json:"remindedCount"`
	DelegateID    *int64 `json:"delegateId"` // who may act now while the approver is away
	DelegateName  string `json:"delegateName"`
}

// Action is one entry of an instance's history.
type Action struct {
	ID            int64  `json:"id"`
	StepNo        int    `json:"stepNo"`
	Action        string `json:"action"` // submit | approve | reject | return | withdraw | comment
	ActorID       *int64 `json:"actorId"`
	ActorName     string `json:"actorName"`
	ActingForID   *int64 `json:"actingForId"`
	ActingForName string `json:"actingForName"`
	Comment       string `json:"comment"`
	At            int64  `json:"at"`
}

// Get returns an instance the actor may see (else 404) with its steps and history.
func (s *Service) Get(ctx context.Context, a auth.Actor, id int64) (Detail, error) {
	now := s.now()
	x, _, err := s.load(ctx, s.db.R, a, id, now)
	if err != nil {
		return Detail{}, err
	}
	return s.detail(ctx, s.db.R, a, x, now)
}

func (s *Service) detail(ctx context.Context, q db.Querier, a auth.Actor, x Instance, now int64) (Detail, error) {
	s.redact(a, &x)
	d := Detail{Instance: x, Ladder: []StepView{}, History: []Action{}}
	rows, err := q.QueryContext(ctx, `SELECT t.id, t.step_no, t.approver_id, ua.name, t.status, t.decided_by, COALESCE(ud.name, ''), t.acting_for,
		t.comment, t.waiting_since, t.decided_at, t.reminded_count
		FROM approval_task t JOIN app_user ua ON ua.id = t.approver_id LEFT JOIN app_user ud ON ud.id = t.decided_by
		WHERE t.instance_id = ? ORDER BY t.step_no, t.id`, x.ID)
	if err != nil {
		return d, fmt.Errorf("approval: tasks of %d: %w", x.ID, err)
	}
	byStep := map[int][]TaskView{}
	for rows.Next() {
		var t TaskView
		var step int
		var decidedBy, actingFor, since, decided sql.NullInt64
		if err := rows.Scan(&t.ID, &step, &t.ApproverID, &t.ApproverName, &t.Status, &decidedBy, &t.DecidedByName, &actingFor,
			&t.Comment, &since, &decided, &t.RemindedCount); err != nil {
			rows.Close()
			return d, err
		}
		t.DecidedByID, t.ActingFor, t.WaitingSince, t.DecidedAt = nonZero(decidedBy), nonZero(actingFor), nonZero(since), nonZero(decided)
		byStep[step] = append(byStep[step], t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	for i, st := range x.Steps {
		v := StepView{No: i + 1, Name: st.Name, Mode: st.Mode, Tasks: byStep[i+1]}
		if v.Tasks == nil {
			v.Tasks = []TaskView{}
		}
		for j := range v.Tasks {
			t := &v.Tasks[j]
			if t.Status != "waiting" {
				continue
			}
			del, err := org.DelegateAt(ctx, q, t.ApproverID, now)
			if err != nil {
				return d, err
			}
			if del != 0 {
				t.DelegateID = &del
				if err := q.QueryRowContext(ctx, `SELECT name FROM app_user WHERE id = ?`, del).Scan(&t.DelegateName); err != nil {
					return d, fmt.Errorf("approval: delegate name: %w", err)
				}
			}
		}
		v.Status = stepStatus(v)
		d.Ladder = append(d.Ladder, v)
	}
	arows, err := q.QueryContext(ctx, `SELECT a.id, a.step_no, a.action, a.actor_id, a.actor_name, a.acting_for, COALESCE(f.name, ''), a.comment, a.at
		FROM approval_action a LEFT JOIN app_user f ON f.id = a.acting_for WHERE a.instance_id = ? ORDER BY a.id`, x.ID)
	if err != nil {
		return d, fmt.Errorf("approval: history of %d: %w", x.ID, err)
	}
	for arows.Next() {
		var h Action
		var actor, actingFor sql.NullInt64
		if err := arows.Scan(&h.ID, &h.StepNo, &h.Action, &actor, &h.ActorName, &actingFor, &h.ActingForName, &h.Comment, &h.At); err != nil {
			arows.Close()
			return d, err
		}
		h.ActorID, h.ActingForID = nonZero(actor), nonZero(actingFor)
		d.History = append(d.History, h)
	}
	arows.Close()
	if err := arows.Err(); err != nil {
		return d, err
	}
	d.Can.Comment = a.UserID != 0
	if x.Status == "pending" {
		d.Can.Withdraw = a.UserID != 0 && a.UserID == x.SubmitterID
		if a.UserID != x.SubmitterID {
			_, actingFor, ok, err := s.myTask(ctx, q, a, x, now)
			if err != nil {
				return d, err
			}
			d.Can.Decide = ok
			if ok && actingFor != 0 {
				d.Can.ActingForID = &actingFor
				if err := q.QueryRowContext(ctx, `SELECT name FROM app_user WHERE id = ?`, actingFor).Scan(&d.Can.ActingForName); err != nil {
					return d, fmt.Errorf("approval: name of %d: %w", actingFor, err)
				}
			}
		}
	}
	return d, nil
}

// stepStatus sums up a step from its tasks.
func stepStatus(v StepView) string {
	approved, waiting, queued := 0, 0, 0
	for _, t := range v.Tasks {
		switch t.Status {
		case "rejected", "returned":
			return t.Status
		case "approved":
			approved++
		case "waiting":
			waiting++
		case "queued":
			queued++
		}
	}
	switch {
	case waiting > 0:
		return "waiting"
	case approved > 0 && (v.Mode != ModeAll || approved == len(v.Tasks)):
		return "approved"
	case queued > 0:
		return "queued"
	}
	return "skipped"
}

// InboxItem is a document waiting for the reader: their own task, or one they
// stand in for while its approver is away.
type InboxItem struct {
	Instance
	TaskID        int64  `json:"taskId"`
	WaitingSince  int64  `json:"waitingSince"`
	ActingForID   *int64 `json:"actingForId"`
	ActingForName string `json:"actingForName"`
}

// Inbox is what waits for the reader, oldest first, with counts.
type Inbox struct {
	Items  []InboxItem    `json:"items"`
	Total  int            `json:"total"`
	ByType map[string]int `json:"byType"`
}

const inboxMax = 200

// Inbox returns the tasks waiting for the actor, including those of absent
// colleagues who named the actor as delegate (never the actor's own documents).
func (s *Service) Inbox(ctx context.Context, a auth.Actor) (Inbox, error) {
	out := Inbox{Items: []InboxItem{}, ByType: map[string]int{}}
	if a.UserID == 0 {
		return out, nil
	}
	now := s.now()
	ids := []int64{a.UserID}
	absent, err := org.DelegatorsAt(ctx, s.db.R, a.UserID, now)
	if err != nil {
		return out, err
	}
	ids = append(ids, absent...)
	marks, args := inList(ids)
	where := ` WHERE t.status = 'waiting' AND t.approver_id IN (` + marks + `) AND i.submitter_id <> ?`
	args = append(args, a.UserID)
	crow, err := s.db.R.QueryContext(ctx, `SELECT i.doc_type, count(*) FROM approval_task t JOIN approval_instance i ON i.id = t.instance_id`+where+` GROUP BY i.doc_type`, args...)
	if err != nil {
		return out, fmt.Errorf("approval: inbox counts: %w", err)
	}
	for crow.Next() {
		var typ string
		var n int
		if err := crow.Scan(&typ, &n); err != nil {
			crow.Close()
			return out, err
		}
		out.ByType[typ] = n
		out.Total += n
	}
	crow.Close()
	if err := crow.Err(); err != nil {
		return out, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+instCols+`, t.id, t.approver_id, COALESCE(t.waiting_since, 0), ua.name
		FROM approval_task t JOIN approval_instance i ON i.id = t.instance_id JOIN store s ON s.id = i.store_id
		JOIN app_user u ON u.id = i.submitter_id JOIN app_user ua ON ua.id = t.approver_id`+where+`
		ORDER BY t.waiting_since, t.id LIMIT ?`, append(args, inboxMax)...)
	if err != nil {
		return out, fmt.Errorf("approval: inbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it InboxItem
		var approver int64
		var approverName string
		x, err := scanInstance(rows, &it.TaskID, &approver, &it.WaitingSince, &approverName)
		if err != nil {
			return out, err
		}
		s.redact(a, &x)
		it.Instance = x
		if approver != a.UserID {
			it.ActingForID, it.ActingForName = &approver, approverName
		}
		out.Items = append(out.Items, it)
	}
	return out, rows.Err()
}

// ListFilter narrows the approvals list.
type ListFilter struct {
	Mine    string // "": every approval the reader may see; submitted: mine; decided: ones I approved, rejected or sent back
	Status  string
	DocType string
	Cursor  string
	Limit   int
}

var statuses = map[string]bool{"pending": true, "approved": true, "rejected": true, "returned": true, "withdrawn": true}

// List pages through approvals, newest first (keyset on id).
func (s *Service) List(ctx context.Context, a auth.Actor, f ListFilter) (api.List[Instance], error) {
	out := api.List[Instance]{Items: []Instance{}}
	cur, err := api.ParseCursor(f.Cursor)
	if err != nil {
		return out, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Status != "" && !statuses[f.Status] {
		return out, apperr.Field("status", "invalid_format")
	}
	qb := sq.Select("i.id").From("approval_instance i").OrderBy("i.id DESC").Limit(uint64(f.Limit + 1))
	switch f.Mine {
	case "submitted":
		qb = qb.Where(sq.Eq{"i.submitter_id": a.UserID})
	case "decided":
		qb = qb.Where(sq.Expr(`i.id IN (SELECT instance_id FROM approval_action WHERE actor_id = ? AND action IN ('approve', 'reject', 'return'))`, a.UserID))
	case "":
		or := sq.Or{sq.Eq{"i.submitter_id": a.UserID},
			sq.Expr(`i.id IN (SELECT instance_id FROM approval_task WHERE approver_id = ? OR decided_by = ?)`, a.UserID, a.UserID)}
		for _, t := range s.DocTypes() {
			or = append(or, sq.And{sq.Eq{"i.doc_type": t.Type}, auth.Filter(a, t.ReadPerm, auth.Columns{Store: "i.store_id", Owner: "i.owner_id", Department: "i.department_id"})})
		}
		qb = qb.Where(or)
	default:
		return out, apperr.Field("mine", "invalid_format")
	}
	if f.Status != "" {
		qb = qb.Where(sq.Eq{"i.status": f.Status})
	}
	if f.DocType != "" {
		qb = qb.Where(sq.Eq{"i.doc_type": f.DocType})
	}
	if cur.ID > 0 {
		qb = qb.Where(sq.Lt{"i.id": cur.ID})
	}
	inner, args, err := qb.ToSql()
	if err != nil {
		return out, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+instCols+instFrom+` WHERE i.id IN (`+inner+`) ORDER BY i.id DESC`, args...)
	if err != nil {
		return out, fmt.Errorf("approval: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		x, err := scanInstance(rows)
		if err != nil {
			return out, err
		}
		s.redact(a, &x)
		out.Items = append(out.Items, x)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(out.Items) > f.Limit {
		out.Items = out.Items[:f.Limit]
		out.Next = api.Cursor{ID: out.Items[f.Limit-1].ID}.Encode()
	}
	return out, nil
}
