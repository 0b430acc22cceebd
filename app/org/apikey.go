package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// APIKey is an integration key (website forms, portals). The key itself is shown
// once at creation; only its SHA-256 is stored.
type APIKey struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Prefix     string `json:"prefix"`
	RoleID     int64  `json:"roleId"`
	RoleName   string `json:"roleName"`
	StoreID    int64  `json:"storeId"`
	StoreName  string `json:"storeName"`
	CreatedAt  int64  `json:"createdAt"`
	LastUsedAt *int64 `json:"lastUsedAt"`
	RevokedAt  *int64 `json:"revokedAt"`
}

// APIKeyInput creates a key.
type APIKeyInput struct {
	Name    string `json:"name"`
	RoleID  int64  `json:"roleId"`
	StoreID int64  `json:"storeId"`
}

// NewAPIKeyResult carries the one-time plain key.
type NewAPIKeyResult struct {
	Key    string `json:"key"`
	APIKey APIKey `json:"apiKey"`
}

const apiKeySelect = `SELECT k.id, k.name, k.prefix, k.role_id, r.name, k.store_id, s.name, k.created_at, k.last_used_at, k.revoked_at
	FROM api_key k JOIN role r ON r.id = k.role_id JOIN store s ON s.id = k.store_id`

func scanAPIKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var used, revoked sql.NullInt64
	err := sc.Scan(&k.ID, &k.Name, &k.Prefix, &k.RoleID, &k.RoleName, &k.StoreID, &k.StoreName, &k.CreatedAt, &used, &revoked)
	if used.Valid {
		k.LastUsedAt = &used.Int64
	}
	if revoked.Valid {
		k.RevokedAt = &revoked.Int64
	}
	return k, err
}

func getAPIKey(ctx context.Context, q db.Querier, id int64) (APIKey, error) {
	k, err := scanAPIKey(q.QueryRowContext(ctx, apiKeySelect+` WHERE k.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return k, fmt.Errorf("org: get api key %d: %w", id, err)
	}
	return k, nil
}

// ListAPIKeys returns the keys in the actor's scope, newest first.
func (s *Service) ListAPIKeys(ctx context.Context, a auth.Actor) ([]APIKey, error) {
	if err := auth.Require(a, auth.PermAPIKeyManage); err != nil {
		return nil, err
	}
	where, args, err := auth.Filter(a, auth.PermAPIKeyManage, auth.Columns{Store: "k.store_id"}).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, apiKeySelect+` WHERE `+where+` ORDER BY k.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: list api keys: %w", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// CreateAPIKey issues a key bound to a role and a store.
func (s *Service) CreateAPIKey(ctx context.Context, a auth.Actor, in APIKeyInput) (NewAPIKeyResult, error) {
	in.Name = strings.TrimSpace(in.Name)
	f := apperr.Fields{}
	checkText(f, "name", in.Name, true, 60)
	if in.RoleID <= 0 {
		f.Add("roleId", "required")
	}
	if in.StoreID <= 0 {
		f.Add("storeId", "required")
	}
	if err := f.Err(); err != nil {
		return NewAPIKeyResult{}, err
	}
	if err := auth.Check(a, auth.PermAPIKeyManage, auth.Record{StoreID: in.StoreID}); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return NewAPIKeyResult{}, apperr.Field("storeId", "store.invalid")
		}
		return NewAPIKeyResult{}, err
	}
	key, prefix, hash := auth.NewAPIKey()
	var out NewAPIKeyResult
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		role, err := getRole(ctx, tx, in.RoleID)
		if err != nil {
			return apperr.Field("roleId", "role.invalid")
		}
		if !mayAssign(a, role.Scope, role.Permissions) {
			return apperr.Field("roleId", "role.not_grantable")
		}
		if _, err := getStore(ctx, tx, in.StoreID); err != nil {
			return apperr.Field("storeId", "store.invalid")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_key(name, prefix, key_hash, role_id, store_id, created_by, created_at) VALUES (?,?,?,?,?,?,?)`,
			in.Name, prefix, hash, in.RoleID, in.StoreID, a.UserID, s.now())
		if err != nil {
			return fmt.Errorf("org: create api key: %w", err)
		}
		id, _ := res.LastInsertId()
		k, err := getAPIKey(ctx, tx, id)
		if err != nil {
			return err
		}
		out = NewAPIKeyResult{Key: key, APIKey: k}
		return s.audit(ctx, tx, a, "create", "apikey", id, in.StoreID, nil, k)
	})
	return out, err
}

// RevokeAPIKey stops a key from working, at once.
func (s *Service) RevokeAPIKey(ctx context.Context, a auth.Actor, id int64) (APIKey, error) {
	var k APIKey
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getAPIKey(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := auth.Check(a, auth.PermAPIKeyManage, auth.Record{StoreID: old.StoreID}); err != nil {
			return err
		}
		if old.RevokedAt != nil {
			k = old
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, s.now(), id); err != nil {
			return fmt.Errorf("org: revoke api key: %w", err)
		}
		if k, err = getAPIKey(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "revoke", "apikey", id, old.StoreID, old, k)
	})
	return k, err
}
