package sop_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/demo"
	"dealerdesk/app/sales/sop"
)

// benchCustomers is the group's customer count of BenchmarkKanban
// (DEALERDESK_BENCH_SOP_CUSTOMERS): 42,000 over the demo's 3 stores gives the
// largest store about 5,200 open customers (the rest are lost, dormant or
// delivered, as demo.CRMBulk models a funnel).
func benchCustomers(b *testing.B) int {
	if v := os.Getenv("DEALERDESK_BENCH_SOP_CUSTOMERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("DEALERDESK_BENCH_SOP_CUSTOMERS=%q", v)
		}
		return n
	}
	return 42_000
}

// BenchmarkKanban measures the pipeline board and list of a store with about
// 5,000 open customers (demo.CRMBulk customers placed on the stages by
// demo.PlaceSOP, with their stage history), as the store's manager and as the
// consultant holding the most customers, through the service and through
// HTTP. Each case reports p50/p99 in milliseconds.
//
//	go test ./app/sales/sop/ -run '^$' -bench Kanban -benchtime 200x -v
func BenchmarkKanban(b *testing.B) {
	env := apptest.New(b)
	env.Demo()
	ctx := context.Background()
	now := env.Clock.Now().UnixMilli()
	if _, err := demo.CRMBulk(ctx, env.App.DB, benchCustomers(b), 3, now, 20261123); err != nil {
		b.Fatal(err)
	}
	if _, err := demo.PlaceSOP(ctx, env.App.DB, now, 1); err != nil {
		b.Fatal(err)
	}
	if _, err := env.App.DB.W.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	var open, placed int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer WHERE store_id = 1 AND status = 'active' AND stage IN ('lead', 'prospect', 'ordered')`).Scan(&open)
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer_sop WHERE store_id = 1`).Scan(&placed)
	var topID int64
	var topName string
	var topOpen int
	env.App.DB.R.QueryRow(`SELECT u.id, u.username, count(*) n FROM customer c JOIN app_user u ON u.id = c.owner_id
		WHERE c.store_id = 1 AND c.status = 'active' AND c.stage IN ('lead', 'prospect', 'ordered') GROUP BY u.id ORDER BY n DESC LIMIT 1`).Scan(&topID, &topName, &topOpen)
	b.Logf("store 1: %d open customers (%d with a stage row); consultant %s holds %d", open, placed, topName, topOpen)
	var seriesID int64
	env.App.DB.R.QueryRow(`SELECT series_id FROM customer WHERE store_id = 1 AND series_id IS NOT NULL GROUP BY series_id ORDER BY count(*) DESC LIMIT 1`).Scan(&seriesID)

	mgr := auth.Actor{UserID: env.UserID("sales_manager"), Scope: auth.ScopeStore, StoreID: 1, HomeStoreID: 1, Perms: map[string]bool{auth.PermCustomerRead: true}}
	own := auth.Actor{UserID: topID, Scope: auth.ScopeOwn, StoreID: 1, HomeStoreID: 1, Perms: map[string]bool{auth.PermCustomerRead: true}}
	svc := env.App.SOP
	// A column's deep page: the cursor after the first 100 cards of the fullest column.
	board, err := svc.Board(ctx, mgr, sop.BoardFilter{Limit: 100})
	if err != nil {
		b.Fatal(err)
	}
	fullest := slices.MaxFunc(board.Columns, func(x, y sop.Column) int { return x.Count - y.Count })
	b.Logf("board: %d customers; fullest column %s with %d", board.Total, fullest.Stage.Name, fullest.Count)

	cases := []struct {
		name string
		run  func() (int, error)
	}{
		{"board_manager", func() (int, error) { r, err := svc.Board(ctx, mgr, sop.BoardFilter{}); return r.Total, err }},
		{"board_consultant", func() (int, error) { r, err := svc.Board(ctx, own, sop.BoardFilter{}); return r.Total, err }},
		{"board_grade_series", func() (int, error) {
			r, err := svc.Board(ctx, mgr, sop.BoardFilter{Grades: []string{"H", "A"}, SeriesID: seriesID})
			return r.Total, err
		}},
		{"board_keyword_name", func() (int, error) { r, err := svc.Board(ctx, mgr, sop.BoardFilter{Q: "王"}); return r.Total, err }},
		{"board_keyword_phone", func() (int, error) {
			r, err := svc.Board(ctx, mgr, sop.BoardFilter{Q: "0001"})
			return r.Total + 1, err
		}},
		{"column_more", func() (int, error) {
			r, err := svc.ColumnPage(ctx, mgr, sop.BoardFilter{StageID: fullest.Stage.ID, Cursor: fullest.Next, Limit: 20})
			return len(r.Items), err
		}},
		{"list_days", func() (int, error) { r, err := svc.List(ctx, mgr, sop.BoardFilter{}); return len(r.Items), err }},
		{"list_stage_desc", func() (int, error) {
			r, err := svc.List(ctx, mgr, sop.BoardFilter{Sort: "stage", Order: "desc"})
			return len(r.Items), err
		}},
		{"cycle_report", func() (int, error) {
			r, err := svc.CycleTime(ctx, auth.Actor{UserID: mgr.UserID, Scope: auth.ScopeStore, StoreID: 1, HomeStoreID: 1,
				Perms: map[string]bool{auth.PermReportRead: true}}, sop.CycleQuery{From: now - 365*24*3600*1000})
			return len(r.Items), err
		}},
	}
	http := env.As("sales_manager")
	cases = append(cases, struct {
		name string
		run  func() (int, error)
	}{"http_board_manager", func() (int, error) {
		r := http.Do("GET", "/sop/board", nil)
		if r.Status != 200 {
			return 0, fmt.Errorf("GET /sop/board: %s", r)
		}
		return len(r.Body), nil
	}})
	for _, c := range cases {
		if _, err := c.run(); err != nil { // warm the page cache: the first case is not penalised
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				n, err := c.run()
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				if n == 0 {
					b.Fatalf("%s: empty", c.name)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
