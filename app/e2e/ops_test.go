package e2e_test

// The operations journeys: the admin backs the data up and restores it from
// the browser, wires a webhook to another system and checks its signature, and
// adds a DingTalk robot on a phone. Each is checked where it lands: on the
// receiving end, in the database and through the API with a fresh session.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

// TestJourney_BackupNowThenRestoreFromTheBrowser: the admin sets up the offline
// recovery key, takes a backup, and after a change restores that backup from the
// browser: the page waits out the restore, everyone signs in again, and the
// change made after the backup is gone.
func TestJourney_BackupNowThenRestoreFromTheBrowser(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL
	b := newBrowser(t)
	// A backup, a verification and a restore of the demo data take longer than a
	// form: give this journey more room than the default.
	b.deadline = time.Now().Add(3 * time.Minute)

	p := b.newPage("admin", desktop)
	p.storeClock(env.Clock.Now())
	signIn(p, base, "admin")
	p.click(sel("menu-backup"))
	p.waitPath("/system/backup")
	p.waitVisible(sel("backup-recovery"))
	p.waitJS("the page warns that there is no recovery key", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.innerText.includes('还没有设置离线恢复密钥'))`, js(sel("backup-warning"))))
	p.waitVisible(sel("recovery-setup"))
	p.shot("no-recovery-key")

	// --- the recovery key: generate, save away, paste back ---
	p.click(sel("recovery-setup"))
	p.click(sel("recovery-generate"))
	p.waitVisible(sel("recovery-identity"))
	identity := strings.TrimSpace(p.textOf(sel("recovery-identity")))
	if !strings.HasPrefix(identity, "AGE-SECRET-KEY-1") || len(identity) < 60 || strings.ContainsAny(identity, " \n") {
		p.fail("the recovery key box shows %q; want one AGE-SECRET-KEY-1… line", identity)
	}
	if font := eval[string](p, fmt.Sprintf(`getComputedStyle(document.querySelector(%s)).fontFamily`, js(sel("recovery-identity")))); !strings.Contains(strings.ToLower(font), "mono") && !strings.Contains(font, "Consolas") {
		t.Errorf("the recovery key is shown in %q; want a monospace font (0/O and 1/l must be told apart)", font)
	}
	if p.present(sel("recovery-next") + `:not([disabled]):not(.is-disabled)`) {
		p.fail("下一步 is enabled before the admin ticked that the key is saved")
	}
	p.click(sel("recovery-copy"))
	p.shot("recovery-key-shown")
	p.click(sel("recovery-saved"))
	p.waitJS("下一步 is enabled", fmt.Sprintf(`!document.querySelector(%s).disabled`, js(sel("recovery-next"))))
	p.click(sel("recovery-next"))
	if p.present(sel("recovery-identity")) {
		p.fail("the confirm step still shows the key: pasting it back would prove nothing")
	}
	typeHook(p, "recovery-paste", identity)
	p.shot("recovery-key-pasted")
	p.click(sel("recovery-confirm"))
	p.waitUnless("the page says the recovery key is set", fmt.Sprintf(`!!document.querySelector(%s)`, js(sel("recovery-configured"))), formErrorJS)
	p.waitJS("the recovery dialog closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("recovery-confirm"))))
	p.waitJS("the no-recovery-key warning is gone", fmt.Sprintf(`![...document.querySelectorAll(%s)].some(e => e.innerText.includes('恢复密钥'))`, js(sel("backup-warning"))))
	recipient := strings.TrimSpace(p.textOf(sel("recovery-recipient")))
	if !strings.HasPrefix(recipient, "age1") {
		p.fail("the page shows the recovery public key as %q; want age1…", recipient)
	}
	if strings.Contains(p.text(), identity) {
		p.fail("the page still shows the secret recovery key after it was confirmed")
	}
	waitToastsGone(p)
	p.shot("recovery-key-configured")

	// --- 立即备份 ---
	p.click(sel("backup-run"))
	p.waitUnless("the backup runs or is listed", fmt.Sprintf(`!!document.querySelector(%s) || document.querySelectorAll(%s).length > 0`,
		js(sel("backup-running")), js(sel("backup-row"))), `(document.querySelector('.el-message--error') || {}).innerText`)
	if p.present(sel("backup-running")) {
		p.shot("backup-running")
	} else {
		t.Log("the backup finished before the page's first poll; no progress bar to see")
	}
	p.waitUnless("the list shows one verified backup", fmt.Sprintf(`(() => {
		const rows = document.querySelectorAll(%s);
		return !document.querySelector(%s) && rows.length === 1 && !!rows[0].querySelector(%s) })()`,
		js(sel("backup-row")), js(sel("backup-running")), js(sel("backup-verified"))), `(document.querySelector('.el-message--error') || {}).innerText`)
	var backupName string
	if err := func() error {
		var files struct {
			Items []struct {
				Name     string `json:"name"`
				Kind     string `json:"kind"`
				Verified bool   `json:"verified"`
			} `json:"items"`
		}
		env.As("admin").Do("GET", "/system/backups", nil).Expect(t, http.StatusOK).JSON(t, &files)
		if len(files.Items) != 1 || files.Items[0].Kind != "manual" || !files.Items[0].Verified {
			return fmt.Errorf("the backups are %+v; want one verified manual backup", files.Items)
		}
		backupName = files.Items[0].Name
		return nil
	}(); err != nil {
		p.fail("%v", err)
	}
	if row := p.textOf(sel("backup-row")); !strings.Contains(row, backupName) || !strings.Contains(row, "手动") {
		p.fail("the backup row reads %q; want the file %s as a manual backup", row, backupName)
	}
	if !eval[bool](p, fmt.Sprintf(`!document.querySelector(%s).disabled`, js(sel("backup-run")))) {
		p.fail("立即备份 stays disabled after the backup finished")
	}
	waitToastsGone(p)
	p.shot("backup-listed")

	// --- a change after the backup: a user added through the API ---
	const (
		probeUser = "restore_probe"
		probeName = "备份后新增"
	)
	admin := env.As("admin")
	admin.Do("POST", "/users", map[string]any{"username": probeUser, "name": probeName, "phone": "",
		"roleId": env.RoleID("sales"), "storeId": 1, "password": "Temp#2026abc"}).Expect(t, http.StatusCreated)
	p.click(sel("menu-users"))
	p.waitPath("/system/users")
	typeHook(p, "users-q", probeUser)
	p.waitJS("the user added after the backup is listed", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(r => r.innerText.includes(%s))`, js(sel("users-row")), js(probeName)))
	p.shot("user-added-after-backup")

	// The browser's session, to try it once the restore is done.
	oldCookie := sessionCookie(p, base)

	// --- 恢复 on the backup's row ---
	p.click(sel("menu-backup"))
	p.waitPath("/system/backup")
	p.waitText(sel("backup-row"), backupName)
	p.click(sel("backup-row") + " " + sel("backup-restore"))
	p.waitVisible(sel("restore-submit"))
	if got := p.textOf(sel("restore-dialog")); !strings.Contains(got, backupName) || !strings.Contains(got, "恢复会发生什么") {
		p.fail("the restore dialog reads %q; want the chosen backup %s and what a restore does", got, backupName)
	}
	p.shot("restore-dialog")
	p.click(sel("restore-submit"))
	box := messageBox(p, "确定用这个备份恢复数据")
	if txt := p.textOf(box); !strings.Contains(txt, backupName) || !strings.Contains(txt, "重新登录") {
		p.fail("the confirmation reads %q; want the backup's name and that everyone signs in again", txt)
	}
	p.shot("restore-confirm")
	restored := env.Host.Restored() // closed when this restore has finished
	confirmBox(p, box)
	p.waitUnless("the 正在恢复 overlay shows", fmt.Sprintf(`(%s)(document.querySelector(%s))`, visibleJS, js(sel("restore-overlay"))),
		fmt.Sprintf(`(document.querySelector(%s) || {}).innerText`, js(sel("restore-error"))))
	if txt := p.textOf(sel("restore-overlay")); !strings.Contains(txt, "正在恢复") || !strings.Contains(txt, backupName) {
		p.fail("the overlay reads %q; want 正在恢复 and the backup's name", txt)
	}
	p.shot("restoring-overlay")
	select {
	case <-restored:
	case <-time.After(90 * time.Second):
		p.fail("the restore did not finish within 90 s")
	}
	env.Reload()

	// The page notices the server is back and sends the admin to sign in.
	p.waitPath("/login")
	p.waitVisible(sel("login-login") + " input")
	if q := eval[string](p, `new URLSearchParams(location.search).get('redirect') || ''`); q != "/system/backup" {
		t.Errorf("the sign-in page after the restore returns to %q, want /system/backup", q)
	}
	// A restore is a planned sign-out: the page says the restore is done, not that the session expired.
	p.waitJS("the page says the restore is done", `[...document.querySelectorAll('.el-message')].some(m => m.innerText.includes('数据恢复已结束'))`)
	if txt := p.text(); strings.Contains(txt, "登录已过期") {
		p.fail("after the restore the sign-in page says the session expired: %q", short(txt, 300))
	}
	p.shot("signin-after-restore")

	// The old session is over on the server, not only in the page.
	if code := statusWithCookie(t, env.URL+"/auth/me", oldCookie); code != http.StatusUnauthorized {
		t.Errorf("GET /auth/me with the browser's session from before the restore: %d, want 401", code)
	}
	if code := statusWithCookie(t, env.URL+"/system/backup", oldCookie); code != http.StatusUnauthorized {
		t.Errorf("GET /system/backup with the browser's session from before the restore: %d, want 401", code)
	}

	p.fill("login-login", "admin")
	p.fill("login-password", demo.Password)
	p.submit("login-submit", "the admin is back on the backup page", pathIs("/system/backup"))
	p.waitUnless("the last-restore line says it succeeded", fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el && el.innerText.includes('成功') && el.innerText.includes(%s) })()`,
		js(sel("backup-last-restore")), js(backupName)), fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el && el.innerText.includes('失败') ? el.innerText : '' })()`, js(sel("backup-last-restore"))))
	line := strings.Join(strings.Fields(p.textOf(sel("backup-last-restore"))), " ")
	t.Logf("the last-restore line: %s", line)
	p.do("scroll to the last-restore line", chromedp.ScrollIntoView(chromedp.CSS(sel("backup-last-restore"))))
	waitToastsGone(p)
	p.shot("last-restore-ok")

	// What was added after the backup is gone: in the UI, through the API and in the database.
	p.click(sel("menu-users"))
	p.waitPath("/system/users")
	typeHook(p, "users-q", probeUser)
	p.waitJS("the search for the user added after the backup finds nobody", fmt.Sprintf(`(() => {
		const t = document.querySelector(%s);
		return t && t.innerText.includes('没有符合条件的用户') && !t.innerText.includes(%s) })()`, js(sel("users-table")), js(probeName)))
	p.shot("user-gone-after-restore")
	var users struct {
		Items []struct {
			Username string `json:"username"`
		} `json:"items"`
	}
	env.As("admin").Do("GET", "/users?q="+probeUser, nil).Expect(t, http.StatusOK).JSON(t, &users)
	if len(users.Items) != 0 {
		t.Errorf("after the restore GET /users?q=%s lists %+v; want nobody", probeUser, users.Items)
	}
	var n int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM app_user WHERE username = ?`, probeUser).Scan(&n); err != nil || n != 0 {
		t.Errorf("after the restore the database has %d users %s (%v), want 0", n, probeUser, err)
	}
	if env.AuditCount("system.restored", "backup") != 1 {
		t.Error("the restored audit log does not record the restore")
	}
}

// TestJourney_WebhookPingIsSignedAndLogged: the admin points a webhook at another
// system, keeps the secret shown once, and pings it: the receiver gets a request
// it can verify with that secret, and the log says it was delivered. A new lead
// then reaches the receiver as lead.created, signed the same way.
func TestJourney_WebhookPingIsSignedAndLogged(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL
	rcv := newReceiver(t)

	b := newBrowser(t)
	p := b.newPage("admin", desktop)
	p.storeClock(env.Clock.Now())
	signIn(p, base, "admin")
	p.click(sel("menu-webhooks"))
	p.waitPath("/system/webhooks")
	p.waitVisible(sel("webhooks-table"))

	const hookName = "集团数据平台"
	hookURL := rcv.URL + "/dealerdesk/events?source=hz01"
	p.click(sel("webhook-new"))
	typeHook(p, "webhook-name", hookName)
	typeHook(p, "webhook-url", hookURL)
	p.click(sel("webhook-event-lead.created"))
	p.waitJS("新线索 is ticked", fmt.Sprintf(`document.querySelector(%s).classList.contains('is-checked')`, js(sel("webhook-event-lead.created"))))
	p.shot("webhook-form")
	p.click(sel("webhook-save"))
	p.waitUnless("the secret is shown", fmt.Sprintf(`(%s)(document.querySelector(%s))`, visibleJS, js(sel("webhook-secret"))), formErrorJS)
	secret := strings.TrimSpace(p.textOf(sel("webhook-secret")))
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 30 {
		p.fail("the secret box shows %q; want a whsec_… secret", secret)
	}
	p.shot("webhook-secret-once")
	p.click(sel("webhook-secret-copy"))
	p.click(sel("webhook-secret-done"))
	// When the browser refused the copy the page asks whether to close anyway.
	p.waitJS("the secret dialog closed or asks to confirm", fmt.Sprintf(`!(%s)(document.querySelector(%s)) || [...document.querySelectorAll('.el-message-box')].some(%s)`,
		visibleJS, js(sel("webhook-secret")), visibleJS))
	if eval[bool](p, fmt.Sprintf(`[...document.querySelectorAll('.el-message-box')].some(%s)`, visibleJS)) {
		t.Log("the copy did not reach the clipboard; closing the secret dialog anyway")
		confirmBox(p, messageBox(p, "还没有复制密钥"))
	}
	p.waitJS("the secret dialog closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("webhook-secret"))))
	row := p.mark("the webhook is listed", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(r => r.innerText.includes(%s)) || null`, js(sel("webhook-row")), js(hookName)))
	if strings.Contains(p.text(), secret) {
		p.fail("the page still shows the secret after the dialog closed")
	}
	if txt := p.textOf(row); !strings.Contains(txt, "新线索") || !strings.Contains(txt, "127.0.0.1") {
		p.fail("the webhook row reads %q; want its event 新线索 and its address", txt)
	}

	// --- 发送测试 ---
	p.click(row + " " + sel("webhook-ping"))
	ping := rcv.wait(t, "ping", 15*time.Second)
	verifySignature(t, ping, secret)
	if ping.header.Get("X-DealerDesk-Event") != "ping" || ping.path != "/dealerdesk/events?source=hz01" {
		t.Errorf("the ping arrived as event %q at %s; want ping at the webhook's URL", ping.header.Get("X-DealerDesk-Event"), ping.path)
	}
	p.waitJS("the row says the last call succeeded", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(r => r.innerText.includes(%s) && r.innerText.includes('成功'))`, js(sel("webhook-row")), js(hookName)))
	waitToastsGone(p)
	p.shot("webhook-pinged")

	row = p.mark("the webhook's row", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(r => r.innerText.includes(%s)) || null`, js(sel("webhook-row")), js(hookName)))
	p.click(row + " " + sel("webhook-log"))
	p.waitJS("the log lists the ping as delivered with HTTP 200", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(r => r.innerText.includes('测试事件') && r.innerText.includes('已送达') && r.innerText.includes('200'))`,
		js(sel("webhook-delivery-row"))))
	p.shot("webhook-log-ping")

	// --- a lead typed by a consultant reaches the receiver as lead.created ---
	const (
		leadPhone = "13867151234"
		leadName  = "沈嘉禾"
	)
	var lead struct {
		CustomerID int64 `json:"customerId"`
	}
	env.As("sales").Do("POST", "/leads", map[string]any{"phone": leadPhone, "name": leadName, "channel": "walk_in", "assign": "me"}).
		Expect(t, http.StatusCreated).JSON(t, &lead)
	ev := rcv.wait(t, "lead.created", 10*time.Second)
	verifySignature(t, ev, secret)
	var body struct {
		Type     string         `json:"type"`
		ID       string         `json:"id"`
		StoreID  int64          `json:"storeId"`
		Entity   string         `json:"entity"`
		EntityID int64          `json:"entityId"`
		Data     map[string]any `json:"data"`
	}
	if err := json.Unmarshal(ev.body, &body); err != nil {
		t.Fatalf("the lead.created body is not JSON: %v\n%s", err, ev.body)
	}
	if body.Type != "lead.created" || body.ID != ev.header.Get("X-DealerDesk-Delivery") || body.StoreID != 1 || fmt.Sprint(body.Data["customerId"]) != fmt.Sprint(lead.CustomerID) {
		t.Errorf("the lead.created event: %s; want type lead.created, the delivery id, store 1 and customer %d", ev.body, lead.CustomerID)
	}
	// The webhook did not opt in to personal data: the phone is masked, the name absent.
	if s := string(ev.body); strings.Contains(s, leadPhone) || strings.Contains(s, leadName) || !strings.Contains(s, leadPhone[7:]) {
		t.Errorf("the lead.created event carries personal data (or no masked phone) although the webhook did not opt in: %s", s)
	}
	if n := rcv.count("lead.created"); n != 1 {
		t.Errorf("the receiver got lead.created %d times, want once", n)
	}

	p.click(sel("webhook-log-refresh"))
	p.waitJS("the log lists the lead as delivered", fmt.Sprintf(`(() => { const rows = [...document.querySelectorAll(%s)];
		return rows.length === 2 && rows.some(r => r.innerText.includes('新线索') && r.innerText.includes('已送达')) })()`, js(sel("webhook-delivery-row"))))
	p.shot("webhook-log-lead")

	// The delivery's detail shows what was sent: the masked phone, not the number.
	leadRow := p.mark("the lead's delivery row", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(r => r.innerText.includes('新线索')) || null`, js(sel("webhook-delivery-row"))))
	p.click(leadRow)
	p.waitText(sel("webhook-payload"), `"lead.created"`)
	if payload := p.textOf(sel("webhook-payload")); strings.Contains(payload, leadPhone) || !strings.Contains(payload, leadPhone[7:]) || !strings.Contains(payload, body.ID) {
		p.fail("the delivery's payload on the page reads %q; want event %s with the phone masked", payload, body.ID)
	}
	p.shot("webhook-delivery-detail")

	var status string
	var attempts int
	if err := env.App.DB.R.QueryRow(`SELECT status, attempts FROM webhook_delivery WHERE event_type = 'lead.created'`).Scan(&status, &attempts); err != nil || status != "sent" || attempts != 1 {
		t.Errorf("the lead.created delivery in the database: %s after %d attempts (%v); want sent after 1", status, attempts, err)
	}
}

