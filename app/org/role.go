package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Role is a set of permissions with a data scope.
type Role struct {
	ID          int64      `json:"id"`
	Code        string     `json:"code"`
	Name        string     `json:"name"`
	Builtin     bool       `json:"builtin"`
	Scope       auth.Scope `json:"scope"`
	Permissions []string   `json:"permissions"`
	UserCount   int64      `json:"userCount"`
	Version     int64      `json:"version"`
}

// RoleInput creates or edits a role.
type RoleInput struct {
	Code        string     `json:"code"`
	Name        string     `json:"name"`
	Scope       auth.Scope `json:"scope"`
	Permissions []string   `json:"permissions"`
	Version     int64      `json:"version"`
}

var roleCode = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)

// Validate checks the shape of the input.
func (in *RoleInput) Validate(create bool) error {
	in.Code = strings.ToLower(strings.TrimSpace(in.Code))
	in.Name = strings.TrimSpace(in.Name)
	f := apperr.Fields{}
	if create {
		if in.Code == "" {
			f.Add("code", "required")
		} else if !roleCode.MatchString(in.Code) {
			f.Add("code", "invalid_format")
		}
	}
	checkText(f, "name", in.Name, true, 40)
	if !in.Scope.Valid() {
		f.Add("scope", "scope.invalid")
	}
	seen := map[string]bool{}
	var perms []string
	for _, p := range in.Permissions {
		if !auth.KnownPermission(p) {
			f.Add("permissions", "permission.unknown")
			continue
		}
		if !seen[p] {
			seen[p] = true
			perms = append(perms, p)
		}
	}
	sort.Strings(perms)
	in.Permissions = perms
	return f.Err()
}

// privileged permissions give power over people, data or the system itself; they can
// only be handed to a user (or API key) by someone who holds them.
var privileged = map[string]bool{
	auth.PermOrgManage: true, auth.PermUserManage: true, auth.PermRoleManage: true, auth.PermAPIKeyManage: true,
	auth.PermSettingsManage: true, auth.PermAuditRead: true, auth.PermPIReveal: true, auth.PermCostRead: true,
	auth.PermCustomerExport: true, auth.PermFinanceWrite: true, auth.PermBackup: true,
}

// mayAssign reports whether the actor may put someone in a role (create, edit,
// reset the password of, or disable a user holding it): the role's scope is not
// wider than the actor's, and every privileged permission in it is the actor's own.
// So HR can manage consultants, but cannot make or take over a general manager.
func mayAssign(a auth.Actor, scope auth.Scope, perms []string) bool {
	if scope.Wider(a.Scope) {
		return false
	}
	for _, p := range perms {
		if privileged[p] && !a.Has(p) {
			return false
		}
	}
	return true
}

// mayGrant reports whether the actor holds everything the role would give, at an
// equal or wider scope: nobody hands out more than they have.
func mayGrant(a auth.Actor, scope auth.Scope, perms []string) bool {
	if scope.Wider(a.Scope) {
		return false
	}
	for _, p := range perms {
		if !a.Has(p) {
			return false
		}
	}
	return true
}

func getRole(ctx context.Context, q db.Querier, id int64) (Role, error) {
	var r Role
	var builtin int64
	err := q.QueryRowContext(ctx, `SELECT id, code, name, builtin, scope, version, (SELECT count(*) FROM app_user u WHERE u.role_id = role.id) FROM role WHERE id = ?`, id).
		Scan(&r.ID, &r.Code, &r.Name, &builtin, &r.Scope, &r.Version, &r.UserCount)
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return r, fmt.Errorf("org: get role %d: %w", id, err)
	}
	r.Builtin = builtin == 1
	perms, err := rolePerms(ctx, q, []int64{id})
	if err != nil {
		return r, err
	}
	r.Permissions = perms[id]
	if r.Permissions == nil {
		r.Permissions = []string{}
	}
	return r, nil
}

