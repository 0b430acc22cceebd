package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/notify"
)

// TestChannels_ValidationNeedsTheVendorsHosts: field errors with codes, and in
// production a robot URL must be the vendor's endpoint.
func TestChannels_ValidationNeedsTheVendorsHosts(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t) // production rules: no AllowAnyHost
	admin := env.As("admin")
	post := func(body map[string]any) *apptest.Response {
		if _, ok := body["storeId"]; !ok {
			body["storeId"] = 1
		}
		if _, ok := body["kinds"]; !ok {
			body["kinds"] = []string{"lead.assigned"}
		}
		if _, ok := body["name"]; !ok {
			body["name"] = "销售群"
		}
		return admin.Do("POST", "/notify/channels", body)
	}
	robot := func(typ, u string) *apptest.Response {
		return post(map[string]any{"type": typ, "config": map[string]any{"url": u}})
	}
	for _, tc := range []struct{ typ, url, code string }{
		{"wecom", "http://127.0.0.1:9/cgi-bin/webhook/send?key=abc", "channel.url_host"},
		{"wecom", "https://evil.example/cgi-bin/webhook/send?key=abc", "channel.url_host"},
		{"wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "channel.url_host"},
		{"wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "channel.url_host"},
		{"wecom", "https://oapi.dingtalk.com/robot/send?access_token=abc", "channel.url_host"},
		{"dingtalk", "https://oapi.dingtalk.com/robot/send", "channel.url_host"},
		{"feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/", "channel.url_host"},
		{"feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/a/b", "channel.url_host"},
		{"feishu", "not a url", "channel.url_invalid"},
		{"dingtalk", "ftp://oapi.dingtalk.com/robot/send?access_token=abc", "channel.url_invalid"},
		{"wecom", "", "required"},
	} {
		apptest.ExpectField(t, robot(tc.typ, tc.url), "url", tc.code)
	}
	robot("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa9f2c").Expect(t, http.StatusCreated)
	robot("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef").Expect(t, http.StatusCreated)
	robot("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/2f1c44e6-aaaa-bbbb-cccc-0123456789ab").Expect(t, http.StatusCreated)

	ok := map[string]any{"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}
	apptest.ExpectField(t, post(map[string]any{"type": "wecom", "name": "", "config": ok}), "name", "required")
	apptest.ExpectField(t, post(map[string]any{"type": "wecom", "name": strings.Repeat("群", 41), "config": ok}), "name", "too_long")
	apptest.ExpectField(t, post(map[string]any{"type": "wecom", "kinds": []string{}, "config": ok}), "kinds", "channel.kinds_empty")
	apptest.ExpectField(t, post(map[string]any{"type": "wecom", "kinds": []string{"lead.bogus"}, "config": ok}), "kinds", "notify.unknown_kind")
	apptest.ExpectField(t, post(map[string]any{"type": "sms", "config": ok}), "type", "channel.type_invalid")
	var def channelOut
	post(map[string]any{"type": "wecom", "storeId": 0, "config": ok}).Expect(t, http.StatusCreated).JSON(t, &def)
	if def.StoreID != 1 { // admin works in store 1
		t.Errorf("a channel without a store went to store %d, want the actor's", def.StoreID)
	}
	apptest.ExpectField(t, post(map[string]any{"type": "wecom", "storeId": 999, "config": ok}), "storeId", "store.invalid")
	apptest.ExpectField(t, post(map[string]any{"type": "dingtalk", "config": map[string]any{"url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
		"mentionMobiles": []string{"12345"}}}), "mentionMobiles", "phone.invalid")
	apptest.ExpectField(t, post(map[string]any{"type": "wecom", "config": map[string]any{"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
		"linkBase": "dd.lan"}}), "linkBase", "channel.link_base_invalid")

	mail := func(cfg map[string]any) *apptest.Response {
		base := map[string]any{"host": "smtp.exmail.qq.com", "port": 465, "security": "ssl", "username": "crm@store.cn", "password": "authcode",
			"from": "crm@store.cn", "to": []string{"gm@store.cn"}}
		for k, v := range cfg {
			base[k] = v
		}
		return post(map[string]any{"type": "email", "config": base})
	}
	mail(nil).Expect(t, http.StatusCreated)
	apptest.ExpectField(t, mail(map[string]any{"to": []string{"gm@store.cn", "not-an-address"}}), "to", "channel.email_invalid")
	apptest.ExpectField(t, mail(map[string]any{"to": []string{}}), "to", "required")
	apptest.ExpectField(t, mail(map[string]any{"port": 70000}), "port", "out_of_range")
	apptest.ExpectField(t, mail(map[string]any{"security": "tls"}), "security", "channel.security_invalid")
	apptest.ExpectField(t, mail(map[string]any{"password": ""}), "password", "required")
	apptest.ExpectField(t, mail(map[string]any{"from": "王经理 <gm@store.cn>"}), "from", "channel.email_invalid")
	apptest.ExpectField(t, mail(map[string]any{"host": "smtp.qq.com:465"}), "host", "channel.host_invalid")
	apptest.ExpectField(t, mail(map[string]any{"host": ""}), "host", "required")
}

// TestChannels_SecretsMaskedKeptAndAudited: answers and audit rows show the
// URL's token masked and secrets as {"set":true}; an edit with an empty secret
// keeps it; a stale version is 409.
func TestChannels_SecretsMaskedKeptAndAudited(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	const token, secret = "tok0123456789abcdef9f2c", "SECsupersecret0001"
	ch := createChannel(t, admin, map[string]any{"type": "dingtalk", "name": "展厅群", "kinds": []string{"lead.assigned", "lead.unassigned"},
		"config": map[string]any{"url": "https://oapi.dingtalk.com/robot/send?access_token=" + token, "secret": secret, "mentionMobiles": []string{"139 0000 1111"}}})
	if ch.Config["url"] != "https://oapi.dingtalk.com/robot/send?access_token=****9f2c" {
		t.Errorf("url shown as %v", ch.Config["url"])
	}
	if s, _ := ch.Config["secret"].(map[string]any); s["set"] != true {
		t.Errorf("secret shown as %v", ch.Config["secret"])
	}
	if m, _ := ch.Config["mentionMobiles"].([]any); len(m) != 1 || m[0] != "13900001111" {
		t.Errorf("mentions %v", ch.Config["mentionMobiles"])
	}
	noSecrets := func(where string, b []byte) {
		t.Helper()
		if bytes.Contains(b, []byte(token)) || bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s shows a credential: %s", where, b)
		}
	}
	noSecrets("GET /notify/channels", admin.Do("GET", "/notify/channels", nil).Expect(t, 200).Body)

	// An edit that leaves the masked URL and an empty secret keeps both.
	upd := map[string]any{"storeId": 1, "type": "dingtalk", "name": "展厅群2", "enabled": true, "kinds": []string{"lead.assigned"},
		"config": map[string]any{"url": ch.Config["url"], "secret": ""}, "version": ch.Version}
	var after channelOut
	admin.Do("PUT", fmt.Sprintf("/notify/channels/%d", ch.ID), upd).Expect(t, 200).JSON(t, &after)
	var cfg string
	env.App.DB.R.QueryRow(`SELECT config FROM notify_channel WHERE id = ?`, ch.ID).Scan(&cfg)
	if !strings.Contains(cfg, token) || !strings.Contains(cfg, secret) || after.Name != "展厅群2" || after.Version != ch.Version+1 {
		t.Fatalf("after an edit with blank credentials: config %s, channel %+v", cfg, after)
	}
	// The old version is stale now.
	apptest.ExpectErr(t, admin.Do("PUT", fmt.Sprintf("/notify/channels/%d", ch.ID), upd), http.StatusConflict, "conflict.stale")
	// The type is fixed; clearSecret removes the secret.
	upd["version"], upd["type"] = after.Version, "feishu"
	apptest.ExpectField(t, admin.Do("PUT", fmt.Sprintf("/notify/channels/%d", ch.ID), upd), "type", "channel.type_fixed")
	upd["type"], upd["clearSecret"] = "dingtalk", true
	admin.Do("PUT", fmt.Sprintf("/notify/channels/%d", ch.ID), upd).Expect(t, 200).JSON(t, &after)
	if s, _ := after.Config["secret"].(map[string]any); s["set"] != false {
		t.Errorf("secret after clearSecret: %v", after.Config["secret"])
	}
	admin.Do("DELETE", fmt.Sprintf("/notify/channels/%d", ch.ID), nil).Expect(t, 204)
	admin.Do("DELETE", fmt.Sprintf("/notify/channels/%d", ch.ID), nil).Expect(t, 404)

	// Every change was audited in its transaction, credentials masked.
	for action, want := range map[string]int{"create": 1, "update": 2, "delete": 1} {
		if n := env.AuditCount(action, "notify_channel"); n != want {
			t.Errorf("%d %s audit rows, want %d", n, action, want)
		}
	}
	rows, _ := env.App.DB.R.Query(`SELECT coalesce(before_json, ''), coalesce(after_json, '') FROM audit_log WHERE entity = 'notify_channel'`)
	defer rows.Close()
	for rows.Next() {
		var b, a string
		rows.Scan(&b, &a)
		noSecrets("audit", []byte(b+a))
		if !strings.Contains(b+a, "****9f2c") {
			t.Errorf("audit row does not show the masked URL: %s %s", b, a)
		}
	}
}

// TestChannels_StoreScope: a store's settings manager sees and changes only its
// store's channels; another store's answer 404.
func TestChannels_StoreScope(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	if _, err := env.App.DB.W.Exec(`INSERT INTO role_permission (role_id, permission) VALUES (?, 'settings.manage')`, env.RoleID("gm")); err != nil {
		t.Fatal(err)
	}
	r := newRobot(t, nil)
	admin, gm := env.As("admin"), env.As("gm")
	other := createChannel(t, admin, map[string]any{"storeId": 2, "type": "wecom", "name": "宁波店群", "kinds": []string{"lead.assigned"},
		"config": map[string]any{"url": r.URL + "/send?key=k2"}})
	own := createChannel(t, gm, map[string]any{"storeId": 1, "type": "wecom", "name": "杭州店群", "kinds": []string{"lead.assigned"},
		"config": map[string]any{"url": r.URL + "/send?key=k1"}})
	var list struct{ Items []channelOut }
	gm.Do("GET", "/notify/channels", nil).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != own.ID {
		t.Fatalf("gm sees %+v", list.Items)
	}
	admin.Do("GET", "/notify/channels", nil).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("admin sees %d channels", len(list.Items))
	}
	gm.Do("GET", "/notify/channels?storeId=2", nil).Expect(t, 404)
	gm.Do("PUT", fmt.Sprintf("/notify/channels/%d", other.ID), map[string]any{"storeId": 2, "type": "wecom", "name": "x", "kinds": []string{"lead.assigned"},
		"config": map[string]any{}, "version": other.Version}).Expect(t, 404)
	gm.Do("DELETE", fmt.Sprintf("/notify/channels/%d", other.ID), nil).Expect(t, 404)
	gm.Do("POST", fmt.Sprintf("/notify/channels/%d/test", other.ID), nil).Expect(t, 404)
	gm.Do("POST", "/notify/channels", map[string]any{"storeId": 2, "type": "wecom", "name": "x", "enabled": true, "kinds": []string{"lead.assigned"},
		"config": map[string]any{"url": r.URL + "/send?key=k3"}}).Expect(t, 404)
	// moving its own channel to another store is just as out of reach
	gm.Do("PUT", fmt.Sprintf("/notify/channels/%d", own.ID), map[string]any{"storeId": 2, "type": "wecom", "name": "x", "enabled": true, "kinds": []string{"lead.assigned"},
		"config": map[string]any{}, "version": own.Version}).Expect(t, 404)
	// the delivery log: gm's test message is there, admin's store-2 one is not
	gm.Do("POST", fmt.Sprintf("/notify/channels/%d/test", own.ID), nil).Expect(t, 200)
	admin.Do("POST", fmt.Sprintf("/notify/channels/%d/test", other.ID), nil).Expect(t, 200)
	var dl struct{ Items []struct{ ChannelID int64 } }
	gm.Do("GET", "/notify/deliveries", nil).Expect(t, 200).JSON(t, &dl)
	if len(dl.Items) != 1 || dl.Items[0].ChannelID != own.ID {
		t.Fatalf("gm's delivery log %+v", dl.Items)
	}
	// group-wide webhooks need group scope, also to be seen: their log holds every store's events
	apptest.ExpectErr(t, gm.Do("POST", "/webhooks", map[string]any{"name": "ERP", "url": "https://erp.example.com/hook", "events": []string{"lead.created"}, "enabled": true}),
		http.StatusForbidden, "webhook.group_scope")
	group, _ := createWebhook(t, admin, map[string]any{"storeId": nil, "name": "集团", "url": "https://erp.example.com/hook", "events": []string{"lead.created"}})
	store1, _ := createWebhook(t, gm, map[string]any{"storeId": 1, "name": "杭州 ERP", "url": "https://erp.example.com/hz", "events": []string{"lead.created"}})
	var wl struct{ Items []webhookOut }
	gm.Do("GET", "/webhooks", nil).Expect(t, 200).JSON(t, &wl)
	if len(wl.Items) != 1 || wl.Items[0].ID != store1.ID {
		t.Fatalf("gm sees webhooks %+v", wl.Items)
	}
	gm.Do("GET", fmt.Sprintf("/webhooks/%d/deliveries", group.ID), nil).Expect(t, 404)
	gm.Do("POST", fmt.Sprintf("/webhooks/%d/ping", group.ID), nil).Expect(t, 404)
	admin.Do("GET", "/webhooks", nil).Expect(t, 200).JSON(t, &wl)
	if len(wl.Items) != 2 || wl.Items[0].ID != group.ID {
		t.Fatalf("admin sees webhooks %+v", wl.Items)
	}
}

