package crm

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"dealerdesk/app/apperr"
	"dealerdesk/app/sheet"
)

// The fields a sheet column can feed, with the headers that mean them in the
// sheets dealerships actually get: their own customer lists and the portals'
// lead exports. SuggestMapping compares without case, width and punctuation, and
// also matches a header containing an alias ("手机号码（必填）"), so broad words
// such as 客户 or 时间 are left out: they would claim 客户ID or 下单时间.
var importFields = []sheet.Field{
	{Key: "phone", Aliases: []string{"手机", "手机号", "手机号码", "联系电话", "电话", "电话号码", "联系方式", "mobile", "phone", "tel"}},
	{Key: "name", Aliases: []string{"姓名", "客户姓名", "客户名称", "客户名", "名字", "联系人", "name"}},
	{Key: "channel", Aliases: []string{"来源", "渠道", "线索来源", "客户来源", "来源渠道", "source", "channel"}},
	{Key: "series", Aliases: []string{"意向车型", "车系", "车型", "意向车系", "series"}},
	{Key: "region", Aliases: []string{"地区", "城市", "区域", "所在地", "所在城市", "省市", "region", "city"}},
	{Key: "grade", Aliases: []string{"级别", "意向级别", "客户级别", "等级", "grade", "level"}},
	{Key: "note", Aliases: []string{"备注", "说明", "note", "remark"}},
	{Key: "tags", Aliases: []string{"标签", "tags", "tag"}},
	{Key: "owner", Aliases: []string{"顾问", "销售顾问", "负责人", "跟进人", "所属顾问", "owner", "consultant"}},
	{Key: "createdAt", Aliases: []string{"创建时间", "留资时间", "日期", "线索时间", "下发时间", "date", "created", "createdAt"}},
	{Key: "extId", Aliases: []string{"线索ID", "线索编号", "编号", "extId"}},
	{Key: "gender", Aliases: []string{"性别", "gender", "sex"}},
	{Key: "wechat", Aliases: []string{"微信", "微信号", "wechat"}},
}

// ImportFieldKeys are the target fields of an import, in the order the mapping
// page lists them.
func ImportFieldKeys() []string {
	out := make([]string, len(importFields))
	for i, f := range importFields {
		out[i] = f.Key
	}
	return out
}

