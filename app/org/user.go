package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/pii"
)

// User is an employee who signs in.
type User struct {
	ID                 int64  `json:"id"`
	Username           string `json:"username"`
	Name               string `json:"name"`
	Phone              string `json:"phone"` // masked unless the reader may reveal it
	RoleID             int64  `json:"roleId"`
	RoleCode           string `json:"roleCode"`
	RoleName           string `json:"roleName"`
	RoleBuiltin        bool   `json:"roleBuiltin"`
	StoreID            int64  `json:"storeId"`
	StoreName          string `json:"storeName"`
	DepartmentID       *int64 `json:"departmentId"`
	DepartmentName     string `json:"departmentName"`
	Status             string `json:"status"`
	MustChangePassword bool   `json:"mustChangePassword"`
	LastLoginAt        *int64 `json:"lastLoginAt"`
	CreatedAt          int64  `json:"createdAt"`
	Version            int64  `json:"version"`
	phone              string
}

// record is the access-check view of a user.
func (u User) record() auth.Record {
	return auth.Record{StoreID: u.StoreID, OwnerID: u.ID, DepartmentID: deref(u.DepartmentID)}
}

// UserInput creates or edits a user.
type UserInput struct {
	Username     string `json:"username"`
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	RoleID       int64  `json:"roleId"`
	StoreID      int64  `json:"storeId"`
	DepartmentID *int64 `json:"departmentId"`
	Password     string `json:"password"`
	Version      int64  `json:"version"`
}

var usernamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\-]{2,31}$`)

// Normalize trims and normalizes the phone number.
func (in *UserInput) Normalize() {
	in.Username = strings.TrimSpace(in.Username)
	in.Name = strings.TrimSpace(in.Name)
	in.Phone = strings.TrimSpace(in.Phone)
	if p, ok := pii.NormalizeMobile(in.Phone); ok {
		in.Phone = p
	}
	if in.DepartmentID != nil && *in.DepartmentID == 0 {
		in.DepartmentID = nil
	}
}

// Validate checks the shape of the input (not the password policy, which needs settings).
func (in UserInput) Validate(create bool) error {
	f := apperr.Fields{}
	if create {
		if in.Username == "" {
			f.Add("username", "required")
		} else if !usernamePattern.MatchString(in.Username) {
			f.Add("username", "username.invalid")
		}
		if in.Password == "" {
			f.Add("password", "required")
		}
	}
	checkText(f, "name", in.Name, true, 40)
	if in.Phone != "" && !(!create && strings.Contains(in.Phone, "*")) { // a masked phone on edit is checked against the stored one
		if _, ok := pii.NormalizeMobile(in.Phone); !ok {
			f.Add("phone", "phone.invalid")
		}
	}
	if in.RoleID <= 0 {
		f.Add("roleId", "required")
	}
	if in.StoreID <= 0 {
		f.Add("storeId", "required")
	}
	return f.Err()
}

const userSelect = `SELECT u.id, u.username, u.name, coalesce(u.phone, ''), u.role_id, r.code, r.name, r.builtin, u.store_id, s.name, u.department_id, coalesce(d.name, ''),
	u.status, u.must_change_password, u.last_login_at, u.created_at, u.version
	FROM app_user u JOIN role r ON r.id = u.role_id JOIN store s ON s.id = u.store_id LEFT JOIN department d ON d.id = u.department_id`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var dept, last sql.NullInt64
	var builtin, must int64
	err := sc.Scan(&u.ID, &u.Username, &u.Name, &u.phone, &u.RoleID, &u.RoleCode, &u.RoleName, &builtin, &u.StoreID, &u.StoreName,
		&dept, &u.DepartmentName, &u.Status, &must, &last, &u.CreatedAt, &u.Version)
	u.DepartmentID = nonZero(dept)
	if last.Valid {
		u.LastLoginAt = &last.Int64
	}
	u.RoleBuiltin, u.MustChangePassword = builtin == 1, must == 1
	return u, err
}

// present masks the phone unless the reader may reveal personal data. Revealing
// in full is a separate audited action (RevealUserPhone), so lists stay masked.
func present(u User) User {
	u.Phone = ""
	if u.phone != "" {
		u.Phone = pii.MaskPhone(u.phone)
	}
	return u
}

func getUser(ctx context.Context, q db.Querier, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, userSelect+` WHERE u.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return u, fmt.Errorf("org: get user %d: %w", id, err)
	}
	return u, nil
}

// auditView is what the audit log keeps of a user: no hash, phone masked.
func auditView(u User) map[string]any {
	return map[string]any{"username": u.Username, "name": u.Name, "phone": pii.MaskPhone(u.phone), "roleId": u.RoleID,
		"storeId": u.StoreID, "departmentId": u.DepartmentID, "status": u.Status}
}

