// Package e2e_test holds the headless-Chromium journeys: the real app (apptest)
// behind a real HTTP server, driven through the embedded UI the way a store's
// staff use it, on a desktop and on a phone. The tests find elements by their
// data-test hooks only, never by layout classes or texts that designers change.
package e2e_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

// TestJourney_SetupSignInCreateUserPhone: the first run on a new server, the admin
// adds a sales consultant, and the consultant's first sign-in on a phone forces a
// new password and shows only what a consultant may use.
func TestJourney_SetupSignInCreateUserPhone(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	b := newBrowser(t)
	base := env.Server.URL

	const (
		groupName  = "鑫源汽车集团"
		storeName  = "杭州鑫源丰田4S店"
		storeCode  = "HZ01"
		adminUser  = "wangjg"
		adminName  = "王建国"
		adminPhone = "13957112345"
		adminPass  = "Xinyuan#2026hz"

		userName     = "lina"
		userFullName = "李娜"
		userPhone    = "13867154321"
		tempPass     = "Temp#2026abc"
		newPass      = "Spring#2027xy" // the server refuses a password containing the username
	)

	// --- the admin at the showroom PC ---
	p := b.newPage("desktop", desktop)
	p.open(base, "/")
	p.waitPath("/setup")
	p.waitVisible(sel("setup-groupName") + " input")
	if p.present(sel("setup-token")) {
		p.fail("the setup page asks for a setup token although the browser runs on the server itself (loopback)")
	}
	p.fill("setup-groupName", groupName)
	p.fill("setup-storeName", storeName)
	p.fill("setup-storeCode", storeCode)
	p.fill("setup-adminUsername", adminUser)
	p.fill("setup-adminName", adminName)
	p.fill("setup-adminPhone", adminPhone)
	p.fill("setup-password", adminPass)
	p.fill("setup-password2", adminPass)
	p.shot("setup-filled")
	p.submit("setup-submit", "setup is done", pathIs("/"))
	p.waitText(sel("home-welcome"), adminName)
	p.shot("home-after-setup")

	p.click(sel("menu-users"))
	p.waitPath("/system/users")
	p.waitJS("the user list shows the admin", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(r => r.innerText.includes(%s))`, js(sel("users-row")), js(adminUser)))
	p.click(sel("users-new"))
	p.fill("user-username", userName)
	p.fill("user-name", userFullName)
	p.fill("user-phone", userPhone)
	p.pick("user-role", "销售顾问")
	p.pick("user-store", storeName)
	p.pick("user-department", "销售部")
	p.fill("user-password", tempPass)
	p.shot("user-form-filled")
	p.submit("user-submit", "the new user is in the list", fmt.Sprintf(`(() => {
		const t = document.querySelector(%s);
		return t && [...t.querySelectorAll(%s)].some(r => r.innerText.includes(%s) && r.innerText.includes(%s)) })()`,
		js(sel("users-table")), js(sel("users-row")), js(userName), js(userFullName)))
	p.waitJS("the drawer closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("user-submit"))))
	p.shot("users-list-with-new-user")

	// The database agrees: a temporary password, the right role, store and
	// department, and an audit row for the creation.
	var (
		id                           int64
		mustChange                   int
		roleCode, code, deptName, ph string
	)
	err := env.App.DB.R.QueryRow(`SELECT u.id, u.must_change_password, r.code, s.code, COALESCE(d.name, ''), COALESCE(u.phone, '')
		FROM app_user u JOIN role r ON r.id = u.role_id JOIN store s ON s.id = u.store_id LEFT JOIN department d ON d.id = u.department_id
		WHERE u.username = ?`, userName).Scan(&id, &mustChange, &roleCode, &code, &deptName, &ph)
	if err != nil {
		t.Fatalf("the user created in the browser is not in the database: %v", err)
	}
	if mustChange != 1 || roleCode != "sales" || code != storeCode || deptName != "销售部" || ph != userPhone {
		t.Errorf("user %s in the database: must_change_password=%d role=%s store=%s department=%q phone=%s; want 1 sales %s 销售部 %s",
			userName, mustChange, roleCode, code, deptName, ph, storeCode, userPhone)
	}
	var audits int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'create' AND entity = 'user' AND entity_id = ?`,
		fmt.Sprint(id)).Scan(&audits); err != nil || audits != 1 {
		t.Errorf("audit rows (create, user, %d): %d, %v; want 1", id, audits, err)
	}

	p.click(sel("user-menu"))
	p.click(sel("logout"))
	p.waitPath("/login")
	p.waitVisible(sel("login-login") + " input")

	// --- the consultant on a phone, another device ---
	m := b.newPage("phone", phone)
	m.open(base, "/")
	m.waitPath("/login")
	m.fill("login-login", userName)
	m.fill("login-password", tempPass)
	m.submit("login-submit", "the password change page opens", pathIs("/change-password"))
	m.waitVisible(sel("pw-old") + " input")
	checkNoHorizontalScroll(m, "the forced password change page")
	m.shot("forced-password-change")
	m.fill("pw-old", tempPass)
	m.fill("pw-new", newPass)
	m.fill("pw-new2", newPass)
	m.submit("pw-submit", "the password is changed", pathIs("/"))
	m.waitText(sel("home-welcome"), userFullName)
	m.waitVisible(sel("app-header"))
	checkNoHorizontalScroll(m, "the home page")
	// The "password changed" toast covers the header for 3 s; the header is what
	// this screenshot is for.
	m.waitJS("the toast is gone", fmt.Sprintf(`![...document.querySelectorAll('.el-message')].some(%s)`, visibleJS))
	m.shot("home")
	if err := env.App.DB.R.QueryRow(`SELECT must_change_password FROM app_user WHERE id = ?`, id).Scan(&mustChange); err != nil || mustChange != 0 {
		t.Errorf("after the password change must_change_password = %d (%v), want 0", mustChange, err)
	}

	// The menu (a drawer on a phone) offers nothing a consultant may not use.
	m.click(sel("menu-toggle"))
	m.waitVisible(sel("menu-home"))
	for _, hook := range []string{"menu-users", "menu-roles", "menu-audit", "menu-apikeys", "menu-security"} {
		if m.present(sel(hook)) {
			m.fail("a sales consultant's menu has %s", hook)
		}
	}
	checkNoHorizontalScroll(m, "the home page with the menu open")
	m.shot("menu-open")
}

