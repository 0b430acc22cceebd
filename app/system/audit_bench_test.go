package system_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dealerdesk/app"
	"dealerdesk/app/api"
	"dealerdesk/app/apptest"
	"dealerdesk/app/audit"
	"dealerdesk/app/clock"
	"dealerdesk/app/config"
	"dealerdesk/app/db"
	"dealerdesk/app/demo"
)

// The audit-log list benchmark (docs/benchmarks.md): GET /api/v1/audit over
// 1,000,000 rows, each query measured through the real HTTP server as a signed-in
// admin and as the bare SQL the service runs, with p50/p99 per operation.
//
// The data set is built once per process. Set DEALERDESK_BENCH_DIR to keep it:
// an empty or missing dir is filled and marked; a marked dir is reused as is.
// Without the variable it goes to a new temp dir, whose path is logged so the
// next run can reuse it (remove it when done: it is about 420 MB).

const (
	auditBenchRows = 1_000_000
	auditBenchMark = "audit-bench.json" // written last, so a half-built dir is never reused
	auditPageLimit = 50
)

// auditBenchInfo is what the marker file records about the generation.
type auditBenchInfo struct {
	Rows       int     `json:"rows"`
	GenSeconds float64 `json:"genSeconds"`
	RowsPerSec float64 `json:"rowsPerSec"`
	AnalyzeSec float64 `json:"analyzeSeconds"`
	DBBytes    int64   `json:"dbBytes"`
	Generator  string  `json:"generator"`
	Migrations string  `json:"migrations"` // checksums of the schema it was built with
}

// migrationsKey identifies the embedded migrations: a data set built with other
// ones would be refused by the app (edited migration) or silently migrated.
func migrationsKey() (string, error) {
	ms, err := db.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%d %s %s\n", m.Version, m.Name, m.Checksum)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

var auditBench struct {
	once sync.Once
	dir  string
	info auditBenchInfo
	err  error
}

// auditBenchData returns the prepared data dir, building it on first use.
func auditBenchData(b *testing.B) (string, auditBenchInfo) {
	b.Helper()
	auditBench.once.Do(func() {
		auditBench.dir, auditBench.info, auditBench.err = prepareAuditBench(b)
	})
	if auditBench.err != nil {
		b.Fatal(auditBench.err)
	}
	return auditBench.dir, auditBench.info
}

func prepareAuditBench(b *testing.B) (string, auditBenchInfo, error) {
	var info auditBenchInfo
	key, err := migrationsKey()
	if err != nil {
		return "", info, err
	}
	dir := os.Getenv("DEALERDESK_BENCH_DIR")
	if dir != "" {
		if raw, err := os.ReadFile(filepath.Join(dir, auditBenchMark)); err == nil {
			if err := json.Unmarshal(raw, &info); err != nil || info.Rows != auditBenchRows {
				return "", info, fmt.Errorf("%s: marker %s does not describe %d rows; empty the dir to rebuild", dir, auditBenchMark, auditBenchRows)
			}
			if info.Migrations != key {
				return "", info, fmt.Errorf("%s was built with other migrations (%s, now %s); empty the dir to rebuild", dir, info.Migrations, key)
			}
			b.Logf("reusing %s (generated %d rows in %.1f s)", dir, info.Rows, info.GenSeconds)
			return dir, info, nil
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", info, err
		}
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			return "", info, fmt.Errorf("DEALERDESK_BENCH_DIR=%s is neither empty nor a prepared data set (no %s)", dir, auditBenchMark)
		}
	} else {
		if dir, err = os.MkdirTemp("", "dealerdesk-bench-audit-"); err != nil {
			return "", info, err
		}
	}

	// The app is opened here without apptest so that it closes when generation
	// ends, not when the benchmark that happened to trigger it ends.
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir = dir
	if err := cfg.Validate(); err != nil {
		return "", info, err
	}
	a, err := app.New(ctx, cfg, app.Options{Clock: clock.NewFake(apptest.Start)})
	if err != nil {
		return "", info, err
	}
	now := apptest.Start.UnixMilli()
	if _, err := demo.Fill(ctx, a.DB, demo.ScaleDemo, now); err != nil { // what env.Demo() does
		a.Close()
		return "", info, err
	}
	start := time.Now()
	if err := demo.AuditBulk(ctx, a.DB, auditBenchRows, now); err != nil {
		a.Close()
		return "", info, err
	}
	info.GenSeconds = time.Since(start).Seconds()
	start = time.Now()
	if _, err := a.DB.W.ExecContext(ctx, `ANALYZE`); err != nil {
		a.Close()
		return "", info, err
	}
	info.AnalyzeSec = time.Since(start).Seconds()
	if _, err := a.DB.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		a.Close()
		return "", info, err
	}
	if err := a.Close(); err != nil {
		return "", info, err
	}
	st, err := os.Stat(cfg.DBPath())
	if err != nil {
		return "", info, err
	}
	info.Rows, info.RowsPerSec, info.DBBytes, info.Generator, info.Migrations = auditBenchRows, auditBenchRows/info.GenSeconds, st.Size(), "demo.AuditBulk", key
	raw, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, auditBenchMark), raw, 0o600); err != nil {
		return "", info, err
	}
	b.Logf("generated %d audit rows in %.1f s (%.0f rows/s), ANALYZE %.1f s, DB %.0f MB in %s; rerun with DEALERDESK_BENCH_DIR=%s",
		info.Rows, info.GenSeconds, info.RowsPerSec, info.AnalyzeSec, float64(info.DBBytes)/1e6, dir, dir)
	return dir, info, nil
}

