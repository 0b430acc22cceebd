package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Business settings (SLA minutes, password rules, robot webhooks…) are rows in the
// setting table, one JSON value per key and store (store 0 = the whole group), so
// they are edited in the UI and audited, not in a config file.

// LoadSetting decodes the setting into v. It reports whether a row existed and its version.
func LoadSetting(ctx context.Context, q Querier, key string, storeID int64, v any) (found bool, version int64, err error) {
	var raw string
	err = q.QueryRowContext(ctx, `SELECT value, version FROM setting WHERE key = ? AND store_id = ?`, key, storeID).Scan(&raw, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("db: load setting %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, 0, fmt.Errorf("db: decode setting %s: %w", key, err)
	}
	return true, version, nil
}

// SaveSetting stores v as the setting's value and bumps its version.
func SaveSetting(ctx context.Context, q Querier, key string, storeID int64, v any, byUser int64, nowMillis int64) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("db: encode setting %s: %w", key, err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO setting(key, store_id, value, version, updated_at, updated_by) VALUES (?,?,?,1,?,?)
		ON CONFLICT(key, store_id) DO UPDATE SET value = excluded.value, version = setting.version + 1, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		key, storeID, string(b), nowMillis, byUser)
	if err != nil {
		return fmt.Errorf("db: save setting %s: %w", key, err)
	}
	return nil
}
