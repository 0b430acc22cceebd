package inventory

import (
	"context"
	"database/sql"
	"fmt"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// settingKey is the settings-table key of a store's stock settings.
const settingKey = "inventory"

// Settings are a store's stock rules: the ageing thresholds (库龄预警) in days.
type Settings struct {
	WarnDays  int   `json:"warnDays"`
	AlarmDays int   `json:"alarmDays"`
	Version   int64 `json:"version"`
}

// DefaultSettings: warn at 60 days in stock, alarm at 90 (common 4S practice:
// after 90 days the floor-plan interest eats the margin).
func DefaultSettings() Settings { return Settings{WarnDays: 60, AlarmDays: 90} }

// Validate checks the thresholds.
func (s *Settings) Validate() error {
	f := apperr.Fields{}
	if s.WarnDays < 1 || s.WarnDays > 3650 {
		f.Add("warnDays", "out_of_range", "min", 1, "max", 3650)
	}
	if s.AlarmDays <= s.WarnDays || s.AlarmDays > 3650 {
		f.Add("alarmDays", "vehicle.thresholds_order")
	}
	return f.Err()
}

// Level names the age bucket of a car that has been in stock days days.
func (s Settings) Level(days int) string {
	switch {
	case days >= s.AlarmDays:
		return "alarm"
	case days >= s.WarnDays:
		return "warn"
	}
	return "normal"
}

// LoadSettings returns the store's stock settings, or the defaults.
func LoadSettings(ctx context.Context, q db.Querier, storeID int64) (Settings, error) {
	st := DefaultSettings()
	found, ver, err := db.LoadSetting(ctx, q, settingKey, storeID, &st)
	if err != nil {
		return st, fmt.Errorf("inventory: settings of store %d: %w", storeID, err)
	}
	if found {
		st.Version = ver
	}
	return st, nil
}

// GetSettings returns a store's stock settings (vehicle.read).
func (s *Service) GetSettings(ctx context.Context, a auth.Actor, storeID int64) (Settings, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermVehicleRead, storeID); err != nil {
		return Settings{}, err
	}
	return LoadSettings(ctx, s.db.R, storeID)
}

// SaveSettings replaces a store's stock settings (vehicle.write), audited.
func (s *Service) SaveSettings(ctx context.Context, a auth.Actor, storeID int64, in Settings) (Settings, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermVehicleWrite, storeID); err != nil {
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
		return s.audit(ctx, tx, a, "update", "inventory_settings", storeID, storeID, before, in)
	})
	if err != nil {
		return Settings{}, err
	}
	return LoadSettings(ctx, s.db.R, storeID)
}