// TestChannels_TestMessageIsSentAndLogged: the form's test button, for a saved
// channel (recorded in the log) and for settings not saved yet.
func TestChannels_TestMessageIsSentAndLogged(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	r := newRobot(t, func(n int) (int, string) {
		if n == 2 {
			return 200, `{"errcode":93000,"errmsg":"invalid webhook url"}`
		}
		return 200, `{"errcode":0,"errmsg":"ok"}`
	})
	ch := robotChannel(t, admin, r, "lead.assigned")
	var res notify.TestResult
	admin.Do("POST", fmt.Sprintf("/notify/channels/%d/test", ch.ID), nil).Expect(t, 200).JSON(t, &res)
	if !res.OK || res.Error != "" {
		t.Fatalf("test message: %+v", res)
	}
	got := r.got()
	if len(got) != 1 || got[0].text() != "【DealerDesk】这是一条测试消息：通知渠道「销售群」配置成功\nhttps://dd.lan:8443/" {
		t.Fatalf("robot got %+v", got)
	}
	admin.Do("POST", fmt.Sprintf("/notify/channels/%d/test", ch.ID), nil).Expect(t, 200).JSON(t, &res)
	if res.OK || !strings.Contains(res.Error, "invalid webhook url") || res.ErrorCode != "channel.send.vendor" {
		t.Fatalf("failed test message: %+v", res)
	}
	// An address nobody answers on says so in words, not only in Go's text.
	dead := map[string]any{"storeId": 0, "type": "wecom", "name": "x", "config": map[string]any{"url": "http://127.0.0.1:1/cgi-bin/webhook/send?key=k"}}
	admin.Do("POST", "/notify/channels/test", dead).Expect(t, 200).JSON(t, &res)
	if res.OK || res.ErrorCode != "channel.send.refused" {
		t.Fatalf("dead robot: %+v", res)
	}
	rows := deliveryRows(t, env, ch.ID)
	if len(rows) != 2 || rows[0].Kind != "test" || rows[0].Status != "sent" || rows[1].Status != "failed" || rows[1].Attempts != 1 {
		t.Fatalf("log %+v", rows)
	}
	// a failed test is not retried and alarms nobody
	env.Clock.Advance(time.Hour)
	if n := deliver(t, env); n != 0 {
		t.Fatalf("a test message was retried (%d)", n)
	}
	if n := notificationsOf(t, env, env.UserID("admin"), "channel.failed"); n != 0 {
		t.Fatalf("%d alarms for a test message", n)
	}
	admin = env.As("admin") // the session idled out while the clock moved
	var out channelOut
	env.App.DB.R.QueryRow(`SELECT last_error FROM notify_channel WHERE id = ?`, ch.ID).Scan(&out.LastError)
	if !strings.Contains(out.LastError, "93000") {
		t.Fatalf("channel's last error %q", out.LastError)
	}

	// Unsaved settings: nothing stored; with the channel's id its stored URL is used.
	admin.Do("POST", "/notify/channels/test", map[string]any{"storeId": 1, "type": "wecom", "name": "新群", "config": map[string]any{"url": r.URL + "/x?key=new"}}).
		Expect(t, 200).JSON(t, &res)
	if !res.OK {
		t.Fatalf("unsaved test: %+v", res)
	}
	admin.Do("POST", "/notify/channels/test", map[string]any{"id": ch.ID, "storeId": 1, "type": "wecom", "name": "销售群", "config": map[string]any{"url": ""}}).
		Expect(t, 200).JSON(t, &res)
	if !res.OK || len(r.got()) != 4 || r.got()[3].Query.Get("key") != "test-key-0001" {
		t.Fatalf("unsaved test with the stored URL: %+v %+v", res, r.got())
	}
	apptest.ExpectField(t, admin.Do("POST", "/notify/channels/test", map[string]any{"storeId": 1, "type": "wecom", "name": "x", "config": map[string]any{}}), "url", "required")
	if rows := deliveryRows(t, env, ch.ID); len(rows) != 2 {
		t.Fatalf("unsaved tests were logged: %+v", rows)
	}
}

