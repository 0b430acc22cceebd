package crm

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// settingKey is the settings-table key of a store's CRM settings.
const settingKey = "crm"

// Grade is one intent grade with its buying window and follow-up cadence (L6).
// Final grades (O ordered, F lost) have no cadence.
type Grade struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	WindowDays  int    `json:"windowDays"`  // expected to buy within; 0: not applicable
	CadenceDays int    `json:"cadenceDays"` // follow up at least every N days; 0: no cadence
}

// WorkingHours is when the store is open; deadlines count only open time.
type WorkingHours struct {
	Start string `json:"start"` // "09:00"
	End   string `json:"end"`   // "18:00"
	Days  []int  `json:"days"`  // 1 = Monday … 7 = Sunday
}

// Settings are a store's CRM rules (L3, L4, L6), edited in the UI and audited.
type Settings struct {
	FirstContactMinutes int          `json:"firstContactMinutes"`
	EscalateHours       [2]int       `json:"escalateHours"`  // after the deadline: the manager, then again (GM copied)
	PoolDays            int          `json:"poolDays"`       // untouched this many days → back to the pool; 0: never
	ClaimsPerDay        int          `json:"claimsPerDay"`   // pool claims per person per day
	MaxOpenPerUser      int          `json:"maxOpenPerUser"` // a claim is refused when one already owns this many open leads; 0: no limit
	Timezone            string       `json:"timezone"`
	WorkingHours        WorkingHours `json:"workingHours"`
	Grades              []Grade      `json:"grades"`
	Version             int64        `json:"version"`
}

// DefaultSettings are what a new store starts with: the common 4S practice.
func DefaultSettings() Settings {
	return Settings{
		FirstContactMinutes: 15,
		EscalateHours:       [2]int{24, 48},
		PoolDays:            7,
		ClaimsPerDay:        5,
		MaxOpenPerUser:      0,
		Timezone:            "Asia/Shanghai",
		WorkingHours:        WorkingHours{Start: "09:00", End: "18:00", Days: []int{1, 2, 3, 4, 5, 6, 7}},
		Grades: []Grade{
			{Code: "H", Name: "H 级", WindowDays: 7, CadenceDays: 1},
			{Code: "A", Name: "A 级", WindowDays: 15, CadenceDays: 3},
			{Code: "B", Name: "B 级", WindowDays: 30, CadenceDays: 7},
			{Code: "C", Name: "C 级", WindowDays: 90, CadenceDays: 14},
			{Code: "O", Name: "O 级（已订车）"},
			{Code: "F", Name: "F 级（战败）"},
		},
	}
}

var clockRe = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
var gradeCodeRe = regexp.MustCompile(`^[A-Z][A-Z0-9]?$`)

// Validate checks the settings and reports field errors.
func (s *Settings) Validate() error {
	f := apperr.Fields{}
	if s.FirstContactMinutes < 1 || s.FirstContactMinutes > 24*60 {
		f.Add("firstContactMinutes", "out_of_range", "min", 1, "max", 24*60)
	}
	if s.EscalateHours[0] < 1 || s.EscalateHours[0] > 720 {
		f.Add("escalateHours.0", "out_of_range", "min", 1, "max", 720)
	}
	if s.EscalateHours[1] <= s.EscalateHours[0] || s.EscalateHours[1] > 1440 {
		f.Add("escalateHours.1", "crm.escalate_order")
	}
	if s.PoolDays < 0 || s.PoolDays > 365 {
		f.Add("poolDays", "out_of_range", "min", 0, "max", 365)
	}
	if s.ClaimsPerDay < 0 || s.ClaimsPerDay > 1000 {
		f.Add("claimsPerDay", "out_of_range", "min", 0, "max", 1000)
	}
	if s.MaxOpenPerUser < 0 || s.MaxOpenPerUser > 100000 {
		f.Add("maxOpenPerUser", "out_of_range", "min", 0, "max", 100000)
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" {
		f.Add("timezone", "invalid_format")
	}
	wh := s.WorkingHours
	if !clockRe.MatchString(wh.Start) {
		f.Add("workingHours.start", "invalid_format")
	}
	if !clockRe.MatchString(wh.End) || wh.End <= wh.Start {
		f.Add("workingHours.end", "crm.hours_order")
	}
	if len(wh.Days) == 0 {
		f.Add("workingHours.days", "required")
	}
	seenDay := map[int]bool{}
	for _, d := range wh.Days {
		if d < 1 || d > 7 || seenDay[d] {
			f.Add("workingHours.days", "invalid_format")
		}
		seenDay[d] = true
	}
	if len(s.Grades) == 0 || len(s.Grades) > 12 {
		f.Add("grades", "out_of_range", "min", 1, "max", 12)
	}
	seen := map[string]bool{}
	for i, g := range s.Grades {
		s.Grades[i].Code = strings.ToUpper(strings.TrimSpace(g.Code))
		s.Grades[i].Name = strings.TrimSpace(g.Name)
		g = s.Grades[i]
		k := fmt.Sprintf("grades.%d", i)
		switch {
		case !gradeCodeRe.MatchString(g.Code):
			f.Add(k+".code", "crm.grade_code")
		case seen[g.Code]:
			f.Add(k+".code", "crm.grade_duplicate")
		}
		seen[g.Code] = true
		if g.Name == "" || len([]rune(g.Name)) > 20 {
			f.Add(k+".name", "required")
		}
		if g.WindowDays < 0 || g.WindowDays > 3650 {
			f.Add(k+".windowDays", "out_of_range", "min", 0, "max", 3650)
		}
		if g.CadenceDays < 0 || g.CadenceDays > 365 {
			f.Add(k+".cadenceDays", "out_of_range", "min", 0, "max", 365)
		}
	}
	return f.Err()
}

