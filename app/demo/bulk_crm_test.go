package demo_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

// TestCRMBulk_RowsAreConsistentAndRealistic checks the group-scale CRM
// generator on 5,000 customers: the schema's indexes are back unchanged, every
// reference holds (foreign_key_check), phones are unique with their reversed
// digits, owners are consultants of the customer's store with their team,
// timeline entries are in time order and point at their follow-ups and leads,
// and the funnel looks like a real store's.
func TestCRMBulk_RowsAreConsistentAndRealistic(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	d := env.App.DB
	now := env.Clock.Now().UnixMilli()
	if _, err := demo.Fill(ctx, d, demo.ScaleGroup, now); err != nil {
		t.Fatal(err)
	}
	schema := func() []string {
		t.Helper()
		rows, err := d.R.QueryContext(ctx, `SELECT name || ': ' || sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	before := schema()
	const n, per = 5000, 10
	sum, err := demo.CRMBulk(ctx, d, n, per, now, 42)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)
	if after := schema(); !slices.Equal(before, after) {
		t.Fatalf("indexes changed:\nbefore %v\nafter  %v", before, after)
	}
	if sum.Customers != n || sum.Events < n*per*95/100 || sum.Events > n*per*105/100 || sum.Rules != 150 {
		t.Fatalf("summary %+v: want %d customers, about %d events, 150 rules", sum, n, n*per)
	}

	count := func(q string, args ...any) int {
		t.Helper()
		var v int
		if err := d.R.QueryRowContext(ctx, q, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	rows, err := d.W.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		var table string
		var rowid, parent, fk any
		rows.Scan(&table, &rowid, &parent, &fk)
		rows.Close()
		t.Fatalf("foreign key broken: %s row %v → %v", table, rowid, parent)
	}
	rows.Close()
	if v := count(`SELECT count(*) FROM customer`); v != n {
		t.Errorf("%d customers in the table, want %d", v, n)
	}
	prow, err := d.R.QueryContext(ctx, `SELECT phone, phone_rev FROM customer_phone`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for prow.Next() {
		var p, rev string
		if err := prow.Scan(&p, &rev); err != nil {
			t.Fatal(err)
		}
		b := []byte(p)
		slices.Reverse(b)
		if string(b) != rev || seen[p] || (len(p) != 11 && len(p) != 12) {
			t.Fatalf("phone %q rev %q (seen before: %v)", p, rev, seen[p])
		}
		seen[p] = true
	}
	prow.Close()

	for what, q := range map[string]string{
		"owners outside the store or not consultants": `SELECT count(*) FROM customer c JOIN app_user u ON u.id = c.owner_id JOIN role r ON r.id = u.role_id
			WHERE u.store_id <> c.store_id OR r.code NOT IN ('sales', 'dcc') OR c.department_id IS NOT u.department_id`,
		"customers without a primary phone": `SELECT count(*) FROM customer c WHERE status <> 'merged' AND NOT EXISTS (SELECT 1 FROM customer_phone p WHERE p.customer_id = c.id AND p.is_primary = 1 AND p.phone = c.phone)`,
		"events out of time order":          `SELECT count(*) FROM timeline_event a JOIN timeline_event b ON b.id = a.id + 1 WHERE b.at < a.at`,
		"events in the future":              `SELECT count(*) FROM timeline_event WHERE at > (SELECT max(created_at) FROM customer) + 400 * 86400000 OR at < 0`,
		"follow-up events without their row": `SELECT count(*) FROM timeline_event e LEFT JOIN followup f ON f.id = e.entity_id
			WHERE e.kind = 'followup' AND (f.id IS NULL OR f.customer_id <> e.customer_id OR f.at <> e.at)`,
		"lead events without their lead": `SELECT count(*) FROM timeline_event e LEFT JOIN lead l ON l.id = e.entity_id
			WHERE e.kind IN ('lead.created', 'lead.attached') AND (l.id IS NULL OR l.customer_id <> e.customer_id OR l.created_at <> e.at)`,
		"events of merged customers":          `SELECT count(*) FROM timeline_event e JOIN customer c ON c.id = e.customer_id WHERE c.status = 'merged'`,
		"customers without events":            `SELECT count(*) FROM customer c WHERE status <> 'merged' AND NOT EXISTS (SELECT 1 FROM timeline_event e WHERE e.customer_id = c.id)`,
		"last contact not the last follow-up": `SELECT count(*) FROM customer c WHERE status <> 'merged' AND last_contact_at IS NOT (SELECT max(at) FROM followup f WHERE f.customer_id = c.id)`,
		"deadline not the next follow-up":     `SELECT count(*) FROM customer WHERE sla_kind = 'followup' AND (sla_due_at IS NOT next_followup_at OR status <> 'active')`,
		"open deadlines off the active":       `SELECT count(*) FROM customer WHERE sla_due_at IS NOT NULL AND (status <> 'active' OR owner_id IS NULL OR stage NOT IN ('lead', 'prospect'))`,
		"leads in the wrong store":            `SELECT count(*) FROM lead l JOIN customer c ON c.id = l.customer_id WHERE l.store_id <> c.store_id`,
		"lead ids not in time order":          `SELECT count(*) FROM lead a JOIN lead b ON b.id = a.id + 1 WHERE b.created_at < a.created_at`,
		"customers not in creation order":     `SELECT count(*) FROM customer a JOIN customer b ON b.id = a.id + 1 WHERE b.created_at < a.created_at`,
	} {
		if v := count(q); v != 0 {
			t.Errorf("%s: %d", what, v)
		}
	}

	share := func(where string) float64 {
		return float64(count(`SELECT count(*) FROM customer WHERE `+where)) / n
	}
	for _, c := range []struct {
		where  string
		lo, hi float64
	}{
		{"status = 'active'", 0.30, 0.55},
		{"status = 'lost'", 0.20, 0.45},
		{"status = 'merged'", 0.001, 0.01},
		{"stage IN ('ordered', 'delivered', 'owner')", 0.07, 0.15},
		{"owner_id IS NULL AND status = 'active'", 0.003, 0.04},
		{"status = 'active' AND sla_due_at < " + strconv.FormatInt(now, 10), 0.04, 0.15},
		{"id IN (SELECT customer_id FROM customer_tag)", 0.25, 0.35},
		{"name LIKE '王%'", 0.05, 0.10},
		{"store_id = 1", 0.035, 0.075},
	} {
		if got := share(c.where); got < c.lo || got > c.hi {
			t.Errorf("share of %s = %.4f, want %.3f–%.3f", c.where, got, c.lo, c.hi)
		}
	}
	if deep := count(`SELECT max(k) FROM (SELECT count(*) AS k FROM timeline_event GROUP BY customer_id)`); deep < 100 {
		t.Errorf("deepest timeline has %d entries, want a fleet account with 100+", deep)
	}
}