// TestDelivery_OneEventToThreeUsersPostsOnce: a message that reaches three
// managers in one transaction posts once to the group; the same event ten
// minutes later posts again. Phones are masked; other stores' and disabled
// channels get nothing; a group-level message reaches every store's channel.
func TestDelivery_OneEventToThreeUsersPostsOnce(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	r, r2 := newRobot(t, nil), newRobot(t, nil)
	ch := robotChannel(t, admin, r, "lead.unassigned")
	other := createChannel(t, admin, map[string]any{"storeId": 2, "type": "wecom", "name": "宁波店群", "kinds": []string{"lead.unassigned"},
		"config": map[string]any{"url": r2.URL + "/send?key=k2"}})
	off := createChannel(t, admin, map[string]any{"storeId": 1, "type": "wecom", "name": "停用", "enabled": false, "kinds": []string{"lead.unassigned"},
		"config": map[string]any{"url": r2.URL + "/send?key=k3"}})

	users := []int64{env.UserID("gm"), env.UserID("sales_manager"), env.UserID("admin")}
	// one of them muted the kind: the group still hears of it
	env.As("gm").Do("PUT", "/notifications/prefs", map[string]any{"items": []map[string]any{{"kind": "lead.unassigned", "inApp": false, "popup": false}}}).Expect(t, 200)
	event := func() []notify.Message {
		var msgs []notify.Message
		for _, u := range users {
			msgs = append(msgs, notify.Message{UserID: u, StoreID: 1, Kind: "lead.unassigned", TitleKey: "notify.msg.lead_unassigned",
				Params: map[string]any{"name": "13800138000"}, Link: "/crm/customers/7", Entity: "customer", EntityID: 7, Level: "warning"})
		}
		return msgs
	}
	sendTx(t, env, event()...)
	if rows := deliveryRows(t, env, ch.ID); len(rows) != 1 || rows[0].Status != "pending" {
		t.Fatalf("deliveries %+v, want 1 pending", rows)
	}
	if n := len(deliveryRows(t, env, other.ID)) + len(deliveryRows(t, env, off.ID)); n != 0 {
		t.Fatalf("%d deliveries to another store's or a disabled channel", n)
	}
	if n := deliver(t, env); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	got := r.got()
	want := "【DealerDesk】线索「138****8000」没有可分配的顾问，请手动分配\nhttps://dd.lan:8443/crm/customers/7"
	if len(got) != 1 || got[0].text() != want {
		t.Fatalf("robot got %+v, want %q", got, want)
	}
	if strings.Contains(got[0].Raw, "13800138000") {
		t.Fatal("a full phone number reached the group")
	}
	var lastOK *int64
	env.App.DB.R.QueryRow(`SELECT last_ok_at FROM notify_channel WHERE id = ?`, ch.ID).Scan(&lastOK)
	if lastOK == nil || *lastOK != env.Clock.Now().UnixMilli() {
		t.Fatalf("last_ok_at %v", lastOK)
	}
	// the same event within the bucket: nothing new; 10+ minutes later: posts again
	sendTx(t, env, event()...)
	env.Clock.Advance(11 * time.Minute)
	sendTx(t, env, event()...)
	if rows := deliveryRows(t, env, ch.ID); len(rows) != 2 {
		t.Fatalf("%d deliveries after a repeat and a later one, want 2", len(rows))
	}
	deliver(t, env)
	if len(r.got()) != 2 {
		t.Fatalf("robot got %d posts, want 2", len(r.got()))
	}
	// a group-level message (a backup failure) reaches every store's channel
	sendTx(t, env, notify.Message{UserID: users[2], StoreID: 0, Kind: "lead.unassigned", TitleKey: "notify.msg.lead_unassigned",
		Params: map[string]any{"name": "全集团"}, Entity: "customer", EntityID: 8})
	if len(deliveryRows(t, env, ch.ID)) != 3 || len(deliveryRows(t, env, other.ID)) != 1 || len(deliveryRows(t, env, off.ID)) != 0 {
		t.Fatal("a group-level message did not reach every store's enabled channel")
	}
}