// auditCase is one list query: the endpoint's query string and the SQL that
// ListAudit builds for it as a group-scope admin (squirrel writes the scope as
// "1" and the cursor before the filters; LIMIT is the page size + 1).
type auditCase struct {
	name  string
	query url.Values
	where string // after "WHERE 1"
	args  []any
	slow  bool // no index serves filter and order together (docs/benchmarks.md); left out of the concurrent mix
}

func (c auditCase) sql() string {
	return `SELECT ` + audit.Columns + ` FROM audit_log WHERE 1` + c.where + ` ORDER BY id DESC LIMIT ` + strconv.Itoa(auditPageLimit+1)
}

// auditCases picks realistic filter values from the data set.
func auditCases(b *testing.B, d *db.DB) []auditCase {
	b.Helper()
	ctx := context.Background()
	one := func(q string, args ...any) int64 {
		b.Helper()
		var v int64
		if err := d.R.QueryRowContext(ctx, q, args...).Scan(&v); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		return v
	}
	deepID := one(`SELECT max(id) FROM audit_log`) - 500_000 // page ~10,000 of 50
	busyUser := one(`SELECT user_id FROM audit_log WHERE user_id IS NOT NULL GROUP BY user_id ORDER BY count(*) DESC LIMIT 1`)
	lead := one(`SELECT CAST(entity_id AS INTEGER) FROM audit_log WHERE entity = 'lead' AND id > ? ORDER BY id LIMIT 1`, deepID)
	cst := time.FixedZone("CST", 8*3600)
	weekFrom := time.Date(2026, 6, 1, 0, 0, 0, 0, cst).UnixMilli() // a Monday half a year back
	weekTo := weekFrom + 7*24*3600*1000
	cur := api.Cursor{ID: deepID}.Encode()
	v := func(kv ...string) url.Values {
		q := url.Values{"limit": {strconv.Itoa(auditPageLimit)}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	s := func(i int64) string { return strconv.FormatInt(i, 10) }
	return []auditCase{
		{name: "first_page", query: v()},
		{name: "deep_page_500k", query: v("cursor", cur), where: ` AND id < ?`, args: []any{deepID}},
		{name: "action_rare_export", query: v("action", "export"), where: ` AND action = ?`, args: []any{"export"}},
		{name: "action_login_deep", query: v("action", "login", "cursor", cur), where: ` AND id < ? AND action = ?`, args: []any{deepID, "login"}},
		{name: "user", query: v("userId", s(busyUser)), where: ` AND user_id = ?`, args: []any{busyUser}},
		{name: "entity", query: v("entity", "customer"), where: ` AND entity = ?`, args: []any{"customer"}},
		{name: "entity_store", query: v("entity", "lead", "storeId", "2"), where: ` AND entity = ? AND store_id = ?`, args: []any{"lead", int64(2)}},
		{name: "entity_rare_store", query: v("entity", "discount", "storeId", "3"), where: ` AND entity = ? AND store_id = ?`, args: []any{"discount", int64(3)}},
		{name: "record_history", query: v("entity", "lead", "entityId", s(lead)), where: ` AND entity = ? AND entity_id = ?`, args: []any{"lead", s(lead)}},
		{name: "week", query: v("from", s(weekFrom), "to", s(weekTo)), where: ` AND at >= ? AND id >= coalesce((SELECT id FROM audit_log WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807) AND at < ? AND id <= coalesce((SELECT id FROM audit_log WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1), 0)`, args: []any{weekFrom, weekFrom, weekTo, weekTo}},
		{name: "week_user", query: v("userId", s(busyUser), "from", s(weekFrom), "to", s(weekTo)), where: ` AND user_id = ?` + ` AND at >= ? AND id >= coalesce((SELECT id FROM audit_log WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807) AND at < ? AND id <= coalesce((SELECT id FROM audit_log WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1), 0)`, args: []any{busyUser, weekFrom, weekFrom, weekTo, weekTo}},
		{name: "week_action_export", query: v("action", "export", "from", s(weekFrom), "to", s(weekTo)), where: ` AND action = ?` + ` AND at >= ? AND id >= coalesce((SELECT id FROM audit_log WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807) AND at < ? AND id <= coalesce((SELECT id FROM audit_log WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1), 0)`, args: []any{"export", weekFrom, weekFrom, weekTo, weekTo}},
	}
}

// sqlPage runs the query the way ListAudit does and returns the ids it read.
func sqlPage(ctx context.Context, d *db.DB, q string, args []any) ([]int64, error) {
	rows, err := d.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		r, err := audit.Scan(rows)
		if err != nil {
			return nil, err
		}
		ids = append(ids, r.ID)
	}
	return ids, rows.Err()
}

type auditPage struct {
	Items []struct {
		ID int64 `json:"id"`
	} `json:"items"`
	Next string `json:"next"`
}

func httpPage(c *apptest.Client, q url.Values) (auditPage, error) {
	var p auditPage
	r := c.Do(http.MethodGet, "/audit?"+q.Encode(), nil)
	if r.Status != http.StatusOK {
		return p, fmt.Errorf("GET /audit?%s: %s", q.Encode(), r)
	}
	return p, json.Unmarshal(r.Body, &p)
}

// latencies collects one duration per operation and reports p50/p99 in µs.
type latencies []time.Duration

func (l latencies) report(b *testing.B) (p50, p99 float64) {
	if len(l) == 0 {
		return 0, 0
	}
	slices.Sort(l)
	at := func(p float64) float64 {
		i := int(p*float64(len(l))+0.999999) - 1
		return float64(l[max(0, min(i, len(l)-1))].Nanoseconds()) / 1e3
	}
	p50, p99 = at(0.50), at(0.99)
	b.ReportMetric(p50, "p50-µs")
	b.ReportMetric(p99, "p99-µs")
	return p50, p99
}

// BenchmarkAuditList measures GET /api/v1/audit over 1M rows: per query, the bare
// SQL first ("sql"), then the endpoint ("http", with the ratio to the SQL p50/p99);
// then the first page without gzip, capped and full counts, and the indexed list
// queries with 4 requests in flight. Run it as docs/benchmarks.md says; it is far
// too slow for -race.
func BenchmarkAuditList(b *testing.B) {
	dir, info := auditBenchData(b)
	env := apptest.New(b, apptest.Options{Dir: dir})
	// One sign-in per run: each adds an audit row on top of the data set. Its own
	// keep-alive pool, as a browser has, so the 4-client case reuses connections
	// (http.DefaultTransport keeps only 2 idle per host).
	admin := env.As("admin")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	admin.HTTP.Transport = tr
	defer tr.CloseIdleConnections()
	d := env.App.DB
	ctx := context.Background()
	st, err := os.Stat(d.Path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("data set: %d rows generated at %.0f rows/s by %s; DB file %.0f MB", info.Rows, info.RowsPerSec, info.Generator, float64(st.Size())/1e6)

	cases := auditCases(b, d)
	for _, c := range cases {
		// The endpoint and the hand-written SQL must return the same page, or the
		// comparison means nothing.
		want, err := sqlPage(ctx, d, c.sql(), c.args)
		if err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		got, err := httpPage(admin, c.query)
		if err != nil {
			b.Fatal(err)
		}
		if len(want) > auditPageLimit {
			want = want[:auditPageLimit]
		}
		gotIDs := make([]int64, len(got.Items))
		for i, it := range got.Items {
			gotIDs[i] = it.ID
		}
		if !slices.Equal(gotIDs, want) {
			b.Fatalf("%s: endpoint returned ids %v…, SQL %v…", c.name, gotIDs[:min(3, len(gotIDs))], want[:min(3, len(want))])
		}
		if len(want) == auditPageLimit && got.Next == "" {
			b.Fatalf("%s: full page without a next cursor", c.name)
		}
	}
	if err := checkCursorWalk(admin, cases[0].query); err != nil {
		b.Fatal(err)
	}

	for _, c := range cases {
		var sqlP50, sqlP99 float64
		b.Run(c.name+"/sql", func(b *testing.B) {
			q := c.sql()
			lat := make(latencies, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				if _, err := sqlPage(ctx, d, q, c.args); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			sqlP50, sqlP99 = lat.report(b)
		})
		b.Run(c.name+"/http", func(b *testing.B) {
			path := "/audit?" + c.query.Encode()
			lat := make(latencies, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				r := admin.Do(http.MethodGet, path, nil)
				lat = append(lat, time.Since(t0))
				if r.Status != http.StatusOK {
					b.Fatalf("GET %s: %s", path, r)
				}
			}
			p50, p99 := lat.report(b)
			if sqlP50 > 0 {
				b.ReportMetric(p50/sqlP50, "p50-x-sql")
				b.ReportMetric(p99/sqlP99, "p99-x-sql")
			}
		})
	}

	// Where the endpoint's time goes beyond SQL: the same first page without gzip.
	b.Run("first_page/http_identity", func(b *testing.B) {
		path := "/audit?" + cases[0].query.Encode()
		lat := make(latencies, 0, b.N)
		for b.Loop() {
			t0 := time.Now()
			r := admin.Do(http.MethodGet, path, nil, "Accept-Encoding", "identity")
			lat = append(lat, time.Since(t0))
			if r.Status != http.StatusOK || r.Header.Get("Content-Encoding") != "" {
				b.Fatalf("GET %s: %d %q", path, r.Status, r.Header.Get("Content-Encoding"))
			}
		}
		lat.report(b)
		b.ReportMetric(float64(len(admin.Do(http.MethodGet, path, nil, "Accept-Encoding", "identity").Body)), "body-B")
	})

	// Totals: the endpoint does not count (api.List has no total). If a screen
	// wants one, a count capped at 10,001 shows "10,000+" at a bounded cost; the
	// full count is here for comparison.
	counts := []struct{ name, q string }{
		{"count_capped/action_update", `SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE action = 'update' LIMIT 10001)`},
		{"count_capped/action_export", `SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE action = 'export' LIMIT 10001)`},
		{"count_capped/entity_rare_store", `SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE entity = 'discount' AND store_id = 3 LIMIT 10001)`},
		{"count_full/action_update", `SELECT count(*) FROM audit_log WHERE action = 'update'`},
		{"count_full/all", `SELECT count(*) FROM audit_log`},
	}
	for _, c := range counts {
		b.Run(c.name+"/sql", func(b *testing.B) {
			lat := make(latencies, 0, b.N)
			var n int64
			for b.Loop() {
				t0 := time.Now()
				if err := d.R.QueryRowContext(ctx, c.q).Scan(&n); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			lat.report(b)
			b.ReportMetric(float64(n), "rows")
		})
	}

	// Four requests at a time cycling through the indexed list queries (the reader
	// pool has 4 connections); client and server share the 2 CPUs.
	b.Run("mixed_4_clients/http", func(b *testing.B) {
		var fast []string
		for _, c := range cases {
			if !c.slow {
				fast = append(fast, "/audit?"+c.query.Encode())
			}
		}
		var mu sync.Mutex
		var turn atomic.Int64
		lat := make(latencies, 0, b.N)
		b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 goroutines, like four tabs of one browser
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			mine := make(latencies, 0, 1024)
			for pb.Next() {
				path := fast[turn.Add(1)%int64(len(fast))]
				t0 := time.Now()
				r := admin.Do(http.MethodGet, path, nil)
				mine = append(mine, time.Since(t0))
				if r.Status != http.StatusOK {
					b.Errorf("GET %s: %s", path, r)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "req/s")
		lat.report(b)
	})
}

// checkCursorWalk follows next cursors for a few pages and checks they join up:
// the deep-page case uses a hand-made cursor, which is only fair if it is what
// the endpoint itself hands out.
func checkCursorWalk(c *apptest.Client, q url.Values) error {
	var last int64
	for page := 0; page < 5; page++ {
		p, err := httpPage(c, q)
		if err != nil {
			return err
		}
		if len(p.Items) != auditPageLimit || p.Next == "" {
			return fmt.Errorf("page %d: %d items, next %q", page, len(p.Items), p.Next)
		}
		if last != 0 && p.Items[0].ID != last-1 {
			return fmt.Errorf("page %d starts at %d after %d", page, p.Items[0].ID, last)
		}
		last = p.Items[len(p.Items)-1].ID
		cur, err := api.ParseCursor(p.Next)
		if err != nil || cur != (api.Cursor{ID: last}) {
			return errors.Join(fmt.Errorf("page %d: next cursor %q is not {id: %d}", page, p.Next, last), err)
		}
		q = withParam(q, "cursor", p.Next)
	}
	return nil
}

// withParam returns a copy of q with k set to v.
func withParam(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for kk, vv := range q {
		out[kk] = slices.Clone(vv)
	}
	out.Set(k, v)
	return out
}
