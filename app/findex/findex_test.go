package findex_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sq "github.com/Masterminds/squirrel"
	"github.com/labstack/echo/v4"

	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/search"
)

// env is a migrated database with a little "thing" table standing in for a
// domain's records, and the directory for the index.
type env struct {
	t   *testing.T
	db  *db.DB
	dir string
	// loadHook, when set, runs inside the load function after the records are read.
	loadHook atomic.Pointer[func()]
}

func newEnv(t *testing.T) *env {
	t.Helper()
	tmp := t.TempDir()
	d, err := db.Open(context.Background(), filepath.Join(tmp, "dealerdesk.db"), db.Options{Readers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background(), "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(`CREATE TABLE thing (
		id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL, owner_id INTEGER, department_id INTEGER,
		name TEXT NOT NULL, phone TEXT NOT NULL DEFAULT '') STRICT`); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: d, dir: filepath.Join(tmp, "search")}
}

func (e *env) docs(ctx context.Context, q db.Querier, where string, args ...any) ([]search.Doc, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, store_id, COALESCE(owner_id, 0), COALESCE(department_id, 0), name, phone FROM thing WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []search.Doc
	for rows.Next() {
		var id, s, o, d int64
		var name, phone string
		if err := rows.Scan(&id, &s, &o, &d, &name, &phone); err != nil {
			return nil, err
		}
		out = append(out, search.Doc{ID: fmt.Sprintf("thing:%d", id), Kind: "thing", StoreID: s, OwnerID: o, DepartmentID: d,
			Title: name, Subtitle: "sub", Names: []string{name}, Digits: []string{phone}})
	}
	return out, rows.Err()
}

// service returns a registered, not yet started service whose worker never ticks
// on its own (tests drain explicitly).
func (e *env) service() *findex.Service {
	s := findex.NewService(e.db, e.dir, nil, nil)
	s.Every = time.Hour
	s.Register("thing", auth.PermCustomerRead,
		func(ctx context.Context, q db.Querier, ids []int64) ([]search.Doc, error) {
			ph := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
			args := make([]any, len(ids))
			for i, id := range ids {
				args[i] = id
			}
			docs, err := e.docs(ctx, q, "id IN ("+ph+") ORDER BY id", args...)
			if h := e.loadHook.Load(); h != nil {
				(*h)()
			}
			return docs, err
		},
		func(ctx context.Context, q db.Querier, after int64, limit int) ([]search.Doc, int64, error) {
			docs, err := e.docs(ctx, q, "id > ? ORDER BY id LIMIT ?", after, limit)
			if err != nil || len(docs) == 0 {
				return docs, after, err
			}
			var last int64
			fmt.Sscanf(strings.TrimPrefix(docs[len(docs)-1].ID, "thing:"), "%d", &last)
			return docs, last, nil
		},
		findex.LinkFormat("/things/%d"))
	return s
}

func (e *env) start(s *findex.Service) *findex.Service {
	e.t.Helper()
	if err := s.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Stop() })
	waitIdle(e.t, s)
	return s
}

// waitIdle waits for a background rebuild to end.
func waitIdle(t *testing.T, s *findex.Service) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.Rebuilding() {
		if time.Now().After(deadline) {
			t.Fatal("rebuild did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// put inserts or replaces a thing and marks it, in one transaction.
func (e *env) put(id, store, owner, dept int64, name, phone string) {
	e.t.Helper()
	err := e.db.WriteTx(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT OR REPLACE INTO thing (id, store_id, owner_id, department_id, name, phone) VALUES (?, ?, NULLIF(?, 0), NULLIF(?, 0), ?, ?)`,
			id, store, owner, dept, name, phone); err != nil {
			return err
		}
		return findex.Mark(context.Background(), tx, "thing", id)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) outbox() int {
	e.t.Helper()
	var n int
	if err := e.db.R.QueryRow(`SELECT count(*) FROM search_outbox`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

var admin = auth.System("test")

func titles(t *testing.T, s *findex.Service, a auth.Actor, text string) []string {
	t.Helper()
	res, err := s.Search(context.Background(), a, text, 50)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(res.Items))
	for i, h := range res.Items {
		out[i] = h.Title
	}
	slices.Sort(out)
	return out
}

func drain(t *testing.T, s *findex.Service) int {
	t.Helper()
	n, err := s.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMark_RolledBackTransactionQueuesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start(e.service()).Stop() // see TestDrain_AppliesUpsertsAndDeletes
	s := e.start(e.service())
	boom := errors.New("validation failed later in the transaction")
	err := e.db.WriteTx(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO thing (id, store_id, name) VALUES (1, 1, '张三')`); err != nil {
			return err
		}
		if err := findex.Mark(context.Background(), tx, "thing", 1); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n := e.outbox(); n != 0 {
		t.Fatalf("outbox has %d rows after rollback", n)
	}
	if n := drain(t, s); n != 0 {
		t.Fatalf("drained %d", n)
	}
	if got := titles(t, s, admin, "张三"); len(got) != 0 {
		t.Fatalf("rolled-back record found: %v", got)
	}
	e.put(1, 1, 0, 0, "张三", "13800138000")
	if n := e.outbox(); n != 1 {
		t.Fatalf("outbox %d after commit, want 1", n)
	}
}

func TestDrain_AppliesUpsertsAndDeletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The first start builds a new index and then wakes the worker, which could
	// drain the rows below before the test looks; a second start finds the index
	// current, so only the test's own drain runs.
	e.start(e.service()).Stop()
	s := e.start(e.service())
	e.put(1, 1, 0, 0, "张三", "13800138000")
	e.put(2, 1, 0, 0, "李四", "13900139000")
	e.put(2, 1, 0, 0, "李四", "13900139000") // marked twice: loaded once, both rows cleared
	if got := titles(t, s, admin, "张"); len(got) != 0 {
		t.Fatalf("searchable before the drain: %v", got)
	}
	if n := drain(t, s); n != 3 {
		t.Fatalf("drained %d rows, want 3", n)
	}
	if e.outbox() != 0 {
		t.Fatal("outbox not cleared")
	}
	if got := titles(t, s, admin, "8000"); !slices.Equal(got, []string{"张三"}) {
		t.Fatalf("after drain: %v", got)
	}
	res, _ := s.Search(context.Background(), admin, "张三", 10)
	if len(res.Items) != 1 || res.Items[0].EntityID != 1 || res.Items[0].Link != "/things/1" || res.Items[0].Kind != "thing" || res.Total != 1 {
		t.Fatalf("hit: %+v", res)
	}

	e.put(1, 1, 0, 0, "张伟", "13800138000") // renamed
	if _, err := e.db.W.Exec(`DELETE FROM thing WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if err := findex.Mark(context.Background(), e.db.W, "thing", 2); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	if got := titles(t, s, admin, "张三"); len(got) != 0 {
		t.Fatalf("old name still found: %v", got)
	}
	if got := titles(t, s, admin, "张伟"); !slices.Equal(got, []string{"张伟"}) {
		t.Fatalf("new name: %v", got)
	}
	if got := titles(t, s, admin, "李四"); len(got) != 0 {
		t.Fatalf("deleted record found: %v", got)
	}
}

func TestDrain_KeepsRowsMarkedWhileItRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.start(e.service())
	e.put(1, 1, 0, 0, "张三", "13800138000")
	// While the drain holds the old state in memory, the record changes again and
	// is marked again; that newer row must survive the drain's cleanup.
	var once atomic.Bool
	hook := func() {
		if once.CompareAndSwap(false, true) {
			e.put(1, 1, 0, 0, "王五", "13800138000")
		}
	}
	e.loadHook.Store(&hook)
	drain(t, s)
	e.loadHook.Store(nil)
	if got := titles(t, s, admin, "王五"); !slices.Equal(got, []string{"王五"}) {
		t.Fatalf("the change made during the drain is lost: %v (outbox %d)", got, e.outbox())
	}
	if got := titles(t, s, admin, "张三"); len(got) != 0 {
		t.Fatalf("stale name: %v", got)
	}
}

func TestWake_DrainsInTheBackground(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.start(e.service())
	e.put(1, 1, 0, 0, "张三", "13800138000")
	s.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for len(titles(t, s, admin, "张三")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Wake did not drain")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRestart_DrainsLeftoversAndRebuildsANewIndex(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s1 := e.service()
	if err := s1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s1)
	e.put(1, 1, 0, 0, "张三", "13800138000") // marked, never drained: the process "dies"
	if err := s1.Stop(); err != nil {
		t.Fatal(err)
	}
	s2 := e.start(e.service())
	drain(t, s2)
	if got := titles(t, s2, admin, "张三"); !slices.Equal(got, []string{"张三"}) {
		t.Fatalf("leftover not drained after restart: %v", got)
	}

	// Records written while there was no index at all (a new data dir, or the
	// index deleted) come in through the rebuild Start begins.
	e2 := newEnv(t)
	if _, err := e2.db.W.Exec(`INSERT INTO thing (id, store_id, name, phone) VALUES (1, 1, '李四', '13900139000'), (2, 1, '王五', '13700137000')`); err != nil {
		t.Fatal(err)
	}
	s3 := e2.start(e2.service())
	if got := titles(t, s3, admin, "13"); len(got) != 0 {
		t.Fatalf("two digits should not match: %v", got)
	}
	if got := titles(t, s3, admin, "李四"); !slices.Equal(got, []string{"李四"}) {
		t.Fatalf("after the start-up rebuild: %v", got)
	}
}

func TestRebuild_FromTheDatabase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.start(e.service())
	// 2,500 records written behind findex's back (no marks): pages of 1,000.
	err := e.db.WriteTx(context.Background(), func(tx *sql.Tx) error {
		for i := 1; i <= 2500; i++ {
			if _, err := tx.Exec(`INSERT INTO thing (id, store_id, name, phone) VALUES (?, 1, ?, ?)`, i, fmt.Sprintf("客户%d", i), fmt.Sprintf("139%08d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := titles(t, s, admin, "00002500"); len(got) != 0 {
		t.Fatal("found before the rebuild")
	}
	if err := s.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := titles(t, s, admin, "00002500"); !slices.Equal(got, []string{"客户2500"}) {
		t.Fatalf("after rebuild: %v", got)
	}
	if got := titles(t, s, admin, "00000001"); !slices.Equal(got, []string{"客户1"}) {
		t.Fatalf("after rebuild, first page: %v", got)
	}

	// The console's reindex: a service never started rebuilds the closed index,
	// and refuses while the server holds it.
	offline := e.service()
	if err := offline.Rebuild(context.Background()); !errors.Is(err, search.ErrInUse) {
		t.Fatalf("offline rebuild under a running server: %v, want ErrInUse", err)
	}
	s.Stop()
	if err := offline.Rebuild(context.Background()); err != nil {
		t.Fatalf("offline rebuild: %v", err)
	}
}

func TestStart_RebuildsWhenAKindIsAdded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.db.W.Exec(`INSERT INTO thing (id, store_id, name) VALUES (1, 1, '张三')`); err != nil {
		t.Fatal(err)
	}
	s := e.service()
	s.Start(context.Background())
	waitIdle(t, s)
	s.Stop()

	// A later release registers another kind: its records must come in.
	var calls atomic.Int32
	s2 := e.service()
	s2.Register("gadget", auth.PermVehicleRead, func(context.Context, db.Querier, []int64) ([]search.Doc, error) { return nil, nil },
		func(_ context.Context, _ db.Querier, after int64, _ int) ([]search.Doc, int64, error) {
			calls.Add(1)
			if after > 0 {
				return nil, after, nil
			}
			return []search.Doc{{ID: "gadget:7", Kind: "gadget", StoreID: 1, Title: "张三的车", Names: []string{"张三"}}}, 7, nil
		})
	e.start(s2)
	if calls.Load() == 0 {
		t.Fatal("new kind not rebuilt")
	}
	if got := titles(t, s2, admin, "张三"); !slices.Equal(got, []string{"张三", "张三的车"}) {
		t.Fatalf("got %v", got)
	}
	s2.Stop()
	calls.Store(0)
	s3 := e.service()
	s3.Register("gadget", auth.PermVehicleRead, func(context.Context, db.Querier, []int64) ([]search.Doc, error) { return nil, nil },
		func(context.Context, db.Querier, int64, int) ([]search.Doc, int64, error) {
			calls.Add(1)
			return nil, 0, nil
		})
	e.start(s3)
	if calls.Load() != 0 {
		t.Fatal("rebuilt again although nothing changed")
	}
}

// TestSearch_ScopeMatchesTheSQLFilter searches as actors of every scope and
// compares with what auth.Filter lets a SQL list return on the same rows.
func TestSearch_ScopeMatchesTheSQLFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.start(e.service())
	id := int64(0)
	for store := int64(1); store <= 2; store++ {
		for dept := int64(0); dept <= 2; dept++ {
			for owner := int64(0); owner <= 3; owner++ {
				id++
				d, o := int64(0), int64(0)
				if dept > 0 {
					d = store*10 + dept
				}
				if owner > 0 {
					o = store*100 + owner
				}
				e.put(id, store, o, d, fmt.Sprintf("张%d", id), "")
			}
		}
	}
	e.put(100, 2, 101, 0, "张100", "") // user 101 (home store 1) owns one in store 2
	drain(t, s)

	perms := map[string]bool{auth.PermCustomerRead: true}
	actors := []auth.Actor{
		{UserID: 1, Scope: auth.ScopeGroup, HomeStoreID: 1, Perms: perms},
		{UserID: 2, Scope: auth.ScopeStore, HomeStoreID: 1, Perms: perms},
		{UserID: 3, Scope: auth.ScopeStore, HomeStoreID: 2, StoreID: 1, Perms: perms}, // switched store: scope stays the home store, as in SQL
		{UserID: 101, Scope: auth.ScopeTeam, HomeStoreID: 1, DepartmentID: 11, Perms: perms},
		{UserID: 101, Scope: auth.ScopeTeam, HomeStoreID: 1, Perms: perms}, // no department: own records only
		{UserID: 101, Scope: auth.ScopeOwn, HomeStoreID: 1, DepartmentID: 11, Perms: perms},
		{UserID: 999, Scope: auth.ScopeOwn, HomeStoreID: 1, Perms: perms},
		{UserID: 0, Scope: auth.ScopeOwn, HomeStoreID: 1, Perms: perms},                                         // an API key has no user
		{UserID: 1, Scope: auth.ScopeGroup, HomeStoreID: 1, Perms: map[string]bool{auth.PermVehicleRead: true}}, // no read permission
		{UserID: 1, Scope: "weird", HomeStoreID: 1, Perms: perms},
	}
	for _, a := range actors {
		where, args, err := auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "store_id", Owner: "owner_id", Department: "department_id"}).ToSql()
		if err != nil {
			t.Fatal(err)
		}
		q, qargs, _ := sq.Select("name").From("thing").Where(where, args...).OrderBy("name").ToSql()
		rows, err := e.db.R.Query(q, qargs...)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			want = append(want, n)
		}
		rows.Close()
		slices.Sort(want)
		got := titles(t, s, a, "张")
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("actor %+v:\n search %v\n SQL    %v", a, got, want)
		}
	}
}