// GetUser returns one user.
func (s *Service) GetUser(ctx context.Context, a auth.Actor, id int64) (User, error) {
	u, err := getUser(ctx, s.db.R, id)
	if err != nil {
		return u, err
	}
	if err := auth.Check(a, auth.PermUserRead, u.record()); err != nil {
		return User{}, err
	}
	return present(u), nil
}

// RevealUserPhone returns a user's full phone number; it needs pi.reveal, a recent
// password entry, and writes an audit row.
func (s *Service) RevealUserPhone(ctx context.Context, a auth.Actor, id int64) (string, error) {
	u, err := getUser(ctx, s.db.R, id)
	if err != nil {
		return "", err
	}
	if !auth.Can(a, auth.PermUserRead, u.record()) {
		// A consultant may reveal customers' phones but not see colleagues' records.
		return "", apperr.New(apperr.NotFound, "not_found")
	}
	if err := auth.Require(a, auth.PermPIReveal); err != nil {
		return "", err
	}
	if err := s.auth.RequireRecentAuth(ctx, a); err != nil {
		return "", err
	}
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return s.audit(ctx, tx, a, "reveal", "user", id, u.StoreID, nil, map[string]string{"field": "phone"})
	})
	return u.phone, err
}

// UserFilter selects users for the list.
type UserFilter struct {
	Q            string
	StoreID      int64
	RoleID       int64
	DepartmentID int64
	Status       string
	Sort         string // "id" (default, oldest first), "name" or "username"
	Cursor       string
	Limit        int
}

// userSorts maps the sort parameter to its column; the cursor carries that
// column's value and the id, so paging stays a keyset seek for every order.
var userSorts = map[string]string{"": "u.id", "id": "u.id", "name": "u.name", "username": "u.username"}

// ListUsers pages through the users in the actor's scope, by id, with keyset paging.
func (s *Service) ListUsers(ctx context.Context, a auth.Actor, f UserFilter) (api.List[User], error) {
	if err := auth.Require(a, auth.PermUserRead); err != nil {
		return api.List[User]{}, err
	}
	cur, err := api.ParseCursor(f.Cursor)
	if err != nil {
		return api.List[User]{}, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	col, ok := userSorts[f.Sort]
	if !ok {
		return api.List[User]{}, apperr.Field("sort", "invalid_format")
	}
	order := col
	if col != "u.id" {
		order = col + ", u.id"
	}
	qb := sq.Select("u.id").From("app_user u").
		Where(auth.Filter(a, auth.PermUserRead, auth.Columns{Store: "u.store_id", Owner: "u.id", Department: "u.department_id"})).
		OrderBy(order).Limit(uint64(f.Limit + 1))
	if cur.ID > 0 {
		if col == "u.id" {
			qb = qb.Where(sq.Gt{"u.id": cur.ID})
		} else {
			qb = qb.Where(sq.Or{sq.Gt{col: cur.Sort}, sq.And{sq.Eq{col: cur.Sort}, sq.Gt{"u.id": cur.ID}}})
		}
	}
	if f.StoreID != 0 {
		qb = qb.Where(sq.Eq{"u.store_id": f.StoreID})
	}
	if f.RoleID != 0 {
		qb = qb.Where(sq.Eq{"u.role_id": f.RoleID})
	}
	if f.DepartmentID != 0 {
		qb = qb.Where(sq.Eq{"u.department_id": f.DepartmentID})
	}
	if f.Status != "" {
		if f.Status != "active" && f.Status != "disabled" {
			return api.List[User]{}, apperr.Field("status", "invalid_format")
		}
		qb = qb.Where(sq.Eq{"u.status": f.Status})
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + escapeLike(q) + "%"
		or := sq.Or{sq.Expr(`u.name LIKE ? ESCAPE '\'`, like), sq.Expr(`u.username LIKE ? ESCAPE '\'`, like)}
		if digits := onlyDigits(q); len(digits) >= 4 {
			or = append(or, sq.Expr(`u.phone LIKE ? ESCAPE '\'`, "%"+digits+"%"))
		}
		qb = qb.Where(or)
	}
	// The page of ids is chosen on app_user alone (index-only for the filters),
	// then the joined rows are read for just that page.
	inner, args, err := qb.ToSql()
	if err != nil {
		return api.List[User]{}, err
	}
	rows, err := s.db.R.QueryContext(ctx, userSelect+` WHERE u.id IN (`+inner+`) ORDER BY `+order, args...)
	if err != nil {
		return api.List[User]{}, fmt.Errorf("org: list users: %w", err)
	}
	defer rows.Close()
	out := api.List[User]{Items: []User{}}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, present(u))
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(out.Items) > f.Limit {
		out.Items = out.Items[:f.Limit]
		last := out.Items[f.Limit-1]
		c := api.Cursor{ID: last.ID}
		switch col {
		case "u.name":
			c.Sort = last.Name
		case "u.username":
			c.Sort = last.Username
		}
		out.Next = c.Encode()
	}
	return out, nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r != ' ' && r != '-' {
			return ""
		}
	}
	return b.String()
}

