package org_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/demo"
	"dealerdesk/app/org"
)

func deptID(t *testing.T, env *apptest.Env, storeID int64, name string) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM department WHERE store_id = ? AND name = ?`, storeID, name).Scan(&id); err != nil {
		t.Fatalf("department %s of store %d: %v", name, storeID, err)
	}
	return id
}

func getUser(t *testing.T, c *apptest.Client, id int64) org.User {
	t.Helper()
	var u org.User
	c.Do("GET", fmt.Sprintf("/users/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &u)
	return u
}

func count(t *testing.T, env *apptest.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// signInNew signs in a user created through the API (temporary password) and
// changes the password, so the client can use every route.
func signInNew(t *testing.T, env *apptest.Env, username, temp string) *apptest.Client {
	t.Helper()
	c := env.Login(username, temp)
	c.Do("POST", "/auth/password", map[string]string{"oldPassword": temp, "newPassword": "Changed#2026x"}).Expect(t, http.StatusNoContent)
	return c
}

// userBody is a valid new user of store 1's sales department.
func userBody(t *testing.T, env *apptest.Env, username string) map[string]any {
	return map[string]any{"username": username, "name": "李明", "phone": "", "roleId": env.RoleID("sales"), "storeId": 1,
		"departmentId": deptID(t, env, 1, "销售部"), "password": "Xinyuan#2026"}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestCreateUser_FieldErrorsNameTheField(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	base := userBody(t, env, "liming")
	var salesPhone string
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE username = 'sales'`).Scan(&salesPhone)
	cases := []struct {
		name        string
		body        map[string]any
		field, code string
	}{
		{"username taken", with(base, "username", "sales"), "username", "username.taken"},
		{"username taken in another case", with(base, "username", "SALES"), "username", "username.taken"},
		{"username shape", with(base, "username", "1liming"), "username", "username.invalid"},
		{"username missing", with(base, "username", ""), "username", "required"},
		{"phone taken in another format", with(base, "phone", "+86 "+salesPhone[:3]+"-"+salesPhone[3:7]+"-"+salesPhone[7:]), "phone", "phone.taken"},
		{"phone invalid", with(base, "phone", "12345"), "phone", "phone.invalid"},
		{"landline", with(base, "phone", "0571-88886666"), "phone", "phone.invalid"},
		{"department of another store", with(base, "departmentId", deptID(t, env, 2, "销售部")), "departmentId", "department.invalid"},
		{"department that does not exist", with(base, "departmentId", 99999), "departmentId", "department.invalid"},
		{"role that does not exist", with(base, "roleId", 99999), "roleId", "role.invalid"},
		{"store that does not exist", with(base, "storeId", 99), "storeId", "store.invalid"},
		{"name missing", with(base, "name", "  "), "name", "required"},
		{"name too long", with(base, "name", strings.Repeat("名", 41)), "name", "too_long"},
		{"password policy", with(base, "password", "short"), "password", "password.too_short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			apptest.ExpectField(t, admin.Do("POST", "/users", c.body), c.field, c.code)
		})
	}
	if n := count(t, env, `SELECT count(*) FROM app_user WHERE username = 'liming'`); n != 0 {
		t.Fatalf("a refused create left %d rows", n)
	}
	if n := env.AuditCount("create", "user"); n != 0 {
		t.Errorf("refused creates wrote %d audit rows", n)
	}
	// Unknown JSON keys are refused, not ignored.
	apptest.ExpectErr(t, admin.Do("POST", "/users", with(base, "isAdmin", true)), http.StatusBadRequest, "request.unknown_field")

	var u org.User
	admin.Do("POST", "/users", with(base, "phone", "139 1234 5678")).Expect(t, http.StatusCreated).JSON(t, &u)
	if !u.MustChangePassword || u.Status != "active" || u.Phone != "139****5678" || u.Version != 1 {
		t.Errorf("created %+v; want active, must change password, masked phone, version 1", u)
	}
	if env.AuditCount("create", "user") != 1 {
		t.Error("no audit row for the created user")
	}
}

