package audit_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/audit"
	"dealerdesk/app/demo"
	"dealerdesk/app/org"
)

// lastRow is the newest audit row with the action on the entity.
func lastRow(t *testing.T, env *apptest.Env, action, entity string) audit.Row {
	t.Helper()
	r, err := audit.Scan(env.App.DB.R.QueryRow(`SELECT `+audit.Columns+` FROM audit_log WHERE action = ? AND entity = ? ORDER BY id DESC LIMIT 1`, action, entity))
	if err != nil {
		t.Fatalf("no %s %s audit row: %v", action, entity, err)
	}
	return r
}

func allRows(t *testing.T, env *apptest.Env) []audit.Row {
	t.Helper()
	rows, err := env.App.DB.R.Query(`SELECT ` + audit.Columns + ` FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []audit.Row
	for rows.Next() {
		r, err := audit.Scan(rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// rawConn is a connection of its own to the database file, as someone with
// file access would use; it is not bound by the app's rules.
func rawConn(t *testing.T, env *apptest.Env) *sql.DB {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+filepath.ToSlash(env.App.DB.Path)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestAudit_EveryKindOfEventWritesItsRow(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	anon := env.Client()
	type step struct {
		action, entity string
		resp           *apptest.Response
		userID         int64 // 0: no user (failed sign-in)
		entityID       string
	}
	var steps []step
	add := func(action, entity string, r *apptest.Response, status int, userID int64, entityID string) {
		t.Helper()
		r.Expect(t, status)
		steps = append(steps, step{action, entity, r, userID, entityID})
	}
	setup := anon.Do("POST", "/setup", map[string]string{"groupName": "鑫源汽车集团", "storeName": "杭州店", "storeCode": "HZ01",
		"adminUsername": "root", "adminName": "系统管理员", "password": "Setup#2026"})
	adminID := env.UserID("root")
	add("setup", "group", setup, http.StatusCreated, adminID, "1")
	admin := env.Client()
	add("login", "user", admin.Do("POST", "/auth/login", map[string]string{"login": "root", "password": "Setup#2026"}), http.StatusOK, adminID, fmt.Sprint(adminID))
	add("login_failed", "user", env.Client().Do("POST", "/auth/login", map[string]string{"login": "root", "password": "Wrong#2026"}), http.StatusUnauthorized, 0, fmt.Sprint(adminID))

	var u org.User
	r := admin.Do("POST", "/users", map[string]any{"username": "zhangsan", "name": "张三", "phone": "13912345678", "roleId": env.RoleID("sales"), "storeId": 1, "password": "Zhang#2026x"})
	add("create", "user", r, http.StatusCreated, adminID, "")
	r.JSON(t, &u)
	steps[len(steps)-1].entityID = fmt.Sprint(u.ID)
	uid := fmt.Sprint(u.ID)
	add("update", "user", admin.Do("PUT", "/users/"+uid, map[string]any{"name": "张三丰", "phone": "13912345678", "roleId": u.RoleID, "storeId": 1, "version": u.Version}), http.StatusOK, adminID, uid)
	add("reveal", "user", admin.Do("POST", "/users/"+uid+"/reveal-phone", nil), http.StatusOK, adminID, uid)
	add("password_reset", "user", admin.Do("POST", "/users/"+uid+"/reset-password", map[string]string{"password": "Reset#2026x"}), http.StatusNoContent, adminID, uid)
	add("disable", "user", admin.Do("POST", "/users/"+uid+"/disable", nil), http.StatusOK, adminID, uid)
	var st org.Store
	r = admin.Do("POST", "/stores", map[string]string{"code": "NB01", "name": "宁波店"})
	r.Expect(t, http.StatusCreated).JSON(t, &st)
	add("switch_store", "store", admin.Do("POST", "/auth/switch-store", map[string]int64{"storeId": st.ID}), http.StatusOK, adminID, fmt.Sprint(st.ID))
	add("logout", "user", admin.Do("POST", "/auth/logout", nil), http.StatusNoContent, adminID, fmt.Sprint(adminID))

	for _, s := range steps {
		row := lastRow(t, env, s.action, s.entity)
		reqID := s.resp.Header.Get("X-Request-Id")
		if reqID == "" || row.RequestID != reqID {
			t.Errorf("%s: request id %q, response had %q", s.action, row.RequestID, reqID)
		}
		if row.IP != "127.0.0.1" {
			t.Errorf("%s: ip %q", s.action, row.IP)
		}
		if row.Entity != s.entity || row.EntityID != s.entityID {
			t.Errorf("%s: entity %s/%s, want %s/%s", s.action, row.Entity, row.EntityID, s.entity, s.entityID)
		}
		if s.userID == 0 {
			if row.UserID != nil || row.UserName != "root" || row.Result != "bad_credentials" {
				t.Errorf("%s: user %v %q result %q; want no user id, the login typed, bad_credentials", s.action, row.UserID, row.UserName, row.Result)
			}
		} else if row.UserID == nil || *row.UserID != s.userID || !strings.Contains(row.UserName, "root") || row.Result != "ok" {
			t.Errorf("%s: user %v %q result %q; want %d", s.action, row.UserID, row.UserName, row.Result, s.userID)
		}
		if row.At != env.Clock.Now().UnixMilli() {
			t.Errorf("%s: at %d, want the clock's %d", s.action, row.At, env.Clock.Now().UnixMilli())
		}
	}
	if got := lastRow(t, env, "reveal", "user"); !strings.Contains(string(got.After), "phone") || strings.Contains(string(got.After), "13912345678") {
		t.Errorf("reveal row after = %s; want the field named, not its value", got.After)
	}
	if got := lastRow(t, env, "create", "user"); strings.Contains(string(got.After), "13912345678") || !strings.Contains(string(got.After), "139****5678") {
		t.Errorf("create row after = %s; want the phone masked", got.After)
	}
}

func TestAudit_UpdateRowShowsTheChangedField(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	id := env.UserID("sales")
	var u org.User
	admin.Do("GET", fmt.Sprintf("/users/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &u)
	var phone string
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE id = ?`, id).Scan(&phone)
	admin.Do("PUT", fmt.Sprintf("/users/%d", id), map[string]any{"name": "王大伟", "phone": phone, "roleId": u.RoleID, "storeId": u.StoreID,
		"departmentId": u.DepartmentID, "version": u.Version}).Expect(t, http.StatusOK)
	row := lastRow(t, env, "update", "user")
	var before, after map[string]any
	if err := json.Unmarshal(row.Before, &before); err != nil {
		t.Fatalf("before %s: %v", row.Before, err)
	}
	if err := json.Unmarshal(row.After, &after); err != nil {
		t.Fatalf("after %s: %v", row.After, err)
	}
	if before["name"] != u.Name || after["name"] != "王大伟" {
		t.Errorf("name %v → %v, want %s → 王大伟", before["name"], after["name"], u.Name)
	}
	for k, v := range before {
		if k != "name" && fmt.Sprint(after[k]) != fmt.Sprint(v) {
			t.Errorf("unchanged field %s differs: %v → %v", k, v, after[k])
		}
	}
	if row.StoreID == nil || *row.StoreID != 1 || row.EntityID != fmt.Sprint(id) {
		t.Errorf("row store %v entity %s", row.StoreID, row.EntityID)
	}
}

