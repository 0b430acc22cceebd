package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/demo"
	"dealerdesk/app/org"
)

func login(env *apptest.Env, c *apptest.Client, name, password string) *apptest.Response {
	env.T.Helper()
	return c.Do("POST", "/auth/login", map[string]string{"login": name, "password": password})
}

func me(t *testing.T, c *apptest.Client) org.Me {
	t.Helper()
	var m org.Me
	c.Do("GET", "/auth/me", nil).Expect(t, http.StatusOK).JSON(t, &m)
	return m
}

// sessionCookie returns the dd_session cookie a response sets.
func sessionCookie(t *testing.T, r *apptest.Response) *http.Cookie {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err == nil && ck.Name == "dd_session" {
			return ck
		}
	}
	t.Fatalf("no dd_session cookie set: %v", r.Header.Values("Set-Cookie"))
	return nil
}

// withToken is a new browser holding the session token (e.g. a copied cookie).
func withToken(t *testing.T, env *apptest.Env, token string) *apptest.Client {
	t.Helper()
	c := env.Client()
	u, _ := url.Parse(env.Server.URL)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "dd_session", Value: token, Path: "/"}})
	return c
}

// tokenOf is the session token in the client's cookie jar.
func tokenOf(t *testing.T, env *apptest.Env, c *apptest.Client) string {
	t.Helper()
	u, _ := url.Parse(env.Server.URL + "/api/v1/")
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "dd_session" {
			return ck.Value
		}
	}
	t.Fatal("client holds no session cookie")
	return ""
}

