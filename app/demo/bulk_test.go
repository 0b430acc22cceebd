package demo_test

import (
	"context"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/audit"
	"dealerdesk/app/demo"
)

// TestAuditBulk_ChainVerifiesAndRowsAreRealistic checks the benchmark generator on
// 20k rows: the hash chain verifies, rows are in time order inside the last year,
// every actor is a real user acting in their home store, and the action mix has
// the common and the rare actions the audit filters are benchmarked with.
func TestAuditBulk_ChainVerifiesAndRowsAreRealistic(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	ctx := context.Background()
	now := env.Clock.Now().UnixMilli()
	const n = 20000
	if err := demo.AuditBulk(ctx, env.App.DB, n, now); err != nil {
		t.Fatal(err)
	}

	v, err := audit.Verify(ctx, env.App.DB.R)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Checked != n+1 { // + Fill's own "create demo" row
		t.Fatalf("verify: %+v, want ok over %d rows", v, n+1)
	}

	r := env.App.DB.R
	var outOfOrder, outOfRange, strangers, wrongStore int
	q := func(sql string, dst *int, args ...any) {
		t.Helper()
		if err := r.QueryRowContext(ctx, sql, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q(`SELECT count(*) FROM audit_log a JOIN audit_log b ON b.id = a.id + 1 WHERE a.id > 1 AND b.at < a.at`, &outOfOrder)
	q(`SELECT count(*) FROM audit_log WHERE id > 1 AND (at <= ? OR at > ?)`, &outOfRange, now-366*24*3600*1000, now)
	q(`SELECT count(*) FROM audit_log a WHERE a.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = a.user_id)`, &strangers)
	q(`SELECT count(*) FROM audit_log a JOIN app_user u ON u.id = a.user_id WHERE a.store_id IS NOT u.store_id`, &wrongStore)
	if outOfOrder+outOfRange+strangers+wrongStore != 0 {
		t.Fatalf("out of order %d, outside the year %d, unknown users %d, wrong store %d", outOfOrder, outOfRange, strangers, wrongStore)
	}

	share := map[string]float64{}
	rows, err := r.QueryContext(ctx, `SELECT action, count(*) FROM audit_log WHERE id > 1 GROUP BY action`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var c int
		if err := rows.Scan(&a, &c); err != nil {
			t.Fatal(err)
		}
		share[a] = float64(c) / n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for action, want := range map[string]float64{"update": 0.43, "create": 0.22, "login": 0.13, "export": 0.006, "delete": 0.015} {
		if got := share[action]; got < want*0.7 || got > want*1.3 {
			t.Errorf("share of %s = %.4f, want about %.4f", action, got, want)
		}
	}
}