func TestAudit_NeverHoldsAPasswordOrItsHash(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	const temp, own = "Temp#Pass2026", "Own#Pass2026x"
	var u org.User
	admin.Do("POST", "/users", map[string]any{"username": "lisi", "name": "李四", "roleId": env.RoleID("sales"), "storeId": 1, "password": temp}).
		Expect(t, http.StatusCreated).JSON(t, &u)
	admin.Do("POST", fmt.Sprintf("/users/%d/reset-password", u.ID), map[string]string{"password": temp}).Expect(t, http.StatusNoContent)
	c := env.Login("lisi", temp)
	c.Do("POST", "/auth/password", map[string]string{"oldPassword": temp, "newPassword": own}).Expect(t, http.StatusNoContent)
	c.Do("POST", "/auth/reauth", map[string]string{"password": "Wrong#2026"}).Expect(t, http.StatusBadRequest)
	env.Client().Do("POST", "/auth/login", map[string]string{"login": "lisi", "password": own + "x"}).Expect(t, http.StatusUnauthorized)
	admin.Do("PUT", "/settings/security", map[string]int{"passwordMinLength": 10, "passwordRequireClasses": 3, "sessionIdleMinutes": 30,
		"sessionAbsoluteHours": 12, "lockoutThreshold": 5, "lockoutMinutes": 15, "reauthMinutes": 5}).Expect(t, http.StatusOK)

	secrets := []string{"$argon2id$", temp, own, own + "x", demo.Password, "Wrong#2026"}
	rows, err := env.App.DB.R.Query(`SELECT password_hash FROM app_user`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var h string
		rows.Scan(&h)
		secrets = append(secrets, h, h[strings.LastIndexByte(h, '$')+1:])
	}
	rows.Close()
	all := allRows(t, env)
	if len(all) < 8 {
		t.Fatalf("only %d audit rows", len(all))
	}
	for _, r := range all {
		b, _ := json.Marshal(r)
		text := string(b) + r.UserName
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("audit row %d (%s) holds a secret %.16q…", r.ID, r.Action, s)
			}
		}
	}
}

