package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
)

// CRMBulkSummary says what CRMBulk wrote and how long it took.
type CRMBulkSummary struct {
	Customers   int `json:"customers"`
	Phones      int `json:"phones"`
	Tags        int `json:"tags"`
	Leads       int `json:"leads"`
	Assignments int `json:"assignments"`
	Followups   int `json:"followups"`
	Events      int `json:"events"`
	Rules       int `json:"rules"`
	Rows        int `json:"rows"` // every row written
	// InsertSeconds is the time spent generating and inserting (indexes
	// dropped); IndexSeconds the time spent re-creating the indexes.
	InsertSeconds float64 `json:"insertSeconds"`
	IndexSeconds  float64 `json:"indexSeconds"`
	RowsPerSec    float64 `json:"rowsPerSec"` // Rows over both
}

// bulkTables are the tables CRMBulk fills; their indexes are dropped while it
// inserts and re-created from their own CREATE statements afterwards.
var bulkTables = []string{"customer", "customer_phone", "customer_tag", "lead", "customer_assignment", "followup", "timeline_event"}

// CRMBulk writes a dealership group's customer history straight into the
// tables, for benchmarks at group scale (1M customers, 10M timeline events):
// customers, their phones (with the reversed number), tags, leads, assignment
// history, follow-ups and timeline events, plus each store's assignment rules
// (as FillCRM sets them up). Call it after Fill (ScaleGroup): owners are the
// stores' consultants and DCC agents. It writes with multi-row INSERTs in large
// transactions with the tables' indexes dropped (re-created at the end from the
// schema's own statements, so the schema is unchanged) and foreign-key checks
// off (every reference is to a row it or Fill wrote; the test checks
// foreign_key_check). It does not run ANALYZE: the app never does, so the
// benchmarks see the plans a real installation gets. The search index is
// derived data and not touched: rebuild it afterwards (findex Rebuild, the
// reindex command; the CRM benchmark does and times it).
//
// What it models, ending at now (unix ms), all reproducible from seed:
//   - time: customers created over the 3 years before now in id order, in
//     showroom hours (09:00–21:00 China time), the group growing ~15% a year;
//     weekends 1.4×, Golden Week 1.6×, September–October and December busier,
//     the Spring Festival weeks at a quarter;
//   - stores: the largest store about 3× the median (store 1 is the largest);
//     within a store the top consultants hold most customers (Zipf), online
//     leads partly owned by DCC agents; department_id is the owner's team;
//   - people: surnames by frequency (王, 李, 张 … about 7%, 6%, 5%), 2- and
//     3-character names with many duplicates, some "X先生/X女士", unique mobiles
//     (a few customers have a second mobile or a landline);
//   - funnel: about 12% become owners (ordered → delivered → owner); the others
//     are lost (F) or go dormant after weeks, except a long tail that stays an
//     active prospect; active prospects have a next follow-up by their grade's
//     cadence, about a quarter of them overdue (SLA levels set); today's new
//     leads wait for their first contact; a few are in the shared pool;
//     0.5% were merged into an earlier customer of the same store;
//   - channels, intended series/trim (the store brand's catalogue), tags on
//     ~30% of customers, 1–2 leads per customer (the second a repeat enquiry on
//     another channel), follow-ups with mixed Chinese/English notes;
//   - timeline: eventsPerCustomer on average (log-normal, a few fleet accounts
//     with hundreds), kinds and JSON data as the services write them; events are
//     inserted in time order, so a customer's entries are spread over the table
//     as in a real database. Visits and approval steps are timeline entries
//     only: no showroom_visit, approval or lost_request rows are written.
func CRMBulk(ctx context.Context, d *db.DB, customers, eventsPerCustomer int, now int64, seed uint64) (CRMBulkSummary, error) {
	var sum CRMBulkSummary
	if customers <= 0 || eventsPerCustomer < 3 {
		return sum, fmt.Errorf("demo: crm bulk: need customers > 0 and at least 3 events per customer")
	}
	stores, err := loadBulkStores(ctx, d)
	if err != nil {
		return sum, err
	}
	if sum.Rules, err = bulkRules(ctx, d, now); err != nil {
		return sum, err
	}
	start := time.Now()
	restore, err := bulkPragmas(ctx, d)
	if err != nil {
		return sum, err
	}
	defer restore()
	indexes, err := dropIndexes(ctx, d, bulkTables)
	if err != nil {
		return sum, err
	}
	g, err := newCRMGen(ctx, d, stores, customers, eventsPerCustomer, now, seed)
	if err != nil {
		return sum, err
	}
	if err := g.run(ctx, &sum); err != nil {
		return sum, err
	}
	sum.InsertSeconds = time.Since(start).Seconds()
	start = time.Now()
	for _, ix := range indexes {
		if _, err := d.W.ExecContext(ctx, ix.sql); err != nil {
			return sum, fmt.Errorf("demo: re-create index %s: %w", ix.name, err)
		}
	}
	sum.IndexSeconds = time.Since(start).Seconds()
	sum.Rows = sum.Customers + sum.Phones + sum.Tags + sum.Leads + sum.Assignments + sum.Followups + sum.Events
	sum.RowsPerSec = float64(sum.Rows) / (sum.InsertSeconds + sum.IndexSeconds)
	return sum, nil
}

// bulkPragmas makes the writer fast for a bulk load: no fsync, no foreign-key
// checks, a large page cache for the index builds, two sorter threads. The
// returned func puts back what db.Open set.
func bulkPragmas(ctx context.Context, d *db.DB) (func(), error) {
	for _, p := range []string{"synchronous = OFF", "foreign_keys = OFF", "cache_size = -1000000", "threads = 2"} {
		if _, err := d.W.ExecContext(ctx, "PRAGMA "+p); err != nil {
			return nil, fmt.Errorf("demo: pragma %s: %w", p, err)
		}
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		for _, p := range []string{"synchronous = FULL", "foreign_keys = ON", "cache_size = -16000", "threads = 0"} {
			d.W.ExecContext(ctx, "PRAGMA "+p)
		}
	}, nil
}

type namedSQL struct{ name, sql string }