// TestJourney_ChannelFormOnAPhone: on a small phone the admin adds the showroom's
// DingTalk robot, tries it (the machine has no internet, so the test message
// fails and the page says why, without the robot's token), saves it, and finds it
// listed with its address masked.
func TestJourney_ChannelFormOnAPhone(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL

	token := "ddtok" + randHex(t, 24) // unique: any trace of it on the page is a leak
	const (
		chName = "展厅钉钉群"
		secret = "SEC7d1f0c5be2a94c6e8f3b1a0d9e7c2f4b6a8d0e1f3c5b7a9d2e4f6a8c0b1d3e5"
	)
	robotURL := "https://oapi.dingtalk.com/robot/send?access_token=" + token

	b := newBrowser(t)
	m := b.newPage("phone", smallPhone)
	m.storeClock(env.Clock.Now())
	signIn(m, base, "admin")
	m.click(sel("menu-toggle"))
	m.click(sel("menu-channels"))
	m.waitPath("/system/channels")
	m.waitVisible(sel("channels-list"))
	checkNoHorizontalScroll(m, "the channels page")

	m.click(sel("channel-new"))
	m.click(sel("channel-type-dingtalk"))
	m.waitJS("钉钉群机器人 is picked", fmt.Sprintf(`document.querySelector(%s).classList.contains('is-checked')`, js(sel("channel-type-dingtalk"))))
	typeHook(m, "channel-name", chName)
	typeHook(m, "channel-url", robotURL)
	typeHook(m, "channel-secret", secret)
	for _, k := range []string{"lead.sla_overdue", "approval.pending", "backup.failed"} {
		scrollToCenter(m, sel("channel-kind-"+k))
		m.click(sel("channel-kind-" + k))
		m.waitJS(k+" is ticked", fmt.Sprintf(`document.querySelector(%s).classList.contains('is-checked')`, js(sel("channel-kind-"+k))))
	}
	checkNoHorizontalScroll(m, "the channel form")
	m.do("scroll to the top of the form", chromedp.ScrollIntoView(chromedp.CSS(sel("channel-type-dingtalk"))))
	m.shot("channel-form")

	// --- 发送测试消息: no internet here, so it fails, and says why ---
	m.click(sel("channel-test-form"))
	m.waitUnless("the test result shows", fmt.Sprintf(`(%s)(document.querySelector(%s))`, visibleJS, js(sel("channel-test-result"))), "")
	// The result sits below the form; the page scrolls it into sight, above the drawer's footer.
	m.waitJS("the test result is in sight", fmt.Sprintf(`(() => {
		const r = document.querySelector(%s).getBoundingClientRect(), f = document.querySelector(%s).getBoundingClientRect();
		return r.top >= 0 && r.bottom <= f.top + 1 })()`, js(sel("channel-test-result")), js(sel("channel-save"))))
	result := strings.TrimSpace(m.textOf(sel("channel-test-result")))
	t.Logf("the test result on the page: %q", result)
	if !strings.Contains(result, "测试消息发送失败") {
		m.fail("the test result reads %q; want 测试消息发送失败 (this machine cannot reach oapi.dingtalk.com)", result)
	}
	reason := strings.TrimSpace(strings.Replace(result, "测试消息发送失败", "", 1))
	if reason == "" {
		m.fail("the test failure gives no reason")
	}
	for _, bad := range []string{token, token[:12], secret, secret[:12], "goroutine", "panic", ".go:", "runtime.", "undefined", "[object Object]", "{\""} {
		if strings.Contains(result, bad) {
			m.fail("the test failure shows %q: %q", bad, result)
		}
	}
	if len([]rune(reason)) > 300 || strings.Count(reason, "\n") > 4 {
		m.fail("the test failure is a wall of text (%d characters): %q", len([]rune(reason)), reason)
	}
	checkNoHorizontalScroll(m, "the channel form with the test result")
	m.shot("channel-test-failed")

	// --- save, and find it listed, masked ---
	m.click(sel("channel-save"))
	// A form error fails at once; the test result above the footer is no form error.
	saveErr := fmt.Sprintf(`[...document.querySelectorAll('.el-form-item__error, .el-alert--error, .el-message--error')].filter(e => !e.closest(%s)).map(e => e.innerText.trim()).filter(Boolean).join(' | ')`,
		js(sel("channel-test-result")))
	m.waitUnless("the channel is listed", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(r => r.innerText.includes(%s))`, js(sel("channel-row")), js(chName)), saveErr)
	m.waitJS("the drawer closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("channel-save"))))
	card := m.mark("the channel's card", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(r => r.innerText.includes(%s)) || null`, js(sel("channel-row")), js(chName)))
	target := strings.TrimSpace(m.textOf(card + " " + sel("channel-target")))
	if !strings.HasPrefix(target, "https://oapi.dingtalk.com/robot/send?access_token=") || !strings.Contains(target, "****"+token[len(token)-4:]) {
		m.fail("the card shows the robot address as %q; want it with the token masked (****%s)", target, token[len(token)-4:])
	}
	if txt := m.textOf(card); !strings.Contains(txt, "钉钉") || !strings.Contains(txt, "审批") {
		m.fail("the card reads %q; want the type 钉钉群机器人 and the kinds picked", txt)
	}
	page := eval[[]string](m, `[document.body.innerText, document.documentElement.outerHTML]`)
	for _, leak := range []string{token, token[:12], token[len(token)-12:], secret, secret[:12]} {
		if strings.Contains(page[0], leak) || strings.Contains(page[1], leak) {
			m.fail("the channels page holds %q of the robot's token or secret", leak)
		}
	}
	if w := eval[int](m, `document.documentElement.scrollWidth`); w > 375 {
		m.fail("the channels page is %d px wide on a 375 px phone", w)
	}
	checkNoHorizontalScroll(m, "the channel list")
	waitToastsGone(m)
	m.do("scroll to the card", chromedp.ScrollIntoView(chromedp.CSS(card)))
	m.shot("channel-listed")

	var (
		typ, kinds, cfg string
	)
	if err := env.App.DB.R.QueryRow(`SELECT type, kinds, config FROM notify_channel WHERE name = ?`, chName).Scan(&typ, &kinds, &cfg); err != nil {
		t.Fatalf("the channel saved on the phone is not in the database: %v", err)
	}
	if typ != "dingtalk" || !strings.Contains(kinds, "lead.sla_overdue") || !strings.Contains(kinds, "approval.pending") || !strings.Contains(kinds, "backup.failed") {
		t.Errorf("the channel in the database: %s kinds %s; want dingtalk with the three kinds picked", typ, kinds)
	}
}