func TestAudit_RowsCannotBeChangedOrDeleted(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	env.As("admin")
	before := allRows(t, env)
	for _, q := range []string{
		`UPDATE audit_log SET action = 'nothing' WHERE id = 1`,
		`UPDATE audit_log SET after_json = NULL`,
		`DELETE FROM audit_log WHERE id = 1`,
		`DELETE FROM audit_log`,
	} {
		_, err := env.App.DB.W.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
	after := allRows(t, env)
	if len(after) != len(before) || after[0].Action != before[0].Action || after[0].Hash != before[0].Hash {
		t.Error("the audit log changed")
	}
}

func TestVerify_PassesOnAnUntouchedLog(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	env.As("sales")
	env.Client().Do("POST", "/auth/login", map[string]string{"login": "sales", "password": "nope"})
	n := len(allRows(t, env))
	res, err := audit.Verify(context.Background(), env.App.DB.R)
	if err != nil || !res.OK || res.Checked != int64(n) || res.BrokenAt != 0 {
		t.Fatalf("Verify = %+v, %v; want ok over %d rows", res, err, n)
	}
	var api audit.VerifyResult
	admin.Do("POST", "/audit/verify", nil).Expect(t, http.StatusOK).JSON(t, &api)
	if !api.OK || api.Checked != int64(n) {
		t.Errorf("POST /audit/verify = %+v", api)
	}
	// A store-scope reader cannot vouch for the whole group's log.
	if r := env.As("gm").Do("POST", "/audit/verify", nil); r.Status != http.StatusForbidden {
		t.Errorf("gm verify: %s, want 403", r)
	}
	// An empty log verifies too.
	if res, err := audit.Verify(context.Background(), apptest.New(t).App.DB.R); err != nil || !res.OK || res.Checked != 0 {
		t.Errorf("empty log: %+v, %v", res, err)
	}
}

// tamperedEnv is an env with some audit rows and the triggers dropped by someone
// with direct access to the file.
func tamperedEnv(t *testing.T) (*apptest.Env, *sql.DB, []audit.Row) {
	t.Helper()
	env := apptest.NewDemo(t)
	env.As("admin")
	env.As("sales")
	env.As("gm")
	raw := rawConn(t, env)
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rows := allRows(t, env)
	if len(rows) < 4 {
		t.Fatalf("only %d rows", len(rows))
	}
	return env, raw, rows
}

func TestVerify_NamesTheRowWhoseContentChanged(t *testing.T) {
	t.Parallel()
	env, raw, rows := tamperedEnv(t)
	target := rows[2].ID
	if _, err := raw.Exec(`UPDATE audit_log SET after_json = '{"name":"someone else"}' WHERE id = ?`, target); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(context.Background(), env.App.DB.R)
	if err != nil || res.OK || res.BrokenAt != target || res.Reason != "content" {
		t.Fatalf("Verify = %+v, %v; want broken at %d: content", res, err, target)
	}
	var api audit.VerifyResult
	env.As("admin").Do("POST", "/audit/verify", nil).Expect(t, http.StatusOK).JSON(t, &api)
	if api.OK || api.BrokenAt != target {
		t.Errorf("POST /audit/verify = %+v, want broken at %d", api, target)
	}
}

func TestVerify_DetectsAnEditThatKeepsTheRowsOwnHash(t *testing.T) {
	t.Parallel()
	env, raw, rows := tamperedEnv(t)
	// Re-pointing a row's prev_hash (and leaving its hash) breaks the chain there.
	if _, err := raw.Exec(`UPDATE audit_log SET prev_hash = ? WHERE id = ?`, rows[0].Hash, rows[2].ID); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(context.Background(), env.App.DB.R)
	if err != nil || res.OK || res.BrokenAt != rows[2].ID || res.Reason != "chain" {
		t.Fatalf("Verify = %+v, %v; want broken at %d: chain", res, err, rows[2].ID)
	}
}

func TestVerify_NamesTheGapOfADeletedRow(t *testing.T) {
	t.Parallel()
	env, raw, rows := tamperedEnv(t)
	middle := rows[len(rows)/2].ID
	if _, err := raw.Exec(`DELETE FROM audit_log WHERE id = ?`, middle); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(context.Background(), env.App.DB.R)
	if err != nil || res.OK || res.BrokenAt != middle || (res.Reason != "missing" && res.Reason != "chain") {
		t.Fatalf("Verify = %+v, %v; want broken at %d: missing", res, err, middle)
	}
	// The first row gone: the next one no longer starts from the genesis hash.
	if _, err := raw.Exec(`DELETE FROM audit_log WHERE id = ?`, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	res, _ = audit.Verify(context.Background(), env.App.DB.R)
	if res.OK || res.BrokenAt != rows[1].ID || res.Reason != "chain" {
		t.Errorf("first row deleted: %+v, want broken at %d: chain", res, rows[1].ID)
	}
}

type page struct {
	Items []audit.Row
	Next  string
}

func list(t *testing.T, c *apptest.Client, query string) page {
	t.Helper()
	var p page
	c.Do("GET", "/audit?"+query, nil).Expect(t, http.StatusOK).JSON(t, &p)
	return p
}

func TestAuditList_FiltersAndKeysetPaging(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	env.As("sales")
	t0 := env.Clock.Now().UnixMilli()
	env.Clock.Advance(time.Hour)
	t1 := env.Clock.Now().UnixMilli()
	env.As("dcc")
	env.Client().Do("POST", "/auth/login", map[string]string{"login": "dcc", "password": "nope"})
	id := env.UserID("dcc")
	admin = env.As("admin") // the first session went idle
	admin.Do("POST", fmt.Sprintf("/users/%d/disable", id), nil).Expect(t, http.StatusOK)

	for _, r := range list(t, admin, "action=login&limit=200").Items {
		if r.Action != "login" {
			t.Errorf("action filter returned %s", r.Action)
		}
	}
	if n := len(list(t, admin, "action=login&limit=200").Items); n != env.AuditCount("login", "") {
		t.Errorf("action=login: %d rows, want %d", n, env.AuditCount("login", ""))
	}
	byEntity := list(t, admin, fmt.Sprintf("entity=user&entityId=%d&limit=200", id)).Items
	if len(byEntity) != 3 { // login, failed login, disable
		t.Errorf("entity filter: %d rows, want 3: %+v", len(byEntity), byEntity)
	}
	byUser := list(t, admin, fmt.Sprintf("userId=%d&limit=200", id)).Items
	if len(byUser) != 1 || byUser[0].Action != "login" {
		t.Errorf("userId filter: %+v, want dcc's one sign-in", byUser)
	}
	early := list(t, admin, fmt.Sprintf("to=%d&limit=200", t1)).Items
	late := list(t, admin, fmt.Sprintf("from=%d&limit=200", t1)).Items
	for _, r := range early {
		if r.At > t0 {
			t.Errorf("to=%d returned a row at %d", t1, r.At)
		}
	}
	for _, r := range late {
		if r.At < t1 {
			t.Errorf("from=%d returned a row at %d", t1, r.At)
		}
	}
	total := len(allRows(t, env))
	// after t1: dcc's sign-in and failed sign-in, the admin's new sign-in, the disable
	if len(early)+len(late) != total || len(late) != 4 {
		t.Errorf("before %d + after %d rows, want %d in all and 4 after", len(early), len(late), total)
	}
	if r := admin.Do("GET", "/audit?from=yesterday", nil); r.Status != http.StatusBadRequest {
		t.Errorf("from=yesterday: %s", r)
	}

	// Keyset paging: newest first, every row once.
	seen := map[int64]bool{}
	cursor := ""
	var prev int64 = 1 << 62
	for pages := 0; ; pages++ {
		p := list(t, admin, "limit=5&cursor="+url.QueryEscape(cursor))
		for _, r := range p.Items {
			if r.ID >= prev || seen[r.ID] {
				t.Fatalf("row %d out of order or repeated", r.ID)
			}
			prev, seen[r.ID] = r.ID, true
		}
		if p.Next == "" {
			break
		}
		if pages > total {
			t.Fatal("paging does not end")
		}
		cursor = p.Next
	}
	if len(seen) != total {
		t.Errorf("paging saw %d rows, want %d", len(seen), total)
	}
}

func TestAuditList_StoreScopeSeesOnlyItsStore(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	env.As("sales")
	env.As("sales_NB011")
	env.As("gm_SX011")
	gm := env.As("gm")
	got := list(t, gm, "limit=200").Items
	var want int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE store_id = 1`).Scan(&want)
	if len(got) != want || want == 0 {
		t.Errorf("gm of store 1 sees %d rows, want the %d of store 1", len(got), want)
	}
	for _, r := range got {
		if r.StoreID == nil || *r.StoreID != 1 {
			t.Errorf("gm of store 1 sees row %d (%s) of store %v", r.ID, r.Action, r.StoreID)
		}
	}
	if n := len(list(t, gm, "storeId=2&limit=200").Items); n != 0 {
		t.Errorf("gm of store 1 asking for store 2 gets %d rows", n)
	}
	if n := len(list(t, env.As("admin"), "storeId=2&limit=200").Items); n == 0 {
		t.Error("admin sees no rows of store 2")
	}
	if r := env.As("sales").Do("GET", "/audit", nil); r.Status != http.StatusForbidden {
		t.Errorf("sales reading the audit log: %s, want 403", r)
	}
}

// TestConcurrent_AuditChainStaysLinear: rows written by many requests at once
// still form one unbroken chain.
func TestConcurrent_AuditChainStaysLinear(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	names := []string{"sales", "dcc", "parts", "finance", "marketing", "hr", "technician", "gm"}
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				env.Client().Do("POST", "/auth/login", map[string]string{"login": name, "password": demo.Password})
			} else {
				env.Client().Do("POST", "/auth/login", map[string]string{"login": name, "password": "nope"})
			}
			admin.Do("POST", "/auth/switch-store", map[string]int64{"storeId": int64(1 + i%3)})
		}()
	}
	wg.Wait()
	res, err := audit.Verify(context.Background(), env.App.DB.R)
	if err != nil || !res.OK {
		t.Fatalf("Verify after concurrent writes: %+v, %v", res, err)
	}
	if want := int64(len(allRows(t, env))); res.Checked != want || want < int64(1+2*len(names)) {
		t.Errorf("checked %d rows of %d", res.Checked, want)
	}
}
