package approval

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/db"
)

const instCols = `i.id, i.doc_type, i.doc_id, i.store_id, COALESCE(s.name, ''), i.customer_id, i.submitter_id, COALESCE(u.name, ''),
	i.owner_id, i.department_id, i.title, i.link, i.fields, i.definition_id, i.definition_name, i.steps, i.status, i.current_step,
	i.created_at, i.decided_at, i.version`

const instFrom = ` FROM approval_instance i JOIN store s ON s.id = i.store_id JOIN app_user u ON u.id = i.submitter_id`

func scanInstance(sc interface{ Scan(...any) error }, extra ...any) (Instance, error) {
	var x Instance
	var customer, owner, dept, def, decided sql.NullInt64
	var fields, steps string
	dest := []any{&x.ID, &x.DocType, &x.DocID, &x.StoreID, &x.StoreName, &customer, &x.SubmitterID, &x.SubmitterName,
		&owner, &dept, &x.Title, &x.Link, &fields, &def, &x.DefinitionName, &steps, &x.Status, &x.CurrentStep,
		&x.CreatedAt, &decided, &x.Version}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return x, err
	}
	x.CustomerID, x.OwnerID, x.DepartmentID, x.DefinitionID, x.DecidedAt = nonZero(customer), nonZero(owner), nonZero(dept), nonZero(def), nonZero(decided)
	if err := json.Unmarshal([]byte(fields), &x.Fields); err != nil {
		return x, fmt.Errorf("approval: instance %d fields: %w", x.ID, err)
	}
	if err := json.Unmarshal([]byte(steps), &x.Steps); err != nil {
		return x, fmt.Errorf("approval: instance %d steps: %w", x.ID, err)
	}
	if x.Fields == nil {
		x.Fields = map[string]any{}
	}
	x.StepCount = len(x.Steps)
	if x.CurrentStep >= 1 && x.CurrentStep <= len(x.Steps) {
		x.CurrentStepName = x.Steps[x.CurrentStep-1].Name
	}
	return x, nil
}

