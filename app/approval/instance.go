package approval

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/notify"
	"dealerdesk/app/org"
	"dealerdesk/app/timeline"
)

// Instance is one approval run for one document.
type Instance struct {
	ID              int64          `json:"id"`
	DocType         string         `json:"docType"`
	DocID           int64          `json:"docId"`
	StoreID         int64          `json:"storeId"`
	StoreName       string         `json:"storeName"`
	CustomerID      *int64         `json:"customerId"`
	SubmitterID     int64          `json:"submitterId"`
	SubmitterName   string         `json:"submitterName"`
	OwnerID         *int64         `json:"ownerId"`
	DepartmentID    *int64         `json:"departmentId"`
	Title           string         `json:"title"`
	Link            string         `json:"link"`
	Fields          map[string]any `json:"fields"`
	DefinitionID    *int64         `json:"definitionId"`   // null: the document type's default steps
	DefinitionName  string         `json:"definitionName"` // kept when the definition is deleted later
	Steps           []Step         `json:"-"`              // as they were at submit; the detail shows them with their tasks
	StepCount       int            `json:"stepCount"`
	Status          string         `json:"status"` // pending | approved | rejected | returned | withdrawn
	CurrentStep     int            `json:"currentStep"`
	CurrentStepName string         `json:"currentStepName"`
	CreatedAt       int64          `json:"createdAt"`
	DecidedAt       *int64         `json:"decidedAt"`
	Version         int64          `json:"version"`
}

func (x Instance) record() auth.Record {
	return auth.Record{StoreID: x.StoreID, OwnerID: deref(x.OwnerID), DepartmentID: deref(x.DepartmentID)}
}

func (x Instance) stepName(no int) string {
	if no >= 1 && no <= len(x.Steps) {
		return x.Steps[no-1].Name
	}
	return ""
}

// ActInput is an approver's or submitter's action on an instance.
type ActInput struct {
	Comment string `json:"comment"` // required to reject, send back and comment
	// Version is the instance version the user saw (it changes when a step
	// completes or the approval ends, not with each approval inside an "all"
	// step); a different one is conflict.stale. 0 skips the check.
	Version int64 `json:"version"`
}

const maxComment = 500

func (in *ActInput) validate(required bool) error {
	in.Comment = strings.TrimSpace(in.Comment)
	f := apperr.Fields{}
	if required && in.Comment == "" {
		f.Add("comment", "required")
	}
	if len([]rune(in.Comment)) > maxComment {
		f.Add("comment", "too_long", "max", maxComment)
	}
	return f.Err()
}

// Settings are the approval settings of a store (settings key "approval"; store 0
// holds the group's default).
type Settings struct {
	RemindHours int `json:"remindHours"` // remind a waiting approver after this many hours, and again each as many, up to maxReminders times
}

const (
	settingsKey        = "approval"
	defaultRemindHours = 4
	maxReminders       = 3
	jobsEvery          = time.Minute
)

// remindAfter is the reminder interval of a store, in milliseconds.
func remindAfter(ctx context.Context, q db.Querier, storeID int64) (int64, error) {
	h := 0
	for _, sid := range []int64{storeID, 0} {
		var v Settings
		found, _, err := db.LoadSetting(ctx, q, settingsKey, sid, &v)
		if err != nil {
			return 0, err
		}
		if found && v.RemindHours > 0 {
			h = v.RemindHours
			break
		}
	}
	if h <= 0 || h > 24*30 {
		h = defaultRemindHours
	}
	return int64(h) * int64(time.Hour/time.Millisecond), nil
}