// TestJourney_EnglishAndLockout: someone picks English on the sign-in page and
// keeps guessing a password until the account locks; the message is English
// text, never an error code. The admin then finds the failed sign-ins in the
// audit log, in Chinese.
func TestJourney_EnglishAndLockout(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	b := newBrowser(t)
	base := env.Server.URL
	const victim = "sales"

	p := b.newPage("english", desktop)
	p.open(base, "/login")
	p.waitVisible(sel("login-login") + " input")
	p.waitJS("the page starts in Chinese", `!document.documentElement.lang.startsWith('en')`)
	p.click(sel("login-lang"))
	p.waitJS("the page is in English", fmt.Sprintf(`document.documentElement.lang === 'en' && document.querySelector(%s).innerText.includes('Sign in')`, js(sel("login-submit"))))
	p.fill("login-login", victim)

	attempt := func(n int, password string) string {
		t.Helper()
		p.fill("login-password", password)
		p.click(sel("login-submit"))
		// The view clears the password field when the answer is an error.
		p.waitJS(fmt.Sprintf("sign-in attempt %d is answered with an error", n), fmt.Sprintf(`(() => {
			const btn = document.querySelector(%s), pw = document.querySelector(%s), err = document.querySelector(%s);
			return btn && !btn.classList.contains('is-loading') && pw && pw.value === '' && err && err.innerText.trim() !== '' })()`,
			js(sel("login-submit")), js(sel("login-password")+" input"), js(sel("login-error"))))
		return strings.TrimSpace(p.textOf(sel("login-error")))
	}
	isLocked := func(msg string) bool { return strings.Contains(strings.ToLower(msg), "locked") }

	var msg string
	for i := 1; i <= 5; i++ {
		msg = attempt(i, fmt.Sprintf("Wrong-guess-%d", i))
		if i < 5 && isLocked(msg) {
			p.fail("attempt %d already says locked: %q", i, msg)
		}
		if got := env.AuditCount("login_failed", "user"); got != i {
			p.fail("after attempt %d the audit log has %d login_failed rows", i, got)
		}
	}
	if !isLocked(msg) {
		// The server locks the account with the 5th failure but answers that one
		// with bad_credentials; the lock shows from the next attempt — even with
		// the right password.
		t.Logf("after 5 wrong passwords the page says %q (not yet the lock-out); trying the right password once more", msg)
		msg = attempt(6, demo.Password)
	}
	if !isLocked(msg) {
		p.fail("the account should be locked, the page says %q", msg)
	}
	body := p.text()
	for _, bad := range []string{"auth.", "errors.", "{minutes}", "undefined", "NaN"} {
		if strings.Contains(body, bad) || strings.Contains(msg, bad) {
			p.fail("the sign-in page shows %q; message: %q", bad, msg)
		}
	}
	if hasHan(msg) {
		p.fail("the lock-out message is not English: %q", msg)
	}
	p.shot("locked")

	// --- the admin, on another computer, in Chinese ---
	a := b.newPage("admin", desktop)
	a.open(base, "/login")
	a.waitVisible(sel("login-login") + " input")
	a.waitJS("the page is in Chinese", fmt.Sprintf(`document.documentElement.lang === 'zh-CN' && document.querySelector(%s).innerText.includes('登录')`, js(sel("login-submit"))))
	a.fill("login-login", "admin")
	a.fill("login-password", demo.Password)
	a.submit("login-submit", "the admin is signed in", pathIs("/"))
	a.waitText(sel("home-welcome"), "系统管理员")
	a.click(sel("menu-audit"))
	a.waitPath("/system/audit")
	a.waitJS("the audit log lists the failed sign-ins", fmt.Sprintf(`[...document.querySelectorAll(%s)].filter(r => r.innerText.includes('登录失败')).length >= 5`, js(sel("audit-row"))))
	if rows := eval[string](a, fmt.Sprintf(`[...document.querySelectorAll(%s)].map(r => r.innerText).join('\n')`, js(sel("audit-row")))); strings.Contains(rows, "login_failed") {
		a.fail("the audit log shows the raw action code login_failed")
	}
	a.shot("audit-log")
}

