package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"dealerdesk/app/audit"
	"dealerdesk/app/db"
)

// AuditBulk appends n audit rows that look like a year of a dealership group's
// real log, for benchmarks over large tables. The rows are written by audit.Write,
// so the hash chain is the real one and `audit verify` passes; audit.Write's two
// statements are prepared once per 50,000-row transaction instead of parsed per
// row. On the 2-vCPU reference VM 1M rows took 34–53 s (19–30k rows/s, depending
// on what else ran); most of that is SQLite maintaining the audit indexes.
//
// What it models, ending at now:
//   - time: rows in id order (the log is append-only) and in business hours
//     08:30–21:00 China time; weekends 1.3× busier, the Spring Festival week at a
//     fifth, Golden Week 1.6×;
//   - who: the existing app_user rows (so call it after Fill), each acting in
//     their home store; sales and DCC staff write most, managers and admin little;
//   - what: mostly updates and creates of leads, follow-ups, customers and repair
//     orders, sign-ins and sign-outs, a few phone unmaskings, attachments,
//     exports, deletes and failed sign-ins (see auditMix for the shares).
func AuditBulk(ctx context.Context, d *db.DB, n int, now int64) error {
	actors, err := loadActors(ctx, d)
	if err != nil {
		return err
	}
	g := newAuditGen(actors, n, now)
	const batch = 50000
	for done := 0; done < n; {
		k := min(batch, n-done)
		err := d.WriteTx(ctx, func(tx *sql.Tx) error {
			q := &stmtCache{tx: tx, m: map[string]*sql.Stmt{}}
			defer q.close()
			for i := 0; i < k; i++ {
				if err := audit.Write(ctx, q, g.entry(done+i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("demo: audit bulk at row %d: %w", done, err)
		}
		done += k
	}
	return nil
}

// stmtCache is a db.Querier over one transaction that prepares each distinct
// query once, so audit.Write's two statements skip SQLite's parser (about 40% of
// a per-row write's time at 100k rows).
type stmtCache struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return c.tx.QueryRowContext(ctx, query, args...) // *sql.Row carries the same error to Scan
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *stmtCache) close() {
	for _, st := range c.m {
		st.Close()
	}
}

// actor is one user who writes audit rows.
type actor struct {
	id       int64
	store    int64
	name     string // as auth.Actor.Who writes it: "名字 (username)"
	username string
	weight   int
}

// roleWeight is how many audit rows a role writes relative to the others.
var roleWeight = map[string]int{
	"sales": 10, "dcc": 10, "service_advisor": 8, "parts": 4, "finance": 4, "sales_manager": 5,
	"technician": 2, "marketing": 3, "hr": 2, "gm": 2, "admin": 1,
}

func loadActors(ctx context.Context, d *db.DB) ([]actor, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT u.id, u.store_id, u.name, u.username, r.code FROM app_user u JOIN role r ON r.id = u.role_id ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("demo: load users: %w", err)
	}
	defer rows.Close()
	var out []actor
	for rows.Next() {
		var a actor
		var role string
		if err := rows.Scan(&a.id, &a.store, &a.name, &a.username, &role); err != nil {
			return nil, err
		}
		if a.name != a.username {
			a.name += " (" + a.username + ")"
		}
		a.weight = max(1, roleWeight[role])
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("demo: audit bulk needs users: run Fill first")
	}
	return out, nil
}

// auditMix is the share of each action per 1,000 rows, and the entities it touches.
var auditMix = []struct {
	action   string
	per1000  int
	entities []string // picked uniformly; repeat a name to weight it
}{
	{"update", 430, []string{"lead", "lead", "lead", "customer", "customer", "follow_up", "repair_order", "repair_order", "vehicle", "order", "quote", "task"}},
	{"create", 220, []string{"follow_up", "follow_up", "follow_up", "lead", "lead", "customer", "repair_order", "repair_order", "quote", "task", "order"}},
	{"login", 130, []string{"user"}},
	{"logout", 60, []string{"user"}},
	{"reveal", 50, []string{"customer", "customer", "lead"}},
	{"upload", 40, []string{"customer", "repair_order", "order", "vehicle"}},
	{"switch_store", 20, []string{"store"}},
	{"login_failed", 15, []string{"user"}},
	{"delete", 15, []string{"follow_up", "task", "attachment", "quote"}},
	{"approve", 10, []string{"quote", "order", "discount"}},
	{"export", 6, []string{"lead", "customer", "repair_order"}},
	{"password_change", 4, []string{"user"}},
}

// entityIDs is how many records of each kind exist, so entity ids repeat the way
// a record's history does.
var entityIDs = map[string]int{
	"lead": 90000, "customer": 60000, "follow_up": 400000, "repair_order": 55000, "vehicle": 30000, "order": 4000,
	"quote": 9000, "task": 60000, "attachment": 40000, "discount": 2000,
}

var stages = []string{"new", "contacted", "invited", "visited", "test_drive", "quoted", "won", "lost"}

type auditGen struct {
	rng     *rand.Rand
	actors  []actor
	cum     []int // cumulative actor weights
	n       int
	days    []businessHours
	cumDay  []float64
	dayIdx  int
	actions []int // cumulative per1000
}

type businessHours struct {
	open, close int64 // unix ms of the business hours, China time
}

var chinaTZ = time.FixedZone("CST", 8*3600)

func newAuditGen(actors []actor, n int, now int64) *auditGen {
	g := &auditGen{rng: rand.New(rand.NewPCG(2026, uint64(n))), actors: actors, n: n}
	sum := 0
	for _, a := range actors {
		sum += a.weight
		g.cum = append(g.cum, sum)
	}
	end := time.UnixMilli(now).In(chinaTZ)
	first := time.Date(end.Year()-1, end.Month(), end.Day(), 0, 0, 0, 0, chinaTZ).AddDate(0, 0, 1)
	var total float64
	for day := first; !day.After(end); day = day.AddDate(0, 0, 1) {
		open, close := day.Add(8*time.Hour+30*time.Minute), day.Add(21*time.Hour)
		if close.After(end) { // today: only the hours up to now
			close = end
		}
		if !close.After(open) {
			continue
		}
		w := close.Sub(open).Hours() / 12.5
		switch day.Weekday() {
		case time.Saturday, time.Sunday:
			w *= 1.3
		}
		if md := day.Format("01-02"); md >= "10-01" && md <= "10-07" {
			w *= 1.6 // Golden Week
		}
		if day.Year() == 2026 && day.Month() == time.February && day.Day() >= 15 && day.Day() <= 23 {
			w *= 0.2 // Spring Festival 2026; other years' dates are not modelled
		}
		total += w
		g.days = append(g.days, businessHours{open: open.UnixMilli(), close: close.UnixMilli()})
		g.cumDay = append(g.cumDay, total)
	}
	for i := range g.cumDay {
		g.cumDay[i] /= total
	}
	s := 0
	for _, m := range auditMix {
		s += m.per1000
		g.actions = append(g.actions, s)
	}
	return g
}

// at spreads row i of n over the business hours of the weighted days, in order.
func (g *auditGen) at(i int) int64 {
	q := (float64(i) + 0.5) / float64(g.n)
	for g.dayIdx < len(g.cumDay)-1 && g.cumDay[g.dayIdx] < q {
		g.dayIdx++
	}
	lo := 0.0
	if g.dayIdx > 0 {
		lo = g.cumDay[g.dayIdx-1]
	}
	f := (q - lo) / (g.cumDay[g.dayIdx] - lo) // position inside the day, 0..1
	d := g.days[g.dayIdx]
	return d.open + int64(f*float64(d.close-d.open))
}

func (g *auditGen) entry(i int) audit.Entry {
	r := g.rng
	a := g.actors[pick(r, g.cum)]
	m := auditMix[pick(r, g.actions)]
	entity := m.entities[r.IntN(len(m.entities))]
	e := audit.Entry{
		Who: audit.Who{UserID: a.id, UserName: a.name, IP: fmt.Sprintf("10.%d.%d.%d", a.store, 1+r.IntN(4), 10+r.IntN(200)),
			RequestID: requestID(r), StoreID: a.store},
		At: g.at(i), Action: m.action, Entity: entity,
	}
	if k := entityIDs[entity]; k > 0 {
		e.EntityID = strconv.Itoa(1 + r.IntN(k))
	}
	switch m.action {
	case "login", "logout", "password_change":
		e.EntityID = strconv.FormatInt(a.id, 10)
	case "switch_store":
		e.EntityID = strconv.Itoa(1 + r.IntN(3))
	case "login_failed":
		e.Who.UserID, e.Who.UserName = 0, a.username
		e.EntityID = strconv.FormatInt(a.id, 10)
		e.Result = "bad_credentials"
	case "update":
		from := r.IntN(len(stages) - 1)
		e.Before = json.RawMessage(`{"stage":"` + stages[from] + `","ownerId":` + strconv.FormatInt(a.id, 10) + `}`)
		e.After = json.RawMessage(`{"stage":"` + stages[from+1] + `","ownerId":` + strconv.FormatInt(a.id, 10) + `,"note":"客户已到店试驾，意向较强"}`)
	case "create":
		e.After = json.RawMessage(`{"source":"汽车之家","model":"凯美瑞 2.0E","phone":"138****` + fmt.Sprintf("%04d", r.IntN(10000)) + `"}`)
	case "reveal":
		e.After = json.RawMessage(`{"field":"phone"}`)
	case "upload":
		e.After = json.RawMessage(`{"name":"行驶证.jpg","size":` + strconv.Itoa(100000+r.IntN(3000000)) + `}`)
	case "export":
		e.After = json.RawMessage(`{"rows":` + strconv.Itoa(50+r.IntN(20000)) + `,"format":"xlsx"}`)
	case "approve":
		e.After = json.RawMessage(`{"step":1,"decision":"approved"}`)
	}
	return e
}

// pick returns an index drawn with the weights whose running sums are cum.
func pick(r *rand.Rand, cum []int) int {
	x := r.IntN(cum[len(cum)-1])
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

const reqIDChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// requestID looks like echo's RequestID middleware output (32 random characters).
func requestID(r *rand.Rand) string {
	var b [32]byte
	for i := range b {
		b[i] = reqIDChars[r.IntN(len(reqIDChars))]
	}
	return string(b[:])
}