// --- helpers ---

// smallPhone is the narrowest phone the pages are made for (375 px, iPhone X … 13 mini).
var smallPhone = viewport{w: 375, h: 812, scale: 3, mobile: true}

// typeHook types into an el-input whose data-test sits on the input (or
// textarea) itself, as el-input puts it, or on a wrapper.
func typeHook(p *page, hook, text string) {
	p.t.Helper()
	s := sel(hook)
	css := fmt.Sprintf(`input%[1]s, textarea%[1]s, %[1]s input:not([type=hidden]), %[1]s textarea`, s)
	scrollToCenter(p, css)
	typeInto(p, css, text)
}

// scrollToCenter scrolls the first shown element of the CSS selector to the
// middle of its scrolling box. click scrolls only what is off the screen; in a
// drawer a field can be on the screen yet under the drawer's footer.
func scrollToCenter(p *page, css string) {
	p.t.Helper()
	p.waitJS(css+" is shown", fmt.Sprintf(`(() => { const el = [...document.querySelectorAll(%s)].find(%s); if (!el) return false;
		el.scrollIntoView({ block: 'center' }); return true })()`, js(css), visibleJS))
}

// messageBox waits for the Element Plus message box whose text includes want
// and returns its selector. Message boxes are made by a function call
// (ElMessageBox.confirm), so they carry no data-test: this and confirmBox are the
// only places the journeys use Element Plus's own classes.
func messageBox(p *page, want string) string {
	p.t.Helper()
	return p.mark("a message box saying "+want, fmt.Sprintf(`[...document.querySelectorAll('.el-message-box')].find(e => (%s)(e) && e.innerText.includes(%s)) || null`, visibleJS, js(want)))
}