func TestUpdateUser_StaleVersionIsAConflictAndChangesNothing(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	id := env.UserID("sales")
	u := getUser(t, admin, id)
	body := map[string]any{"name": "新名字", "phone": "", "roleId": u.RoleID, "storeId": u.StoreID, "departmentId": u.DepartmentID, "version": u.Version}
	var got org.User
	admin.Do("PUT", fmt.Sprintf("/users/%d", id), body).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Name != "新名字" || got.Version != u.Version+1 {
		t.Fatalf("after update: %s v%d", got.Name, got.Version)
	}
	stale := with(body, "name", "过期的编辑")
	apptest.ExpectErr(t, admin.Do("PUT", fmt.Sprintf("/users/%d", id), stale), http.StatusConflict, "conflict.stale")
	now := getUser(t, admin, id)
	if now.Name != "新名字" || now.Version != got.Version {
		t.Errorf("a stale update changed the user: %s v%d", now.Name, now.Version)
	}
	if n := env.AuditCount("update", "user"); n != 1 {
		t.Errorf("%d update audit rows, want 1", n)
	}
	// Field errors on edit too.
	var otherPhone string
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE username = 'dcc'`).Scan(&otherPhone)
	apptest.ExpectField(t, admin.Do("PUT", fmt.Sprintf("/users/%d", id), with(body, "version", got.Version, "phone", otherPhone)), "phone", "phone.taken")
	apptest.ExpectField(t, admin.Do("PUT", fmt.Sprintf("/users/%d", id), with(body, "version", got.Version, "departmentId", deptID(t, env, 3, "DCC"))), "departmentId", "department.invalid")
	apptest.ExpectErr(t, admin.Do("PUT", "/users/99999", body), http.StatusNotFound, "not_found")
}

func TestUpdateUser_NewRoleOrStoreEndsTheUsersSessions(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	sales := env.As("sales")
	id := env.UserID("sales")
	u := getUser(t, admin, id)
	// A name change keeps the session.
	body := map[string]any{"name": "改名", "roleId": u.RoleID, "storeId": 1, "departmentId": u.DepartmentID, "version": u.Version}
	admin.Do("PUT", fmt.Sprintf("/users/%d", id), body).Expect(t, http.StatusOK)
	sales.Do("GET", "/auth/me", nil).Expect(t, http.StatusOK)
	// A role change ends it, so the new permissions apply at once.
	admin.Do("PUT", fmt.Sprintf("/users/%d", id), with(body, "roleId", env.RoleID("dcc"), "version", u.Version+1)).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, sales.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
}

func TestHR_ManagesOnlyTheirStoreAndNobodyMorePowerful(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	hr := env.As("hr")
	hrRole := env.RoleID("hr")
	base := map[string]any{"username": "wangfang", "name": "王芳", "roleId": hrRole, "storeId": 1, "password": "Xinyuan#2026"}

	apptest.ExpectField(t, hr.Do("POST", "/users", with(base, "storeId", 2)), "storeId", "store.invalid")
	apptest.ExpectField(t, hr.Do("POST", "/users", with(base, "roleId", env.RoleID(auth.RoleAdmin))), "roleId", "role.not_grantable")
	apptest.ExpectField(t, hr.Do("POST", "/users", with(base, "roleId", env.RoleID("gm"))), "roleId", "role.not_grantable")
	var u org.User
	hr.Do("POST", "/users", base).Expect(t, http.StatusCreated).JSON(t, &u)

	// Cannot move their user to another store.
	body := map[string]any{"name": u.Name, "roleId": hrRole, "storeId": 2, "version": u.Version}
	apptest.ExpectField(t, hr.Do("PUT", fmt.Sprintf("/users/%d", u.ID), body), "storeId", "store.invalid")

	// The administrator is out of reach: no edit, disable, password reset or unlock.
	admin := env.UserID("admin")
	adminBody := map[string]any{"name": "被改了", "roleId": env.RoleID(auth.RoleAdmin), "storeId": 1, "version": 1}
	apptest.ExpectErr(t, hr.Do("PUT", fmt.Sprintf("/users/%d", admin), adminBody), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, hr.Do("POST", fmt.Sprintf("/users/%d/disable", admin), nil), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, hr.Do("POST", fmt.Sprintf("/users/%d/reset-password", admin), map[string]string{"password": "Takeover#2026"}), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, hr.Do("POST", fmt.Sprintf("/users/%d/unlock", admin), nil), http.StatusForbidden, "forbidden")
	// Nor the store's general manager (more permissions than HR has).
	apptest.ExpectErr(t, hr.Do("POST", fmt.Sprintf("/users/%d/reset-password", env.UserID("gm")), map[string]string{"password": "Takeover#2026"}), http.StatusForbidden, "forbidden")
	env.As("admin") // the admin's password still works

	// Another store's people are not found at all.
	other := env.UserID("hr_NB011")
	apptest.ExpectErr(t, hr.Do("GET", fmt.Sprintf("/users/%d", other), nil), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, hr.Do("POST", fmt.Sprintf("/users/%d/disable", other), nil), http.StatusNotFound, "not_found")
}

func TestDisableUser_NobodyDisablesThemselves(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	for _, name := range []string{"admin", "hr"} {
		c := env.As(name)
		apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/users/%d/disable", env.UserID(name)), nil), http.StatusConflict, "user.self_disable")
		c.Do("GET", "/auth/me", nil).Expect(t, http.StatusOK)
	}
}

// deputy creates a custom group role holding every permission and a user with it:
// someone other than an admin who may still manage admins.
func deputy(t *testing.T, env *apptest.Env, admin *apptest.Client) *apptest.Client {
	t.Helper()
	var perms []string
	for _, p := range auth.Permissions {
		perms = append(perms, p.Code)
	}
	var r org.Role
	admin.Do("POST", "/roles", map[string]any{"code": "deputy", "name": "副管理员", "scope": "group", "permissions": perms}).Expect(t, http.StatusCreated).JSON(t, &r)
	admin.Do("POST", "/users", map[string]any{"username": "deputy1", "name": "副手", "roleId": r.ID, "storeId": 1, "password": "Deputy#2026"}).Expect(t, http.StatusCreated)
	return signInNew(t, env, "deputy1", "Deputy#2026")
}

func TestDisableUser_TheLastActiveAdminStays(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	dep := deputy(t, env, admin)
	adminID := env.UserID("admin")
	// A second admin who is disabled does not count.
	var second org.User
	admin.Do("POST", "/users", map[string]any{"username": "admin2", "name": "管理员二", "roleId": env.RoleID(auth.RoleAdmin), "storeId": 1, "password": "Second#2026"}).
		Expect(t, http.StatusCreated).JSON(t, &second)
	admin.Do("POST", fmt.Sprintf("/users/%d/disable", second.ID), nil).Expect(t, http.StatusOK)

	apptest.ExpectErr(t, dep.Do("POST", fmt.Sprintf("/users/%d/disable", adminID), nil), http.StatusConflict, "user.last_admin")
	admin.Do("GET", "/auth/me", nil).Expect(t, http.StatusOK)
	// With the second admin active again, the first may be disabled.
	admin.Do("POST", fmt.Sprintf("/users/%d/enable", second.ID), nil).Expect(t, http.StatusOK)
	dep.Do("POST", fmt.Sprintf("/users/%d/disable", adminID), nil).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, dep.Do("POST", fmt.Sprintf("/users/%d/disable", second.ID), nil), http.StatusConflict, "user.last_admin")
}

func TestUpdateUser_TheLastActiveAdminKeepsTheAdminRole(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	dep := deputy(t, env, admin)
	adminID := env.UserID("admin")
	u := getUser(t, dep, adminID)
	demote := map[string]any{"name": u.Name, "roleId": env.RoleID("gm"), "storeId": 1, "version": u.Version}
	apptest.ExpectErr(t, dep.Do("PUT", fmt.Sprintf("/users/%d", adminID), demote), http.StatusConflict, "user.last_admin")
	if got := getUser(t, dep, adminID); got.RoleCode != auth.RoleAdmin {
		t.Fatalf("the last admin now has role %s", got.RoleCode)
	}
	// Editing the last admin's other fields is fine.
	dep.Do("PUT", fmt.Sprintf("/users/%d", adminID), with(demote, "roleId", u.RoleID, "name", "总管理员")).Expect(t, http.StatusOK)
	// With a second active admin the first can be given another role.
	admin.Do("POST", "/users", map[string]any{"username": "admin2", "name": "管理员二", "roleId": env.RoleID(auth.RoleAdmin), "storeId": 1, "password": "Second#2026"}).
		Expect(t, http.StatusCreated)
	dep.Do("PUT", fmt.Sprintf("/users/%d", adminID), with(demote, "version", u.Version+1)).Expect(t, http.StatusOK)
	// Nobody changes their own role.
	me := getUser(t, dep, env.UserID("deputy1"))
	apptest.ExpectField(t, dep.Do("PUT", fmt.Sprintf("/users/%d", me.ID), map[string]any{"name": me.Name, "roleId": env.RoleID(auth.RoleAdmin), "storeId": 1, "version": me.Version}), "roleId", "user.self_role")
}

func TestRoles_CustomRoleLifecycle(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	in := map[string]any{"code": "appraiser", "name": "二手车评估师", "scope": "store", "permissions": []string{"vehicle.read", "customer.read", "vehicle.read"}}
	var r org.Role
	admin.Do("POST", "/roles", in).Expect(t, http.StatusCreated).JSON(t, &r)
	if r.Builtin || r.Scope != auth.ScopeStore || strings.Join(r.Permissions, ",") != "customer.read,vehicle.read" {
		t.Errorf("created %+v", r)
	}
	apptest.ExpectField(t, admin.Do("POST", "/roles", in), "code", "role.code_taken")
	apptest.ExpectField(t, admin.Do("POST", "/roles", with(in, "code", "x2", "permissions", []string{"fly.plane"})), "permissions", "permission.unknown")
	apptest.ExpectField(t, admin.Do("POST", "/roles", with(in, "code", "x3", "scope", "planet")), "scope", "scope.invalid")
	apptest.ExpectField(t, admin.Do("POST", "/roles", with(in, "code", "Bad Code")), "code", "invalid_format")
	apptest.ExpectErr(t, env.As("gm").Do("POST", "/roles", with(in, "code", "x4")), http.StatusForbidden, "forbidden")

	// Give it to someone: in use. The new permission applies to their live session.
	admin.Do("POST", "/users", map[string]any{"username": "pinggu", "name": "评估员", "roleId": r.ID, "storeId": 1, "password": "Appraise#2026"}).Expect(t, http.StatusCreated)
	c := signInNew(t, env, "pinggu", "Appraise#2026")
	apptest.ExpectErr(t, c.Do("GET", "/users", nil), http.StatusForbidden, "forbidden")
	var updated org.Role
	admin.Do("PUT", fmt.Sprintf("/roles/%d", r.ID), map[string]any{"name": r.Name, "scope": "store", "permissions": []string{"vehicle.read", "customer.read", "user.read"}, "version": r.Version}).
		Expect(t, http.StatusOK).JSON(t, &updated)
	c.Do("GET", "/users", nil).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, admin.Do("PUT", fmt.Sprintf("/roles/%d", r.ID), map[string]any{"name": "x", "scope": "store", "permissions": []string{}, "version": r.Version}), http.StatusConflict, "conflict.stale")
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/roles/%d", r.ID), nil), http.StatusConflict, "role.in_use")

	// Built-in roles cannot be deleted, even when nobody holds them.
	var unused org.Role
	admin.Do("POST", "/roles", map[string]any{"code": "spare", "name": "备用", "scope": "own", "permissions": []string{}}).Expect(t, http.StatusCreated).JSON(t, &unused)
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/roles/%d", env.RoleID("sales")), nil), http.StatusConflict, "role.builtin")
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/roles/%d", env.RoleID(auth.RoleAdmin)), nil), http.StatusConflict, "role.builtin")
	// A live API key holds a role too.
	var key org.NewAPIKeyResult
	admin.Do("POST", "/apikeys", map[string]any{"name": "k", "roleId": unused.ID, "storeId": 1}).Expect(t, http.StatusCreated).JSON(t, &key)
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/roles/%d", unused.ID), nil), http.StatusConflict, "role.in_use")
	// A revoked key's row still names the role (the key's history), so it stays.
	admin.Do("POST", fmt.Sprintf("/apikeys/%d/revoke", key.APIKey.ID), nil).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/roles/%d", unused.ID), nil), http.StatusConflict, "role.in_use")
	// A role nothing ever held goes, with its permissions.
	var spare org.Role
	admin.Do("POST", "/roles", map[string]any{"code": "spare2", "name": "备用二", "scope": "own", "permissions": []string{"office.use"}}).Expect(t, http.StatusCreated).JSON(t, &spare)
	admin.Do("DELETE", fmt.Sprintf("/roles/%d", spare.ID), nil).Expect(t, http.StatusNoContent)
	if n := count(t, env, `SELECT count(*) FROM role_permission WHERE role_id = ?`, spare.ID); n != 0 {
		t.Errorf("%d permission rows left of a deleted role", n)
	}
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/roles/%d", spare.ID), nil), http.StatusNotFound, "not_found")
	if n := env.AuditCount("delete", "role"); n != 1 {
		t.Errorf("%d delete audit rows, want 1", n)
	}
}

func TestRoles_TheAdminRoleKeepsEveryPermissionAtGroupScope(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var roles struct{ Items []org.Role }
	admin.Do("GET", "/roles", nil).Expect(t, http.StatusOK).JSON(t, &roles)
	var adm org.Role
	for _, r := range roles.Items {
		if r.Code == auth.RoleAdmin {
			adm = r
		}
	}
	if len(adm.Permissions) != len(auth.Permissions) || adm.Scope != auth.ScopeGroup || !adm.Builtin {
		t.Fatalf("admin role %+v", adm)
	}
	path := fmt.Sprintf("/roles/%d", adm.ID)
	fewer := map[string]any{"name": adm.Name, "scope": "group", "permissions": adm.Permissions[1:], "version": adm.Version}
	apptest.ExpectField(t, admin.Do("PUT", path, fewer), "permissions", "role.builtin")
	apptest.ExpectField(t, admin.Do("PUT", path, with(fewer, "permissions", adm.Permissions, "scope", "store")), "permissions", "role.builtin")
	// Duplicates do not make up for a missing permission.
	padded := append(append([]string{}, adm.Permissions[1:]...), adm.Permissions[2])
	apptest.ExpectField(t, admin.Do("PUT", path, with(fewer, "permissions", padded)), "permissions", "role.builtin")
	if n := count(t, env, `SELECT count(*) FROM role_permission WHERE role_id = ?`, adm.ID); n != len(auth.Permissions) {
		t.Errorf("admin role has %d permissions after refused edits", n)
	}
	// Renaming it is fine.
	admin.Do("PUT", path, with(fewer, "permissions", adm.Permissions, "name", "超级管理员")).Expect(t, http.StatusOK)
}

func TestDepartments_InUseAndCyclesAreRefused(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var list struct{ Items []org.Department }
	admin.Do("GET", "/departments?storeId=1", nil).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 8 {
		t.Errorf("store 1 has %d departments, want 8", len(list.Items))
	}
	sales := deptID(t, env, 1, "销售部")
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/departments/%d", sales), nil), http.StatusConflict, "department.in_use")

	mk := func(name string, parent *int64) org.Department {
		var d org.Department
		admin.Do("POST", "/departments", map[string]any{"storeId": 1, "name": name, "kind": "sales", "parentId": parent}).Expect(t, http.StatusCreated).JSON(t, &d)
		return d
	}
	a := mk("展厅一组", nil)
	b := mk("展厅一组A", &a.ID)
	c := mk("展厅一组A1", &b.ID)
	upd := func(d org.Department, parent int64) *apptest.Response {
		return admin.Do("PUT", fmt.Sprintf("/departments/%d", d.ID), map[string]any{"name": d.Name, "kind": d.Kind, "parentId": parent, "version": d.Version})
	}
	apptest.ExpectField(t, upd(a, c.ID), "parentId", "department.invalid")
	apptest.ExpectField(t, upd(a, b.ID), "parentId", "department.invalid")
	apptest.ExpectField(t, upd(a, a.ID), "parentId", "department.invalid")
	apptest.ExpectField(t, upd(a, deptID(t, env, 2, "销售部")), "parentId", "department.invalid")
	upd(c, a.ID).Expect(t, http.StatusOK) // moving down the tree is fine

	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/departments/%d", a.ID), nil), http.StatusConflict, "department.in_use")
	apptest.ExpectField(t, admin.Do("POST", "/departments", map[string]any{"storeId": 1, "name": "展厅一组", "kind": "sales"}), "name", "department.name_taken")
	apptest.ExpectField(t, admin.Do("POST", "/departments", map[string]any{"storeId": 1, "name": "x", "kind": "space"}), "kind", "invalid_format")
	apptest.ExpectField(t, admin.Do("POST", "/departments", map[string]any{"storeId": 1, "name": "跨店", "kind": "sales", "parentId": deptID(t, env, 2, "销售部")}), "parentId", "department.invalid")
	admin.Do("DELETE", fmt.Sprintf("/departments/%d", b.ID), nil).Expect(t, http.StatusNoContent)
	if n := env.AuditCount("delete", "department"); n != 1 {
		t.Errorf("%d delete audit rows, want 1", n)
	}
	// Only org.manage changes departments, and only in scope.
	apptest.ExpectErr(t, env.As("gm").Do("DELETE", fmt.Sprintf("/departments/%d", c.ID), nil), http.StatusForbidden, "forbidden")
}

func TestUsers_EachRoleSeesItsDataScope(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	all := count(t, env, `SELECT count(*) FROM app_user`)
	store1 := count(t, env, `SELECT count(*) FROM app_user WHERE store_id = 1`)
	store2 := count(t, env, `SELECT count(*) FROM app_user WHERE store_id = 2`)
	list := func(c *apptest.Client, query string) []org.User {
		var page struct {
			Items []org.User
			Next  string
		}
		c.Do("GET", "/users?limit=200"+query, nil).Expect(t, http.StatusOK).JSON(t, &page)
		return page.Items
	}
	apptest.ExpectErr(t, env.As("sales").Do("GET", "/users", nil), http.StatusForbidden, "forbidden")
	mgr := env.As("sales_manager")
	got := list(mgr, "")
	if len(got) != store1 {
		t.Errorf("sales_manager sees %d users, want the %d of store 1", len(got), store1)
	}
	for _, u := range got {
		if u.StoreID != 1 {
			t.Errorf("sales_manager of store 1 sees %s of store %d", u.Username, u.StoreID)
		}
	}
	if n := len(list(mgr, "&storeId=2")); n != 0 {
		t.Errorf("sales_manager asking for store 2 gets %d users", n)
	}
	if n := len(list(env.As("gm_NB011"), "")); n != store2 {
		t.Errorf("gm of store 2 sees %d users, want %d", n, store2)
	}
	if n := len(list(env.As("admin"), "")); n != all {
		t.Errorf("admin sees %d users, want all %d", n, all)
	}
	// Another store's user is "not found", never "forbidden".
	other := env.UserID("sales_NB011")
	apptest.ExpectErr(t, mgr.Do("GET", fmt.Sprintf("/users/%d", other), nil), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, mgr.Do("GET", "/users/999999", nil), http.StatusNotFound, "not_found")
	getUser(t, mgr, env.UserID("sales"))
}

func TestUsers_FiltersAndMaskedPhones(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var page struct{ Items []org.User }
	admin.Do("GET", fmt.Sprintf("/users?limit=200&roleId=%d&storeId=1", env.RoleID("sales")), nil).Expect(t, http.StatusOK).JSON(t, &page)
	if want := count(t, env, `SELECT count(*) FROM app_user u JOIN role r ON r.id = u.role_id WHERE r.code = 'sales' AND u.store_id = 1`); len(page.Items) != want || want == 0 {
		t.Errorf("roleId+storeId filter: %d users, want %d", len(page.Items), want)
	}
	var phone string
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE username = 'dcc'`).Scan(&phone)
	r := admin.Do("GET", "/users?limit=200&q="+url.QueryEscape(phone[3:9]), nil).Expect(t, http.StatusOK)
	r.JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].Username != "dcc" {
		t.Errorf("search by phone digits found %d users", len(page.Items))
	}
	all := admin.Do("GET", "/users?limit=200", nil).Expect(t, http.StatusOK)
	if strings.Contains(string(all.Body), phone) {
		t.Error("the user list shows a full phone number")
	}
	// LIKE wildcards in q are literal.
	admin.Do("GET", "/users?q=%25", nil).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Items) != 0 {
		t.Errorf("q=%% matched %d users", len(page.Items))
	}
	apptest.ExpectField(t, admin.Do("GET", "/users?status=gone", nil), "status", "invalid_format")
	apptest.ExpectField(t, admin.Do("GET", "/users?limit=201", nil), "limit", "out_of_range")
	apptest.ExpectField(t, admin.Do("GET", "/users?cursor=!!", nil), "cursor", "invalid_format")
}