// dropIndexes drops the explicit indexes of the tables and returns their CREATE
// statements (UNIQUE and PRIMARY KEY constraints stay: they have no statement).
func dropIndexes(ctx context.Context, d *db.DB, tables []string) ([]namedSQL, error) {
	args := make([]any, len(tables))
	for i, t := range tables {
		args[i] = t
	}
	rows, err := d.W.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (?`+
		strings.Repeat(",?", len(tables)-1)+`) ORDER BY rowid`, args...)
	if err != nil {
		return nil, err
	}
	var out []namedSQL
	for rows.Next() {
		var ix namedSQL
		if err := rows.Scan(&ix.name, &ix.sql); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ix := range out {
		if _, err := d.W.ExecContext(ctx, `DROP INDEX "`+ix.name+`"`); err != nil {
			return nil, fmt.Errorf("demo: drop index %s: %w", ix.name, err)
		}
	}
	return out, nil
}

// bulkRules gives every store the assignment rules FillCRM writes (online leads
// round robin in the DCC team, calls to the consultant with the fewest open
// leads, the rest weighted in the sales team), through the real service.
func bulkRules(ctx context.Context, d *db.DB, now int64) (int, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := crm.NewService(crm.Deps{DB: d, Clock: clock.NewFake(time.UnixMilli(now)), Log: log})
	list, err := storeStaff(ctx, d)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, st := range list {
		if st.dccTeam == 0 || st.salesTeam == 0 {
			continue
		}
		if err := setupStore(ctx, d, svc, auth.System("demo"), st); err != nil {
			return n, err
		}
		n += 3
	}
	return n, nil
}

type bulkUser struct {
	id, dept int64
	name     string
}

type bulkSeries struct {
	id     int64
	name   string
	models []int64
}

type bulkStore struct {
	id       int64
	city     string
	manager  int64
	sales    []bulkUser
	dcc      []bulkUser
	salesCum []int
	dccCum   []int
	series   []bulkSeries
	last     int32 // index of the store's latest customer (merge target), -1: none
}

// loadBulkStores reads each store's consultants, DCC agents, manager, city and
// the series of its brand.
func loadBulkStores(ctx context.Context, d *db.DB) ([]*bulkStore, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT s.id, s.address, s.brand, u.id, u.name, COALESCE(u.department_id, 0), r.code
		FROM store s JOIN app_user u ON u.store_id = s.id JOIN role r ON r.id = u.role_id
		WHERE r.code IN ('sales_manager', 'sales', 'dcc') AND u.status = 'active' ORDER BY s.id, u.id`)
	if err != nil {
		return nil, fmt.Errorf("demo: crm bulk: staff: %w", err)
	}
	var out []*bulkStore
	brandOf := map[int64]string{}
	for rows.Next() {
		var sid int64
		var addr, brand, role string
		var u bulkUser
		if err := rows.Scan(&sid, &addr, &brand, &u.id, &u.name, &u.dept, &role); err != nil {
			rows.Close()
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].id != sid {
			city := "杭州"
			if a, ok := strings.CutPrefix(addr, "浙江省"); ok {
				if c, _, ok := strings.Cut(a, "市"); ok {
					city = c
				}
			}
			out = append(out, &bulkStore{id: sid, city: city, last: -1})
			brandOf[sid] = brand
		}
		st := out[len(out)-1]
		switch role {
		case "sales_manager":
			st.manager = u.id
		case "sales":
			st.sales = append(st.sales, u)
		case "dcc":
			st.dcc = append(st.dcc, u)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var usable []*bulkStore
	for _, st := range out {
		if len(st.sales) == 0 {
			continue
		}
		st.salesCum, st.dccCum = zipfCum(len(st.sales), 0.8), zipfCum(len(st.dcc), 0.8)
		usable = append(usable, st)
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("demo: crm bulk needs stores with consultants: run Fill first")
	}
	series := map[string][]bulkSeries{}
	srows, err := d.R.QueryContext(ctx, `SELECT b.name, s.id, s.name, COALESCE(m.id, 0) FROM vehicle_series s JOIN vehicle_brand b ON b.id = s.brand_id
		LEFT JOIN vehicle_model m ON m.series_id = s.id ORDER BY s.id, m.id`)
	if err != nil {
		return nil, err
	}
	for srows.Next() {
		var brand, name string
		var sid, mid int64
		if err := srows.Scan(&brand, &sid, &name, &mid); err != nil {
			srows.Close()
			return nil, err
		}
		l := series[brand]
		if len(l) == 0 || l[len(l)-1].id != sid {
			l = append(l, bulkSeries{id: sid, name: name})
		}
		if mid != 0 {
			l[len(l)-1].models = append(l[len(l)-1].models, mid)
		}
		series[brand] = l
	}
	srows.Close()
	if err := srows.Err(); err != nil {
		return nil, err
	}
	for _, st := range usable {
		st.series = series[brandOf[st.id]]
	}
	return usable, nil
}

// zipfCum returns cumulative integer weights 1/(k+1)^s for k < n.
func zipfCum(n int, s float64) []int {
	out := make([]int, n)
	sum := 0
	for k := range n {
		sum += int(10000 / math.Pow(float64(k+1), s))
		out[k] = sum
	}
	return out
}

// Event kinds, as the services name them.
const (
	evLeadCreated uint8 = iota
	evLeadAttached
	evAssigned
	evFollowup
	evGrade
	evVisit
	evPooled
	evApprovalSubmitted
	evApprovalApproved
	evLost
	evDormant
	evReactivated
	evConsent
	evMerged
)

var evKinds = []string{"lead.created", "lead.attached", "customer.assigned", "followup", "customer.grade", "visit", "customer.pooled",
	"approval.submitted", "approval.approved", "customer.lost", "customer.dormant", "customer.reactivated", "customer.consent", "customer.merged"}

// bulkEvent is one timeline entry before it is written (24 bytes: 10M fit in
// 240 MB). The small fields mean different things per kind (see eventRow).
type bulkEvent struct {
	at   int64
	cust int32 // customer index
	user int32 // actor
	ref  int32 // lead index; hours to the next step; assigned-to user; merged customer index
	kind uint8
	a, b uint8
	c    uint8
}

type bulkLead struct {
	at      int64
	cust    int32
	user    int32
	series  int32
	channel uint8
	attach  bool
}

const (
	minute = int64(60 * 1000)
	hour   = 60 * minute
	day    = 24 * hour
)

var bulkChannels = []struct {
	code   string
	w      int
	online bool
	detail []string
}{
	{"walk_in", 30, false, []string{""}},
	{"autohome", 18, true, []string{"汽车之家-询底价", "汽车之家-预约试驾", "汽车之家-400电话"}},
	{"dongchedi", 14, true, []string{"懂车帝-询价", "懂车帝-直播留资"}},
	{"phone", 10, false, []string{"", "来电-114查号"}},
	{"website", 8, true, []string{"官网-预约试驾", "官网-在线询价"}},
	{"yiche", 6, true, []string{"易车-询价"}},
	{"referral", 5, false, []string{"老客户转介绍"}},
	{"wechat", 4, true, []string{"公众号留资", "视频号直播"}},
	{"auto_show", 2, false, []string{"杭州国际车展", "区域巡展"}},
	{"dcc", 1, false, []string{"DCC外呼"}},
	{"campaign", 1, false, []string{"双十一团购会", "店头试驾日"}},
	{"oem", 1, true, []string{"厂家线索下发"}},
}

var bulkTags = []struct {
	tag string
	w   int
}{{"置换", 22}, {"首购", 20}, {"二胎家庭", 12}, {"价格敏感", 12}, {"关注新能源", 10}, {"增购", 8}, {"公司用车", 6}, {"老客户转介绍", 5}, {"VIP", 3}, {"待二次邀约", 2}}

var bulkDistricts = map[string][]string{
	"杭州": {"西湖区", "余杭区", "萧山区", "拱墅区", "滨江区", "临平区"}, "宁波": {"鄞州区", "海曙区", "江北区", "北仑区"},
	"绍兴": {"越城区", "柯桥区", "上虞区"}, "嘉兴": {"南湖区", "秀洲区", "桐乡市"}, "湖州": {"吴兴区", "南浔区", "长兴县"},
	"金华": {"婺城区", "金东区", "义乌市"}, "台州": {"椒江区", "黄岩区", "路桥区"}, "温州": {"鹿城区", "瓯海区", "龙湾区"},
	"苏州": {"姑苏区", "工业园区", "吴中区"}, "无锡": {"梁溪区", "滨湖区", "新吴区"},
}

var bulkAreaCodes = []string{"0571", "0574", "0575", "0573", "0572", "0579", "0576", "0577", "0512", "0510"}

var bulkContents = []string{"电话沟通，客户关注油耗和保值率", "微信发送了车型配置表和本月优惠", "客户周末带家人到店看车", "已试驾，对动力和空间满意，在比较竞品",
	"客户询问置换旧车的评估价", "客户关注贷款方案，发送了分期计算", "客户出差中，约下周再联系", "报价后客户说要和家人商量", "客户对颜色有要求，查询了到店车源",
	"Customer asked for the brochure PDF, sent via WeChat", "客户要求 test drive 安排在周六上午", "未接通，稍后再拨", "客户表示近期不考虑购车",
	"客户对比了 RAV4 和 CR-V，倾向我们的车型", "发了 0 首付金融方案，客户说考虑一下", "客户已在竞品店交定金，尝试挽回", "老客户回访，车辆使用满意，推荐了同事"}

var bulkNextSteps = []string{"邀约周末到店试驾", "发送最新报价", "回访确认购车时间", "约二手车评估", "确认贷款资料", "send updated quote"}

var bulkMethods = []string{"phone", "phone", "phone", "wechat", "wechat", "visit", "sms"}
var bulkResults = []string{"reached", "reached", "reached", "no_answer", "invited", "visited", "not_interested", "other"}
var bulkGrades = []string{"", "H", "A", "B", "C", "O", "F"}
var bulkCadence = []int64{0, 1, 3, 7, 14, 0, 0} // days, by bulkGrades index
var bulkLostReasons = []string{"bought_competitor", "bought_same_brand_elsewhere", "price", "financing", "no_longer_buying", "unreachable", "other"}
var bulkLostBrands = []string{"本田", "丰田", "大众", "比亚迪", "特斯拉", "理想", "问界", "小米", ""}
var bulkOccupations = []string{"教师", "医生", "个体经营", "公务员", "IT工程师", "销售", "企业主", "外贸", "护士", "设计师"}
var bulkCars = []string{"2012款 卡罗拉", "2015款 朗逸", "2016款 思域", "2014款 帕萨特", "2018款 哈弗H6", "2013款 凯越", "电动车"}
var bulkColors = []string{"珍珠白", "曜石黑", "铂金银", "星光灰", "烈焰红", "海洋蓝"}
var bulkPhonePrefixes = []string{"138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "189", "177", "199", "181", "176"}

// crmGen holds the generator's state.
type crmGen struct {
	d       *db.DB
	rng     *rand.Rand
	stores  []*bulkStore
	cumSt   []int
	cumCh   []int
	cumTag  []int
	cumSur  []int
	n       int
	perCust int
	now     int64
	days    []businessHours
	cumDay  []float64
	dayIdx  int
	hourCDF []float64
	names   map[int64]string // user names (timeline actor_name, assignment "to")
	deficit float64          // events owed (or, negative, given ahead) to keep the average
	docID   int32

	// ids: each table's next id, read before anything is written
	custBase, leadBase, followupBase, eventBase int64

	phoneN, landN int64
	custStore     []int32 // store id by customer index
	leads         []bulkLead
	leadChan      []uint8 // channel by lead id − leadBase, once written
	leadSeries    []int32
	events        []bulkEvent
	w             *bulkWriter
}

func newCRMGen(ctx context.Context, d *db.DB, stores []*bulkStore, n, perCust int, now int64, seed uint64) (*crmGen, error) {
	g := &crmGen{d: d, rng: rand.New(rand.NewPCG(seed, 0x6372_6d62)), stores: stores, n: n, perCust: perCust, now: now, names: map[int64]string{}}
	for _, b := range []struct {
		table string
		dst   *int64
	}{{"customer", &g.custBase}, {"lead", &g.leadBase}, {"followup", &g.followupBase}, {"timeline_event", &g.eventBase}} {
		if err := d.R.QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) + 1 FROM `+b.table).Scan(b.dst); err != nil {
			return nil, err
		}
	}
	rows, err := d.R.QueryContext(ctx, `SELECT id, name FROM app_user`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, err
		}
		g.names[id] = name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Store sizes: 1/(k+1)^0.35 puts the largest at about 3× the median of 50.
	g.cumSt = zipfCum(len(stores), 0.35)
	sum := 0
	for _, c := range bulkChannels {
		sum += c.w
		g.cumCh = append(g.cumCh, sum)
	}
	sum = 0
	for _, t := range bulkTags {
		sum += t.w
		g.cumTag = append(g.cumTag, sum)
	}
	// Surnames are listed by frequency: 1/(rank+4) gives 王 ~7.7%, 李 ~6%, 张 ~5%.
	sum = 0
	for r := range surnames {
		sum += int(100000 / float64(r+4))
		g.cumSur = append(g.cumSur, sum)
	}
	hw := []float64{6, 10, 10, 6, 7, 10, 10, 9, 7, 5, 5, 4} // 09:00 … 20:00
	var tot float64
	for _, w := range hw {
		tot += w
		g.hourCDF = append(g.hourCDF, tot)
	}
	for i := range g.hourCDF {
		g.hourCDF[i] /= tot
	}
	g.calendar()
	g.custStore = make([]int32, 0, n)
	g.events = make([]bulkEvent, 0, n*perCust+n/8)
	g.leads = make([]bulkLead, 0, n+n/4)
	return g, nil
}

// calendar lays out the 3 years of showroom days before now with their weights.
func (g *crmGen) calendar() {
	end := time.UnixMilli(g.now).In(chinaTZ)
	first := time.Date(end.Year()-3, end.Month(), end.Day(), 0, 0, 0, 0, chinaTZ).AddDate(0, 0, 1)
	springFestival := map[int]string{2023: "01-22", 2024: "02-10", 2025: "01-29", 2026: "02-17", 2027: "02-06", 2028: "01-26"}
	var total float64
	for dd := first; !dd.After(end); dd = dd.AddDate(0, 0, 1) {
		open, close := dd.Add(9*time.Hour), dd.Add(21*time.Hour)
		if close.After(end) {
			close = end
		}
		if !close.After(open) {
			continue
		}
		w := close.Sub(open).Hours() / 12
		w *= 1 + 0.15*dd.Sub(first).Hours()/24/365 // the group grows
		switch dd.Weekday() {
		case time.Saturday, time.Sunday:
			w *= 1.4
		}
		md := dd.Format("01-02")
		switch {
		case md >= "10-01" && md <= "10-07":
			w *= 1.6
		case dd.Month() == time.September || dd.Month() == time.October || dd.Month() == time.December:
			w *= 1.15
		}
		if sf, ok := springFestival[dd.Year()]; ok {
			t, _ := time.ParseInLocation("2006-01-02", strconv.Itoa(dd.Year())+"-"+sf, chinaTZ)
			if diff := dd.Sub(t).Hours() / 24; diff >= -3 && diff <= 6 {
				w *= 0.25
			}
		}
		total += w
		g.days = append(g.days, businessHours{open: open.UnixMilli(), close: close.UnixMilli()})
		g.cumDay = append(g.cumDay, total)
	}
	for i := range g.cumDay {
		g.cumDay[i] /= total
	}
}

// createdAt spreads customer i of n over the weighted showroom hours, in order.
func (g *crmGen) createdAt(i int) int64 {
	q := (float64(i) + 0.5) / float64(g.n)
	for g.dayIdx < len(g.cumDay)-1 && g.cumDay[g.dayIdx] < q {
		g.dayIdx++
	}
	lo := 0.0
	if g.dayIdx > 0 {
		lo = g.cumDay[g.dayIdx-1]
	}
	f := (q - lo) / (g.cumDay[g.dayIdx] - lo) // position inside the day, 0..1
	h := 0
	for h < len(g.hourCDF)-1 && g.hourCDF[h] < f {
		h++
	}
	hlo := 0.0
	if h > 0 {
		hlo = g.hourCDF[h-1]
	}
	at := g.days[g.dayIdx].open + int64(h)*hour + int64((f-hlo)/(g.hourCDF[h]-hlo)*float64(hour))
	return min(at, g.days[g.dayIdx].close, g.now)
}

// phoneNo returns the n-th unique mobile: an affine bijection over prefix ×
// 10^8 numbers, so no set of used numbers is needed.
func phoneNo(n int64) string {
	const per = 100_000_000
	total := int64(len(bulkPhonePrefixes)) * per
	x := (n*982_451_653 + 123_456_789) % total
	return bulkPhonePrefixes[x/per] + fmt.Sprintf("%08d", x%per)
}

func reverseString(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

// name draws a customer's name and gender.
func (g *crmGen) name() (string, string) {
	r := g.rng
	sur := string(surnames[pick(r, g.cumSur)])
	switch x := r.IntN(100); {
	case x < 1:
		return "", ""
	case x < 9:
		return sur + "先生", "m"
	case x < 15:
		return sur + "女士", "f"
	case x < 30:
		g2 := given[r.IntN(20)]
		_, size := utf8.DecodeRuneInString(g2)
		return sur + given[r.IntN(len(given))] + g2[:size], []string{"m", "f", ""}[r.IntN(3)]
	}
	return sur + given[r.IntN(len(given))], []string{"m", "f", "", "m"}[r.IntN(4)]
}

// bulkCustomer is one customer's row before it is written.
type bulkCustomer struct {
	id                                  int64
	store                               *bulkStore
	owner                               *bulkUser
	name, phone, gender                 string
	channel                             int
	series                              int32
	model                               int64
	grade                               int
	stage, status                       string
	statusAt, orderedAt                 int64
	lostReason, lostBrand               string
	assigned, firstContact, lastContact int64
	touched, next                       int64
	slaKind                             string
	slaDue, slaNext                     int64
	slaLevel                            int
	mergedInto                          int64
	creator                             int64
	consent                             bool
	version                             int
	created, updated                    int64
}

// run generates and writes everything.
func (g *crmGen) run(ctx context.Context, sum *CRMBulkSummary) error {
	g.w = newBulkWriter(ctx, g.d)
	defer g.w.close()
	for i := range g.n {
		if err := g.customer(i, sum); err != nil {
			return err
		}
		if err := g.w.maybeCommit(); err != nil {
			return err
		}
	}
	if err := g.writeLeads(sum); err != nil {
		return err
	}
	if err := g.writeEvents(sum); err != nil {
		return err
	}
	return g.w.commit()
}

// customer generates customer i: its row, phones, tags and assignment history
// now, its leads and events for the time-ordered passes after.
func (g *crmGen) customer(i int, sum *CRMBulkSummary) error {
	r := g.rng
	st := g.stores[pick(r, g.cumSt)]
	g.custStore = append(g.custStore, int32(st.id))
	c := bulkCustomer{id: g.custBase + int64(i), store: st, channel: pick(r, g.cumCh), mergedInto: -1, created: g.createdAt(i)}
	c.name, c.gender = g.name()
	age := g.now - c.created
	ch := bulkChannels[c.channel]

	// The owner: DCC agents hold part of the online leads, consultants the rest.
	var owner bulkUser
	if ch.online && len(st.dcc) > 0 && r.IntN(4) == 0 {
		owner = st.dcc[pick(r, st.dccCum)]
	} else {
		owner = st.sales[pick(r, st.salesCum)]
	}
	c.owner = &owner
	if !ch.online {
		c.creator = owner.id // online leads are posted by the portal's API key
	}
	switch gw := r.IntN(100); {
	case gw < 8:
		c.grade = 1
	case gw < 30:
		c.grade = 2
	case gw < 65:
		c.grade = 3
	case gw < 95:
		c.grade = 4
	}
	if len(st.series) > 0 && r.IntN(100) < 85 {
		s := st.series[r.IntN(len(st.series))]
		c.series = int32(s.id)
		if len(s.models) > 0 && r.IntN(100) < 40 {
			c.model = s.models[r.IntN(len(s.models))]
		}
	}

	// The fate: a deal, lost or dormant after some weeks, the long tail of
	// open prospects, today's leads not reached yet, the pool, a merge.
	c.stage, c.status = "prospect", "active"
	end := g.now // the last activity
	pooled := false
	decide := int64(r.ExpFloat64() * 45 * float64(day))
	switch {
	case age > 8*day && r.Float64() < 0.12*min(1, float64(age)/float64(60*day)):
		deal := c.created + 7*day + int64(r.Float64()*float64(min(age-8*day, 60*day)))
		c.orderedAt, c.grade = deal, 5
		switch since := g.now - deal; {
		case since < 20*day:
			c.stage = "ordered"
			end = deal + int64(r.Float64()*float64(since))
		case since < 60*day:
			c.stage = "delivered"
			end = deal + 20*day + int64(r.Float64()*float64(since-20*day))
		default:
			c.stage = "owner"
			end = deal + 20*day + int64(r.Float64()*float64(min(since-20*day, 200*day)))
		}
	case age > 2*day && r.IntN(100) < 30:
		// never closed: followed up on the grade's cadence, or not
		if c.grade <= 1 {
			c.grade = 4
		}
	case c.created+decide < g.now-hour:
		end = c.created + max(decide, 2*hour)
		c.statusAt = end
		if r.IntN(100) < 62 {
			c.status, c.grade = "lost", 6
			c.lostReason = bulkLostReasons[r.IntN(len(bulkLostReasons))]
			c.lostBrand = bulkLostBrands[r.IntN(len(bulkLostBrands))]
		} else {
			c.status = "dormant"
		}
		pooled = r.IntN(100) < 12 && end+7*day < g.now
	}
	if c.status == "active" && c.stage == "prospect" {
		switch {
		case age < day && r.IntN(100) < 40:
			c.stage = "lead"
			end = c.created + 2*minute
		case age > 10*day && r.IntN(100) < 3:
			pooled = true // untouched: back in the shared pool
			end = c.created + 20*minute + int64(r.Float64()*float64(age-9*day))
		}
	}
	merged := false
	if st.last >= 0 && age > 2*day && r.IntN(200) == 0 {
		merged, c.mergedInto, pooled = true, g.custBase+int64(st.last), false
		c.status, c.stage = "merged", "prospect"
		c.statusAt = c.created + hour + int64(r.Float64()*float64(min(age-hour, 30*day)))
		end = c.statusAt
	}

	// Open prospects are followed up on their grade's cadence; a quarter are
	// overdue. The latest follow-up sets last_contact_at.
	if c.status == "active" && c.stage == "prospect" && !pooled {
		if cad := bulkCadence[c.grade] * day; cad > 0 {
			if r.IntN(100) < 74 {
				c.lastContact = g.now - int64(r.Float64()*float64(cad))
			} else {
				c.lastContact = g.now - cad - int64((1+r.Float64()*59)*float64(day))
			}
			c.lastContact = max(c.lastContact, c.created+10*minute)
			c.next = c.lastContact + cad
			c.slaKind, c.slaDue = "followup", c.next
			end = c.lastContact
		} else {
			end = c.created + int64(r.Float64()*float64(age))
		}
	}
	if c.stage == "lead" {
		c.slaKind, c.slaDue = "first_contact", c.created+15*minute
	}
	if c.slaDue != 0 {
		switch late := g.now - c.slaDue; {
		case late < 0:
			c.slaLevel, c.slaNext = 0, c.slaDue
		case late < 24*hour:
			c.slaLevel, c.slaNext = 1, c.slaDue+24*hour
		case late < 48*hour:
			c.slaLevel, c.slaNext = 2, c.slaDue+48*hour
		default:
			c.slaLevel = 3
		}
	}
	end = min(max(end, c.created+20*minute), g.now)

	// How many timeline entries: log-normal around the average (a few fleet
	// accounts with hundreds); young customers have fewer, and what they miss
	// is owed to the next ones so the total stays on target.
	const sigma = 0.7
	want := math.Exp(math.Log(float64(g.perCust))-sigma*sigma/2+sigma*r.NormFloat64()) + max(-2, min(g.deficit, 3))
	if r.IntN(1000) == 0 {
		want = 150 + r.Float64()*350
	}
	nEv := max(3, int(math.Round(want)))
	nEv = min(nEv, 3+int((end-c.created)/(12*hour)))
	g.deficit += float64(g.perCust) - float64(nEv)

	target := int32(i)
	if merged {
		target = st.last // timeline.Move: the entries live on the survivor
	}
	add := func(kind uint8, at, user int64, ref int32, a, b, cc uint8) {
		g.events = append(g.events, bulkEvent{at: min(at, g.now), cust: target, user: int32(user), ref: ref, kind: kind, a: a, b: b, c: cc})
	}
	g.leads = append(g.leads, bulkLead{at: c.created, cust: target, user: int32(c.creator), series: c.series, channel: uint8(c.channel)})
	add(evLeadCreated, c.created, c.creator, int32(len(g.leads)-1), 0, 0, 0)
	c.assigned = c.created + minute + int64(r.IntN(3))*minute
	add(evAssigned, c.assigned, c.creator, int32(owner.id), uint8(boolInt(c.creator == owner.id)), 0, 0)
	used := 2
	if end-c.created > 2*day && r.IntN(100) < 20 {
		at := c.created + day + int64(r.Float64()*float64(end-c.created-day))
		g.leads = append(g.leads, bulkLead{at: at, cust: target, series: c.series, channel: uint8(pick(r, g.cumCh)), attach: true})
		add(evLeadAttached, at, 0, int32(len(g.leads)-1), 0, 0, 0)
		used++
	}
	if c.orderedAt != 0 {
		add(evGrade, c.orderedAt, owner.id, 0, uint8(1+r.IntN(3)), 5, 0)
		used++
	}
	switch {
	case c.status == "lost":
		g.docID++
		add(evApprovalSubmitted, max(c.created+minute, end-3*hour), owner.id, g.docID, 0, 0, 0)
		add(evApprovalApproved, end, st.manager, g.docID, 0, 0, 0)
		add(evLost, end, st.manager, 0, uint8(slices.Index(bulkLostReasons, c.lostReason)), uint8(slices.Index(bulkLostBrands, c.lostBrand)), 0)
		used += 3
	case c.status == "dormant":
		add(evDormant, end, owner.id, 0, 0, 0, 0)
		used++
	case merged:
		add(evMerged, end, st.manager, int32(i), 0, 0, 0)
		used++
	}
	if pooled {
		add(evPooled, end+7*day, 0, int32(owner.id), 0, 0, 0)
		used++
	}
	if c.stage != "lead" && r.IntN(100) < 25 {
		c.consent = true
		add(evConsent, c.created+5*minute, owner.id, 0, 0, 0, 0)
		used++
	}
	// The rest: follow-ups, some showroom visits and grade changes between the
	// first contact and the last activity.
	if c.lastContact != 0 {
		nEv = max(nEv, used+1) // the follow-up that set last_contact_at
	}
	nFollow := 0
	if c.stage != "lead" && !merged { // a duplicate is merged within days, before anyone follows it up
		span := max(end-c.created-10*minute, minute)
		for k := used; k < nEv; k++ {
			at := c.created + 10*minute + int64(r.Float64()*float64(span))
			x := r.IntN(100)
			if k == used {
				x = 99 // the first one drawn is the latest follow-up
				if c.lastContact != 0 {
					at = c.lastContact
				} else {
					at = end
				}
			}
			switch {
			case x < 8:
				add(evVisit, at, owner.id, 0, uint8(1+r.IntN(3)), uint8(boolInt(r.IntN(3) == 0)), uint8(boolInt(r.IntN(3) == 0)))
			case x < 14:
				add(evGrade, at, owner.id, 0, uint8(1+r.IntN(4)), uint8(1+r.IntN(4)), 0)
			default:
				var nextH int32
				if r.IntN(100) < 45 {
					nextH = int32(24 + r.IntN(24*7))
				}
				if k == used && c.next != 0 {
					nextH = int32((c.next - at) / hour)
				}
				res := uint8(r.IntN(len(bulkResults)))
				if k == used {
					res = 0 // reached
				}
				add(evFollowup, at, owner.id, nextH, uint8(r.IntN(len(bulkMethods))), res, uint8(c.grade))
				nFollow++
				if k == used {
					c.lastContact = at
				}
				if bulkResults[res] != "no_answer" && (c.firstContact == 0 || at < c.firstContact) {
					c.firstContact = at
				}
			}
		}
	}
	c.version = used + nFollow
	c.updated = end

	num := phoneNo(g.phoneN)
	g.phoneN++
	c.phone = num
	if merged {
		// The duplicate's phone moved to the survivor (merge re-points it);
		// the duplicate's row keeps its own copy, without owner or deadlines.
		c.owner, c.assigned, c.firstContact, c.lastContact, c.next, c.slaKind, c.slaDue, c.slaNext, c.slaLevel = nil, 0, 0, 0, 0, "", 0, 0, 0
		if err := g.w.row(insPhone, nil, c.mergedInto, st.id, num, reverseString(num), "mobile", 0, c.created); err != nil {
			return err
		}
		sum.Phones++
		return g.writeCustomer(sum, c)
	}
	if err := g.w.row(insPhone, nil, c.id, st.id, num, reverseString(num), "mobile", 1, c.created); err != nil {
		return err
	}
	sum.Phones++
	if r.IntN(100) < 5 {
		p2, kind := "", "mobile"
		if r.IntN(2) == 0 {
			p2 = phoneNo(g.phoneN)
			g.phoneN++
		} else {
			p2, kind = bulkAreaCodes[r.IntN(len(bulkAreaCodes))]+fmt.Sprintf("%08d", (g.landN*7_654_321+12_345_678)%100_000_000), "landline"
			g.landN++
		}
		if err := g.w.row(insPhone, nil, c.id, st.id, p2, reverseString(p2), kind, 0, min(g.now, c.created+int64(r.IntN(30))*day)); err != nil {
			return err
		}
		sum.Phones++
	}
	if r.IntN(100) < 30 {
		n := 1
		if x := r.IntN(100); x < 7 {
			n = 3
		} else if x < 35 {
			n = 2
		}
		var seen [16]bool
		for range n {
			t := pick(r, g.cumTag)
			if seen[t] {
				continue
			}
			seen[t] = true
			if err := g.w.row(insTag, c.id, bulkTags[t].tag, st.id); err != nil {
				return err
			}
			sum.Tags++
		}
	}
	reason := "auto"
	if c.creator == owner.id {
		reason = "creator"
	}
	if err := g.w.row(insAssign, nil, c.id, st.id, nil, owner.id, reason, nil, nullInt(c.creator), c.assigned); err != nil {
		return err
	}
	sum.Assignments++
	if pooled {
		if err := g.w.row(insAssign, nil, c.id, st.id, owner.id, nil, "pool", nil, nil, end+7*day); err != nil {
			return err
		}
		sum.Assignments++
		c.owner, c.next, c.slaKind, c.slaDue, c.slaNext, c.slaLevel = nil, 0, "", 0, 0, 0
		c.updated = end + 7*day
	}
	c.touched = max(c.assigned, c.lastContact)
	st.last = int32(i)
	return g.writeCustomer(sum, c)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nullInt is NULL for 0.
func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func (g *crmGen) writeCustomer(sum *CRMBulkSummary, c bulkCustomer) error {
	r := g.rng
	var owner, dept any
	if c.owner != nil {
		owner, dept = c.owner.id, nullInt(c.owner.dept)
	}
	ch := bulkChannels[c.channel]
	region := "浙江省" + c.store.city + "市"
	if ds := bulkDistricts[c.store.city]; len(ds) > 0 {
		region += ds[r.IntN(len(ds))]
	}
	var birthday, occupation, wechat, idNo, car, color, timeframe, payment, visit, remark string
	var budgetMin, budgetMax int64
	if r.IntN(100) < 20 {
		birthday = fmt.Sprintf("%d-%02d-%02d", 1965+r.IntN(40), 1+r.IntN(12), 1+r.IntN(28))
	}
	if r.IntN(100) < 10 {
		occupation = bulkOccupations[r.IntN(len(bulkOccupations))]
	}
	if r.IntN(100) < 30 {
		wechat = fmt.Sprintf("wxid_%010x", r.Uint64()&0xffffffffff)
	}
	if c.orderedAt != 0 || r.IntN(100) < 3 {
		idNo = fmt.Sprintf("330%03d%d%02d%02d%03d%d", 100+r.IntN(900), 1965+r.IntN(40), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000), r.IntN(10))
	}
	if r.IntN(100) < 50 {
		budgetMin = int64(8+r.IntN(25)) * 10000 * 100
		budgetMax = budgetMin + int64(2+r.IntN(8))*10000*100
	}
	if r.IntN(100) < 30 {
		car = bulkCars[r.IntN(len(bulkCars))]
	}
	if c.model != 0 {
		color = bulkColors[r.IntN(len(bulkColors))]
	}
	if r.IntN(100) < 60 {
		timeframe = []string{"7d", "15d", "30d", "90d", "later"}[r.IntN(5)]
	}
	if r.IntN(100) < 40 {
		payment = []string{"full", "loan"}[r.IntN(2)]
	}
	if ch.code == "walk_in" {
		visit = []string{"first", "first", "return"}[r.IntN(3)]
	}
	if r.IntN(100) < 10 {
		remark = bulkContents[r.IntN(len(bulkContents))]
	}
	var series, model, merged any
	if c.series != 0 {
		series = int64(c.series)
	}
	if c.model != 0 {
		model = c.model
	}
	if c.mergedInto >= 0 {
		merged = c.mergedInto
	}
	var slaNext any
	if c.slaNext != 0 {
		slaNext = c.slaNext
	}
	sum.Customers++
	return g.w.row(insCustomer, c.id, c.store.id, owner, dept, c.name, c.phone, c.gender, birthday,
		region, "", occupation, "", wechat, idNo, budgetMin, budgetMax, car, series, model, color, timeframe, payment, boolInt(r.IntN(4) == 0),
		ch.code, ch.detail[r.IntN(len(ch.detail))], bulkGrades[c.grade], visit, c.stage, c.status, c.lostReason, c.lostBrand, nullInt(c.statusAt),
		remark, boolInt(c.consent), nullInt(c.assigned), nullInt(c.firstContact), nullInt(c.lastContact), nullInt(c.touched), nullInt(c.next),
		nullInt(c.orderedAt), c.slaKind, nullInt(c.slaDue), c.slaLevel, slaNext, merged, nullInt(c.creator), max(1, c.version), c.created, max(c.updated, c.created))
}

// writeLeads writes the leads in time order, so lead ids grow with time.
func (g *crmGen) writeLeads(sum *CRMBulkSummary) error {
	order := make([]int32, len(g.leads))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmpInt64(g.leads[a].at, g.leads[b].at) })
	pos := make([]int32, len(g.leads)) // lead index → position in time order
	g.leadChan = make([]uint8, len(g.leads))
	g.leadSeries = make([]int32, len(g.leads))
	for p, li := range order {
		l := g.leads[li]
		pos[li] = int32(p)
		g.leadChan[p], g.leadSeries[p] = l.channel, l.series
		id := g.leadBase + int64(p)
		ch := bulkChannels[l.channel]
		ext := ""
		if ch.online {
			ext = fmt.Sprintf("%s-%09d", strings.ToUpper(ch.code[:2]), id)
		}
		var series any
		if l.series != 0 {
			series = int64(l.series)
		}
		outcome := "new"
		if l.attach {
			outcome = "attached"
		}
		note := ""
		if p%7 == 0 {
			note = bulkContents[p%len(bulkContents)]
		}
		if err := g.w.row(insLead, id, int64(g.custStore[l.cust]), g.custBase+int64(l.cust), ch.code, ch.detail[p%len(ch.detail)], ext, series, note, outcome,
			nullInt(int64(l.user)), nil, nil, l.at); err != nil {
			return err
		}
		sum.Leads++
		if err := g.w.maybeCommit(); err != nil {
			return err
		}
	}
	for i := range g.events {
		if k := g.events[i].kind; k == evLeadCreated || k == evLeadAttached {
			g.events[i].ref = pos[g.events[i].ref]
		}
	}
	g.leads = nil
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeEvents writes the follow-ups and the timeline in time order.
func (g *crmGen) writeEvents(sum *CRMBulkSummary) error {
	slices.SortFunc(g.events, func(a, b bulkEvent) int {
		if c := cmpInt64(a.at, b.at); c != 0 {
			return c
		}
		return int(a.cust) - int(b.cust)
	})
	q := quoter{}
	var buf []byte
	fu := g.followupBase
	for pos, e := range g.events {
		store := int64(g.custStore[e.cust])
		cust := g.custBase + int64(e.cust)
		entity, entityID := "", int64(0)
		buf = buf[:0]
		switch e.kind {
		case evLeadCreated, evLeadAttached:
			p := int(e.ref)
			ch := bulkChannels[g.leadChan[p]]
			entity, entityID = "lead", g.leadBase+int64(p)
			buf = append(buf, `{"channel":`...)
			buf = append(buf, q.q(ch.code)...)
			buf = append(buf, `,"leadId":`...)
			buf = strconv.AppendInt(buf, entityID, 10)
			buf = append(buf, `,"note":`...)
			if p%7 == 0 {
				buf = append(buf, q.q(bulkContents[p%len(bulkContents)])...)
			} else {
				buf = append(buf, `""`...)
			}
			if s := g.leadSeries[p]; s != 0 {
				buf = append(buf, `,"seriesId":`...)
				buf = strconv.AppendInt(buf, int64(s), 10)
			}
			buf = append(buf, `,"sourceDetail":`...)
			buf = append(buf, q.q(ch.detail[p%len(ch.detail)])...)
			buf = append(buf, '}')
		case evAssigned:
			buf = append(buf, `{"from":"","reason":`...)
			buf = append(buf, q.q([]string{"auto", "creator"}[e.a])...)
			buf = append(buf, `,"to":`...)
			buf = append(buf, q.q(g.names[int64(e.ref)])...)
			buf = append(buf, '}')
		case evFollowup:
			entity, entityID = "followup", fu
			method, result := bulkMethods[e.a], bulkResults[e.b]
			content := bulkContents[int(e.at/minute)%len(bulkContents)]
			var nextAt any
			nextStep := ""
			buf = append(buf, `{"content":`...)
			buf = append(buf, q.q(content)...)
			buf = append(buf, `,"method":`...)
			buf = append(buf, q.q(method)...)
			if e.ref != 0 {
				n := e.at + int64(e.ref)*hour
				nextAt = n
				nextStep = bulkNextSteps[int(e.at/minute/7)%len(bulkNextSteps)]
				buf = append(buf, `,"nextAt":`...)
				buf = strconv.AppendInt(buf, n, 10)
			}
			buf = append(buf, `,"nextStep":`...)
			buf = append(buf, q.q(nextStep)...)
			buf = append(buf, `,"result":`...)
			buf = append(buf, q.q(result)...)
			buf = append(buf, '}')
			if err := g.w.row(insFollowup, fu, cust, store, int64(e.user), e.at, method, content, result, bulkGrades[e.c], nextStep, nextAt, nil, e.at); err != nil {
				return err
			}
			fu++
			sum.Followups++
		case evGrade:
			buf = append(buf, `{"from":`...)
			buf = append(buf, q.q(bulkGrades[e.a])...)
			buf = append(buf, `,"to":`...)
			buf = append(buf, q.q(bulkGrades[e.b])...)
			buf = append(buf, '}')
		case evVisit:
			buf = append(buf, `{"partySize":`...)
			buf = strconv.AppendInt(buf, int64(e.a), 10)
			buf = append(buf, `,"testDrive":`...)
			buf = strconv.AppendBool(buf, e.b == 1)
			buf = append(buf, `,"visit":`...)
			buf = append(buf, q.q([]string{"first", "return"}[e.c])...)
			buf = append(buf, '}')
		case evPooled:
			buf = append(buf, `{"from":`...)
			buf = append(buf, q.q(g.names[int64(e.ref)])...)
			buf = append(buf, `,"reason":"untouched"}`...)
		case evApprovalSubmitted:
			buf = append(buf, `{"docId":`...)
			buf = strconv.AppendInt(buf, int64(e.ref), 10)
			buf = append(buf, `,"docType":"crm.lost","status":"pending","step":"销售经理审批"}`...)
		case evApprovalApproved:
			buf = append(buf, `{"comment":"同意","docId":`...)
			buf = strconv.AppendInt(buf, int64(e.ref), 10)
			buf = append(buf, `,"docType":"crm.lost","final":true,"status":"approved","step":"销售经理审批"}`...)
		case evLost:
			buf = append(buf, `{"brand":`...)
			buf = append(buf, q.q(bulkLostBrands[e.b])...)
			buf = append(buf, `,"reason":`...)
			buf = append(buf, q.q(bulkLostReasons[e.a])...)
			buf = append(buf, '}')
		case evDormant:
			buf = append(buf, `{"note":"客户暂缓购车计划"}`...)
		case evConsent:
			buf = append(buf, `{"granted":true,"method":"paper"}`...)
		case evMerged:
			buf = append(buf, `{"mergedId":`...)
			buf = strconv.AppendInt(buf, g.custBase+int64(e.ref), 10)
			buf = append(buf, `,"moved":3}`...)
		}
		if err := g.w.row(insEvent, g.eventBase+int64(pos), cust, store, e.at, evKinds[e.kind], nullInt(int64(e.user)), g.names[int64(e.user)],
			entity, entityID, string(buf)); err != nil {
			return err
		}
		sum.Events++
		if err := g.w.maybeCommit(); err != nil {
			return err
		}
	}
	g.events = nil
	return nil
}

// quoter caches the JSON string literals of the generator's fixed texts.
type quoter map[string][]byte

func (q quoter) q(s string) []byte {
	if b, ok := q[s]; ok {
		return b
	}
	b, _ := json.Marshal(s)
	q[s] = b
	return b
}

// bulkTable is a table CRMBulk inserts into, with the columns it writes.
type bulkTable struct {
	name string
	cols []string
	per  int // rows per INSERT statement
}

func newBulkTable(name string, cols ...string) *bulkTable {
	return &bulkTable{name: name, cols: cols, per: min(500, 30000/len(cols))}
}

var (
	insCustomer = newBulkTable("customer", "id", "store_id", "owner_id", "department_id", "name", "phone", "gender", "birthday",
		"region", "address", "occupation", "family", "wechat", "id_no", "budget_min", "budget_max", "current_car", "series_id", "model_id", "color",
		"timeframe", "payment", "trade_in", "channel", "source_detail", "grade", "visit", "stage", "status", "lost_reason", "lost_brand", "status_at",
		"remark", "consent", "assigned_at", "first_contact_at", "last_contact_at", "touched_at", "next_followup_at", "ordered_at",
		"sla_kind", "sla_due_at", "sla_level", "sla_next_at", "merged_into", "created_by", "version", "created_at", "updated_at")
	insPhone    = newBulkTable("customer_phone", "id", "customer_id", "store_id", "phone", "phone_rev", "kind", "is_primary", "created_at")
	insTag      = newBulkTable("customer_tag", "customer_id", "tag", "store_id")
	insAssign   = newBulkTable("customer_assignment", "id", "customer_id", "store_id", "from_user", "to_user", "reason", "rule_id", "by_user", "at")
	insLead     = newBulkTable("lead", "id", "store_id", "customer_id", "channel", "source_detail", "ext_id", "series_id", "note", "outcome", "created_by", "api_key_id", "import_job_id", "created_at")
	insFollowup = newBulkTable("followup", "id", "customer_id", "store_id", "user_id", "at", "method", "content", "result", "grade", "next_step", "next_at", "task_id", "created_at")
	insEvent    = newBulkTable("timeline_event", "id", "customer_id", "store_id", "at", "kind", "actor_id", "actor_name", "entity", "entity_id", "data")
)

// bulkWriter batches rows into multi-row INSERTs (one prepared statement per
// table for full batches) inside transactions of about 200,000 rows.
type bulkWriter struct {
	ctx     context.Context
	d       *db.DB
	tx      *sql.Tx
	pending map[*bulkTable]*bulkPending
	inTx    int
}

type bulkPending struct {
	args []any
	n    int
	stmt *sql.Stmt
}

const bulkTxRows = 200_000

func newBulkWriter(ctx context.Context, d *db.DB) *bulkWriter {
	return &bulkWriter{ctx: ctx, d: d, pending: map[*bulkTable]*bulkPending{}}
}

func insertSQL(t *bulkTable, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES ")
	one := "(?" + strings.Repeat(", ?", len(t.cols)-1) + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// row queues one row; vals are in the table's column order.
func (w *bulkWriter) row(t *bulkTable, vals ...any) error {
	if len(vals) != len(t.cols) {
		return fmt.Errorf("demo: crm bulk: %s row has %d values for %d columns", t.name, len(vals), len(t.cols))
	}
	if w.tx == nil {
		tx, err := w.d.W.BeginTx(w.ctx, nil)
		if err != nil {
			return err
		}
		w.tx = tx
	}
	p := w.pending[t]
	if p == nil {
		p = &bulkPending{args: make([]any, 0, t.per*len(t.cols))}
		w.pending[t] = p
	}
	p.args = append(p.args, vals...)
	p.n++
	w.inTx++
	if p.n < t.per {
		return nil
	}
	if p.stmt == nil {
		st, err := w.tx.PrepareContext(w.ctx, insertSQL(t, t.per))
		if err != nil {
			return fmt.Errorf("demo: crm bulk: prepare %s: %w", t.name, err)
		}
		p.stmt = st
	}
	if _, err := p.stmt.ExecContext(w.ctx, p.args...); err != nil {
		return fmt.Errorf("demo: crm bulk: insert %s: %w", t.name, err)
	}
	p.args, p.n = p.args[:0], 0
	return nil
}

func (w *bulkWriter) maybeCommit() error {
	if w.inTx < bulkTxRows {
		return nil
	}
	return w.commit()
}

// commit writes the partial batches and commits the transaction.
func (w *bulkWriter) commit() error {
	if w.tx == nil {
		return nil
	}
	for t, p := range w.pending {
		if p.n > 0 {
			if _, err := w.tx.ExecContext(w.ctx, insertSQL(t, p.n), p.args...); err != nil {
				return fmt.Errorf("demo: crm bulk: insert %s: %w", t.name, err)
			}
		}
		if p.stmt != nil {
			p.stmt.Close()
		}
	}
	clear(w.pending)
	err := w.tx.Commit()
	w.tx, w.inTx = nil, 0
	if err != nil {
		return fmt.Errorf("demo: crm bulk: commit: %w", err)
	}
	return nil
}

// close rolls back what was not committed (after an error).
func (w *bulkWriter) close() {
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
}