// checkAssignment validates role, store and department of a user being created or
// edited inside tx, and that the actor may give that role in that store.
func (s *Service) checkAssignment(ctx context.Context, q db.Querier, a auth.Actor, in UserInput) error {
	f := apperr.Fields{}
	role, err := getRole(ctx, q, in.RoleID)
	if err != nil {
		f.Add("roleId", "role.invalid")
	} else if !mayAssign(a, role.Scope, role.Permissions) {
		f.Add("roleId", "role.not_grantable")
	}
	if _, err := getStore(ctx, q, in.StoreID); err != nil || !a.InScope(auth.Record{StoreID: in.StoreID, OwnerID: -1}) && a.Scope != auth.ScopeGroup {
		f.Add("storeId", "store.invalid")
	}
	if d := deref(in.DepartmentID); d != 0 {
		dep, err := getDepartment(ctx, q, d)
		if err != nil || dep.StoreID != in.StoreID {
			f.Add("departmentId", "department.invalid")
		}
	}
	return f.Err()
}

// CreateUser adds an employee with a temporary password they must change.
func (s *Service) CreateUser(ctx context.Context, a auth.Actor, in UserInput) (User, error) {
	in.Normalize()
	if err := in.Validate(true); err != nil {
		return User{}, err
	}
	if err := auth.Check(a, auth.PermUserManage, auth.Record{StoreID: in.StoreID, DepartmentID: deref(in.DepartmentID)}); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return User{}, apperr.Field("storeId", "store.invalid")
		}
		return User{}, err
	}
	sec, err := s.auth.Security(ctx)
	if err != nil {
		return User{}, err
	}
	if err := auth.ValidatePassword("password", in.Password, in.Username, sec); err != nil {
		return User{}, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkAssignment(ctx, tx, a, in); err != nil {
			return err
		}
		id, err := CreateUserTx(ctx, tx, in, hash, true, s.now())
		if err != nil {
			return err
		}
		if u, err = getUser(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "user", id, u.StoreID, nil, auditView(u))
	})
	return present(u), err
}