// TestDelivery_RateLimitPostponesThe21st: a channel gets at most 20 messages a
// minute; the rest wait for the next minute.
func TestDelivery_RateLimitPostponesThe21st(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	r := newRobot(t, nil)
	ch := robotChannel(t, admin, r, "lead.assigned")
	uid := env.UserID("sales")
	var msgs []notify.Message
	for i := 1; i <= 21; i++ {
		msgs = append(msgs, notify.Message{UserID: uid, StoreID: 1, Kind: "lead.assigned", TitleKey: "notify.msg.lead_assigned",
			Params: map[string]any{"name": fmt.Sprintf("客户%d", i), "minutes": 15}, Entity: "customer", EntityID: int64(i)})
	}
	sendTx(t, env, msgs...)
	start := env.Clock.Now().UnixMilli()
	if n := deliver(t, env); n != 20 {
		t.Fatalf("first minute: %d sends, want 20", n)
	}
	rows := deliveryRows(t, env, ch.ID)
	last := rows[20]
	if len(r.got()) != 20 || last.Status != "pending" || last.Attempts != 0 || last.NextAt != start+60_000 {
		t.Fatalf("the 21st: %+v (robot got %d)", last, len(r.got()))
	}
	env.Clock.Advance(59 * time.Second)
	if n := deliver(t, env); n != 0 {
		t.Fatalf("sent %d within the minute", n)
	}
	env.Clock.Advance(time.Second)
	if n := deliver(t, env); n != 1 || len(r.got()) != 21 {
		t.Fatalf("next minute: %d sends, robot has %d", n, len(r.got()))
	}
	// in order
	if !strings.Contains(r.got()[0].text(), "客户1」") || !strings.Contains(r.got()[20].text(), "客户21」") {
		t.Fatalf("out of order: first %q, last %q", r.got()[0].text(), r.got()[20].text())
	}
}