func phoneOf(t *testing.T, env *apptest.Env, username string) string {
	t.Helper()
	var p string
	if err := env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE username = ?`, username).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func roleID(t *testing.T, env *apptest.Env, code string) int64 {
	t.Helper()
	id, err := org.RoleIDByCode(context.Background(), env.App.DB.R, code)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r = '０' + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestLogin_ByUsernameOrPhoneInAnyFormat(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	p := phoneOf(t, env, "sales")
	for _, name := range []string{
		"sales", "SALES", " sales ",
		p,
		"+86 " + p[:3] + "-" + p[3:7] + "-" + p[7:],
		"0086" + p,
		p[:3] + " " + p[3:7] + " " + p[7:],
		fullWidth(p),
	} {
		c := env.Client()
		r := login(env, c, name, demo.Password)
		if r.Status != http.StatusOK {
			t.Errorf("sign in as %q: %s", name, r)
			continue
		}
		if m := me(t, c); m.Username != "sales" || m.RoleCode != "sales" {
			t.Errorf("sign in as %q: signed in as %s (%s)", name, m.Username, m.RoleCode)
		}
	}
}

func TestLogin_WrongPasswordAndUnknownUserGetTheSameAnswer(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.Client()
	wrong := apptest.ExpectErr(t, login(env, c, "sales", "Wrong#Pass1"), http.StatusUnauthorized, "auth.bad_credentials")
	unknown := apptest.ExpectErr(t, login(env, c, "nobody_here", "Wrong#Pass1"), http.StatusUnauthorized, "auth.bad_credentials")
	unknownPhone := apptest.ExpectErr(t, login(env, c, "13000000001", "Wrong#Pass1"), http.StatusUnauthorized, "auth.bad_credentials")
	for _, e := range []apptest.Err{unknown, unknownPhone} {
		if e.Message != wrong.Message || len(e.Fields) != 0 || len(e.Details) != 0 || len(wrong.Fields) != 0 || len(wrong.Details) != 0 {
			t.Errorf("answers differ: wrong password %+v, unknown user %+v", wrong, e)
		}
	}
	if n := env.AuditCount("login_failed", "user"); n != 3 {
		t.Errorf("%d login_failed audit rows, want 3", n)
	}
	// Missing input is a form error, not a credentials check.
	apptest.ExpectField(t, login(env, c, "", "x"), "login", "required")
	apptest.ExpectField(t, login(env, c, "sales", ""), "password", "required")
}

func TestLogin_LockOutAfterThresholdEvenWithTheRightPassword(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	var sec auth.SecuritySettings
	env.As("admin").Do("GET", "/settings/security", nil).Expect(t, http.StatusOK).JSON(t, &sec)
	if sec.LockoutThreshold != 5 || sec.LockoutMinutes != 15 {
		t.Fatalf("default lock-out %d failures / %d min, want 5 / 15", sec.LockoutThreshold, sec.LockoutMinutes)
	}
	c := env.Client()
	for i := 1; i <= 4; i++ {
		apptest.ExpectErr(t, login(env, c, "sales", fmt.Sprintf("Wrong#Pass%d", i)), http.StatusUnauthorized, "auth.bad_credentials")
	}
	// The failure that reaches the threshold already answers with the lock.
	apptest.ExpectErr(t, login(env, c, "sales", "Wrong#Pass5"), http.StatusTooManyRequests, "auth.locked")
	r := login(env, c, "sales", demo.Password)
	e := apptest.ExpectErr(t, r, http.StatusTooManyRequests, "auth.locked")
	if got := e.Details["retryAfterSeconds"]; got != float64(15*60) {
		t.Errorf("retryAfterSeconds = %v, want 900", got)
	}
	if r.Header.Get("Retry-After") != "900" {
		t.Errorf("Retry-After header %q, want 900", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Error("a locked sign-in set a cookie")
	}
	// By phone it is the same account, so the same lock.
	apptest.ExpectErr(t, login(env, c, phoneOf(t, env, "sales"), demo.Password), http.StatusTooManyRequests, "auth.locked")
	// Another account is not affected.
	login(env, env.Client(), "sales_manager", demo.Password).Expect(t, http.StatusOK)

	env.Clock.Advance(14 * time.Minute)
	e = apptest.ExpectErr(t, login(env, c, "sales", demo.Password), http.StatusTooManyRequests, "auth.locked")
	if got := e.Details["retryAfterSeconds"]; got != float64(60) {
		t.Errorf("after 14 min retryAfterSeconds = %v, want 60", got)
	}
	env.Clock.Advance(61 * time.Second)
	login(env, c, "sales", demo.Password).Expect(t, http.StatusOK)
	// A success starts the count afresh: four more failures do not lock.
	c2 := env.Client()
	for i := 0; i < 4; i++ {
		apptest.ExpectErr(t, login(env, c2, "sales", "Wrong#Pass1"), http.StatusUnauthorized, "auth.bad_credentials")
	}
	login(env, c2, "sales", demo.Password).Expect(t, http.StatusOK)
	if n := env.AuditCount("login_failed", "user"); n != 5+2+1+4 {
		t.Errorf("%d login_failed rows, want 12 (bad passwords and locked attempts)", n)
	}
}

func TestLogin_LockDoublesWithEachFurtherFailure(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.Client()
	for i := 0; i < 5; i++ {
		login(env, c, "dcc", "Wrong#Pass1")
	}
	for _, want := range []float64{30 * 60, 60 * 60, 120 * 60} {
		env.Clock.Advance(time.Duration(want/2)*time.Second + time.Minute)                                   // past the previous lock
		apptest.ExpectErr(t, login(env, c, "dcc", "Wrong#Pass1"), http.StatusTooManyRequests, "auth.locked") // relocks at once
		e := apptest.ExpectErr(t, login(env, c, "dcc", demo.Password), http.StatusTooManyRequests, "auth.locked")
		if got := e.Details["retryAfterSeconds"]; got != want {
			t.Fatalf("retryAfterSeconds = %v, want %v", got, want)
		}
	}
}

func TestLogin_LockIsCappedAtADay(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.Client()
	for i := 0; i < 5; i++ {
		login(env, c, "dcc", "Wrong#Pass1")
	}
	for i := 0; i < 8; i++ { // 15 min × 2^8 would be 64 h
		env.Clock.Advance(25 * time.Hour)
		login(env, c, "dcc", "Wrong#Pass1")
	}
	e := apptest.ExpectErr(t, login(env, c, "dcc", demo.Password), http.StatusTooManyRequests, "auth.locked")
	if got := e.Details["retryAfterSeconds"]; got != float64(24*3600) {
		t.Errorf("retryAfterSeconds = %v, want 86400", got)
	}
}

func TestLogin_AddressIsLockedAfterFourTimesTheThresholdAcrossAccounts(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.Client()
	// 4 failures on each of 5 accounts: no account reaches its own threshold of 5.
	for n, name := range []string{"sales", "dcc", "parts", "finance", "nobody_at_all"} {
		for i := 0; i < 4; i++ {
			if n == 4 && i == 3 { // the 20th failure from this address locks the address
				apptest.ExpectErr(t, login(env, c, name, "Wrong#Pass1"), http.StatusTooManyRequests, "auth.locked")
				continue
			}
			apptest.ExpectErr(t, login(env, c, name, "Wrong#Pass1"), http.StatusUnauthorized, "auth.bad_credentials")
		}
	}
	// The 21st attempt from this address, for an untouched account with the right password.
	e := apptest.ExpectErr(t, login(env, env.Client(), "gm", demo.Password), http.StatusTooManyRequests, "auth.locked")
	if got := e.Details["retryAfterSeconds"]; got != float64(15*60) {
		t.Errorf("retryAfterSeconds = %v, want 900", got)
	}
	var failures int
	env.App.DB.R.QueryRow(`SELECT failures FROM login_throttle WHERE key = 'ip:127.0.0.1'`).Scan(&failures)
	if failures != 20 {
		t.Errorf("address failures = %d, want 20", failures)
	}
	env.Clock.Advance(16 * time.Minute)
	login(env, env.Client(), "gm", demo.Password).Expect(t, http.StatusOK)
}

func TestUnlock_AdminClearsALockedAccount(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	c := env.Client()
	for i := 0; i < 5; i++ {
		login(env, c, "sales", "Wrong#Pass1")
	}
	apptest.ExpectErr(t, login(env, c, "sales", demo.Password), http.StatusTooManyRequests, "auth.locked")
	// Someone without user.manage cannot unlock.
	apptest.ExpectErr(t, env.As("sales_manager").Do("POST", fmt.Sprintf("/users/%d/unlock", env.UserID("sales")), nil), http.StatusForbidden, "forbidden")
	admin.Do("POST", fmt.Sprintf("/users/%d/unlock", env.UserID("sales")), nil).Expect(t, http.StatusNoContent)
	login(env, c, "sales", demo.Password).Expect(t, http.StatusOK)
	if n := env.AuditCount("unlock", "user"); n != 1 {
		t.Errorf("%d unlock audit rows, want 1", n)
	}
}

func TestLogin_CustomThresholdApplies(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sec := auth.DefaultSecurity
	sec.LockoutThreshold, sec.LockoutMinutes = 3, 2
	env.As("admin").Do("PUT", "/settings/security", sec).Expect(t, http.StatusOK)
	c := env.Client()
	for i := 0; i < 3; i++ {
		login(env, c, "parts", "Wrong#Pass1")
	}
	e := apptest.ExpectErr(t, login(env, c, "parts", demo.Password), http.StatusTooManyRequests, "auth.locked")
	if got := e.Details["retryAfterSeconds"]; got != float64(120) {
		t.Errorf("retryAfterSeconds = %v, want 120", got)
	}
	// Out-of-range settings are refused field by field.
	bad := sec
	bad.LockoutThreshold, bad.SessionIdleMinutes = 1, 0
	r := env.As("admin").Do("PUT", "/settings/security", bad)
	apptest.ExpectField(t, r, "lockoutThreshold", "out_of_range")
	apptest.ExpectField(t, r, "sessionIdleMinutes", "out_of_range")
}

func TestSessionCookie_HttpOnlyLaxRootPathNotSecureOverHTTP(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	r := login(env, env.Client(), "sales", demo.Password).Expect(t, http.StatusOK)
	ck := sessionCookie(t, r)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Errorf("cookie %q: HttpOnly %v SameSite %v Path %q Secure %v; want true Lax / false", r.Header.Get("Set-Cookie"), ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure)
	}
	if len(ck.Value) < 40 {
		t.Errorf("session token %q is too short to be unguessable", ck.Value)
	}
	// Only the hash is stored, never the token.
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM session WHERE token_hash = ?`, auth.HashToken(ck.Value)).Scan(&n)
	if n != 1 {
		t.Errorf("%d session rows with the token's hash, want 1", n)
	}
	if dbHolds(t, env, ck.Value) {
		t.Error("the session token is stored in the database in clear")
	}
	// A new sign-in gets a new token.
	r2 := login(env, env.Client(), "sales", demo.Password).Expect(t, http.StatusOK)
	if sessionCookie(t, r2).Value == ck.Value {
		t.Error("two sign-ins got the same session token")
	}
}