// CreateUserTx inserts a user inside tx; hash is an argon2id password hash.
func CreateUserTx(ctx context.Context, q db.Querier, in UserInput, hash string, mustChange bool, now int64) (int64, error) {
	var phone any
	if in.Phone != "" {
		phone = in.Phone
	}
	must := 0
	if mustChange {
		must = 1
	}
	res, err := q.ExecContext(ctx, `INSERT INTO app_user(username, name, phone, password_hash, must_change_password, password_changed_at, role_id, store_id, department_id, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, in.Username, in.Name, phone, hash, must, now, in.RoleID, in.StoreID, nullInt(deref(in.DepartmentID)), now, now)
	if err != nil {
		switch col := db.UniqueColumn(err); col {
		case "app_user.username":
			return 0, apperr.Field("username", "username.taken")
		case "app_user.phone":
			return 0, apperr.Field("phone", "phone.taken")
		}
		return 0, fmt.Errorf("org: create user: %w", err)
	}
	return res.LastInsertId()
}

// UpdateUser edits an employee. Moving a user to another role or store ends their
// sessions, so the new permissions apply at once.
func (s *Service) UpdateUser(ctx context.Context, a auth.Actor, id int64, in UserInput) (User, error) {
	in.Normalize()
	if err := in.Validate(false); err != nil {
		return User{}, err
	}
	var u User
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := auth.Check(a, auth.PermUserManage, old.record()); err != nil {
			return err
		}
		oldRole, err := getRole(ctx, tx, old.RoleID)
		if err != nil {
			return err
		}
		if !mayAssign(a, oldRole.Scope, oldRole.Permissions) {
			return apperr.New(apperr.Forbidden, "forbidden") // cannot edit someone more powerful
		}
		if err := s.checkAssignment(ctx, tx, a, in); err != nil {
			return err
		}
		if id == a.UserID && in.RoleID != old.RoleID {
			return apperr.Field("roleId", "user.self_role")
		}
		if old.RoleCode == auth.RoleAdmin && old.Status == "active" && in.RoleID != old.RoleID {
			if err := keepAnAdmin(ctx, tx); err != nil {
				return err
			}
		}
		// The form shows the phone masked to people who may not reveal it; sending
		// that mask back unchanged keeps the stored number.
		if strings.Contains(in.Phone, "*") {
			if old.phone == "" || in.Phone != pii.MaskPhone(old.phone) {
				return apperr.Field("phone", "phone.invalid")
			}
			in.Phone = old.phone
		}
		var phone any
		if in.Phone != "" {
			phone = in.Phone
		}
		res, err := tx.ExecContext(ctx, `UPDATE app_user SET name=?, phone=?, role_id=?, store_id=?, department_id=?, version=version+1, updated_at=? WHERE id=? AND version=?`,
			in.Name, phone, in.RoleID, in.StoreID, nullInt(deref(in.DepartmentID)), s.now(), id, in.Version)
		if err != nil {
			if db.UniqueColumn(err) == "app_user.phone" {
				return apperr.Field("phone", "phone.taken")
			}
			return fmt.Errorf("org: update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale()
		}
		if old.RoleID != in.RoleID || old.StoreID != in.StoreID {
			if err := auth.EndUserSessions(ctx, tx, id, nil); err != nil {
				return err
			}
		}
		if u, err = getUser(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "user", id, u.StoreID, auditView(old), auditView(u))
	})
	return present(u), err
}

// SetUserStatus disables or enables a user; disabling ends every session at once.
func (s *Service) SetUserStatus(ctx context.Context, a auth.Actor, id int64, status string) (User, error) {
	if id == a.UserID && status == "disabled" {
		return User{}, apperr.New(apperr.Conflict, "user.self_disable")
	}
	var u User
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := s.manageable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if old.Status == status {
			u = old
			return nil
		}
		if old.RoleCode == auth.RoleAdmin && status == "disabled" {
			if err := keepAnAdmin(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE app_user SET status=?, version=version+1, updated_at=? WHERE id=?`, status, s.now(), id); err != nil {
			return fmt.Errorf("org: set user status: %w", err)
		}
		if status == "disabled" {
			if err := auth.EndUserSessions(ctx, tx, id, nil); err != nil {
				return err
			}
		}
		if u, err = getUser(ctx, tx, id); err != nil {
			return err
		}
		action := "disable"
		if status == "active" {
			action = "enable"
		}
		return s.audit(ctx, tx, a, action, "user", id, u.StoreID, map[string]string{"status": old.Status}, map[string]string{"status": status})
	})
	return present(u), err
}

// keepAnAdmin refuses, inside the write transaction, to take away an active
// admin (by disabling or by another role) when no other active admin is left:
// the installation must never lose its last administrator.
func keepAnAdmin(ctx context.Context, q db.Querier) error {
	var admins int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM app_user u JOIN role r ON r.id = u.role_id WHERE r.code = ? AND u.status = 'active'`, auth.RoleAdmin).Scan(&admins); err != nil {
		return fmt.Errorf("org: count admins: %w", err)
	}
	if admins <= 1 {
		return apperr.New(apperr.Conflict, "user.last_admin")
	}
	return nil
}

// manageable loads a user the actor may manage (scope, and not more powerful).
func (s *Service) manageable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (User, error) {
	u, err := getUser(ctx, q, id)
	if err != nil {
		return u, err
	}
	if err := auth.Check(a, auth.PermUserManage, u.record()); err != nil {
		return u, err
	}
	role, err := getRole(ctx, q, u.RoleID)
	if err != nil {
		return u, err
	}
	if !mayAssign(a, role.Scope, role.Permissions) {
		return u, apperr.New(apperr.Forbidden, "forbidden")
	}
	return u, nil
}

// ResetPasswordInput sets a temporary password.
type ResetPasswordInput struct {
	Password string `json:"password"`
}

// ResetPassword gives a user a temporary password (changed at next sign-in) and
// ends their sessions.
func (s *Service) ResetPassword(ctx context.Context, a auth.Actor, id int64, in ResetPasswordInput) error {
	sec, err := s.auth.Security(ctx)
	if err != nil {
		return err
	}
	u, err := s.manageable(ctx, s.db.R, a, id)
	if err != nil {
		return err
	}
	if err := auth.ValidatePassword("password", in.Password, u.Username, sec); err != nil {
		return err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return err
	}
	// The hash is computed outside the transaction (argon2id takes ~100 ms and must
	// not hold the writer); the permission check is repeated inside it, so a role
	// change committed meanwhile cannot slip through.
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.manageable(ctx, tx, a, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE app_user SET password_hash=?, must_change_password=1, password_changed_at=?, version=version+1, updated_at=? WHERE id=?`,
			hash, s.now(), s.now(), id); err != nil {
			return fmt.Errorf("org: reset password: %w", err)
		}
		if err := auth.EndUserSessions(ctx, tx, id, nil); err != nil {
			return err
		}
		if err := auth.Unlock(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "password_reset", "user", id, u.StoreID, nil, nil)
	})
}

