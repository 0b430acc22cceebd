package demo

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"time"

	"dealerdesk/app/approval"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/notify"
	"dealerdesk/app/task"
)

// CRMSummary says what FillCRM created.
type CRMSummary struct {
	Customers int
	Leads     int
	Followups int
	Rules     int
	Visits    int
}

// FillCRM adds leads and customers to the demo stores as a real store would have
// them after six weeks: assignment rules, leads from every channel arriving at
// store hours, follow-ups with grade changes, next steps as tasks, lost requests
// (decided and pending), customers back in the pool, and today's showroom log. It
// drives the real CRM services on a simulated clock, so every record, timeline
// entry and notification is what the product itself would have written.
func FillCRM(ctx context.Context, d *db.DB, now time.Time, perStore int) (CRMSummary, error) {
	var sum CRMSummary
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := now.AddDate(0, 0, -42)
	fc := clock.NewFake(start)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	nt := notify.NewService(d, fc, log)
	ap := approval.NewService(d, nt, fc, log)
	tk := task.NewService(d, nt, fc, log)
	svc := crm.NewService(crm.Deps{DB: d, Clock: fc, Log: log, Notify: nt, Approval: ap, Tasks: tk})
	sys := auth.System("demo")
	rng := rand.New(rand.NewPCG(20261123, 7))

	// Thousands of small transactions: without an fsync each the demo takes
	// seconds instead of tens of seconds. A crash mid-way leaves a demo to redo,
	// nothing of value; full durability is back when FillCRM returns.
	if _, err := d.W.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
		return sum, err
	}
	defer d.W.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`)
	stores, err := storeStaff(ctx, d)
	if err != nil {
		return sum, err
	}
	type event struct {
		at  time.Time
		run func() error
	}
	var events []event
	add := func(at time.Time, fn func() error) { events = append(events, event{at, fn}) }
	channels := []struct {
		code string
		w    int
	}{{"walk_in", 30}, {"autohome", 18}, {"dongchedi", 14}, {"phone", 10}, {"website", 10}, {"yiche", 6}, {"referral", 5}, {"wechat", 4}, {"auto_show", 3}}
	pickChannel := func() string {
		n := rng.IntN(100)
		for _, c := range channels {
			if n < c.w {
				return c.code
			}
			n -= c.w
		}
		return "walk_in"
	}
	contents := []string{"电话沟通，客户关注油耗和保值率", "微信发送了车型配置表和本月优惠", "客户周末带家人到店看车", "已试驾，对动力和空间满意，在比较竞品",
		"客户询问置换旧车的评估价", "客户关注贷款方案，发送了分期计算", "客户出差中，约下周再联系", "报价后客户说要和家人商量", "客户对颜色有要求，查询了到店车源"}
	nextSteps := []string{"邀约周末到店试驾", "发送最新报价", "回访确认购车时间", "约二手车评估", "确认贷款资料"}
	series, err := seriesIDs(ctx, d)
	if err != nil {
		return sum, err
	}
	for _, st := range stores {
		if err := setupStore(ctx, d, svc, sys, st); err != nil {
			return sum, err
		}
		sum.Rules += 3
		st := st
		for i := 0; i < perStore; i++ {
			day := start.AddDate(0, 0, rng.IntN(42))
			local := day.In(loc)
			at := time.Date(local.Year(), local.Month(), local.Day(), 9+rng.IntN(11), rng.IntN(60), 0, 0, loc)
			if at.After(now) {
				at = now.Add(-time.Duration(rng.IntN(120)+5) * time.Minute)
			}
			ch := pickChannel()
			consultant := st.sales[rng.IntN(len(st.sales))]
			in := crm.LeadInput{StoreID: st.id, Phone: randomPhone(rng), Name: randomName(rng), Channel: ch, Region: regions[rng.IntN(len(regions))]}
			if len(series[st.brand]) > 0 {
				sid := series[st.brand][rng.IntN(len(series[st.brand]))]
				in.SeriesID = &sid
			}
			if rng.IntN(3) == 0 {
				in.Tags = []string{tags[rng.IntN(len(tags))]}
			}
			actor := st.dccActor
			if ch == "walk_in" {
				in.Assign, in.Grade, in.Visit = "me", []string{"H", "A", "B"}[rng.IntN(3)], "first"
				actor = st.actors[consultant]
			}
			c := &simCustomer{}
			fate := rng.IntN(100)
			add(at, func() error {
				fc.Set(at)
				res, err := svc.CreateLead(ctx, actor, in)
				if err != nil {
					return fmt.Errorf("demo: lead: %w", err)
				}
				sum.Leads++
				if res.Outcome == "new" {
					sum.Customers++
				}
				c.id = res.CustomerID
				return nil
			})
			// Follow-ups over the following days, by whoever owns the customer then.
			// Most are followed up every few days; some are dropped (and go back
			// to the pool after the store's pool days).
			n := 1 + rng.IntN(3)
			switch {
			case fate < 8:
				n = 0
			case fate < 75:
				n = 99 // until today
			}
			t := at.Add(time.Duration(10+rng.IntN(50)) * time.Minute)
			for k := 0; k < n && t.Before(now); k++ {
				tt := t
				last := k == n-1 || t.Add(160*time.Hour).After(now)
				add(tt, func() error {
					fc.Set(tt)
					owner, err := ownerOf(ctx, d, c.id)
					if err != nil || owner == 0 {
						return err
					}
					in := crm.FollowupInput{Method: []string{"phone", "wechat", "phone", "visit"}[rng.IntN(4)], Content: contents[rng.IntN(len(contents))],
						Result: []string{"reached", "reached", "invited", "no_answer"}[rng.IntN(4)], Grade: []string{"H", "A", "B", "C", ""}[rng.IntN(5)]}
					if last && fate < 80 {
						next := tt.Add(time.Duration(24+rng.IntN(96)) * time.Hour).UnixMilli()
						in.NextStep, in.NextAt = nextSteps[rng.IntN(len(nextSteps))], &next
					}
					if _, err := svc.AddFollowup(ctx, stores.actor(owner), c.id, in); err != nil {
						return fmt.Errorf("demo: follow-up: %w", err)
					}
					sum.Followups++
					return nil
				})
				t = t.Add(time.Duration(30+rng.IntN(130)) * time.Hour)
			}
			// Some customers are lost: most requests decided, a few still waiting.
			if fate >= 88 && t.Before(now) {
				tt := t
				add(tt, func() error {
					fc.Set(tt)
					owner, err := ownerOf(ctx, d, c.id)
					if err != nil || owner == 0 {
						return err
					}
					req, err := svc.RequestLost(ctx, stores.actor(owner), c.id, crm.LostInput{Reason: []string{"bought_competitor", "price", "no_longer_buying", "financing"}[rng.IntN(4)], Brand: "本田", Note: "客户已决定"})
					if err != nil {
						return nil // not active any more, or already requested: skip
					}
					if fate >= 95 {
						return nil // left pending for the manager's inbox
					}
					fc.Advance(3 * time.Hour)
					_, err = ap.Approve(ctx, st.actors[st.manager], req.ApprovalID, approval.ActInput{Comment: "同意"})
					return err
				})
			}
		}
		// Today's showroom traffic.
		for i := 0; i < 6; i++ {
			local := now.In(loc)
			at := time.Date(local.Year(), local.Month(), local.Day(), 9, 30, 0, 0, loc).Add(time.Duration(i*50) * time.Minute)
			if at.After(now) {
				break
			}
			consultant := st.sales[i%len(st.sales)]
			vin := crm.VisitInput{StoreID: st.id, ArrivedAt: at.UnixMilli(), PartySize: 1 + rng.IntN(3), Visit: []string{"first", "return"}[rng.IntN(2)], ConsultantID: &consultant, TestDrive: rng.IntN(3) == 0}
			if i%3 != 2 {
				vin.Phone, vin.Name = randomPhone(rng), randomName(rng)
			}
			tt := at
			add(tt, func() error {
				fc.Set(tt)
				if _, err := svc.LogVisit(ctx, st.dccActor, vin); err != nil {
					return fmt.Errorf("demo: visit: %w", err)
				}
				sum.Visits++
				return nil
			})
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	day := start
	for _, e := range events {
		for e.at.Sub(day) > 24*time.Hour { // the daily checks the scheduler would have run
			day = day.Add(24 * time.Hour)
			fc.Set(day)
			if _, err := svc.RunSLA(ctx); err != nil {
				return sum, err
			}
			if _, err := svc.RunPoolReturn(ctx); err != nil {
				return sum, err
			}
		}
		if err := e.run(); err != nil {
			return sum, err
		}
	}
	fc.Set(now)
	if _, err := svc.RunSLA(ctx); err != nil {
		return sum, err
	}
	if _, err := svc.RunPoolReturn(ctx); err != nil {
		return sum, err
	}
	// What happened before yesterday has been seen.
	err = d.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE notification SET read_at = created_at WHERE created_at < ? AND read_at IS NULL`, now.Add(-24*time.Hour).UnixMilli())
		return err
	})
	return sum, err
}