// Submit starts the approval of a document. It runs inside the document's write
// transaction: it reads the document (DocType.Describe), picks the first enabled
// definition of the document's store whose conditions hold (the store's own before
// group-wide ones, each by priority; the type's Default steps when none does),
// resolves every step's approvers (the submitter never approves their own
// document; a step left with nobody is the error approval.no_approver, naming the
// step in details.step), and records the submit in the history, the audit log and
// the customer's timeline ("approval.submitted"); the first step's approvers (and
// the delegates of absent ones) are notified. A second pending approval of the same
// document is the conflict approval.already_pending. Call Wake after the commit.
func (s *Service) Submit(ctx context.Context, tx *sql.Tx, by auth.Actor, docType string, docID int64) (Instance, error) {
	t, ok := s.docType(docType)
	if !ok {
		return Instance{}, fmt.Errorf("approval: submit: document type %q is not registered", docType)
	}
	if by.UserID == 0 {
		return Instance{}, apperr.New(apperr.Forbidden, "forbidden") // an approval needs a person to answer to
	}
	doc, err := t.Describe(ctx, tx, docID)
	if err != nil {
		return Instance{}, err
	}
	if doc.StoreID == 0 || doc.Title == "" {
		return Instance{}, fmt.Errorf("approval: submit %s %d: Describe gave no store or title", docType, docID)
	}
	if doc.DepartmentID == 0 && doc.OwnerID != 0 {
		var d sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT department_id FROM app_user WHERE id = ?`, doc.OwnerID).Scan(&d); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Instance{}, fmt.Errorf("approval: owner's department: %w", err)
		}
		doc.DepartmentID = d.Int64
	}
	if doc.Fields == nil {
		doc.Fields = map[string]any{}
	}
	x := Instance{DocType: docType, DocID: docID, StoreID: doc.StoreID, CustomerID: ptr(doc.CustomerID), SubmitterID: by.UserID,
		OwnerID: ptr(doc.OwnerID), DepartmentID: ptr(doc.DepartmentID), Title: doc.Title, Link: doc.Link, Fields: doc.Fields, Steps: t.Default}
	cands, err := routeCandidates(ctx, tx, docType, doc.StoreID)
	if err != nil {
		return Instance{}, err
	}
	for _, d := range cands {
		if matches(d.Conditions, doc.Fields) {
			x.DefinitionID, x.DefinitionName, x.Steps = ptr(d.ID), d.Name, d.Steps
			break
		}
	}
	approvers := make([][]int64, len(x.Steps))
	for i, st := range x.Steps {
		ids, err := resolveStep(ctx, tx, st, doc, by.UserID)
		if err != nil {
			return Instance{}, err
		}
		if len(ids) == 0 {
			e := apperr.New(apperr.Invalid, "approval.no_approver")
			e.Details = map[string]any{"step": st.Name, "stepNo": i + 1}
			return Instance{}, e
		}
		approvers[i] = ids
	}
	now := s.now()
	remind, err := remindAfter(ctx, tx, doc.StoreID)
	if err != nil {
		return Instance{}, err
	}
	id, err := insertInstance(ctx, tx, x, now)
	if err != nil {
		return Instance{}, err
	}
	for i, ids := range approvers {
		for _, uid := range ids {
			if err := insertTask(ctx, tx, id, i+1, uid, i == 0, now, now+remind); err != nil {
				return Instance{}, err
			}
		}
	}
	if err := insertAction(ctx, tx, id, 1, "submit", by.UserID, by.Name, 0, "", now); err != nil {
		return Instance{}, err
	}
	inst, err := getInstance(ctx, tx, id)
	if err != nil {
		return Instance{}, err
	}
	if err := s.audit(ctx, tx, by, "submit", "approval_instance", id, inst.StoreID, nil, auditView(inst, "")); err != nil {
		return Instance{}, err
	}
	if err := s.timeline(ctx, tx, by, inst, "approval.submitted", 1, "", 0); err != nil {
		return Instance{}, err
	}
	msgs, err := s.pendingMessages(ctx, tx, inst, approvers[0], now)
	if err != nil {
		return Instance{}, err
	}
	return inst, s.send(ctx, tx, msgs)
}

func ptr(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// resolveStep returns the active users who approve a step of the document, in a
// stable order, without the submitter and without duplicates.
func resolveStep(ctx context.Context, q db.Querier, st Step, doc Doc, submitter int64) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	add := func(id int64) {
		if id != 0 && id != submitter && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, ap := range st.Approvers {
		switch ap.Kind {
		case ApproverRole:
			rows, err := q.QueryContext(ctx, `SELECT u.id FROM app_user u JOIN role r ON r.id = u.role_id
				WHERE r.code = ? AND u.store_id = ? AND u.status = 'active' ORDER BY u.id`, ap.Role, doc.StoreID)
			if err != nil {
				return nil, fmt.Errorf("approval: users of role %s: %w", ap.Role, err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return nil, err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			for _, id := range ids {
				add(id)
			}
		case ApproverUser:
			var status string
			err := q.QueryRowContext(ctx, `SELECT status FROM app_user WHERE id = ?`, ap.UserID).Scan(&status)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("approval: approver %d: %w", ap.UserID, err)
			}
			if status == "active" {
				add(ap.UserID)
			}
		case ApproverOwnerManager:
			id, err := managerOf(ctx, q, doc.DepartmentID, submitter)
			if err != nil {
				return nil, err
			}
			add(id)
		}
	}
	return out, nil
}

// managerOf returns the active manager of the department; when it has none (or
// the manager is the submitter) it asks the parent department, as people do.
func managerOf(ctx context.Context, q db.Querier, dept, submitter int64) (int64, error) {
	for i := 0; i < 10 && dept != 0; i++ {
		var manager, parent sql.NullInt64
		var status sql.NullString
		err := q.QueryRowContext(ctx, `SELECT d.manager_id, d.parent_id, u.status FROM department d LEFT JOIN app_user u ON u.id = d.manager_id WHERE d.id = ?`, dept).
			Scan(&manager, &parent, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("approval: manager of department %d: %w", dept, err)
		}
		if manager.Valid && status.String == "active" && manager.Int64 != submitter {
			return manager.Int64, nil
		}
		dept = parent.Int64
	}
	return 0, nil
}

// PendingFor returns the pending approval of a document, or nil when it has none.
func (s *Service) PendingFor(ctx context.Context, q db.Querier, docType string, docID int64) (*Instance, error) {
	x, err := scanInstance(q.QueryRowContext(ctx, `SELECT `+instCols+instFrom+` WHERE i.doc_type = ? AND i.doc_id = ? AND i.status = 'pending'`, docType, docID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("approval: pending for %s %d: %w", docType, docID, err)
	}
	return &x, nil
}

// visible reports whether the actor may see the instance: its submitter, an
// approver (also past ones), the delegate of an approver waiting now, or a holder
// of the document type's read permission in scope of the document.
func (s *Service) visible(ctx context.Context, q db.Querier, a auth.Actor, x Instance, now int64) (bool, error) {
	if a.UserID != 0 && a.UserID == x.SubmitterID {
		return true, nil
	}
	if t, ok := s.docType(x.DocType); ok && auth.Can(a, t.ReadPerm, x.record()) {
		return true, nil
	}
	if a.UserID == 0 {
		return false, nil
	}
	if ok, err := isApproverOf(ctx, q, x.ID, a.UserID); err != nil || ok {
		return ok, err
	}
	if x.Status != "pending" {
		return false, nil
	}
	tasks, err := s.delegatedTasks(ctx, q, a, x, now)
	return len(tasks) > 0, err
}

// delegatedTasks returns the waiting tasks of the current step whose approver is
// absent now and named the actor as delegate.
func (s *Service) delegatedTasks(ctx context.Context, q db.Querier, a auth.Actor, x Instance, now int64) ([]task, error) {
	if a.UserID == 0 {
		return nil, nil
	}
	absent, err := org.DelegatorsAt(ctx, q, a.UserID, now)
	if err != nil {
		return nil, err
	}
	return waitingFor(ctx, q, x, absent)
}

// myTask is the task the actor decides: their own waiting task in the current
// step first, else one they stand in for (actingFor is then its approver).
func (s *Service) myTask(ctx context.Context, q db.Querier, a auth.Actor, x Instance, now int64) (t task, actingFor int64, ok bool, err error) {
	if a.UserID == 0 || x.Status != "pending" {
		return task{}, 0, false, nil
	}
	own, err := waitingFor(ctx, q, x, []int64{a.UserID})
	if err != nil {
		return task{}, 0, false, err
	}
	if len(own) > 0 {
		return own[0], 0, true, nil
	}
	del, err := s.delegatedTasks(ctx, q, a, x, now)
	if err != nil || len(del) == 0 {
		return task{}, 0, false, err
	}
	return del[0], del[0].ApproverID, true, nil
}

// load reads the instance for an action and checks the actor may see it (else 404).
func (s *Service) load(ctx context.Context, q db.Querier, a auth.Actor, id, now int64) (Instance, DocType, error) {
	x, err := getInstance(ctx, q, id)
	if err != nil {
		return x, DocType{}, err
	}
	ok, err := s.visible(ctx, q, a, x, now)
	if err != nil {
		return x, DocType{}, err
	}
	if !ok {
		return x, DocType{}, apperr.New(apperr.NotFound, "not_found")
	}
	t, registered := s.docType(x.DocType)
	if !registered {
		return x, t, fmt.Errorf("approval: instance %d has unregistered document type %q", x.ID, x.DocType)
	}
	return x, t, nil
}

func checkPending(x Instance, in ActInput) error {
	if x.Status != "pending" {
		return apperr.New(apperr.Conflict, "approval.not_pending")
	}
	if in.Version != 0 && in.Version != x.Version {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

// Approve approves the actor's task in the current step. With mode "any" that
// completes the step; with "all" the step completes when the last approver
// approves. After the last step the approval ends as approved and the document is
// told (DocType.Decided) in the same transaction.
func (s *Service) Approve(ctx context.Context, a auth.Actor, id int64, in ActInput) (Detail, error) {
	return s.decide(ctx, a, id, in, "approve")
}

// Reject ends the approval as rejected (a comment is required).
func (s *Service) Reject(ctx context.Context, a auth.Actor, id int64, in ActInput) (Detail, error) {
	return s.decide(ctx, a, id, in, "reject")
}

// SendBack ends the approval as returned, so the submitter can change the document
// and submit it again (a comment is required).
func (s *Service) SendBack(ctx context.Context, a auth.Actor, id int64, in ActInput) (Detail, error) {
	return s.decide(ctx, a, id, in, "return")
}

var taskStatusOf = map[string]string{"approve": "approved", "reject": "rejected", "return": "returned"}
var timelineKindOf = map[string]string{"approve": "approval.approved", "reject": "approval.rejected", "return": "approval.returned", "withdraw": "approval.withdrawn", "comment": "approval.commented"}

func (s *Service) decide(ctx context.Context, a auth.Actor, id int64, in ActInput, verb string) (Detail, error) {
	if err := in.validate(verb != "approve"); err != nil {
		return Detail{}, err
	}
	var out Detail
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		x, t, err := s.load(ctx, tx, a, id, now)
		if err != nil {
			return err
		}
		if err := checkPending(x, in); err != nil {
			return err
		}
		if a.UserID == x.SubmitterID {
			return apperr.New(apperr.Forbidden, "approval.own_document")
		}
		tk, actingFor, ok, err := s.myTask(ctx, tx, a, x, now)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Forbidden, "approval.not_your_turn")
		}
		if ok, err := decideTask(ctx, tx, tk.ID, taskStatusOf[verb], a.UserID, actingFor, in.Comment, now); err != nil {
			return err
		} else if !ok {
			return apperr.New(apperr.Conflict, "approval.already_decided")
		}
		step := x.CurrentStep
		var msgs []Message
		outcome := Outcome("")
		switch verb {
		case "approve":
			done := x.Steps[step-1].Mode != ModeAll
			if !done {
				rest, err := waitingTasks(ctx, tx, x.ID, step)
				if err != nil {
					return err
				}
				done = len(rest) == 0
			}
			if !done {
				// One of several in an "all" step: the instance stays where it is,
				// and its version (the stage people see) too, so the others'
				// pages do not go stale.
				break
			}
			if _, err := skipOpen(ctx, tx, x.ID, step, false, now); err != nil {
				return err
			}
			next, status := step+1, "pending"
			if step == len(x.Steps) {
				next, status, outcome = step, "approved", Approved
			}
			if ok, err := advanceInstance(ctx, tx, x.ID, x.Version, next, status, now); err != nil {
				return err
			} else if !ok {
				return apperr.New(apperr.Conflict, "approval.already_decided")
			}
			if next != step {
				remind, err := remindAfter(ctx, tx, x.StoreID)
				if err != nil {
					return err
				}
				ids, err := openStep(ctx, tx, x.ID, next, now, now+remind)
				if err != nil {
					return err
				}
				x.CurrentStep = next
				if msgs, err = s.pendingMessages(ctx, tx, x, ids, now); err != nil {
					return err
				}
			}
		default:
			if _, err := skipOpen(ctx, tx, x.ID, 1, true, now); err != nil {
				return err
			}
			outcome = Outcome(taskStatusOf[verb])
			if ok, err := advanceInstance(ctx, tx, x.ID, x.Version, step, string(outcome), now); err != nil {
				return err
			} else if !ok {
				return apperr.New(apperr.Conflict, "approval.already_decided")
			}
		}
		if err := insertAction(ctx, tx, x.ID, step, verb, a.UserID, a.Name, actingFor, in.Comment, now); err != nil {
			return err
		}
		x, err = getInstance(ctx, tx, x.ID)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, verb, "approval_instance", x.ID, x.StoreID, nil, auditView(x, in.Comment, "step", step, "actingFor", actingFor)); err != nil {
			return err
		}
		if err := s.timeline(ctx, tx, a, x, timelineKindOf[verb], step, in.Comment, actingFor, "final", outcome != ""); err != nil {
			return err
		}
		if outcome != "" {
			if err := t.Decided(ctx, tx, x, outcome, a); err != nil {
				return err
			}
			msgs = append(msgs, s.decidedMessage(x, a, x.SubmitterID, in.Comment))
			if err := s.emit(ctx, tx, decidedEvent(x, a, outcome, in.Comment)); err != nil {
				return err
			}
		}
		if err := s.send(ctx, tx, msgs); err != nil {
			return err
		}
		out, err = s.detail(ctx, tx, a, x, now)
		return err
	})
	if err != nil {
		return Detail{}, err
	}
	s.Wake()
	return out, nil
}

// Withdraw ends a pending approval by its submitter; the document is told
// (DocType.Decided with Withdrawn) and the waiting approvers are notified.
func (s *Service) Withdraw(ctx context.Context, a auth.Actor, id int64, in ActInput) (Detail, error) {
	if err := in.validate(false); err != nil {
		return Detail{}, err
	}
	var out Detail
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		x, t, err := s.load(ctx, tx, a, id, now)
		if err != nil {
			return err
		}
		if a.UserID != x.SubmitterID {
			return apperr.New(apperr.Forbidden, "approval.not_submitter")
		}
		if err := checkPending(x, in); err != nil {
			return err
		}
		waiting, err := skipOpen(ctx, tx, x.ID, 1, true, now)
		if err != nil {
			return err
		}
		if ok, err := advanceInstance(ctx, tx, x.ID, x.Version, x.CurrentStep, string(Withdrawn), now); err != nil {
			return err
		} else if !ok {
			return apperr.New(apperr.Conflict, "approval.already_decided")
		}
		if err := insertAction(ctx, tx, x.ID, x.CurrentStep, "withdraw", a.UserID, a.Name, 0, in.Comment, now); err != nil {
			return err
		}
		if x, err = getInstance(ctx, tx, x.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "withdraw", "approval_instance", x.ID, x.StoreID, nil, auditView(x, in.Comment)); err != nil {
			return err
		}
		if err := s.timeline(ctx, tx, a, x, "approval.withdrawn", x.CurrentStep, in.Comment, 0); err != nil {
			return err
		}
		if err := t.Decided(ctx, tx, x, Withdrawn, a); err != nil {
			return err
		}
		var msgs []Message
		for _, uid := range waiting {
			msgs = append(msgs, s.decidedMessage(x, a, uid, in.Comment))
		}
		if err := s.send(ctx, tx, msgs); err != nil {
			return err
		}
		out, err = s.detail(ctx, tx, a, x, now)
		return err
	})
	if err != nil {
		return Detail{}, err
	}
	s.Wake()
	return out, nil
}

// Comment adds a remark to the history (anyone who sees the instance, also after it
// ended); the submitter and the waiting approvers are notified.
func (s *Service) Comment(ctx context.Context, a auth.Actor, id int64, in ActInput) (Detail, error) {
	if err := in.validate(true); err != nil {
		return Detail{}, err
	}
	var out Detail
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		x, _, err := s.load(ctx, tx, a, id, now)
		if err != nil {
			return err
		}
		if err := insertAction(ctx, tx, x.ID, x.CurrentStep, "comment", a.UserID, a.Name, 0, in.Comment, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "comment", "approval_instance", x.ID, x.StoreID, nil, auditView(x, in.Comment)); err != nil {
			return err
		}
		if err := s.timeline(ctx, tx, a, x, "approval.commented", x.CurrentStep, in.Comment, 0); err != nil {
			return err
		}
		to := []int64{x.SubmitterID}
		if x.Status == "pending" {
			ws, err := waitingTasks(ctx, tx, x.ID, x.CurrentStep)
			if err != nil {
				return err
			}
			for _, w := range ws {
				to = append(to, w.ApproverID)
			}
		}
		var msgs []Message
		seen := map[int64]bool{a.UserID: true}
		for _, uid := range to {
			if !seen[uid] {
				seen[uid] = true
				msgs = append(msgs, Message{UserID: uid, StoreID: x.StoreID, Kind: "approval.commented", TitleKey: "notify.msg.approval_commented",
					Params: s.params(x, a, in.Comment), Link: x.link(), Entity: "approval", EntityID: x.ID,
					DedupKey: fmt.Sprintf("approval.comment:%d:%d:%d", x.ID, now, uid), Level: notify.LevelInfo})
			}
		}
		if err := s.send(ctx, tx, msgs); err != nil {
			return err
		}
		out, err = s.detail(ctx, tx, a, x, now)
		return err
	})
	if err != nil {
		return Detail{}, err
	}
	s.Wake()
	return out, nil
}

// link is the SPA path of the instance's page.
func (x Instance) link() string { return "/approvals/" + strconv.FormatInt(x.ID, 10) }

func (s *Service) params(x Instance, a auth.Actor, comment string) map[string]any {
	return map[string]any{"title": x.Title, "submitter": x.SubmitterName, "by": a.Name, "docType": x.DocType,
		"step": x.stepName(x.CurrentStep), "comment": comment}
}

// pendingMessages tells the approvers of a newly opened step, and the delegate of
// each one absent now, that a document waits for them.
func (s *Service) pendingMessages(ctx context.Context, q db.Querier, x Instance, approvers []int64, now int64) ([]Message, error) {
	var out []Message
	for _, uid := range approvers {
		to, err := s.recipients(ctx, q, x, uid, now)
		if err != nil {
			return nil, err
		}
		for _, r := range to {
			out = append(out, Message{UserID: r, StoreID: x.StoreID, Kind: "approval.pending", TitleKey: "notify.msg.approval_pending",
				Params: map[string]any{"title": x.Title, "submitter": x.SubmitterName, "docType": x.DocType, "step": x.stepName(x.CurrentStep)},
				Link:   x.link(), Entity: "approval", EntityID: x.ID,
				DedupKey: fmt.Sprintf("approval.pending:%d:%d:%d:%d", x.ID, x.CurrentStep, uid, r), Level: notify.LevelInfo})
		}
	}
	return out, nil
}

// recipients is the approver and, while they are absent with a delegate, the
// delegate (never the submitter).
func (s *Service) recipients(ctx context.Context, q db.Querier, x Instance, approver, now int64) ([]int64, error) {
	out := []int64{approver}
	d, err := org.DelegateAt(ctx, q, approver, now)
	if err != nil {
		return nil, err
	}
	if d != 0 && d != approver && d != x.SubmitterID {
		out = append(out, d)
	}
	return out, nil
}

// decidedMessage tells a user how the approval ended.
func (s *Service) decidedMessage(x Instance, a auth.Actor, to int64, comment string) Message {
	level := notify.LevelInfo
	if x.Status == "rejected" || x.Status == "returned" {
		level = notify.LevelWarning
	}
	return Message{UserID: to, StoreID: x.StoreID, Kind: "approval.decided", TitleKey: "notify.msg.approval_" + x.Status,
		Params: s.params(x, a, comment), Link: x.link(), Entity: "approval", EntityID: x.ID,
		DedupKey: fmt.Sprintf("approval.decided:%d:%d", x.ID, to), Level: level}
}

// decidedEvent is the approval.decided webhook event of a final decision. The
// title and comment may name a customer by phone: subscribers get them masked,
// those that opted in to personal data as written.
func decidedEvent(x Instance, a auth.Actor, outcome Outcome, comment string) notify.Event {
	data := map[string]any{"approvalId": x.ID, "docType": x.DocType, "docId": x.DocID, "outcome": string(outcome),
		"title": notify.MaskText(x.Title), "comment": notify.MaskText(comment), "submitterId": x.SubmitterID,
		"decidedById": a.UserID, "decidedBy": a.Name, "step": x.CurrentStep}
	if x.CustomerID != nil {
		data["customerId"] = *x.CustomerID
	}
	return notify.Event{Type: "approval.decided", StoreID: x.StoreID, Entity: "approval", EntityID: x.ID, Data: data,
		Personal: map[string]any{"title": x.Title, "comment": comment}}
}

// timeline appends an entry to the customer's timeline (documents without a
// customer, e.g. expenses, have none).
func (s *Service) timeline(ctx context.Context, q db.Querier, a auth.Actor, x Instance, kind string, step int, comment string, actingFor int64, extra ...any) error {
	if x.CustomerID == nil {
		return nil
	}
	data := map[string]any{"docType": x.DocType, "docId": x.DocID, "title": x.Title, "step": x.stepName(step), "status": x.Status}
	if comment != "" {
		data["comment"] = comment
	}
	if actingFor != 0 {
		var name string
		if err := q.QueryRowContext(ctx, `SELECT name FROM app_user WHERE id = ?`, actingFor).Scan(&name); err != nil {
			return fmt.Errorf("approval: name of %d: %w", actingFor, err)
		}
		data["actingFor"] = name
	}
	for i := 0; i+1 < len(extra); i += 2 {
		data[fmt.Sprint(extra[i])] = extra[i+1]
	}
	return timeline.Append(ctx, q, timeline.Event{CustomerID: *x.CustomerID, StoreID: x.StoreID, At: s.now(), Kind: kind,
		Entity: "approval", EntityID: x.ID, Data: data}.By(a))
}

// auditView is what the audit row keeps of an instance after an action.
func auditView(x Instance, comment string, kv ...any) map[string]any {
	m := map[string]any{"docType": x.DocType, "docId": x.DocID, "title": x.Title, "status": x.Status, "currentStep": x.CurrentStep, "version": x.Version}
	if x.DefinitionName != "" {
		m["definition"] = x.DefinitionName
	}
	if comment != "" {
		m["comment"] = comment
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if v, ok := kv[i+1].(int64); ok && v == 0 {
			continue
		}
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}
