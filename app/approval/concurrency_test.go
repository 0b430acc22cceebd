package approval_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"dealerdesk/app/apptest"
)

// race runs fn n times at once and waits for all.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// TestConcurrent_OnePendingApprovalPerDocument: ten submits of one document at
// once give one pending approval; the partial UNIQUE index, not a check before the
// insert, decides (Submit has no such check).
func TestConcurrent_OnePendingApprovalPerDocument(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	doc := env.doc("sales", 1, "other")
	a := env.actor("sales")
	errs := make([]error, 10)
	race(10, func(i int) { _, errs[i] = env.submitAs(a, doc) })
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case codeOf(err) != "approval.already_pending":
			t.Errorf("loser got %v, want approval.already_pending", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d submits succeeded, want exactly 1", ok)
	}
	if n := env.count(`SELECT count(*) FROM approval_instance WHERE doc_type = ? AND doc_id = ? AND status = 'pending'`, docType, doc); n != 1 {
		t.Errorf("%d pending instances, want 1", n)
	}
	// The index itself refuses a second pending row, whoever writes it.
	_, err := env.App.DB.W.Exec(`INSERT INTO approval_instance (doc_type, doc_id, store_id, submitter_id, title, steps, created_at)
		SELECT doc_type, doc_id, store_id, submitter_id, title, steps, created_at FROM approval_instance WHERE doc_id = ?`, doc)
	if err == nil {
		t.Fatal("a second pending instance was stored")
	}
}

// TestConcurrent_AnyStepIsDecidedOnce: ten clicks at once by the approvers of an
// "any" step give one decision and one Decided call; everyone else is told the
// approval moved on.
func TestConcurrent_AnyStepIsDecidedOnce(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	env.define(admin, storeID(1), "任一顾问", 1, nil, step("顾问", "any", role("sales")))
	doc := env.doc("dcc", 1, "other")
	inst := env.mustSubmit("dcc", doc)
	names := []string{"sales", "sales_HZ012", "sales_HZ013", "sales_HZ014", "sales_HZ015", "sales_HZ016"}
	clients := make([]*apptest.Client, len(names))
	for i, n := range names {
		clients[i] = env.As(n)
	}
	rs := make([]*apptest.Response, 10)
	race(10, func(i int) { rs[i] = act(clients[i%len(clients)], inst.ID, "approve", fmt.Sprint("同意", i)) })
	won := 0
	for _, r := range rs {
		switch r.Status {
		case http.StatusOK:
			won++
		case http.StatusConflict:
			if c := r.Error(t).Code; c != "approval.not_pending" && c != "approval.already_decided" {
				t.Errorf("loser got %s", r)
			}
		default:
			t.Errorf("unexpected answer %s", r)
		}
	}
	if won != 1 {
		t.Errorf("%d approvals succeeded, want exactly 1", won)
	}
	if s, n := env.docStatus(doc); s != "approved" || n != 1 {
		t.Errorf("document %s after %d Decided calls, want approved once", s, n)
	}
	if n := env.count(`SELECT count(*) FROM approval_task WHERE instance_id = ? AND status = 'approved'`, inst.ID); n != 1 {
		t.Errorf("%d approved tasks, want 1", n)
	}
	if n := env.count(`SELECT count(*) FROM approval_action WHERE instance_id = ? AND action = 'approve'`, inst.ID); n != 1 {
		t.Errorf("%d approve actions in the history, want 1", n)
	}
	if n := env.AuditCount("approve", "approval_instance"); n != 1 {
		t.Errorf("%d approve audit rows, want 1", n)
	}
}