func importFieldKnown(key string) bool {
	for _, f := range importFields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// channelWords turn what portals and staff write in a source column into a
// channel code; longer words are tried first so 转介绍 is not read as 介绍.
var channelWords = []struct{ word, code string }{
	{"汽车之家", "autohome"}, {"autohome", "autohome"}, {"之家", "autohome"},
	{"懂车帝", "dongchedi"}, {"dongchedi", "dongchedi"},
	{"易车", "yiche"}, {"yiche", "yiche"},
	{"展厅", "walk_in"}, {"到店", "walk_in"}, {"进店", "walk_in"},
	{"来电", "phone"}, {"电话", "phone"}, {"400", "phone"},
	{"官网", "website"}, {"网站", "website"},
	{"微信", "wechat"}, {"公众号", "wechat"}, {"小程序", "wechat"},
	{"转介绍", "referral"}, {"老带新", "referral"}, {"推荐", "referral"},
	{"车展", "auto_show"},
	{"活动", "campaign"},
	{"主机厂", "oem"}, {"厂家", "oem"}, {"厂端", "oem"},
	{"dcc", "dcc"},
}

func init() {
	slices.SortStableFunc(channelWords, func(a, b struct{ word, code string }) int {
		return utf8.RuneCountInString(b.word) - utf8.RuneCountInString(a.word)
	})
}

// channelOf maps a source text to a channel code; ok is false when nothing
// matched (the import's default channel applies).
func channelOf(v string) (string, bool) {
	k := foldKey(v)
	if k == "" {
		return "", false
	}
	if oneOf(k, Channels) {
		return k, true
	}
	for _, w := range channelWords {
		if strings.Contains(k, w.word) {
			return w.code, true
		}
	}
	return "", false
}

// foldKey folds text for matching: full-width to half-width, lower case, only
// letters and digits (the same folding as sheet.SuggestMapping).
func foldKey(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// importSeries is one catalogue series with its match keys.
type importSeries struct {
	ID         int64
	Key        string // folded name: 宋plus
	BrandedKey string // folded brand + name: 比亚迪宋plus
}

// seriesMatcher finds a series by what a sheet calls it.
type seriesMatcher struct {
	exact map[string]int64 // key → id; 0 when two series share the key
	list  []importSeries   // by key length, longest first
}

func newSeriesMatcher(list []importSeries) *seriesMatcher {
	m := &seriesMatcher{exact: map[string]int64{}}
	add := func(k string, id int64) {
		if k == "" {
			return
		}
		if old, ok := m.exact[k]; ok && old != id {
			m.exact[k] = 0
			return
		}
		m.exact[k] = id
	}
	for _, s := range list {
		add(s.Key, s.ID)
		add(s.BrandedKey, s.ID)
	}
	m.list = slices.Clone(list)
	slices.SortStableFunc(m.list, func(a, b importSeries) int {
		return utf8.RuneCountInString(b.Key) - utf8.RuneCountInString(a.Key)
	})
	return m
}

// match returns the series named by v: an exact name or brand + name, else the
// longest series name (two characters or more) contained in v, so that
// "比亚迪 宋PLUS DM-i 2024款" finds 宋PLUS DM-i. 0 when none or ambiguous.
func (m *seriesMatcher) match(v string) int64 {
	k := foldKey(v)
	if k == "" || m == nil {
		return 0
	}
	if id, ok := m.exact[k]; ok {
		return id
	}
	for i, s := range m.list {
		if utf8.RuneCountInString(s.Key) < 2 || !strings.Contains(k, s.Key) {
			continue
		}
		// another series of the same name length also inside: ambiguous
		for _, o := range m.list[i+1:] {
			if utf8.RuneCountInString(o.Key) < utf8.RuneCountInString(s.Key) {
				break
			}
			if o.ID != s.ID && o.Key != s.Key && strings.Contains(k, o.Key) {
				return 0
			}
		}
		if id := m.exact[s.Key]; id != 0 {
			return id
		}
		return 0
	}
	return 0
}

// ownerIndex finds a consultant by username (any case) or by name; a name two
// people share finds nobody, and the row must then give the username.
type ownerIndex struct {
	byUsername map[string]int64
	byName     map[string]int64 // 0: shared by two people
}

func newOwnerIndex(users []importUser) ownerIndex {
	idx := ownerIndex{byUsername: map[string]int64{}, byName: map[string]int64{}}
	for _, u := range users {
		idx.byUsername[strings.ToLower(strings.TrimSpace(u.Username))] = u.ID
		name := strings.TrimSpace(u.Name)
		if name == "" {
			continue
		}
		if old, ok := idx.byName[name]; ok && old != u.ID {
			idx.byName[name] = 0
		} else {
			idx.byName[name] = u.ID
		}
	}
	return idx
}

func (idx ownerIndex) find(v string) int64 {
	v = strings.TrimSpace(v)
	if id, ok := idx.byUsername[strings.ToLower(v)]; ok {
		return id
	}
	return idx.byName[v]
}

// importUser is a user who may own customers of the import's store.
type importUser struct {
	ID       int64
	Username string
	Name     string
}

// importMapper turns sheet rows into leads for one job. It touches no database:
// everything it needs (settings, catalogue, consultants) is loaded before.
type importMapper struct {
	mapping  map[string]int
	opts     ImportOptions
	storeID  int64
	settings Settings
	loc      *time.Location
	now      time.Time
	series   *seriesMatcher
	owners   ownerIndex
}

// importRow is one mapped sheet row.
type importRow struct {
	num    int
	cells  []string
	in     LeadInput
	phone  string // normalized
	kind   string // phone kind
	at     int64  // lead time, unix ms; 0: now
	wechat string
	fields apperr.Fields
}

func (m *importMapper) cell(cells []string, key string) string {
	i, ok := m.mapping[key]
	if !ok || i < 0 || i >= len(cells) {
		return ""
	}
	return sheet.TrimCell(cells[i])
}

// mapRow maps one row. The result either has field errors (keyed by import
// field) or a LeadInput that passes validate with the normalized phone set.
func (m *importMapper) mapRow(num int, cells []string) importRow {
	r := importRow{num: num, cells: cells, fields: apperr.Fields{}}
	in := LeadInput{StoreID: m.storeID, Assign: "auto"}
	in.Phone = m.cell(cells, "phone")
	in.Name = m.cell(cells, "name")
	in.Region = m.cell(cells, "region")
	in.Note = m.cell(cells, "note")
	in.ExtID = m.cell(cells, "extId")
	in.Gender = genderOf(m.cell(cells, "gender"))

	raw := m.cell(cells, "channel")
	if code, ok := channelOf(raw); ok {
		in.Channel = code
	} else {
		in.Channel = m.opts.DefaultChannel
		in.SourceDetail = raw // keep what the sheet said (抖音, 朋友圈…)
	}

	if v := m.cell(cells, "series"); v != "" {
		if id := m.series.match(v); id != 0 {
			in.SeriesID = &id
		} else {
			// Not in the catalogue: the lead still counts; the consultant sees
			// what the customer asked for.
			in.Note = strings.TrimSpace(in.Note + "\n" + v)
		}
	}

	if v := m.cell(cells, "grade"); v != "" {
		g := strings.ToUpper(strings.TrimSpace(strings.TrimSuffix(width.Fold.String(v), "级")))
		in.Grade = g
		if _, ok := m.settings.grade(g); !ok {
			r.fields.Add("grade", "crm.grade_unknown")
		} else if g == lostGrade || g == orderedGrade {
			r.fields.Add("grade", "crm.grade_reserved")
		}
	}

	if v := m.cell(cells, "tags"); v != "" {
		in.Tags = splitTags(v)
	}

	if v := m.cell(cells, "wechat"); v != "" {
		r.wechat = v
		if utf8.RuneCountInString(v) > 50 {
			r.fields.Add("wechat", "too_long", "max", 50)
		}
	}

	switch m.opts.Assign {
	case "pool":
		in.Assign = "pool"
	case "column":
		if v := m.cell(cells, "owner"); v != "" {
			if id := m.owners.find(v); id != 0 {
				in.OwnerID = &id
			} else {
				r.fields.Add("owner", "crm.owner_invalid")
			}
		}
	}

	if v := m.cell(cells, "createdAt"); v != "" {
		t, ok := parseSheetTime(v, m.loc)
		switch {
		case !ok:
			r.fields.Add("createdAt", "invalid_format")
		case t.After(m.now.Add(24 * time.Hour)):
			r.fields.Add("createdAt", "crm.import_date_future")
		default:
			r.at = t.UnixMilli()
		}
	}

	in.Normalize()
	phone, kind, err := in.validate()
	if err != nil {
		for f, fe := range apperr.As(err).Fields {
			key := importFieldOf(f)
			if _, ok := r.fields[key]; !ok {
				r.fields[key] = fe
			}
		}
	}
	if len(r.fields) == 0 {
		r.phone, r.kind = phone, kind
	}
	r.in = in
	return r
}

// importFieldOf names the import field behind a LeadInput field error.
func importFieldOf(f string) string {
	switch f {
	case "sourceDetail":
		return "channel"
	case "assign", "ownerId":
		return "owner"
	case "seriesId", "modelId":
		return "series"
	}
	return f
}

func genderOf(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "男", "男士", "先生", "m", "male", "man":
		return "m"
	case "女", "女士", "小姐", "f", "female", "woman":
		return "f"
	}
	return ""
}

// splitTags splits a tags cell on the separators people type: ， , ; ； 、 and
// line breaks.
func splitTags(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		switch r {
		case ',', '，', ';', '；', '、', '\n', '\r', '|':
			return true
		}
		return false
	})
}

