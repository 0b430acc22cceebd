package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// APIKeyPrefix starts every API key, so a leaked one is easy to recognise and grep for.
const APIKeyPrefix = "ddk_"

// NewAPIKey returns a fresh key, its display prefix and the hash to store.
func NewAPIKey() (key, prefix string, hash []byte) {
	key = APIKeyPrefix + randomToken(32)
	return key, key[:len(APIKeyPrefix)+6], hashToken(key)
}

// ResolveAPIKey returns the actor of an API key: the key's role and store, no user.
func (s *Service) ResolveAPIKey(ctx context.Context, key string) (Actor, error) {
	if !strings.HasPrefix(key, APIKeyPrefix) || len(key) > 100 {
		return Actor{}, errUnauth("apikey.invalid")
	}
	var a Actor
	var name string
	var revoked sql.NullInt64
	var lastUsed sql.NullInt64
	err := s.db.R.QueryRowContext(ctx, `SELECT k.id, k.name, k.role_id, r.code, r.scope, k.store_id, k.revoked_at, k.last_used_at
		FROM api_key k JOIN role r ON r.id = k.role_id WHERE k.key_hash = ?`, hashToken(key)).
		Scan(&a.APIKeyID, &name, &a.RoleID, &a.RoleCode, &a.Scope, &a.HomeStoreID, &revoked, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) || revoked.Valid {
		return Actor{}, errUnauth("apikey.invalid")
	}
	if err != nil {
		return Actor{}, fmt.Errorf("auth: resolve api key: %w", err)
	}
	a.StoreID = a.HomeStoreID
	a.Username = "apikey:" + name
	a.Name = a.Username
	a.Locale = "zh-CN"
	if a.Perms, err = loadPerms(ctx, s.db.R, a.RoleID); err != nil {
		return Actor{}, err
	}
	// API keys never manage keys, roles or users, whatever their role says: a
	// leaked integration key must not be able to mint itself more power.
	for _, p := range []string{PermAPIKeyManage, PermRoleManage, PermUserManage, PermSettingsManage, PermBackup} {
		delete(a.Perms, p)
	}
	now := s.now()
	if !lastUsed.Valid || now-lastUsed.Int64 > 60_000 {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE api_key SET last_used_at = ? WHERE id = ?`, now, a.APIKeyID); err != nil {
			s.log.Warn("touch api key", "err", err)
		}
	}
	return a, nil
}
