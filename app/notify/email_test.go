package notify_test

import (
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"dealerdesk/app/notify"
)

// TestEmail_DeliversThroughSMTPInEveryMode: a channel's message goes out over a
// plain LAN relay, STARTTLS and implicit TLS, authenticated, with the UTF-8
// subject encoded for the header and the link in the body.
func TestEmail_DeliversThroughSMTPInEveryMode(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	for i, mode := range []string{"none", "starttls", "ssl"} {
		srv, port, pool := startSMTP(t, mode, "crm@store.cn", "auth-code-"+mode)
		notify.TrustRoots(env.App.Notify, pool)
		ch := createChannel(t, admin, map[string]any{"type": "email", "name": "经理邮箱 " + mode, "kinds": []string{"lead.unassigned"},
			"config": map[string]any{"host": "127.0.0.1", "port": port, "security": mode, "username": "crm@store.cn", "password": "auth-code-" + mode,
				"from": "crm@store.cn", "to": []string{"gm@store.cn", "manager@store.cn"}, "linkBase": "https://dd.lan:8443"}})
		if p, _ := ch.Config["password"].(map[string]any); p["set"] != true || strings.Contains(fmt.Sprint(ch.Config), "auth-code") {
			t.Fatalf("%s: password shown as %v", mode, ch.Config)
		}
		sendTx(t, env, notify.Message{UserID: env.UserID("sales_manager"), StoreID: 1, Kind: "lead.unassigned", TitleKey: "notify.msg.lead_unassigned",
			Params: map[string]any{"name": fmt.Sprintf("1380013800%d", i)}, Link: "/crm/customers/9", Entity: "customer", EntityID: int64(100 + i)})
		if n := deliver(t, env); n != 1 {
			t.Fatalf("%s: delivered %d", mode, n)
		}
		if rows := deliveryRows(t, env, ch.ID); rows[0].Status != "sent" {
			t.Fatalf("%s: delivery %+v", mode, rows[0])
		}
		msgs := srv.messages()
		if len(msgs) != 1 {
			t.Fatalf("%s: server got %d messages", mode, len(msgs))
		}
		m := msgs[0]
		if m.Authed != "crm@store.cn" || m.From != "crm@store.cn" || strings.Join(m.To, ",") != "gm@store.cn,manager@store.cn" {
			t.Fatalf("%s: envelope %+v", mode, m)
		}
		if m.TLS != (mode != "none") {
			t.Fatalf("%s: encrypted=%v", mode, m.TLS)
		}
		title := fmt.Sprintf("线索「138****800%d」没有可分配的顾问，请手动分配", i)
		parsed, err := mail.ReadMessage(strings.NewReader(m.Data))
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, m.Data)
		}
		raw := parsed.Header.Get("Subject")
		subject, err := new(mime.WordDecoder).DecodeHeader(raw)
		if err != nil || subject != title || strings.ContainsFunc(raw, func(r rune) bool { return r > 127 }) {
			t.Fatalf("%s: subject %q (raw %q), want %q encoded", mode, subject, raw, title)
		}
		if from, _ := parsed.Header.AddressList("From"); len(from) != 1 || from[0].Address != "crm@store.cn" || from[0].Name != "DealerDesk" {
			t.Fatalf("%s: From %q", mode, parsed.Header.Get("From"))
		}
		if !strings.HasPrefix(parsed.Header.Get("Content-Type"), "text/plain") || !strings.Contains(strings.ToLower(parsed.Header.Get("Content-Type")), "utf-8") {
			t.Fatalf("%s: Content-Type %q", mode, parsed.Header.Get("Content-Type"))
		}
		var body io.Reader = parsed.Body
		if strings.EqualFold(parsed.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, _ := io.ReadAll(body)
		if !strings.Contains(string(b), title) || !strings.Contains(string(b), "https://dd.lan:8443/crm/customers/9") {
			t.Fatalf("%s: body %q", mode, b)
		}
		if strings.Contains(m.Data, fmt.Sprintf("1380013800%d", i)) {
			t.Fatalf("%s: a full phone number in the mail", mode)
		}
		// stop this channel taking the next mode's message
		admin.Do("DELETE", fmt.Sprintf("/notify/channels/%d", ch.ID), nil).Expect(t, 204)
	}
}

// TestEmail_StartTLSIsMandatoryAndCredentialsChecked: 'starttls' refuses a
// server that does not offer STARTTLS (never sending the password in the clear),
// and a wrong password fails the send without leaking it.
func TestEmail_StartTLSIsMandatoryAndCredentialsChecked(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	plain, port, _ := startSMTP(t, "none", "crm@store.cn", "right-code")
	var res notify.TestResult
	cfg := map[string]any{"host": "127.0.0.1", "port": port, "security": "starttls", "username": "crm@store.cn", "password": "right-code",
		"from": "crm@store.cn", "to": []string{"gm@store.cn"}}
	admin.Do("POST", "/notify/channels/test", map[string]any{"storeId": 1, "type": "email", "name": "邮箱", "config": cfg}).Expect(t, 200).JSON(t, &res)
	if res.OK || !strings.Contains(res.Error, "STARTTLS") || len(plain.messages()) != 0 {
		t.Fatalf("starttls against a plain server: %+v", res)
	}
	cfg["security"], cfg["password"] = "none", "wrong-code-123"
	admin.Do("POST", "/notify/channels/test", map[string]any{"storeId": 1, "type": "email", "name": "邮箱", "config": cfg}).Expect(t, 200).JSON(t, &res)
	if res.OK || strings.Contains(res.Error, "wrong-code-123") || len(plain.messages()) != 0 {
		t.Fatalf("wrong password: %+v", res)
	}
	cfg["password"] = "right-code"
	admin.Do("POST", "/notify/channels/test", map[string]any{"storeId": 1, "type": "email", "name": "邮箱", "config": cfg}).Expect(t, 200).JSON(t, &res)
	if !res.OK || len(plain.messages()) != 1 {
		t.Fatalf("right password: %+v", res)
	}
}