func rolePerms(ctx context.Context, q db.Querier, ids []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT role_id, permission FROM role_permission WHERE role_id IN (`+ph+`) ORDER BY permission`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: role permissions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			return nil, err
		}
		out[id] = append(out[id], p)
	}
	return out, rows.Err()
}

// ListRoles returns every role.
func (s *Service) ListRoles(ctx context.Context, a auth.Actor) ([]Role, error) {
	if err := auth.Require(a, auth.PermRoleRead); err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT r.id, r.code, r.name, r.builtin, r.scope, r.version, count(u.id)
		FROM role r LEFT JOIN app_user u ON u.role_id = r.id GROUP BY r.id ORDER BY r.builtin DESC, r.id`)
	if err != nil {
		return nil, fmt.Errorf("org: list roles: %w", err)
	}
	defer rows.Close()
	out := []Role{}
	var ids []int64
	for rows.Next() {
		var r Role
		var builtin int64
		if err := rows.Scan(&r.ID, &r.Code, &r.Name, &builtin, &r.Scope, &r.Version, &r.UserCount); err != nil {
			return nil, err
		}
		r.Builtin = builtin == 1
		out = append(out, r)
		ids = append(ids, r.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	perms, err := rolePerms(ctx, s.db.R, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Permissions = perms[out[i].ID]
		if out[i].Permissions == nil {
			out[i].Permissions = []string{}
		}
	}
	return out, nil
}

func setRolePerms(ctx context.Context, q db.Querier, id int64, perms []string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM role_permission WHERE role_id = ?`, id); err != nil {
		return err
	}
	for _, p := range perms {
		if _, err := q.ExecContext(ctx, `INSERT INTO role_permission(role_id, permission) VALUES (?,?)`, id, p); err != nil {
			return fmt.Errorf("org: set permission: %w", err)
		}
	}
	return nil
}

// CreateRoleTx inserts a role inside tx (the default roles are seeded with it).
func CreateRoleTx(ctx context.Context, q db.Querier, in RoleInput, builtin bool, now int64) (int64, error) {
	b := 0
	if builtin {
		b = 1
	}
	res, err := q.ExecContext(ctx, `INSERT INTO role(code, name, builtin, scope, created_at, updated_at) VALUES (?,?,?,?,?,?)`, in.Code, in.Name, b, in.Scope, now, now)
	if db.IsUnique(err) {
		return 0, apperr.Field("code", "role.code_taken")
	}
	if err != nil {
		return 0, fmt.Errorf("org: create role: %w", err)
	}
	id, _ := res.LastInsertId()
	return id, setRolePerms(ctx, q, id, in.Permissions)
}

// SeedRoles creates the default roles that do not exist yet.
func SeedRoles(ctx context.Context, q db.Querier, now int64) error {
	for _, dr := range auth.DefaultRoles {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM role WHERE code = ?`, dr.Code).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			if dr.Code == auth.RoleAdmin {
				// The administrator holds every permission by definition, so one
				// added by a newer version (e.g. system.backup) reaches an existing
				// database's administrators at the upgrade.
				for _, p := range dr.Perms {
					if _, err := q.ExecContext(ctx, `INSERT INTO role_permission(role_id, permission)
						SELECT id, ? FROM role WHERE code = ? ON CONFLICT DO NOTHING`, p, dr.Code); err != nil {
						return fmt.Errorf("org: grant %s to %s: %w", p, dr.Code, err)
					}
				}
			}
			continue
		}
		in := RoleInput{Code: dr.Code, Name: dr.Name, Scope: dr.Scope, Permissions: dr.Perms}
		if _, err := CreateRoleTx(ctx, q, in, true, now); err != nil {
			return err
		}
	}
	return nil
}

// RoleIDByCode returns the id of the role with the code.
func RoleIDByCode(ctx context.Context, q db.Querier, code string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM role WHERE code = ?`, code).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("org: role %s: %w", code, err)
	}
	return id, nil
}

// CreateRole adds a custom role.
func (s *Service) CreateRole(ctx context.Context, a auth.Actor, in RoleInput) (Role, error) {
	if err := in.Validate(true); err != nil {
		return Role{}, err
	}
	if err := auth.Require(a, auth.PermRoleManage); err != nil {
		return Role{}, err
	}
	if !mayGrant(a, in.Scope, in.Permissions) {
		return Role{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	var r Role
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		id, err := CreateRoleTx(ctx, tx, in, false, s.now())
		if err != nil {
			return err
		}
		if r, err = getRole(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "role", id, 0, nil, r)
	})
	return r, err
}

// UpdateRole edits a role's name, scope and permissions. The admin role keeps every
// permission, so the installation can never lock itself out.
func (s *Service) UpdateRole(ctx context.Context, a auth.Actor, id int64, in RoleInput) (Role, error) {
	if err := in.Validate(false); err != nil {
		return Role{}, err
	}
	if err := auth.Require(a, auth.PermRoleManage); err != nil {
		return Role{}, err
	}
	var r Role
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getRole(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Code == auth.RoleAdmin && (in.Scope != auth.ScopeGroup || len(in.Permissions) != len(auth.Permissions)) {
			return apperr.Field("permissions", "role.builtin")
		}
		if !mayGrant(a, in.Scope, in.Permissions) || !mayGrant(a, old.Scope, old.Permissions) {
			return apperr.New(apperr.Forbidden, "forbidden")
		}
		res, err := tx.ExecContext(ctx, `UPDATE role SET name=?, scope=?, version=version+1, updated_at=? WHERE id=? AND version=?`, in.Name, in.Scope, s.now(), id, in.Version)
		if err != nil {
			return fmt.Errorf("org: update role: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale()
		}
		if err := setRolePerms(ctx, tx, id, in.Permissions); err != nil {
			return err
		}
		if r, err = getRole(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "role", id, 0, old, r)
	})
	return r, err
}

// DeleteRole removes a custom role nobody holds.
func (s *Service) DeleteRole(ctx context.Context, a auth.Actor, id int64) error {
	if err := auth.Require(a, auth.PermRoleManage); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getRole(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Builtin {
			return apperr.New(apperr.Conflict, "role.builtin")
		}
		var keys int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_key WHERE role_id = ? AND revoked_at IS NULL`, id).Scan(&keys); err != nil {
			return err
		}
		if old.UserCount > 0 || keys > 0 {
			return apperr.New(apperr.Conflict, "role.in_use")
		}
		if !mayGrant(a, old.Scope, old.Permissions) {
			return apperr.New(apperr.Forbidden, "forbidden")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM role WHERE id = ?`, id); err != nil {
			if db.IsForeignKey(err) {
				return apperr.New(apperr.Conflict, "role.in_use")
			}
			return fmt.Errorf("org: delete role: %w", err)
		}
		return s.audit(ctx, tx, a, "delete", "role", id, 0, old, nil)
	})
}