var regions = []string{"浙江省杭州市西湖区", "浙江省杭州市余杭区", "浙江省杭州市萧山区", "浙江省宁波市鄞州区", "浙江省绍兴市越城区", "浙江省嘉兴市南湖区", "浙江省湖州市吴兴区"}
var tags = []string{"二胎家庭", "置换", "首购", "增购", "公司用车", "关注新能源", "价格敏感"}

type simCustomer struct{ id int64 }

type demoStore struct {
	id        int64
	brand     string
	manager   int64
	sales     []int64
	dccTeam   int64
	salesTeam int64
	dccActor  auth.Actor
	actors    map[int64]auth.Actor
}

type storeList []*demoStore

func (l storeList) actor(id int64) auth.Actor {
	for _, s := range l {
		if a, ok := s.actors[id]; ok {
			return a
		}
	}
	return auth.System("demo")
}

// storeStaff loads each store's sales manager, consultants and first DCC agent.
func storeStaff(ctx context.Context, d *db.DB) (storeList, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT s.id, s.brand, u.id, r.code, COALESCE(u.department_id, 0) FROM store s JOIN app_user u ON u.store_id = s.id JOIN role r ON r.id = u.role_id
		WHERE r.code IN ('sales_manager', 'sales', 'dcc') AND u.status = 'active' ORDER BY s.id, u.id`)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*demoStore{}
	var out storeList
	type row struct {
		store, user, dept int64
		brand, role       string
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.store, &r.brand, &r.user, &r.role, &r.dept); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, r)
	}
	rows.Close()
	for _, r := range list {
		st := byID[r.store]
		if st == nil {
			st = &demoStore{id: r.store, brand: r.brand, actors: map[int64]auth.Actor{}}
			byID[r.store] = st
			out = append(out, st)
		}
		a, err := auth.ActorOf(ctx, d.R, r.user)
		if err != nil {
			return nil, err
		}
		st.actors[r.user] = a
		switch r.role {
		case "sales_manager":
			st.manager, st.salesTeam = r.user, r.dept
		case "sales":
			st.sales = append(st.sales, r.user)
			st.salesTeam = r.dept
		case "dcc":
			if st.dccTeam == 0 {
				st.dccActor, st.dccTeam = a, r.dept
			}
		}
	}
	return out, nil
}

// setupStore names the team managers and writes the store's assignment rules:
// online leads to the DCC team in its hours, calls to the consultant with the
// fewest open leads, everything else round robin in the sales team.
func setupStore(ctx context.Context, d *db.DB, svc *crm.Service, sys auth.Actor, st *demoStore) error {
	err := d.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE department SET manager_id = ? WHERE id = ?`, st.manager, st.salesTeam)
		return err
	})
	if err != nil {
		return err
	}
	from, to := 8*60+30, 21*60
	rules := []crm.RuleInput{
		{StoreID: st.id, Name: "线上线索（DCC 首呼）", Enabled: true, Channels: []string{"autohome", "dongchedi", "yiche", "website", "wechat"}, TimeFrom: &from, TimeTo: &to,
			TargetKind: "team", DepartmentID: &st.dccTeam, Strategy: "round_robin"},
		{StoreID: st.id, Name: "来电客户", Enabled: true, Channels: []string{"phone"}, TargetKind: "team", DepartmentID: &st.salesTeam, Strategy: "fewest_open"},
		{StoreID: st.id, Name: "其他线索", Enabled: true, Channels: []string{"walk_in", "referral", "campaign", "other", "dcc"}, TargetKind: "team", DepartmentID: &st.salesTeam, Strategy: "weighted"},
	}
	for _, r := range rules {
		if _, err := svc.CreateRule(ctx, sys, r); err != nil {
			return fmt.Errorf("demo: rule %s: %w", r.Name, err)
		}
	}
	return nil
}