// TestDelivery_FailureDoesNotFailTheLead: a dead robot, or one refusing the
// message (errcode 310000), never fails the action that caused the message; the
// delivery waits for its retry.
func TestDelivery_FailureDoesNotFailTheLead(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	refusing := newRobot(t, func(int) (int, string) { return 200, `{"errcode":310000,"errmsg":"sign not match"}` })
	chDead := createChannel(t, admin, map[string]any{"type": "dingtalk", "name": "死群", "kinds": []string{"lead.assigned"},
		"config": map[string]any{"url": deadURL + "/robot/send?access_token=deadtoken0001", "secret": "SECdead"}})
	chRefusing := createChannel(t, admin, map[string]any{"type": "dingtalk", "name": "签名错", "kinds": []string{"lead.assigned"},
		"config": map[string]any{"url": refusing.URL + "/robot/send?access_token=tok", "secret": "SECwrong"}})

	sales := env.UserID("sales")
	r := admin.Do("POST", "/leads", map[string]any{"storeId": 1, "phone": "13700001234", "name": "钱先生", "channel": "phone", "ownerId": sales})
	r.Expect(t, http.StatusCreated)
	for _, id := range []int64{chDead.ID, chRefusing.ID} {
		if rows := deliveryRows(t, env, id); len(rows) != 1 || rows[0].Kind != "lead.assigned" || rows[0].Status != "pending" {
			t.Fatalf("channel %d: %+v", id, rows)
		}
	}
	now := env.Clock.Now().UnixMilli()
	if n := deliver(t, env); n != 2 {
		t.Fatalf("delivered %d, want 2 attempts", n)
	}
	for _, id := range []int64{chDead.ID, chRefusing.ID} {
		d := deliveryRows(t, env, id)[0]
		if d.Status != "pending" || d.Attempts != 1 || d.NextAt != now+30_000 || d.LastError == "" {
			t.Fatalf("channel %d after a failure: %+v", id, d)
		}
		if strings.Contains(d.Body, "13700001234") {
			t.Fatalf("full phone queued for a robot: %q", d.Body)
		}
	}
	if d := deliveryRows(t, env, chRefusing.ID)[0]; !strings.Contains(d.LastError, "310000") || !strings.Contains(d.LastError, "sign not match") {
		t.Fatalf("vendor's error not kept: %q", d.LastError)
	}
	// the customer exists and is the consultant's
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer WHERE owner_id = ? AND name = '钱先生'`, sales).Scan(&n)
	if n != 1 {
		t.Fatal("the lead was not taken")
	}
}

// TestDelivery_SecretsNeverLoggedOrStored: a failing send's log line, stored
// errors and API answers carry neither the robot's token nor its secret (a
// net/http error names the full URL).
func TestDelivery_SecretsNeverLoggedOrStored(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	var logs syncBuffer
	svc := notify.NewService(env.App.DB, env.Clock, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(svc.Close)
	setupDelivery(t, svc)
	notify.AllowAnyHost(svc)

	const token, secret = "TOKENabcdef0123456789", "SECsecret0123456789"
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	echo := newRobot(t, func(int) (int, string) { return 500, "upstream said: " + token })
	chs := []channelOut{
		createChannel(t, admin, map[string]any{"type": "dingtalk", "name": "死群", "kinds": []string{"lead.assigned"},
			"config": map[string]any{"url": deadURL + "/robot/send?access_token=" + token, "secret": secret}}),
		createChannel(t, admin, map[string]any{"type": "feishu", "name": "回显", "kinds": []string{"lead.assigned"},
			"config": map[string]any{"url": echo.URL + "/open-apis/bot/v2/hook/" + token, "secret": secret}}),
	}
	sendTx(t, env, notify.Message{UserID: env.UserID("sales"), StoreID: 1, Kind: "lead.assigned", TitleKey: "notify.msg.lead_assigned",
		Params: map[string]any{"name": "孙女士", "minutes": 15}, Entity: "customer", EntityID: 3})
	if n, err := svc.DeliverDue(context.Background()); err != nil || n != 2 {
		t.Fatalf("DeliverDue: %d %v", n, err)
	}
	if !strings.Contains(logs.String(), "notify delivery failed") {
		t.Fatalf("the failure was not logged: %s", logs.String())
	}
	check := func(where, s string) {
		t.Helper()
		if strings.Contains(s, token) || strings.Contains(s, secret) {
			t.Errorf("%s carries a credential: %s", where, s)
		}
	}
	check("log", logs.String())
	for _, ch := range chs {
		d := deliveryRows(t, env, ch.ID)[0]
		if d.LastError == "" {
			t.Fatalf("no error stored for channel %d", ch.ID)
		}
		check("stored error", d.LastError)
		var last, resp string
		env.App.DB.R.QueryRow(`SELECT c.last_error, d.response FROM notify_channel c JOIN notify_delivery d ON d.channel_id = c.id WHERE c.id = ?`, ch.ID).Scan(&last, &resp)
		check("channel's last error", last)
		check("stored response", resp)
		var res notify.TestResult
		admin.Do("POST", fmt.Sprintf("/notify/channels/%d/test", ch.ID), nil).Expect(t, 200).JSON(t, &res)
		if res.OK {
			t.Fatal("a test through a failing channel succeeded")
		}
		check("test answer", res.Error)
	}
	if !strings.Contains(deliveryRows(t, env, chs[0].ID)[0].LastError, "http://127.0.0.1:") {
		t.Errorf("the stored error does not say where it failed: %s", deliveryRows(t, env, chs[0].ID)[0].LastError)
	}
	check("GET /notify/deliveries", string(admin.Do("GET", "/notify/deliveries", nil).Expect(t, 200).Body))
	check("GET /notify/channels", string(admin.Do("GET", "/notify/channels", nil).Expect(t, 200).Body))
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDelivery_GivesUpAfterSevenAttemptsAndAlarms: a channel's message is tried
// 7 times on the back-off, then failed; the settings managers get a
// channel.failed notification, which the failing channel itself does not carry.
// A manual retry sends it again.
func TestDelivery_GivesUpAfterSevenAttemptsAndAlarms(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	down := true
	var mu sync.Mutex
	r := newRobot(t, func(int) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 200, `{"errcode":45009,"errmsg":"api freq out of limit"}`
		}
		return 200, `{"errcode":0,"errmsg":"ok"}`
	})
	ch := robotChannel(t, admin, r, "lead.assigned", "channel.failed")
	sendTx(t, env, notify.Message{UserID: env.UserID("sales"), StoreID: 1, Kind: "lead.assigned", TitleKey: "notify.msg.lead_assigned",
		Params: map[string]any{"name": "周先生", "minutes": 15}, Entity: "customer", EntityID: 5})
	for i := 0; i < 7; i++ {
		if n := deliver(t, env); n != 1 {
			t.Fatalf("attempt %d: %d sends", i+1, n)
		}
		d := deliveryRows(t, env, ch.ID)[0]
		if i < 6 {
			if d.Status != "pending" || d.Attempts != i+1 || d.NextAt != env.Clock.Now().Add(notify.Backoff[i]).UnixMilli() {
				t.Fatalf("after attempt %d: %+v", i+1, d)
			}
			env.Clock.Advance(notify.Backoff[i])
		} else if d.Status != "failed" || d.Attempts != 7 {
			t.Fatalf("after 7 attempts: %+v", d)
		}
	}
	admins := []int64{env.UserID("admin")}
	for _, u := range admins {
		if n := notificationsOf(t, env, u, "channel.failed"); n != 1 {
			t.Fatalf("admin has %d channel.failed notifications", n)
		}
	}
	if n := notificationsOf(t, env, env.UserID("gm"), "channel.failed"); n != 0 {
		t.Fatal("a user without settings.manage was alarmed")
	}
	if rows := deliveryRows(t, env, ch.ID); len(rows) != 1 {
		t.Fatalf("the alarm was queued for the failing channel itself: %+v", rows)
	}
	// retry by hand once the robot is back
	mu.Lock()
	down = false
	mu.Unlock()
	var d notify.Delivery
	admin = env.As("admin") // the session idled out while the clock moved
	admin.Do("POST", fmt.Sprintf("/notify/deliveries/%d/retry", deliveryRows(t, env, ch.ID)[0].ID), nil).Expect(t, 200).JSON(t, &d)
	if d.Status != "sent" || d.Attempts != 8 || d.SentAt == nil {
		t.Fatalf("after a manual retry: %+v", d)
	}
}

// TestConcurrent_DeliverDueClaimsOnce: workers racing over the same queue never
// send a row twice, and together send them all.
func TestConcurrent_DeliverDueClaimsOnce(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	r := newRobot(t, nil)
	var chs []channelOut
	for i := 0; i < 3; i++ {
		chs = append(chs, robotChannel(t, admin, r, "lead.assigned"))
	}
	recv := newReceiver(t, nil)
	createWebhook(t, admin, map[string]any{"name": "ERP", "url": recv.URL, "events": []string{"lead.assigned"}})
	uid := env.UserID("sales")
	const events = 8
	err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
		for i := 1; i <= events; i++ {
			if _, err := env.App.Notify.Send(context.Background(), tx, notify.Message{UserID: uid, StoreID: 1, Kind: "lead.assigned", TitleKey: "notify.msg.lead_assigned",
				Params: map[string]any{"name": fmt.Sprintf("客户%d", i), "minutes": 15}, Entity: "customer", EntityID: int64(i)}); err != nil {
				return err
			}
			if err := env.App.Notify.Emit(context.Background(), tx, notify.Event{Type: "lead.assigned", StoreID: 1, Entity: "customer", EntityID: int64(i),
				Data: map[string]any{"n": i}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	total := make(chan int, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := env.App.Notify.DeliverDue(context.Background())
			if err != nil {
				t.Error(err)
			}
			total <- n
		}()
	}
	wg.Wait()
	close(total)
	sum := 0
	for n := range total {
		sum += n
	}
	if want := events*len(chs) + events; sum != want {
		t.Fatalf("%d sends reported, want %d", sum, want)
	}
	seen := map[string]int{}
	for _, p := range r.got() {
		seen[p.text()]++
	}
	if len(r.got()) != events*len(chs) || len(seen) != events {
		t.Fatalf("robot got %d posts of %d texts, want %d of %d", len(r.got()), len(seen), events*len(chs), events)
	}
	for text, n := range seen {
		if n != len(chs) { // one per channel
			t.Fatalf("%q posted %d times, want %d", text, n, len(chs))
		}
	}
	ids := map[string]int{}
	for _, h := range recv.got() {
		ids[h.Header.Get("X-DealerDesk-Delivery")]++
	}
	if len(ids) != events {
		t.Fatalf("receiver got %d distinct events, want %d", len(ids), events)
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("event %s delivered %d times", id, n)
		}
	}
	var left int
	env.App.DB.R.QueryRow(`SELECT (SELECT count(*) FROM notify_delivery WHERE status <> 'sent') + (SELECT count(*) FROM webhook_delivery WHERE status <> 'sent')`).Scan(&left)
	if left != 0 {
		t.Fatalf("%d deliveries not sent", left)
	}
}

// TestStartDelivery_WakeSendsAndCloseWaits: the worker sends what a Wake
// announces, and Close stops it and waits for it.
func TestStartDelivery_WakeSendsAndCloseWaits(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	got := make(chan struct{}, 10)
	r := newRobot(t, func(int) (int, string) {
		got <- struct{}{}
		return 200, `{"errcode":0,"errmsg":"ok"}`
	})
	robotChannel(t, admin, r, "lead.assigned")
	svc := notify.NewService(env.App.DB, env.Clock, slog.New(slog.DiscardHandler))
	svc.SetText(func(_, key string) string { return key })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc.StartDelivery(ctx)
	svc.StartDelivery(ctx) // a second call does nothing
	for i := 1; i <= 2; i++ {
		sendTx(t, env, notify.Message{UserID: env.UserID("sales"), StoreID: 1, Kind: "lead.assigned", TitleKey: "notify.msg.lead_assigned",
			Params: map[string]any{"name": "吴先生"}, Entity: "customer", EntityID: int64(i)})
		svc.Wake()
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not sent after Wake", i)
		}
	}
	done := make(chan struct{})
	go func() { svc.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	svc.StartDelivery(ctx) // after Close: nothing starts
	svc.Close()
}