// UnlockUser clears a sign-in lock-out.
func (s *Service) UnlockUser(ctx context.Context, a auth.Actor, id int64) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		u, err := s.manageable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := auth.Unlock(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "unlock", "user", id, u.StoreID, nil, nil)
	})
}

// ProfileInput edits the signed-in user's own name and language.
type ProfileInput struct {
	Name   string `json:"name"`
	Locale string `json:"locale"`
}

// UpdateProfile edits the actor's own name and language.
func (s *Service) UpdateProfile(ctx context.Context, a auth.Actor, in ProfileInput) error {
	in.Name = strings.TrimSpace(in.Name)
	f := apperr.Fields{}
	checkText(f, "name", in.Name, true, 40)
	if in.Locale != "zh-CN" && in.Locale != "en" {
		f.Add("locale", "locale.invalid")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if a.UserID == 0 {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getUser(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE app_user SET name=?, locale=?, version=version+1, updated_at=? WHERE id=?`, in.Name, in.Locale, s.now(), a.UserID); err != nil {
			return fmt.Errorf("org: update profile: %w", err)
		}
		return s.audit(ctx, tx, a, "update", "user", a.UserID, old.StoreID, map[string]string{"name": old.Name}, map[string]string{"name": in.Name, "locale": in.Locale})
	})
}

// Me is the signed-in user's view of themselves.
type Me struct {
	ID                 int64      `json:"id"`
	Username           string     `json:"username"`
	Name               string     `json:"name"`
	Phone              string     `json:"phone"`
	Locale             string     `json:"locale"`
	RoleID             int64      `json:"roleId"`
	RoleCode           string     `json:"roleCode"`
	RoleName           string     `json:"roleName"`
	RoleBuiltin        bool       `json:"roleBuiltin"`
	Scope              auth.Scope `json:"scope"`
	Permissions        []string   `json:"permissions"`
	StoreID            int64      `json:"storeId"`
	StoreName          string     `json:"storeName"`
	DepartmentID       *int64     `json:"departmentId"`
	Stores             []StoreRef `json:"stores"`
	MustChangePassword bool       `json:"mustChangePassword"`
}

// StoreRef names a store.
type StoreRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Me returns the actor's own profile, permissions and switchable stores.
func (s *Service) Me(ctx context.Context, a auth.Actor) (Me, error) {
	if a.UserID == 0 {
		return Me{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	u, err := getUser(ctx, s.db.R, a.UserID)
	if err != nil {
		return Me{}, err
	}
	m := Me{ID: u.ID, Username: u.Username, Name: u.Name, Phone: pii.MaskPhone(u.phone), Locale: a.Locale, RoleID: u.RoleID,
		RoleCode: u.RoleCode, RoleName: u.RoleName, RoleBuiltin: u.RoleBuiltin, Scope: a.Scope, StoreID: a.StoreID,
		DepartmentID: u.DepartmentID, MustChangePassword: u.MustChangePassword, Permissions: []string{}}
	if u.phone == "" {
		m.Phone = ""
	}
	for _, p := range auth.Permissions {
		if a.Has(p.Code) {
			m.Permissions = append(m.Permissions, p.Code)
		}
	}
	q := `SELECT id, name FROM store WHERE id = ?`
	args := []any{a.HomeStoreID}
	if a.Scope == auth.ScopeGroup {
		q, args = `SELECT id, name FROM store WHERE status = 'active' OR id = ? ORDER BY code`, []any{a.StoreID}
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return m, fmt.Errorf("org: me stores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r StoreRef
		if err := rows.Scan(&r.ID, &r.Name); err != nil {
			return m, err
		}
		m.Stores = append(m.Stores, r)
		if r.ID == a.StoreID {
			m.StoreName = r.Name
		}
	}
	return m, rows.Err()
}

// UserRecord is the access-check view of a user (attachments such as a photo of
// a driving licence or ID card for HR records).
func UserRecord(ctx context.Context, q db.Querier, id int64) (auth.Record, error) {
	u, err := getUser(ctx, q, id)
	if err != nil {
		return auth.Record{}, err
	}
	return u.record(), nil
}
