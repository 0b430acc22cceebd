package testdrive

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
)

// settingKey is the settings-table key of a store's test-drive rules.
const settingKey = "testdrive"

// Settings are a store's test-drive rules, edited in the UI and audited.
type Settings struct {
	MinMinutes         int      `json:"minMinutes"`         // shortest booking
	MaxMinutes         int      `json:"maxMinutes"`         // longest booking
	NoShowGraceMinutes int      `json:"noShowGraceMinutes"` // a booking not started this long after its start is a no-show
	ReminderMinutes    int      `json:"reminderMinutes"`    // the consultant's reminder before the start; 0: none
	MaxDistanceKm      int      `json:"maxDistanceKm"`      // mileage in − out above this is refused as a typing error
	StoreHours         bool     `json:"storeHours"`         // bookings must lie within the store's working hours (CRM settings)
	Routes             []string `json:"routes"`             // the store's usual routes to pick from
	Version            int64    `json:"version"`
}

// StoreSettings are the settings with the store's working hours the calendar
// needs (read-only here: they are the CRM settings').
type StoreSettings struct {
	Settings
	StoreID  int64            `json:"storeId"`
	Timezone string           `json:"timezone"`
	Hours    crm.WorkingHours `json:"hours"`
}

// DefaultSettings are the common 4S practice.
func DefaultSettings() Settings {
	return Settings{MinMinutes: 15, MaxMinutes: 240, NoShowGraceMinutes: 30, ReminderMinutes: 60, MaxDistanceKm: 500, StoreHours: true,
		Routes: []string{"市区常规路线（约 8 公里）", "快速路路线（约 15 公里）", "综合路况路线（约 20 公里）"}}
}

// Validate checks the settings and reports field errors.
func (st *Settings) Validate() error {
	f := apperr.Fields{}
	if st.MinMinutes < 5 || st.MinMinutes > 120 {
		f.Add("minMinutes", "out_of_range", "min", 5, "max", 120)
	}
	if st.MaxMinutes < st.MinMinutes || st.MaxMinutes > 8*60 {
		f.Add("maxMinutes", "out_of_range", "min", st.MinMinutes, "max", 8*60)
	}
	if st.NoShowGraceMinutes < 5 || st.NoShowGraceMinutes > 24*60 {
		f.Add("noShowGraceMinutes", "out_of_range", "min", 5, "max", 24*60)
	}
	if st.ReminderMinutes < 0 || st.ReminderMinutes > 7*24*60 {
		f.Add("reminderMinutes", "out_of_range", "min", 0, "max", 7*24*60)
	}
	if st.MaxDistanceKm < 10 || st.MaxDistanceKm > 5000 {
		f.Add("maxDistanceKm", "out_of_range", "min", 10, "max", 5000)
	}
	var routes []string
	seen := map[string]bool{}
	for _, r := range st.Routes {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		seen[r] = true
		if utf8.RuneCountInString(r) > 100 {
			f.Add("routes", "too_long", "max", 100)
		}
		routes = append(routes, r)
	}
	if len(routes) > 30 {
		f.Add("routes", "out_of_range", "min", 0, "max", 30)
	}
	st.Routes = routes
	return f.Err()
}

// LoadSettings returns a store's settings, or the defaults.
func LoadSettings(ctx context.Context, q db.Querier, storeID int64) (Settings, error) {
	st := DefaultSettings()
	found, ver, err := db.LoadSetting(ctx, q, settingKey, storeID, &st)
	if err != nil {
		return st, fmt.Errorf("testdrive: settings of store %d: %w", storeID, err)
	}
	if found {
		st.Version = ver
	}
	if st.Routes == nil {
		st.Routes = []string{}
	}
	return st, nil
}

// rules are the settings a booking is checked against, with the store's hours.
type rules struct {
	Settings
	crm crm.Settings
	loc *time.Location
}

func loadRules(ctx context.Context, q db.Querier, storeID int64) (rules, error) {
	st, err := LoadSettings(ctx, q, storeID)
	if err != nil {
		return rules{}, err
	}
	cs, err := crm.LoadSettings(ctx, q, storeID)
	if err != nil {
		return rules{}, err
	}
	loc, err := time.LoadLocation(cs.Timezone)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return rules{Settings: st, crm: cs, loc: loc}, nil
}

// GetSettings returns a store's test-drive settings with its hours.
func (s *Service) GetSettings(ctx context.Context, a auth.Actor, storeID int64) (StoreSettings, error) {
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return StoreSettings{}, err
	}
	storeID, ok := storeOf(a, storeID)
	if !ok {
		return StoreSettings{}, apperr.New(apperr.NotFound, "not_found")
	}
	r, err := loadRules(ctx, s.d.DB.R, storeID)
	if err != nil {
		return StoreSettings{}, err
	}
	return StoreSettings{Settings: r.Settings, StoreID: storeID, Timezone: r.loc.String(), Hours: r.crm.WorkingHours}, nil
}

// SaveSettings changes a store's rules (vehicle.write: who keeps the fleet);
// the version must match (409 conflict.stale).
func (s *Service) SaveSettings(ctx context.Context, a auth.Actor, storeID int64, in Settings) (StoreSettings, error) {
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return StoreSettings{}, err
	}
	storeID, ok := storeOf(a, storeID)
	if !ok {
		return StoreSettings{}, apperr.New(apperr.NotFound, "not_found")
	}
	if err := in.Validate(); err != nil {
		return StoreSettings{}, err
	}
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := LoadSettings(ctx, tx, storeID)
		if err != nil {
			return err
		}
		if in.Version != old.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		in.Version = 0
		old.Version = 0
		if err := db.SaveSetting(ctx, tx, settingKey, storeID, in, a.UserID, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "test_drive_settings", storeID, storeID, old, in)
	})
	if err != nil {
		return StoreSettings{}, err
	}
	return s.GetSettings(ctx, a, storeID)
}
