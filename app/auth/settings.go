package auth

import (
	"context"

	"dealerdesk/app/apperr"
	"dealerdesk/app/db"
)

// SecuritySettings are the sign-in rules an admin can set (settings key "security").
type SecuritySettings struct {
	PasswordMinLength      int `json:"passwordMinLength"`
	PasswordRequireClasses int `json:"passwordRequireClasses"`
	SessionIdleMinutes     int `json:"sessionIdleMinutes"`
	SessionAbsoluteHours   int `json:"sessionAbsoluteHours"`
	LockoutThreshold       int `json:"lockoutThreshold"`
	LockoutMinutes         int `json:"lockoutMinutes"`
	ReauthMinutes          int `json:"reauthMinutes"`
}

// DefaultSecurity follows OWASP ASVS level 2: 30 min idle, 12 h absolute, lock
// after 5 failures for 15 min (doubling), re-enter the password after 5 min for
// sensitive actions.
var DefaultSecurity = SecuritySettings{
	PasswordMinLength: 8, PasswordRequireClasses: 2, SessionIdleMinutes: 30, SessionAbsoluteHours: 12,
	LockoutThreshold: 5, LockoutMinutes: 15, ReauthMinutes: 5,
}

const securityKey = "security"

// Validate checks the ranges.
func (s SecuritySettings) Validate() error {
	f := apperr.Fields{}
	rng := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			f.Add(name, "out_of_range", "min", lo, "max", hi)
		}
	}
	rng("passwordMinLength", s.PasswordMinLength, 8, 64)
	rng("passwordRequireClasses", s.PasswordRequireClasses, 1, 4)
	rng("sessionIdleMinutes", s.SessionIdleMinutes, 5, 720)
	rng("sessionAbsoluteHours", s.SessionAbsoluteHours, 1, 72)
	rng("lockoutThreshold", s.LockoutThreshold, 3, 20)
	rng("lockoutMinutes", s.LockoutMinutes, 1, 1440)
	rng("reauthMinutes", s.ReauthMinutes, 1, 60)
	return f.Err()
}

// Security returns the current settings (defaults when never saved).
func (s *Service) Security(ctx context.Context) (SecuritySettings, error) {
	v := DefaultSecurity
	if _, _, err := db.LoadSetting(ctx, s.db.R, securityKey, 0, &v); err != nil {
		return DefaultSecurity, err
	}
	return v, nil
}