// grade returns the grade with the code, if configured.
func (s Settings) grade(code string) (Grade, bool) {
	for _, g := range s.Grades {
		if g.Code == code {
			return g, true
		}
	}
	return Grade{}, false
}

func (s Settings) location() *time.Location {
	if l, err := time.LoadLocation(s.Timezone); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}

func parseClock(v string) (int, int) {
	var h, m int
	fmt.Sscanf(v, "%d:%d", &h, &m)
	return h, m
}

func (s Settings) openDay(t time.Time) bool {
	wd := int(t.Weekday())
	if wd == 0 {
		wd = 7
	}
	for _, d := range s.WorkingHours.Days {
		if d == wd {
			return true
		}
	}
	return false
}

// dayBounds returns the opening and closing time on t's local day.
func (s Settings) dayBounds(t time.Time) (time.Time, time.Time) {
	sh, sm := parseClock(s.WorkingHours.Start)
	eh, em := parseClock(s.WorkingHours.End)
	y, mo, d := t.Date()
	return time.Date(y, mo, d, sh, sm, 0, 0, t.Location()), time.Date(y, mo, d, eh, em, 0, 0, t.Location())
}

// AddWorking returns the moment d of open time after t: a lead arriving at 21:00
// with a 15-minute deadline is due at 09:15 the next open day.
func (s Settings) AddWorking(t time.Time, d time.Duration) time.Time {
	t = t.In(s.location())
	if len(s.WorkingHours.Days) == 0 {
		return t.Add(d)
	}
	for i := 0; i < 400; i++ { // at most a year of closed days
		open, close := s.dayBounds(t)
		if !s.openDay(t) || !t.Before(close) {
			t = open.AddDate(0, 0, 1)
			continue
		}
		if t.Before(open) {
			t = open
		}
		if left := close.Sub(t); d <= left {
			return t.Add(d)
		} else {
			d -= left
			t = open.AddDate(0, 0, 1)
		}
	}
	return t.Add(d)
}

// NextOpen returns t if the store is open then, else the next opening time:
// reminders falling on a closed hour wait for the morning.
func (s Settings) NextOpen(t time.Time) time.Time {
	return s.AddWorking(t, 0)
}

// LoadSettings returns the store's settings, or the defaults.
func LoadSettings(ctx context.Context, q db.Querier, storeID int64) (Settings, error) {
	st := DefaultSettings()
	found, ver, err := db.LoadSetting(ctx, q, settingKey, storeID, &st)
	if err != nil {
		return st, fmt.Errorf("crm: settings of store %d: %w", storeID, err)
	}
	if found {
		st.Version = ver
	}
	return st, nil
}

// GetSettings returns a store's CRM settings.
func (s *Service) GetSettings(ctx context.Context, a auth.Actor, storeID int64) (Settings, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerRead, storeID); err != nil {
		return Settings{}, err
	}
	return LoadSettings(ctx, s.db.R, storeID)
}

// SaveSettings replaces a store's CRM settings (managers with customer.assign).
func (s *Service) SaveSettings(ctx context.Context, a auth.Actor, storeID int64, in Settings) (Settings, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, storeID); err != nil {
		return Settings{}, err
	}
	if err := in.Validate(); err != nil {
		return Settings{}, err
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := LoadSettings(ctx, tx, storeID)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if err := db.SaveSetting(ctx, tx, settingKey, storeID, in, a.UserID, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "crm_settings", storeID, storeID, before, in)
	})
	if err != nil {
		return Settings{}, err
	}
	return LoadSettings(ctx, s.db.R, storeID)
}

// storeAccess checks a store-level permission: the actor holds perm and works in
// the store (group-scope roles reach every store).
func storeAccess(a auth.Actor, perm string, storeID int64) error {
	if err := auth.Require(a, perm); err != nil {
		return err
	}
	if a.Scope != auth.ScopeGroup && storeID != a.HomeStoreID {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}
