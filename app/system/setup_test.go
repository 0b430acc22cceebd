package system_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"dealerdesk/app/apperr"
	"dealerdesk/app/apptest"
	"dealerdesk/app/db"
	"dealerdesk/app/org"
	"dealerdesk/app/system"
)

func setupBody() map[string]string {
	return map[string]string{"groupName": "鑫源汽车集团", "storeName": "杭州鑫源丰田4S店", "storeCode": "hz01",
		"adminUsername": "root", "adminName": "系统管理员", "adminPhone": "+86 139-1234-5678", "password": "Setup#2026"}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func count(t *testing.T, env *apptest.Env, query string) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func status(t *testing.T, env *apptest.Env) (needed, local bool) {
	t.Helper()
	var s struct{ Needed, Local bool }
	env.Client().Do("GET", "/setup/status", nil).Expect(t, http.StatusOK).JSON(t, &s)
	return s.Needed, s.Local
}

func TestSetupStatus_NeededOnlyUntilAUserExists(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	if needed, local := status(t, env); !needed || !local {
		t.Errorf("fresh install: needed %v local %v, want true true (test client is on loopback)", needed, local)
	}
	env.Demo()
	if needed, _ := status(t, env); needed {
		t.Error("setup still needed after users exist")
	}
	var h system.Health
	env.Client().Do("GET", "/health", nil).Expect(t, http.StatusOK).JSON(t, &h)
	if h.Status != "ok" || h.SchemaVersion != db.LatestVersion() {
		t.Errorf("health %+v, want ok at schema %d", h, db.LatestVersion())
	}
}

func TestSetup_FromTheMachineItselfNeedsNoTokenAndSignsIn(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	tokenPath := filepath.Join(env.Dir, "setup-token")
	if _, err := env.App.System.EnsureSetupToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	r := c.Do("POST", "/setup", setupBody()).Expect(t, http.StatusCreated)
	var m org.Me
	r.JSON(t, &m)
	if m.Username != "root" || m.RoleCode != "admin" || m.Scope != "group" || m.MustChangePassword {
		t.Errorf("setup answered %+v", m)
	}
	if !strings.Contains(r.Header.Get("Set-Cookie"), "dd_session=") {
		t.Fatalf("setup set no session cookie: %q", r.Header.Get("Set-Cookie"))
	}
	var me org.Me
	c.Do("GET", "/auth/me", nil).Expect(t, http.StatusOK).JSON(t, &me)
	if me.Username != "root" || me.StoreName != "杭州鑫源丰田4S店" || me.Phone != "139****5678" {
		t.Errorf("/auth/me after setup: %+v", me)
	}
	var depts struct{ Items []org.Department }
	c.Do("GET", "/departments", nil).Expect(t, http.StatusOK).JSON(t, &depts)
	if len(depts.Items) != 8 || len(system.DefaultDepartments) != 8 {
		t.Errorf("%d departments after setup, want the 8 defaults", len(depts.Items))
	}
	var code, phone string
	env.App.DB.R.QueryRow(`SELECT code FROM store`).Scan(&code)
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE username = 'root'`).Scan(&phone)
	if code != "HZ01" || phone != "13912345678" {
		t.Errorf("stored store code %q phone %q, want normalized HZ01 13912345678", code, phone)
	}
	if _, err := os.Stat(tokenPath); !os.IsNotExist(err) {
		t.Errorf("setup token file still there after setup: %v", err)
	}
	if needed, _ := status(t, env); needed {
		t.Error("setup still needed")
	}
	if env.AuditCount("setup", "group") != 1 || env.AuditCount("login", "user") != 1 {
		t.Error("setup or its sign-in not audited")
	}
	// A second setup finds nothing to do, with or without a cookie.
	for _, cl := range []*apptest.Client{env.Client(), c} {
		r := cl.Do("POST", "/setup", with(setupBody(), "adminUsername", "intruder", "storeCode", "X1"))
		if r.Status != http.StatusNotFound || r.Error(t).Code != "setup.done" {
			t.Errorf("second setup: %s, want 404 setup.done", r)
		}
	}
	if n := count(t, env, `SELECT count(*) FROM app_user`); n != 1 {
		t.Errorf("%d users after a refused second setup", n)
	}
}

func TestSetup_FromTheLANNeedsTheTokenFromTheDataDir(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	sys := env.App.System
	in := system.SetupInput{GroupName: "鑫源汽车集团", StoreName: "宁波店", StoreCode: "NB01", AdminUsername: "root", AdminName: "管理员", Password: "Setup#2026"}
	const ip = "192.168.1.20"
	tok, err := sys.EnsureSetupToken(ctx)
	if err != nil || len(tok) < 20 {
		t.Fatalf("EnsureSetupToken = %q, %v", tok, err)
	}
	if again, _ := sys.EnsureSetupToken(ctx); again != tok {
		t.Error("a second EnsureSetupToken changed the token")
	}
	tokenPath := filepath.Join(env.Dir, "setup-token")
	if st, err := os.Stat(tokenPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	for _, given := range []string{"", "wrong-token-wrong-token-wrong", tok[:len(tok)-1], tok + "x"} {
		in.Token = given
		_, err := sys.Setup(ctx, in, false, ip, "test", "req-1")
		e := apperr.As(err)
		if e.Kind != apperr.Invalid || e.Fields["token"].Code != "setup.token" {
			t.Errorf("token %q: %v, want field token: setup.token", given, err)
		}
	}
	if n := count(t, env, `SELECT count(*) FROM app_user`); n != 0 {
		t.Fatal("a refused setup created a user")
	}
	in.Token = " " + tok + "\n" // pasted with whitespace
	res, err := sys.Setup(ctx, in, false, ip, "test", "req-2")
	if err != nil {
		t.Fatalf("setup with the token: %v", err)
	}
	if res.Token == "" || res.Actor.Username != "root" || res.Actor.IP != ip {
		t.Errorf("setup result %+v", res.Actor)
	}
	if _, err := os.Stat(tokenPath); !os.IsNotExist(err) {
		t.Errorf("setup token file kept after setup: %v", err)
	}
	if again, err := sys.EnsureSetupToken(ctx); again != "" || err != nil {
		t.Errorf("EnsureSetupToken after setup = %q, %v; want none", again, err)
	}
	var auditIP, reqID string
	env.App.DB.R.QueryRow(`SELECT ip, request_id FROM audit_log WHERE action = 'setup'`).Scan(&auditIP, &reqID)
	if auditIP != ip || reqID != "req-2" {
		t.Errorf("setup audit row ip %q request %q", auditIP, reqID)
	}
	// The token is single-use: a later setup from the LAN is refused as done.
	_, err = sys.Setup(ctx, in, false, ip, "test", "req-3")
	if e := apperr.As(err); e.Kind != apperr.NotFound || e.Code != "setup.done" {
		t.Errorf("setup after setup: %v, want setup.done", err)
	}
}

func TestSetup_FieldErrorsUseTheFormsFieldNames(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	c := env.Client()
	cases := []struct {
		name        string
		body        map[string]string
		field, code string
	}{
		{"group name", with(setupBody(), "groupName", " "), "groupName", "required"},
		{"group name too long", with(setupBody(), "groupName", strings.Repeat("集", 61)), "groupName", "too_long"},
		{"store name", with(setupBody(), "storeName", ""), "storeName", "required"},
		{"store code missing", with(setupBody(), "storeCode", ""), "storeCode", "required"},
		{"store code shape", with(setupBody(), "storeCode", "hz 01"), "storeCode", "invalid_format"},
		{"admin username", with(setupBody(), "adminUsername", "1root"), "adminUsername", "username.invalid"},
		{"admin username missing", with(setupBody(), "adminUsername", ""), "adminUsername", "required"},
		{"admin name", with(setupBody(), "adminName", ""), "adminName", "required"},
		{"admin phone", with(setupBody(), "adminPhone", "12345"), "adminPhone", "phone.invalid"},
		{"password missing", with(setupBody(), "password", ""), "password", "required"},
		{"password short", with(setupBody(), "password", "Ab1#"), "password", "password.too_short"},
		{"password common", with(setupBody(), "password", "woaini1314"), "password", "password.common"},
		{"password with the username", with(setupBody(), "password", "Root#2026x"), "password", "password.same_as_username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do("POST", "/setup", tc.body)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("want 400, got %s", r)
			}
			if got := r.Error(t).Fields[tc.field].Code; got != tc.code {
				t.Fatalf("want field %s: %s, got %s", tc.field, tc.code, r)
			}
		})
	}
	// Several problems at once are all reported.
	r := c.Do("POST", "/setup", with(setupBody(), "storeName", "", "adminName", "", "adminPhone", "x"))
	if f := r.Error(t).Fields; f["storeName"].Code != "required" || f["adminName"].Code != "required" || f["adminPhone"].Code != "phone.invalid" {
		t.Errorf("combined errors: %s", r)
	}
	if needed, _ := status(t, env); !needed {
		t.Error("refused setups left data behind")
	}
	if n := count(t, env, `SELECT (SELECT count(*) FROM org_group) + (SELECT count(*) FROM store) + (SELECT count(*) FROM department)`); n != 0 {
		t.Errorf("%d group/store/department rows after refused setups", n)
	}
}

// TestConcurrent_SetupRunsOnce: five first-run forms submitted at the same moment
// make one group, one store and one administrator.
func TestConcurrent_SetupRunsOnce(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	const n = 5
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := env.Client().Do("POST", "/setup", with(setupBody(), "adminUsername", "root"+string(rune('a'+i)), "storeCode", "S"+string(rune('A'+i))))
			statuses[i] = r.Status
			if r.Status != http.StatusCreated {
				codes[i] = r.Error(t).Code
			}
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch {
		case s == http.StatusCreated:
			created++
		case s == http.StatusNotFound && codes[i] == "setup.done":
		default:
			t.Errorf("setup %d: %d %s", i, s, codes[i])
		}
	}
	if created != 1 {
		t.Errorf("%d setups succeeded, want 1", created)
	}
	for _, q := range []string{`SELECT count(*) FROM org_group`, `SELECT count(*) FROM store`, `SELECT count(*) FROM app_user`} {
		if got := count(t, env, q); got != 1 {
			t.Errorf("%s = %d, want 1", q, got)
		}
	}
	if got := count(t, env, `SELECT count(*) FROM department`); got != 8 {
		t.Errorf("%d departments, want 8", got)
	}
}