func TestHTTP_SearchAndRebuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.start(e.service())
	e.put(1, 1, 0, 0, "张三", "13800138000")
	drain(t, s)
	routes := map[string]func(echo.Context) error{}
	for _, r := range s.Routes() {
		routes[r.Method+" "+r.Path] = r.Handler
		if r.Perm == "" {
			t.Errorf("%s %s declares no permission", r.Method, r.Path)
		}
	}
	ec := echo.New()
	call := func(method, target string) (*httptest.ResponseRecorder, error) {
		req := httptest.NewRequest(method, target, nil)
		req = req.WithContext(auth.WithActor(req.Context(), admin))
		rec := httptest.NewRecorder()
		path, _, _ := strings.Cut(target, "?")
		return rec, routes[method+" "+strings.TrimPrefix(path, "/api/v1")](ec.NewContext(req, rec))
	}
	rec, err := call(http.MethodGet, "/api/v1/search?q=zs")
	if err != nil || rec.Code != http.StatusOK {
		t.Fatalf("search: %v %d", err, rec.Code)
	}
	var res struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
	json.Unmarshal(rec.Body.Bytes(), &res)
	if len(res.Items) != 1 || res.Items[0]["entityId"] != float64(1) || res.Items[0]["link"] != "/things/1" || res.Items[0]["title"] != "张三" || res.Total != 1 {
		t.Fatalf("body %s", rec.Body)
	}
	if _, err := call(http.MethodGet, "/api/v1/search?q=zs&limit=500"); err == nil || !strings.Contains(err.Error(), "out_of_range") {
		t.Fatalf("limit 500: %v", err)
	}
	rec, err = call(http.MethodPost, "/api/v1/search/rebuild")
	if err != nil || rec.Code != http.StatusAccepted {
		t.Fatalf("rebuild: %v %d", err, rec.Code)
	}
	waitIdle(t, s)
	if got := titles(t, s, admin, "zs"); !slices.Equal(got, []string{"张三"}) {
		t.Fatalf("after HTTP rebuild: %v", got)
	}
}