func getInstance(ctx context.Context, q db.Querier, id int64) (Instance, error) {
	x, err := scanInstance(q.QueryRowContext(ctx, `SELECT `+instCols+instFrom+` WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return x, fmt.Errorf("approval: get instance %d: %w", id, err)
	}
	return x, nil
}

// task is one approver's part in one step, as the engine works with it.
type task struct {
	ID         int64
	StepNo     int
	ApproverID int64
	Status     string
	Count      int   // reminders sent
	DueAt      int64 // next reminder, 0 when none
}

// waitingTasks returns the waiting tasks of the instance's step.
func waitingTasks(ctx context.Context, q db.Querier, instanceID int64, step int) ([]task, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, step_no, approver_id, status, reminded_count, COALESCE(remind_due_at, 0) FROM approval_task
		WHERE instance_id = ? AND step_no = ? AND status = 'waiting' ORDER BY id`, instanceID, step)
	if err != nil {
		return nil, fmt.Errorf("approval: waiting tasks of %d: %w", instanceID, err)
	}
	defer rows.Close()
	var out []task
	for rows.Next() {
		var t task
		if err := rows.Scan(&t.ID, &t.StepNo, &t.ApproverID, &t.Status, &t.Count, &t.DueAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func insertInstance(ctx context.Context, q db.Querier, x Instance, now int64) (int64, error) {
	fields, err := json.Marshal(x.Fields)
	if err != nil {
		return 0, fmt.Errorf("approval: encode fields: %w", err)
	}
	steps, _ := json.Marshal(x.Steps)
	r, err := q.ExecContext(ctx, `INSERT INTO approval_instance (doc_type, doc_id, store_id, customer_id, submitter_id, owner_id, department_id,
		title, link, fields, definition_id, definition_name, steps, status, current_step, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, ?)`,
		x.DocType, x.DocID, x.StoreID, x.CustomerID, x.SubmitterID, x.OwnerID, x.DepartmentID,
		x.Title, x.Link, string(fields), x.DefinitionID, x.DefinitionName, string(steps), now)
	if db.IsUnique(err) {
		return 0, apperr.Wrap(apperr.Conflict, "approval.already_pending", err)
	}
	if err != nil {
		return 0, fmt.Errorf("approval: create instance: %w", err)
	}
	return r.LastInsertId()
}

func insertTask(ctx context.Context, q db.Querier, instanceID int64, step int, approverID int64, waiting bool, now, remindAt int64) error {
	status := "queued"
	var since, due any
	if waiting {
		status, since, due = "waiting", now, remindAt
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO approval_task (instance_id, step_no, approver_id, status, waiting_since, remind_due_at) VALUES (?, ?, ?, ?, ?, ?)`,
		instanceID, step, approverID, status, since, due); err != nil {
		return fmt.Errorf("approval: create task: %w", err)
	}
	return nil
}

// decideTask marks a waiting task decided. It reports false when the task was no
// longer waiting (someone else decided first).
func decideTask(ctx context.Context, q db.Querier, taskID int64, status string, by, actingFor int64, comment string, now int64) (bool, error) {
	r, err := q.ExecContext(ctx, `UPDATE approval_task SET status = ?, decided_by = ?, acting_for = ?, comment = ?, decided_at = ?, remind_due_at = NULL
		WHERE id = ? AND status = 'waiting'`, status, by, nullInt(actingFor), comment, now, taskID)
	if err != nil {
		return false, fmt.Errorf("approval: decide task %d: %w", taskID, err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// skipOpen marks the open (waiting, and with all also queued) tasks of an
// instance skipped, from step on; it returns the approvers whose waiting tasks
// were dropped.
func skipOpen(ctx context.Context, q db.Querier, instanceID int64, step int, queuedToo bool, now int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT approver_id FROM approval_task WHERE instance_id = ? AND step_no >= ? AND status = 'waiting' ORDER BY id`, instanceID, step)
	if err != nil {
		return nil, fmt.Errorf("approval: open tasks of %d: %w", instanceID, err)
	}
	var waiting []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		waiting = append(waiting, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	statuses := `'waiting'`
	if queuedToo {
		statuses = `'waiting', 'queued'`
	}
	if _, err := q.ExecContext(ctx, `UPDATE approval_task SET status = 'skipped', decided_at = ?, remind_due_at = NULL
		WHERE instance_id = ? AND step_no >= ? AND status IN (`+statuses+`)`, now, instanceID, step); err != nil {
		return nil, fmt.Errorf("approval: skip tasks of %d: %w", instanceID, err)
	}
	return waiting, nil
}

// openStep turns the queued tasks of a step into waiting ones and returns their approvers.
func openStep(ctx context.Context, q db.Querier, instanceID int64, step int, now, remindAt int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `UPDATE approval_task SET status = 'waiting', waiting_since = ?, remind_due_at = ?
		WHERE instance_id = ? AND step_no = ? AND status = 'queued' RETURNING approver_id`, now, remindAt, instanceID, step)
	if err != nil {
		return nil, fmt.Errorf("approval: open step %d of %d: %w", step, instanceID, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// advanceInstance moves the instance to a step or ends it, guarded by the version
// read at the start of the action: false means someone else changed it first.
func advanceInstance(ctx context.Context, q db.Querier, id, version int64, step int, status string, now int64) (bool, error) {
	var decided any
	if status != "pending" {
		decided = now
	}
	r, err := q.ExecContext(ctx, `UPDATE approval_instance SET current_step = ?, status = ?, decided_at = ?, version = version + 1
		WHERE id = ? AND version = ? AND status = 'pending'`, step, status, decided, id, version)
	if err != nil {
		return false, fmt.Errorf("approval: update instance %d: %w", id, err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func insertAction(ctx context.Context, q db.Querier, instanceID int64, step int, action string, actorID int64, actorName string, actingFor int64, comment string, now int64) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO approval_action (instance_id, step_no, action, actor_id, actor_name, acting_for, comment, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		instanceID, step, action, nullInt(actorID), actorName, nullInt(actingFor), comment, now); err != nil {
		return fmt.Errorf("approval: record %s: %w", action, err)
	}
	return nil
}

// inList returns "?, ?, ?" and the args for ids.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "), args
}

// isApproverOf reports whether the user has (or had) a task in the instance or
// decided one.
func isApproverOf(ctx context.Context, q db.Querier, instanceID, userID int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM approval_task WHERE instance_id = ? AND (approver_id = ? OR decided_by = ?)`, instanceID, userID, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("approval: approver of %d: %w", instanceID, err)
	}
	return n > 0, nil
}

// waitingFor returns the waiting tasks of the instance's current step whose
// approver is one of ids.
func waitingFor(ctx context.Context, q db.Querier, inst Instance, ids []int64) ([]task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	marks, args := inList(ids)
	rows, err := q.QueryContext(ctx, `SELECT id, step_no, approver_id, status, reminded_count, COALESCE(remind_due_at, 0) FROM approval_task
		WHERE instance_id = ? AND step_no = ? AND status = 'waiting' AND approver_id IN (`+marks+`) ORDER BY id`,
		append([]any{inst.ID, inst.CurrentStep}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("approval: waiting tasks of %d: %w", inst.ID, err)
	}
	defer rows.Close()
	var out []task
	for rows.Next() {
		var t task
		if err := rows.Scan(&t.ID, &t.StepNo, &t.ApproverID, &t.Status, &t.Count, &t.DueAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
