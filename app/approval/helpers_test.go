package approval_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"dealerdesk/app/apperr"
	"dealerdesk/app/approval"
	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// The test document: a tiny table standing in for a real one (a lost-customer
// request, a discount), registered as the document type "test.doc".
const testDocSchema = `
CREATE TABLE test_doc (
    id            INTEGER PRIMARY KEY,
    store_id      INTEGER NOT NULL,
    owner_id      INTEGER NOT NULL,
    customer_id   INTEGER NOT NULL DEFAULT 0,
    title         TEXT NOT NULL,
    amount        INTEGER NOT NULL DEFAULT 0, -- fen
    reason        TEXT NOT NULL DEFAULT 'other',
    status        TEXT NOT NULL DEFAULT 'draft',
    decided_count INTEGER NOT NULL DEFAULT 0
) STRICT;`

const docType = "test.doc"

// testEnv is a demo group with the test document type registered.
type testEnv struct {
	*apptest.Env
	t *testing.T
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	env := apptest.NewDemo(t)
	if _, err := env.App.DB.W.Exec(testDocSchema); err != nil {
		t.Fatal(err)
	}
	env.App.Approval.Register(approval.DocType{
		Type:     docType,
		ReadPerm: auth.PermCustomerRead,
		Describe: func(ctx context.Context, q db.Querier, id int64) (approval.Doc, error) {
			var d approval.Doc
			var amount int64
			var reason string
			err := q.QueryRowContext(ctx, `SELECT store_id, owner_id, customer_id, title, amount, reason FROM test_doc WHERE id = ?`, id).
				Scan(&d.StoreID, &d.OwnerID, &d.CustomerID, &d.Title, &amount, &reason)
			d.Link = fmt.Sprintf("/test-docs/%d", id)
			d.Fields = map[string]any{"amount": amount, "reason": reason, "margin": amount / 10}
			return d, err
		},
		Decided: func(ctx context.Context, tx *sql.Tx, inst approval.Instance, o approval.Outcome, by auth.Actor) error {
			_, err := tx.ExecContext(ctx, `UPDATE test_doc SET status = ?, decided_count = decided_count + 1 WHERE id = ?`, string(o), inst.DocID)
			return err
		},
		Default: []approval.Step{{Name: "销售经理审批", Mode: approval.ModeAny, Approvers: []approval.Approver{{Kind: approval.ApproverRole, Role: "sales_manager"}}}},
		FieldsInfo: []approval.FieldInfo{
			{Key: "amount", Type: approval.FieldMoney},
			{Key: "share", Type: approval.FieldPercent},
			{Key: "margin", Type: approval.FieldMoney, Perm: auth.PermCostRead},
			{Key: "reason", Type: approval.FieldEnum, Options: []string{"price", "elsewhere", "other"}},
		},
	})
	return &testEnv{Env: env, t: t}
}

// doc creates a test document of the owner's store and returns its id.
func (e *testEnv) doc(owner string, amount int64, reason string) int64 {
	e.t.Helper()
	uid := e.UserID(owner)
	r, err := e.App.DB.W.Exec(`INSERT INTO test_doc (store_id, owner_id, customer_id, title, amount, reason)
		SELECT store_id, id, 9000 + id, '战败申请 ' || name, ?, ? FROM app_user WHERE id = ?`, amount, reason, uid)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := r.LastInsertId()
	return id
}

// actor returns the actor of a user as a session would give it.
func (e *testEnv) actor(username string) auth.Actor {
	e.t.Helper()
	ctx := context.Background()
	uid := e.UserID(username)
	var store int64
	if err := e.App.DB.R.QueryRow(`SELECT store_id FROM app_user WHERE id = ?`, uid).Scan(&store); err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.App.Auth.CreateSession(ctx, e.App.DB.W, uid, store, "", "")
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.App.Auth.ResolveSession(ctx, tok)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// submit submits a document as the user, as the document's own service would:
// inside its write transaction.
func (e *testEnv) submit(username string, docID int64) (approval.Instance, error) {
	e.t.Helper()
	return e.submitAs(e.actor(username), docID)
}

// submitAs is submit for an actor at hand (safe from any goroutine).
func (e *testEnv) submitAs(a auth.Actor, docID int64) (approval.Instance, error) {
	var inst approval.Instance
	err := e.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		inst, err = e.App.Approval.Submit(context.Background(), tx, a, docType, docID)
		if err == nil {
			_, err = tx.Exec(`UPDATE test_doc SET status = 'pending' WHERE id = ?`, docID)
		}
		return err
	})
	return inst, err
}

