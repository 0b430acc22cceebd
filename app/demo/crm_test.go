package demo_test

import (
	"context"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

// TestFillCRM_LooksLikeAWorkingStore checks that the demo fills every page a
// store manager opens first: owned and pooled customers across channels and
// grades, follow-ups with open tasks, decided and pending lost requests, rules,
// today's showroom log, and a timeline on each customer.
func TestFillCRM_LooksLikeAWorkingStore(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	start := time.Now()
	sum, err := demo.FillCRM(context.Background(), env.App.DB, env.Clock.Now(), 120)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("filled %+v in %s", sum, time.Since(start))
	q := func(query string) int {
		var n int
		if err := env.App.DB.R.QueryRow(query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	checks := []struct {
		what  string
		query string
		min   int
	}{
		{"customers", `SELECT count(*) FROM customer`, 300},
		{"owned customers", `SELECT count(*) FROM customer WHERE owner_id IS NOT NULL`, 200},
		{"customers in the pool", `SELECT count(*) FROM customer WHERE owner_id IS NULL AND status = 'active'`, 5},
		{"channels used", `SELECT count(DISTINCT channel) FROM customer`, 7},
		{"grades used", `SELECT count(DISTINCT grade) FROM customer WHERE grade <> ''`, 4},
		{"follow-ups", `SELECT count(*) FROM followup`, 200},
		{"open follow-up tasks", `SELECT count(*) FROM task WHERE status = 'open' AND kind = 'followup'`, 20},
		{"lost customers", `SELECT count(*) FROM customer WHERE status = 'lost'`, 5},
		{"pending lost requests", `SELECT count(*) FROM lost_request WHERE status = 'pending'`, 2},
		{"rules", `SELECT count(*) FROM assign_rule`, 9},
		{"visits today", `SELECT count(*) FROM showroom_visit`, 3},
		{"overdue customers", `SELECT count(*) FROM customer WHERE sla_due_at < strftime('%s','now')*1000 + 86400000*365`, 10},
		{"customers without a timeline", `SELECT -count(*) FROM customer c WHERE NOT EXISTS (SELECT 1 FROM timeline_event e WHERE e.customer_id = c.id)`, 0},
	}
	for _, c := range checks {
		if got := q(c.query); got < c.min {
			t.Errorf("%s: %d, want at least %d", c.what, got, c.min)
		}
	}
	// The consultant's workbench has something on it.
	var wb struct {
		OverdueCount, DueTodayCount, NewLeadsCount, TasksCount int
	}
	env.As("sales").Do("GET", "/workbench", nil).Expect(t, 200).JSON(t, &wb)
	if wb.OverdueCount+wb.DueTodayCount+wb.NewLeadsCount+wb.TasksCount == 0 {
		t.Fatalf("the demo consultant's workbench is empty: %+v", wb)
	}
}