var (
	dateTimeRe = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:(?:\s+|T|\s*日?)(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?)?\s*(Z|[+-]\d{2}:?\d{2})?$`)
	compactRe  = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})(?:\s*(\d{2}):?(\d{2})(?::?(\d{2}))?)?$`)
	serialRe   = regexp.MustCompile(`^\d{5}(\.\d+)?$`)
)

// excelEpoch is day 0 of Excel's 1900 date system (as counted after its
// leap-year bug, i.e. for every date after February 1900).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// parseSheetTime reads the dates and times found in sheets: 2024-03-05,
// 2024/3/5, 2024.3.5, 2024年3月5日, each optionally with 14:30 or 14:30:05,
// 20240305, RFC 3339, and an Excel serial number (a date cell whose format was
// lost: 45356 or 45356.5). Times without a zone are in loc.
func parseSheetTime(v string, loc *time.Location) (time.Time, bool) {
	v = strings.TrimSpace(width.Fold.String(v))
	if v == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, validYear(t.Year())
	}
	if serialRe.MatchString(v) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 20000 || f > 80000 { // 1954 … 2119
			return time.Time{}, false
		}
		days := int(f)
		secs := int((f-float64(days))*86400 + 0.5)
		y, mo, d := excelEpoch.AddDate(0, 0, days).Date()
		return time.Date(y, mo, d, 0, 0, secs, 0, loc), true
	}
	var parts []string
	zone := ""
	if p := dateTimeRe.FindStringSubmatch(v); p != nil {
		parts, zone = p[1:7], p[7]
	} else if p := compactRe.FindStringSubmatch(v); p != nil {
		parts = p[1:7]
	} else {
		return time.Time{}, false
	}
	n := make([]int, 6)
	for i, s := range parts {
		if s != "" {
			n[i], _ = strconv.Atoi(s)
		}
	}
	if !validYear(n[0]) || n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || n[3] > 23 || n[4] > 59 || n[5] > 59 {
		return time.Time{}, false
	}
	at := loc
	if zone != "" {
		if zone == "Z" {
			at = time.UTC
		} else {
			z := strings.ReplaceAll(zone[1:], ":", "")
			h, _ := strconv.Atoi(z[:2])
			mm, _ := strconv.Atoi(z[2:])
			off := h*3600 + mm*60
			if zone[0] == '-' {
				off = -off
			}
			at = time.FixedZone("", off)
		}
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, at)
	if t.Day() != n[2] { // 2月30日 rolls over
		return time.Time{}, false
	}
	return t, true
}

func validYear(y int) bool { return y >= 1990 && y <= 2200 }