// confirmBox clicks the confirming (last) button of a message box and waits for
// the box to go.
func confirmBox(p *page, box string) {
	p.t.Helper()
	btn := p.mark("the message box's confirm button", fmt.Sprintf(`(() => { const b = document.querySelector(%s); if (!b) return null;
		const bs = b.querySelectorAll('.el-message-box__btns button'); return bs[bs.length - 1] || null })()`, js(box)))
	p.click(btn)
	p.waitJS("the message box closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(box)))
}

// waitToastsGone waits until no toast covers the page (for a screenshot of what
// lies below).
func waitToastsGone(p *page) {
	p.t.Helper()
	p.waitJS("the toasts are gone", fmt.Sprintf(`![...document.querySelectorAll('.el-message')].some(%s)`, visibleJS))
}

// sessionCookie returns the page's session cookie for base.
func sessionCookie(p *page, base string) *http.Cookie {
	p.t.Helper()
	ctx, cancel := p.ctx()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		p.fail("read the browser's cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "dd_session" {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	p.fail("the browser has no dd_session cookie for %s", base)
	return nil
}

// statusWithCookie is the status of a GET with only that cookie.
func statusWithCookie(t *testing.T, u string, c *http.Cookie) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func randHex(t *testing.T, n int) string {
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// receiver is the other system a webhook calls: it records every request.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	more chan struct{}
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{more: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{path: req.URL.RequestURI(), header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		select {
		case r.more <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the first request of the event type, waiting up to d for it.
func (r *receiver) wait(t *testing.T, event string, d time.Duration) received {
	t.Helper()
	deadline := time.After(d)
	for {
		r.mu.Lock()
		for _, g := range r.got {
			if g.header.Get("X-DealerDesk-Event") == event {
				r.mu.Unlock()
				return g
			}
		}
		n := len(r.got)
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("the receiver got no %s event within %s (%d other requests)", event, d, n)
		}
	}
}

func (r *receiver) count(event string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, g := range r.got {
		if g.header.Get("X-DealerDesk-Event") == event {
			n++
		}
	}
	return n
}

// verifySignature checks X-DealerDesk-Signature the way a receiver would:
// t=<unix>,v1=hex(HMAC-SHA256(secret, t + "." + body)).
func verifySignature(t *testing.T, r received, secret string) {
	t.Helper()
	sig := r.header.Get("X-DealerDesk-Signature")
	var ts, v1 string
	for _, part := range strings.Split(sig, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	if ts == "" || v1 == "" {
		t.Fatalf("the %s request has the signature %q; want t=…,v1=…", r.header.Get("X-DealerDesk-Event"), sig)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(r.body)
	want := mac.Sum(nil)
	got, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(got, want) {
		t.Fatalf("the %s request's signature %q does not verify with the secret shown on the page (want v1=%x)", r.header.Get("X-DealerDesk-Event"), sig, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("the %s request has Content-Type %q", r.header.Get("X-DealerDesk-Event"), ct)
	}
}

// TestJourney_OpsPagesInEnglish: an administrator who works in English sees the
// backup, channel and webhook pages in English, with no untranslated key and no
// Chinese-only label left over.
func TestJourney_OpsPagesInEnglish(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	if _, err := env.App.DB.W.Exec(`UPDATE app_user SET locale = 'en' WHERE username = 'admin'`); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Backups.Run(context.Background(), "manual"); err != nil {
		t.Fatal(err)
	}
	base := env.Server.URL
	b := newBrowser(t)
	p := b.newPage("admin-en", desktop)
	signIn(p, base, "admin")
	for _, pg := range []struct{ path, title, step string }{
		{"/system/backup", "Backup", "backup-en"},
		{"/system/channels", "Notification channels", "channels-en"},
		{"/system/webhooks", "Webhook", "webhooks-en"},
	} {
		p.open(base, pg.path)
		p.waitJS(pg.path+" is in English", fmt.Sprintf(`document.documentElement.lang === 'en' && document.body.innerText.includes(%s)`, js(pg.title)))
		p.settle()
		text := p.text()
		if m := regexp.MustCompile(`\b(backup|channels|webhooks?|errors|notify)\.[a-z][A-Za-z_.]*`).FindString(text); m != "" {
			p.fail("%s shows the untranslated key %q", pg.path, m)
		}
		main := eval[string](p, `(document.querySelector('main') || document.body).innerText`)
		// The data dir, file names and the age key are not translated; labels are.
		for _, line := range strings.Split(main, "\n") {
			if regexp.MustCompile(`\p{Han}`).MatchString(line) && !strings.Contains(line, "/") && !strings.Contains(line, "杭州") && !strings.Contains(line, "店") {
				p.fail("%s has a Chinese label in English: %q", pg.path, line)
			}
		}
		p.shot(pg.step)
	}
}