func TestLogin_IgnoresASessionCookiePlantedBeforeSignIn(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	const planted = "attacker-chosen-session-value-0123456789abcdef"
	victim := withToken(t, env, planted)
	r := login(env, victim, "sales", demo.Password).Expect(t, http.StatusOK)
	if got := sessionCookie(t, r).Value; got == planted {
		t.Fatal("sign-in kept the planted session value")
	}
	me(t, victim)
	// The attacker's copy of the planted value signs nobody in.
	apptest.ExpectErr(t, withToken(t, env, planted).Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
}

func TestSession_EndsAfterThirtyIdleMinutes(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	env.Clock.Advance(29 * time.Minute)
	me(t, c) // activity keeps the session alive
	env.Clock.Advance(29 * time.Minute)
	me(t, c) // 58 min after sign-in, 29 after the last request
	env.Clock.Advance(31 * time.Minute)
	r := c.Do("GET", "/auth/me", nil)
	apptest.ExpectErr(t, r, http.StatusUnauthorized, "auth.session_expired")
	if ck := sessionCookie(t, r); ck.MaxAge >= 0 {
		t.Errorf("expired session: cookie not cleared (%q)", r.Header.Get("Set-Cookie"))
	}
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM session WHERE user_id = ?`, env.UserID("sales")).Scan(&n)
	if n != 0 {
		t.Errorf("%d session rows left after expiry, want 0", n)
	}
}

func TestSession_TouchedAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	// A request within the first minute does not move last_seen, so the idle
	// timeout still counts from the sign-in.
	env.Clock.Advance(30 * time.Second)
	me(t, c)
	env.Clock.Advance(29*time.Minute + 31*time.Second)
	apptest.ExpectErr(t, c.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "auth.session_expired")
}

func TestSession_EndsAfterTwelveHoursEvenWithActivity(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	for i := 0; i < 35; i++ { // 11 h 40 min of steady use
		env.Clock.Advance(20 * time.Minute)
		me(t, c)
	}
	env.Clock.Advance(20 * time.Minute)
	apptest.ExpectErr(t, c.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "auth.session_expired")
}

func TestLogout_TheOldCookieNoLongerWorks(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	tok := tokenOf(t, env, c)
	other := env.As("sales") // a second browser of the same user
	r := c.Do("POST", "/auth/logout", nil).Expect(t, http.StatusNoContent)
	if ck := sessionCookie(t, r); ck.MaxAge >= 0 || ck.Value != "" {
		t.Errorf("logout did not clear the cookie: %q", r.Header.Get("Set-Cookie"))
	}
	apptest.ExpectErr(t, withToken(t, env, tok).Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectErr(t, c.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
	me(t, other) // only that session ended
	if n := env.AuditCount("logout", "user"); n != 1 {
		t.Errorf("%d logout audit rows, want 1", n)
	}
}

func TestLogoutAll_EndsEverySessionOfTheUser(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	a, b := env.As("sales"), env.As("sales")
	someoneElse := env.As("dcc")
	a.Do("POST", "/auth/logout-all", nil).Expect(t, http.StatusNoContent)
	apptest.ExpectErr(t, b.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectErr(t, a.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
	me(t, someoneElse)
	if n := env.AuditCount("logout_all", "user"); n != 1 {
		t.Errorf("%d logout_all audit rows, want 1", n)
	}
}

func TestDisableUser_EndsLiveSessionsAndBlocksSignIn(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	sales := env.As("sales")
	id := env.UserID("sales")
	var u org.User
	admin.Do("POST", fmt.Sprintf("/users/%d/disable", id), nil).Expect(t, http.StatusOK).JSON(t, &u)
	if u.Status != "disabled" {
		t.Errorf("status %q after disable", u.Status)
	}
	apptest.ExpectErr(t, sales.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectErr(t, login(env, env.Client(), "sales", demo.Password), http.StatusUnauthorized, "auth.disabled")
	// A wrong password still says only "wrong credentials".
	apptest.ExpectErr(t, login(env, env.Client(), "sales", "Wrong#Pass1"), http.StatusUnauthorized, "auth.bad_credentials")
	admin.Do("POST", fmt.Sprintf("/users/%d/enable", id), nil).Expect(t, http.StatusOK)
	login(env, env.Client(), "sales", demo.Password).Expect(t, http.StatusOK)
}

func TestChangePassword_EndsOtherSessionsKeepsThisOne(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	here, there := env.As("sales"), env.As("sales")
	const newPW = "Xinyuan#2027"
	apptest.ExpectField(t, here.Do("POST", "/auth/password", map[string]string{"oldPassword": "Wrong#Pass1", "newPassword": newPW}), "oldPassword", "password.wrong")
	apptest.ExpectField(t, here.Do("POST", "/auth/password", map[string]string{"oldPassword": demo.Password, "newPassword": demo.Password}), "newPassword", "password.same_as_old")
	apptest.ExpectField(t, here.Do("POST", "/auth/password", map[string]string{"oldPassword": demo.Password, "newPassword": "short"}), "newPassword", "password.too_short")
	me(t, there) // failed attempts end nothing

	here.Do("POST", "/auth/password", map[string]string{"oldPassword": demo.Password, "newPassword": newPW}).Expect(t, http.StatusNoContent)
	me(t, here)
	apptest.ExpectErr(t, there.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectErr(t, login(env, env.Client(), "sales", demo.Password), http.StatusUnauthorized, "auth.bad_credentials")
	login(env, env.Client(), "sales", newPW).Expect(t, http.StatusOK)
	if n := env.AuditCount("password_change", "user"); n != 1 {
		t.Errorf("%d password_change audit rows, want 1", n)
	}
}

func TestResetPassword_ForcesAChangeBeforeAnythingElse(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	old := env.As("sales_manager")
	id := env.UserID("sales_manager")
	const temp, own = "Temp#Pass2026", "Own#Pass2026"
	admin.Do("POST", fmt.Sprintf("/users/%d/reset-password", id), map[string]string{"password": temp}).Expect(t, http.StatusNoContent)
	apptest.ExpectErr(t, old.Do("GET", "/auth/me", nil), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectErr(t, login(env, env.Client(), "sales_manager", demo.Password), http.StatusUnauthorized, "auth.bad_credentials")

	c := env.Client()
	var m org.Me
	login(env, c, "sales_manager", temp).Expect(t, http.StatusOK).JSON(t, &m)
	if !m.MustChangePassword {
		t.Error("sign-in with a temporary password: mustChangePassword false")
	}
	if !me(t, c).MustChangePassword {
		t.Error("/auth/me: mustChangePassword false")
	}
	apptest.ExpectErr(t, c.Do("GET", "/users", nil), http.StatusForbidden, "password_change_required")
	apptest.ExpectErr(t, c.Do("PUT", "/auth/profile", map[string]string{"name": "张三", "locale": "en"}), http.StatusForbidden, "password_change_required")
	c.Do("POST", "/auth/password", map[string]string{"oldPassword": temp, "newPassword": own}).Expect(t, http.StatusNoContent)
	if me(t, c).MustChangePassword {
		t.Error("mustChangePassword still set after the change")
	}
	c.Do("GET", "/users", nil).Expect(t, http.StatusOK)
	login(env, env.Client(), "sales_manager", own).Expect(t, http.StatusOK)
}

func TestRevealPhone_NeedsPermissionAndARecentPassword(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgr := env.As("sales_manager")
	target := env.UserID("sales")
	path := fmt.Sprintf("/users/%d/reveal-phone", target)
	full := phoneOf(t, env, "sales")

	var u org.User
	mgr.Do("GET", fmt.Sprintf("/users/%d", target), nil).Expect(t, http.StatusOK).JSON(t, &u)
	if u.Phone == full || !strings.Contains(u.Phone, "****") {
		t.Errorf("GET /users/:id shows phone %q, want it masked", u.Phone)
	}
	var got struct{ Phone string }
	mgr.Do("POST", path, nil).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Phone != full {
		t.Errorf("revealed %q, want %q", got.Phone, full)
	}
	env.Clock.Advance(6 * time.Minute)
	apptest.ExpectErr(t, mgr.Do("POST", path, nil), http.StatusForbidden, "reauth_required")
	apptest.ExpectField(t, mgr.Do("POST", "/auth/reauth", map[string]string{"password": "Wrong#Pass1"}), "password", "password.wrong")
	apptest.ExpectErr(t, mgr.Do("POST", path, nil), http.StatusForbidden, "reauth_required")
	mgr.Do("POST", "/auth/reauth", map[string]string{"password": demo.Password}).Expect(t, http.StatusNoContent)
	mgr.Do("POST", path, nil).Expect(t, http.StatusOK)

	if n := env.AuditCount("reveal", "user"); n != 2 {
		t.Errorf("%d reveal audit rows, want 2", n)
	}
	// Without pi.reveal: forbidden; with it but without the right to see
	// colleagues (a consultant, who reveals customers' phones): not found;
	// another store's user: not found.
	apptest.ExpectErr(t, env.As("finance").Do("POST", path, nil), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, env.As("sales").Do("POST", path, nil), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, mgr.Do("POST", fmt.Sprintf("/users/%d/reveal-phone", env.UserID("sales_NB011")), nil), http.StatusNotFound, "not_found")
	if n := env.AuditCount("reveal", "user"); n != 2 {
		t.Errorf("refused reveals wrote audit rows: %d, want 2", n)
	}
}

// dbHolds reports whether s appears anywhere in the database: in any column of any
// table, or in the bytes of the database and WAL files.
func dbHolds(t *testing.T, env *apptest.Env, s string) bool {
	t.Helper()
	rows, err := env.App.DB.R.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	for _, tb := range tables {
		rs, err := env.App.DB.R.Query(`SELECT * FROM "` + tb + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case string:
					if strings.Contains(x, s) {
						rs.Close()
						return true
					}
				case []byte:
					if bytes.Contains(x, []byte(s)) {
						rs.Close()
						return true
					}
				}
			}
		}
		rs.Close()
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(env.App.DB.Path + suffix)
		if err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestAPIKey_ShownOnceStoredHashedScopedToRoleAndStore(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var created org.NewAPIKeyResult
	admin.Do("POST", "/apikeys", map[string]any{"name": "官网留资", "roleId": env.RoleID("gm"), "storeId": 2}).
		Expect(t, http.StatusCreated).JSON(t, &created)
	key := created.Key
	if !strings.HasPrefix(key, auth.APIKeyPrefix) || len(key) < 40 || !strings.HasPrefix(key, created.APIKey.Prefix) {
		t.Fatalf("key %q, prefix %q", key, created.APIKey.Prefix)
	}
	list := admin.Do("GET", "/apikeys", nil).Expect(t, http.StatusOK)
	if strings.Contains(string(list.Body), key) {
		t.Error("the key is shown again in the list")
	}
	if dbHolds(t, env, key) {
		t.Error("the key is stored in the database in clear")
	}

	bot := env.Client()
	bot.Header.Set("Authorization", "Bearer "+key)
	var page struct{ Items []org.User }
	bot.Do("GET", "/users?limit=200", nil).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Items) == 0 {
		t.Fatal("a gm key for store 2 lists no users")
	}
	for _, u := range page.Items {
		if u.StoreID != 2 {
			t.Errorf("a store-2 key sees user %s of store %d", u.Username, u.StoreID)
		}
	}
	apptest.ExpectErr(t, bot.Do("GET", fmt.Sprintf("/users/%d", env.UserID("sales")), nil), http.StatusNotFound, "not_found")
	var lastUsed *int64
	if err := env.App.DB.R.QueryRow(`SELECT last_used_at FROM api_key WHERE id = ?`, created.APIKey.ID).Scan(&lastUsed); err != nil || lastUsed == nil {
		t.Errorf("last_used_at not recorded: %v", err)
	}

	admin.Do("POST", fmt.Sprintf("/apikeys/%d/revoke", created.APIKey.ID), nil).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, bot.Do("GET", "/users", nil), http.StatusUnauthorized, "apikey.invalid")
}

