package notify

import (
	"context"
	"database/sql"
	"fmt"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Pref is a user's choice for one kind, listed for every registered kind.
type Pref struct {
	Kind      string `json:"kind"`
	Group     string `json:"group"`
	Mandatory bool   `json:"mandatory"` // cannot be muted: InApp and Popup are always on
	InApp     bool   `json:"inApp"`     // goes to the inbox at all
	Popup     bool   `json:"popup"`     // a live browser shows a toast
}

// PrefInput sets one kind's channels.
type PrefInput struct {
	Kind  string `json:"kind"`
	InApp bool   `json:"inApp"`
	Popup bool   `json:"popup"`
}

// PrefsInput is the body of PUT /notifications/prefs: the kinds to change
// (kinds left out keep their setting).
type PrefsInput struct {
	Items []PrefInput `json:"items"`
}

// maxPrefItems bounds one PUT (each item is an upsert on the single writer).
const maxPrefItems = 200

// Validate checks every kind is registered and no mandatory kind is switched off.
func (in PrefsInput) Validate() error {
	f := apperr.Fields{}
	if len(in.Items) > maxPrefItems {
		f.Add("items", "out_of_range", "min", 0, "max", maxPrefItems)
		return f.Err()
	}
	for _, p := range in.Items {
		k, ok := LookupKind(p.Kind)
		switch {
		case !ok:
			f.Add("items", "notify.unknown_kind", "kind", p.Kind)
		case k.Mandatory && (!p.InApp || !p.Popup):
			f.Add("items", "notify.mandatory", "kind", p.Kind)
		}
	}
	return f.Err()
}

// Prefs returns the actor's choices for every registered kind.
func (s *Service) Prefs(ctx context.Context, a auth.Actor) ([]Pref, error) {
	uid, err := user(a)
	if err != nil {
		return nil, err
	}
	return loadPrefs(ctx, s.db.R, uid)
}

// SavePrefs changes the actor's choices for the kinds in the input (audited).
func (s *Service) SavePrefs(ctx context.Context, a auth.Actor, in PrefsInput) ([]Pref, error) {
	uid, err := user(a)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out []Pref
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := loadPrefs(ctx, tx, uid)
		if err != nil {
			return err
		}
		now := s.now()
		for _, p := range in.Items {
			if k, _ := LookupKind(p.Kind); k.Mandatory {
				continue // always on; nothing to store
			}
			for ch, on := range map[string]bool{ChannelInApp: p.InApp, ChannelPopup: p.Popup} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO notify_pref (user_id, kind, channel, enabled, updated_at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
					uid, p.Kind, ch, boolInt(on), now); err != nil {
					return fmt.Errorf("notify: save pref: %w", err)
				}
			}
		}
		if out, err = loadPrefs(ctx, tx, uid); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "notify_pref", uid, muted(before), muted(out))
	})
	return out, err
}

// muted is the audit view of preferences: only the deviations from "all on".
func muted(ps []Pref) map[string]any {
	m := map[string]any{}
	for _, p := range ps {
		switch {
		case !p.InApp:
			m[p.Kind] = "off"
		case !p.Popup:
			m[p.Kind] = "no_popup"
		}
	}
	return m
}

func loadPrefs(ctx context.Context, q db.Querier, userID int64) ([]Pref, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, channel, enabled FROM notify_pref WHERE user_id = ?`, userID)
	if err != nil {
		return nil, fmt.Errorf("notify: load prefs: %w", err)
	}
	defer rows.Close()
	off := map[string]bool{} // "kind/channel" switched off
	for rows.Next() {
		var kind, ch string
		var on int64
		if err := rows.Scan(&kind, &ch, &on); err != nil {
			return nil, err
		}
		if on == 0 {
			off[kind+"/"+ch] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: load prefs: %w", err)
	}
	out := make([]Pref, 0, len(Kinds))
	for _, k := range Kinds {
		p := Pref{Kind: k.Code, Group: k.Group, Mandatory: k.Mandatory, InApp: true, Popup: true}
		if !k.Mandatory {
			p.InApp = !off[k.Code+"/"+ChannelInApp]
			p.Popup = !off[k.Code+"/"+ChannelPopup]
		}
		out = append(out, p)
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