// TestJourney_XSSNotExecuted: markup in a user's name (typed by someone, or from an
// import) is shown as text on the user list and never runs.
func TestJourney_XSSNotExecuted(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	admin := env.As("admin")
	const payload = `<img src=x onerror="document.title='pwned'">`

	var roles struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"items"`
	}
	admin.Do("GET", "/roles", nil).Expect(t, http.StatusOK).JSON(t, &roles)
	var salesRole int64
	for _, r := range roles.Items {
		if r.Code == "sales" {
			salesRole = r.ID
		}
	}
	create := func(username, name string) *apptest.Response {
		return admin.Do("POST", "/users", map[string]any{"username": username, "name": name, "phone": "",
			"roleId": salesRole, "storeId": 1, "password": "Temp#2026abc"})
	}
	names := []string{payload}
	r := create("xss_probe", payload)
	if r.Status != http.StatusCreated {
		// Names are at most 40 characters, and the payload is longer. Markup that
		// fits goes through the API; the full payload is stored directly, as an
		// import or an older version could have done.
		e := r.Error(t)
		if e.Fields["name"].Code != "too_long" {
			t.Fatalf("create a user with markup in the name: %s", r)
		}
		t.Logf("the API refuses the %d-character payload as too long; using a shorter one through the API and the full one through the database", len([]rune(payload)))
		const svg = `<svg onload="document.title='pwned'">`
		create("xss_probe", svg).Expect(t, http.StatusCreated)
		create("xss_probe2", "待改名").Expect(t, http.StatusCreated)
		names = []string{svg, payload}
		err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE app_user SET name = ? WHERE username = 'xss_probe2'`, payload)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	b := newBrowser(t)
	p := b.newPage("desktop", desktop)
	p.open(env.Server.URL, "/login")
	p.fill("login-login", "admin")
	p.fill("login-password", demo.Password)
	p.submit("login-submit", "the admin is signed in", pathIs("/"))
	p.waitVisible(sel("home-welcome"))
	p.click(sel("menu-users"))
	p.waitPath("/system/users")
	p.fill("users-q", "xss_probe")
	for _, n := range names {
		p.waitJS("the list shows the name as text: "+n, fmt.Sprintf(`[...document.querySelectorAll(%s)].some(r => r.innerText.includes(%s))`, js(sel("users-row")), js(n)))
	}
	title := eval[string](p, `document.title`)
	if strings.Contains(title, "pwned") {
		p.fail("the markup in a user's name ran: document.title = %q", title)
	}
	if n := eval[int](p, `document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]').length`); n != 0 {
		p.fail("the user list holds %d elements made from a user's name", n)
	}
	p.shot("users-with-markup-names")
}

// checkNoHorizontalScroll fails when the page is wider than the phone's screen.
func checkNoHorizontalScroll(p *page, where string) {
	p.t.Helper()
	got := eval[[]int](p, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if got[0] > got[1]+1 {
		wide := eval[string](p, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right)).join('\n')`)
		p.fail("%s scrolls sideways: scrollWidth %d > innerWidth %d; widest elements:\n%s", where, got[0], got[1], wide)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