func TestAPIKey_SalesRoleKeyCannotListUsers(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	var created org.NewAPIKeyResult
	env.As("admin").Do("POST", "/apikeys", map[string]any{"name": "lead form", "roleId": env.RoleID("sales"), "storeId": 1}).
		Expect(t, http.StatusCreated).JSON(t, &created)
	bot := env.Client()
	bot.Header.Set("Authorization", "Bearer "+created.Key)
	apptest.ExpectErr(t, bot.Do("GET", "/users", nil), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, bot.Do("GET", "/audit", nil), http.StatusForbidden, "forbidden")
	// A key is not a person: no profile, no password, no sign-out.
	for _, r := range []*apptest.Response{
		bot.Do("GET", "/auth/me", nil),
		bot.Do("POST", "/auth/password", map[string]string{"oldPassword": "x", "newPassword": "Whatever#2026"}),
		bot.Do("POST", "/auth/reauth", map[string]string{"password": "x"}),
	} {
		if r.Status != http.StatusForbidden {
			t.Errorf("API key on a personal route: %s, want 403", r)
		}
	}
}

func TestAPIKey_NeverManagesUsersRolesOrKeysEvenWithTheAdminRole(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	var created org.NewAPIKeyResult
	env.As("admin").Do("POST", "/apikeys", map[string]any{"name": "integration", "roleId": env.RoleID(auth.RoleAdmin), "storeId": 1}).
		Expect(t, http.StatusCreated).JSON(t, &created)
	bot := env.Client()
	bot.Header.Set("Authorization", "Bearer "+created.Key)
	bot.Do("GET", "/users", nil).Expect(t, http.StatusOK) // reading is allowed
	sales := env.UserID("sales")
	for _, r := range []*apptest.Response{
		bot.Do("POST", "/users", map[string]any{"username": "backdoor", "name": "后门", "roleId": env.RoleID(auth.RoleAdmin), "storeId": 1, "password": "Backdoor#2026"}),
		bot.Do("POST", fmt.Sprintf("/users/%d/disable", sales), nil),
		bot.Do("POST", fmt.Sprintf("/users/%d/reset-password", sales), map[string]string{"password": "Backdoor#2026"}),
		bot.Do("POST", "/roles", map[string]any{"code": "bot", "name": "bot", "scope": "group", "permissions": []string{"user.manage"}}),
		bot.Do("GET", "/apikeys", nil),
		bot.Do("POST", "/apikeys", map[string]any{"name": "more", "roleId": env.RoleID(auth.RoleAdmin), "storeId": 1}),
		bot.Do("POST", fmt.Sprintf("/apikeys/%d/revoke", created.APIKey.ID), nil),
		bot.Do("PUT", "/settings/security", auth.DefaultSecurity),
	} {
		if r.Status != http.StatusForbidden {
			t.Errorf("admin-role API key: %s, want 403", r)
		}
	}
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM app_user WHERE username = 'backdoor'`).Scan(&n)
	if n != 0 {
		t.Error("an API key created a user")
	}
}

func TestAPIKey_GarbageBearerIsUnauthenticated(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	for _, h := range []string{"Bearer ddk_not-a-real-key", "Bearer " + strings.Repeat("x", 50), "Basic YWRtaW46eA=="} {
		c := env.Client()
		c.Header.Set("Authorization", h)
		apptest.ExpectErr(t, c.Do("GET", "/users", nil), http.StatusUnauthorized, "apikey.invalid")
	}
}

func TestSwitchStore_OnlyGroupRolesMoveTheirSession(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var m org.Me
	admin.Do("POST", "/auth/switch-store", map[string]int64{"storeId": 2}).Expect(t, http.StatusOK).JSON(t, &m)
	if m.StoreID != 2 || me(t, admin).StoreID != 2 {
		t.Errorf("after switching: store %d, want 2", m.StoreID)
	}
	apptest.ExpectField(t, admin.Do("POST", "/auth/switch-store", map[string]int64{"storeId": 99}), "storeId", "store.invalid")
	apptest.ExpectErr(t, env.As("gm").Do("POST", "/auth/switch-store", map[string]int64{"storeId": 2}), http.StatusForbidden, "forbidden")
	if n := env.AuditCount("switch_store", "store"); n != 1 {
		t.Errorf("%d switch_store audit rows, want 1", n)
	}
}

// TestConcurrent_FailedLoginsOnOneAccountAreAllCounted fires the threshold's
// worth of wrong passwords at once: every one must be counted, so the account is
// locked exactly when the threshold is reached.
func TestConcurrent_FailedLoginsOnOneAccountAreAllCounted(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sec := auth.DefaultSecurity
	sec.LockoutThreshold = 10
	env.As("admin").Do("PUT", "/settings/security", sec).Expect(t, http.StatusOK)
	var wg sync.WaitGroup
	statuses := make([]int, sec.LockoutThreshold)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = login(env, env.Client(), "sales", fmt.Sprintf("Wrong#Pass%d", i)).Status
		}()
	}
	wg.Wait()
	locked := 0
	for i, s := range statuses {
		switch s {
		case http.StatusTooManyRequests: // an attempt that saw the lock its own failure completed
			locked++
		case http.StatusUnauthorized:
		default:
			t.Errorf("attempt %d: %d, want 401 or 429", i, s)
		}
	}
	if locked == 0 {
		t.Error("no attempt reported the lock, though the last failure reached the threshold")
	}
	var failures, lockedUntil int64
	key := fmt.Sprintf("u:%d", env.UserID("sales"))
	if err := env.App.DB.R.QueryRow(`SELECT failures, locked_until FROM login_throttle WHERE key = ?`, key).Scan(&failures, &lockedUntil); err != nil {
		t.Fatal(err)
	}
	if failures != int64(sec.LockoutThreshold) {
		t.Errorf("failures = %d, want %d (lost updates)", failures, sec.LockoutThreshold)
	}
	if lockedUntil <= env.Clock.Now().UnixMilli() {
		t.Error("the account is not locked after the threshold")
	}
	apptest.ExpectErr(t, login(env, env.Client(), "sales", demo.Password), http.StatusTooManyRequests, "auth.locked")
}