func TestUsers_KeysetPagingReturnsEveryUserExactlyOnce(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	seen := map[int64]int{}
	cursor, pages := "", 0
	var last int64
	for {
		var page struct {
			Items []org.User
			Next  string
		}
		admin.Do("GET", "/users?limit=7&cursor="+url.QueryEscape(cursor), nil).Expect(t, http.StatusOK).JSON(t, &page)
		pages++
		if len(page.Items) > 7 {
			t.Fatalf("page of %d with limit 7", len(page.Items))
		}
		for _, u := range page.Items {
			seen[u.ID]++
			if u.ID <= last {
				t.Errorf("ids out of order: %d after %d", u.ID, last)
			}
			last = u.ID
		}
		if page.Next == "" {
			break
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		cursor = page.Next
	}
	all := count(t, env, `SELECT count(*) FROM app_user`)
	if len(seen) != all {
		t.Errorf("paging saw %d distinct users, want %d", len(seen), all)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("user %d seen %d times", id, n)
		}
	}
	if want := (all + 6) / 7; pages != want {
		t.Errorf("%d pages, want %d", pages, want)
	}
}

func TestStores_ScopeAndUniqueCode(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	gm := env.As("gm")
	var page struct{ Items []org.Store }
	gm.Do("GET", "/stores", nil).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != 1 {
		t.Errorf("gm of store 1 sees stores %+v", page.Items)
	}
	apptest.ExpectErr(t, gm.Do("GET", "/stores/2", nil), http.StatusNotFound, "not_found")
	admin := env.As("admin")
	admin.Do("GET", "/stores", nil).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Items) != 3 {
		t.Errorf("admin sees %d stores, want 3", len(page.Items))
	}
	apptest.ExpectField(t, admin.Do("POST", "/stores", map[string]any{"code": "hz01", "name": "重复"}), "code", "store.code_taken")
	var st org.Store
	admin.Do("POST", "/stores", map[string]any{"code": "wz01", "name": "温州店"}).Expect(t, http.StatusCreated).JSON(t, &st)
	if st.Code != "WZ01" || st.Status != "active" {
		t.Errorf("created store %+v", st)
	}
	apptest.ExpectErr(t, gm.Do("POST", "/stores", map[string]any{"code": "X1", "name": "x"}), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, admin.Do("PUT", fmt.Sprintf("/stores/%d", st.ID), map[string]any{"code": "WZ01", "name": "改", "version": st.Version + 5}), http.StatusConflict, "conflict.stale")
}

func TestLogin_DemoAccountsAllSignIn(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	for _, r := range auth.DefaultRoles {
		c := env.Login(r.Code, demo.Password)
		var m org.Me
		c.Do("GET", "/auth/me", nil).Expect(t, http.StatusOK).JSON(t, &m)
		if m.RoleCode != r.Code || m.StoreID != 1 {
			t.Errorf("%s signs in as role %s of store %d", r.Code, m.RoleCode, m.StoreID)
		}
	}
}