func ownerOf(ctx context.Context, d *db.DB, id int64) (int64, error) {
	var o sql.NullInt64
	err := d.R.QueryRowContext(ctx, `SELECT owner_id FROM customer WHERE id = ? AND status = 'active'`, id).Scan(&o)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return o.Int64, err
}

// seriesIDs maps brand names to their series ids.
func seriesIDs(ctx context.Context, d *db.DB) (map[string][]int64, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT b.name, s.id FROM vehicle_series s JOIN vehicle_brand b ON b.id = s.brand_id ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]int64{}
	for rows.Next() {
		var b string
		var id int64
		if err := rows.Scan(&b, &id); err != nil {
			return nil, err
		}
		out[b] = append(out[b], id)
	}
	return out, rows.Err()
}

func randomPhone(rng *rand.Rand) string {
	prefixes := []string{"138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "189", "177", "199", "181", "176"}
	return prefixes[rng.IntN(len(prefixes))] + fmt.Sprintf("%08d", rng.IntN(100000000))
}

func randomName(rng *rand.Rand) string {
	n := string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))]
	if rng.IntN(5) == 0 {
		return n[:len(string(surnames[0]))] + "先生"
	}
	return n
}

// leadsPerStore is the demo's six weeks of leads per store, by scale.
func leadsPerStore(s Scale) int {
	switch s {
	case ScaleStore:
		return 400
	case ScaleGroup:
		return 60
	}
	return 160
}

// FillAll creates the organisation (Fill) and then the CRM data (FillCRM).
func FillAll(ctx context.Context, d *db.DB, scale Scale, now time.Time) (Summary, CRMSummary, error) {
	sum, err := Fill(ctx, d, scale, now.UnixMilli())
	if err != nil {
		return sum, CRMSummary{}, err
	}
	c, err := FillCRM(ctx, d, now, leadsPerStore(scale))
	if err != nil {
		return sum, c, err
	}
	if _, err = FillStock(ctx, d, now, 36); err != nil {
		return sum, c, err
	}
	return sum, c, FillSales(ctx, d, now)
}