func (e *testEnv) mustSubmit(username string, docID int64) approval.Instance {
	e.t.Helper()
	inst, err := e.submit(username, docID)
	if err != nil {
		e.t.Fatalf("submit %d as %s: %v", docID, username, err)
	}
	return inst
}

func (e *testEnv) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.App.DB.R.QueryRow(query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// notesTo counts the notifications (in the notify service's inbox) of a kind to a
// user about an instance.
func (e *testEnv) notesTo(username, kind string, instID int64) int {
	e.t.Helper()
	return e.count(`SELECT count(*) FROM notification WHERE user_id = ? AND kind = ? AND entity = 'approval' AND entity_id = ?`, e.UserID(username), kind, instID)
}

func (e *testEnv) docStatus(id int64) (string, int) {
	e.t.Helper()
	var s string
	var n int
	if err := e.App.DB.R.QueryRow(`SELECT status, decided_count FROM test_doc WHERE id = ?`, id).Scan(&s, &n); err != nil {
		e.t.Fatal(err)
	}
	return s, n
}

// detail is the JSON of GET /approvals/:id.
type detail struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	CurrentStep int    `json:"currentStep"`
	Version     int64  `json:"version"`
	Title       string `json:"title"`
	Link        string `json:"link"`
	Definition  string `json:"definitionName"`
	Steps       []struct {
		No     int    `json:"no"`
		Name   string `json:"name"`
		Mode   string `json:"mode"`
		Status string `json:"status"`
		Tasks  []struct {
			ApproverID   int64  `json:"approverId"`
			Status       string `json:"status"`
			DecidedByID  *int64 `json:"decidedById"`
			ActingFor    *int64 `json:"actingFor"`
			Comment      string `json:"comment"`
			DelegateName string `json:"delegateName"`
		} `json:"tasks"`
	} `json:"steps"`
	History []struct {
		Action        string `json:"action"`
		ActorName     string `json:"actorName"`
		ActingForID   *int64 `json:"actingForId"`
		ActingForName string `json:"actingForName"`
		Comment       string `json:"comment"`
	} `json:"history"`
	Can struct {
		Decide        bool   `json:"decide"`
		Withdraw      bool   `json:"withdraw"`
		Comment       bool   `json:"comment"`
		ActingForID   *int64 `json:"actingForId"`
		ActingForName string `json:"actingForName"`
	} `json:"can"`
}

func getDetail(t *testing.T, c *apptest.Client, id int64) detail {
	t.Helper()
	var d detail
	c.Do("GET", fmt.Sprintf("/approvals/%d", id), nil).Expect(t, 200).JSON(t, &d)
	return d
}

// act posts an action and returns the response.
func act(c *apptest.Client, id int64, verb, comment string) *apptest.Response {
	return c.Do("POST", fmt.Sprintf("/approvals/%d/%s", id, verb), map[string]any{"comment": comment})
}

type inbox struct {
	Items []struct {
		ID            int64  `json:"id"`
		Title         string `json:"title"`
		TaskID        int64  `json:"taskId"`
		ActingForID   *int64 `json:"actingForId"`
		ActingForName string `json:"actingForName"`
		SubmitterName string `json:"submitterName"`
	} `json:"items"`
	Total  int            `json:"total"`
	ByType map[string]int `json:"byType"`
}

func getInbox(t *testing.T, c *apptest.Client) inbox {
	t.Helper()
	var b inbox
	c.Do("GET", "/approvals/inbox", nil).Expect(t, 200).JSON(t, &b)
	return b
}

// step builds a step.
func step(name, mode string, approvers ...approval.Approver) approval.Step {
	return approval.Step{Name: name, Mode: mode, Approvers: approvers}
}

func role(code string) approval.Approver {
	return approval.Approver{Kind: approval.ApproverRole, Role: code}
}
func user(id int64) approval.Approver {
	return approval.Approver{Kind: approval.ApproverUser, UserID: id}
}

// define creates a definition as the admin and returns its id.
func (e *testEnv) define(c *apptest.Client, storeID *int64, name string, priority int, conds []approval.Condition, steps ...approval.Step) int64 {
	e.t.Helper()
	if conds == nil {
		conds = []approval.Condition{}
	}
	r := c.Do("POST", "/approval-definitions", map[string]any{"storeId": storeID, "docType": docType, "name": name, "priority": priority,
		"enabled": true, "conditions": conds, "steps": steps}).Expect(e.t, 201)
	return int64(r.Map(e.t)["id"].(float64))
}

func storeID(v int64) *int64 { return &v }

// errOf returns the classified error in err, or nil.
func errOf(err error) *apperr.Error {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// codeOf returns the error code of err, or "".
func codeOf(err error) string {
	if e := errOf(err); e != nil {
		return e.Code
	}
	return ""
}
