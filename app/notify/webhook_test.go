package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/notify"
)

// hookReq is one request a receiver got.
type hookReq struct {
	Header http.Header
	Body   []byte
}

// receiver is a webhook receiver: it records requests and answers with the
// status answer(n) for the n-th (from 1); by default 200.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []hookReq
	answer func(n int) int
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	if r.answer == nil {
		r.answer = func(int) int { return 200 }
	}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, hookReq{Header: req.Header.Clone(), Body: b})
		n := len(r.reqs)
		r.mu.Unlock()
		status := r.answer(n)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"received":%d}`, n)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []hookReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookReq(nil), r.reqs...)
}

// verify is how a receiver checks a delivery (the recipe of docs/api.md, written
// independently of notify.Sign): t=<unix s>,v1=<hex HMAC-SHA256(secret, t.body)>,
// and t within 5 minutes of now.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	var ts, v1 string
	for _, part := range strings.Split(h.Get("X-DealerDesk-Signature"), ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return errors.New("malformed signature header")
	}
	if d := now.Unix() - t; d > 300 || d < -300 {
		return errors.New("timestamp too old")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(v1)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// webhookOut is a webhook as the API shows it.
type webhookOut struct {
	ID                  int64           `json:"id"`
	StoreID             *int64          `json:"storeId"`
	Name                string          `json:"name"`
	URL                 string          `json:"url"`
	Events              []string        `json:"events"`
	IncludePersonalData bool            `json:"includePersonalData"`
	Enabled             bool            `json:"enabled"`
	Secret              map[string]bool `json:"secret"`
	Version             int64           `json:"version"`
	LastOKAt            *int64          `json:"lastOkAt"`
	LastError           string          `json:"lastError"`
}

func createWebhook(t *testing.T, c *apptest.Client, body map[string]any) (webhookOut, string) {
	t.Helper()
	if _, ok := body["enabled"]; !ok {
		body["enabled"] = true
	}
	if _, ok := body["storeId"]; !ok {
		body["storeId"] = 1
	}
	var out struct {
		Webhook webhookOut `json:"webhook"`
		Secret  string     `json:"secret"`
	}
	c.Do("POST", "/webhooks", body).Expect(t, http.StatusCreated).JSON(t, &out)
	if !strings.HasPrefix(out.Secret, "whsec_") || len(out.Secret) < 40 || !out.Webhook.Secret["set"] {
		t.Fatalf("create answer %+v", out)
	}
	return out.Webhook, out.Secret
}

// eventBody is a delivery's JSON body.
type eventBody struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	CreatedAt string         `json:"createdAt"`
	StoreID   int64          `json:"storeId"`
	Entity    string         `json:"entity"`
	EntityID  int64          `json:"entityId"`
	Data      map[string]any `json:"data"`
}

func decodeEvent(t *testing.T, b []byte) eventBody {
	t.Helper()
	var e eventBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("event body %s: %v", b, err)
	}
	return e
}

var eventID = regexp.MustCompile(`^evt_[0-9a-f]{24}$`)

// TestWebhooks_SignedEventsVerifiedByReceiver: a lead taken through the API
// reaches the subscribed webhooks of its store and the group-wide ones, signed,
// with the documented headers and body; personal data only where opted in; the
// secret is shown once and never again, rotation replaces it.
func TestWebhooks_SignedEventsVerifiedByReceiver(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	ra, rb, rc, rd := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	a, secretA := createWebhook(t, admin, map[string]any{"name": "ERP", "url": ra.URL + "/hook?token=erp-token-777", "events": []string{"lead.created", "customer.created", "lead.assigned"}})
	_, secretB := createWebhook(t, admin, map[string]any{"storeId": nil, "name": "集团 BI", "url": rb.URL, "events": []string{"lead.created"}, "includePersonalData": true})
	createWebhook(t, admin, map[string]any{"storeId": 2, "name": "宁波店", "url": rc.URL, "events": []string{"lead.created"}})
	createWebhook(t, admin, map[string]any{"name": "停用", "url": rd.URL, "events": []string{"lead.created"}, "enabled": false})
	if a.URL != ra.URL+"/hook?token=****-777" {
		t.Errorf("webhook URL shown as %s", a.URL)
	}
	list := admin.Do("GET", "/webhooks", nil).Expect(t, 200).Body
	for _, s := range []string{secretA, secretB, "erp-token-777"} {
		if strings.Contains(string(list), s) {
			t.Fatalf("GET /webhooks shows a secret: %s", list)
		}
	}

	sales := env.UserID("sales")
	var lead struct {
		LeadID     int64 `json:"leadId"`
		CustomerID int64 `json:"customerId"`
	}
	admin.Do("POST", "/leads", map[string]any{"storeId": 1, "phone": "13700001234", "name": "钱先生", "channel": "phone", "ownerId": sales}).
		Expect(t, http.StatusCreated).JSON(t, &lead)
	if n := deliver(t, env); n != 4 {
		t.Fatalf("delivered %d, want 4 (3 to ERP, 1 to BI)", n)
	}
	if len(rc.got())+len(rd.got()) != 0 {
		t.Fatal("another store's or a disabled webhook got an event")
	}
	now := env.Clock.Now()
	check := func(r hookReq, secret string) eventBody {
		t.Helper()
		if err := verify(secret, r.Header, r.Body, now); err != nil {
			t.Fatalf("receiver refuses %s: %v", r.Body, err)
		}
		e := decodeEvent(t, r.Body)
		h := r.Header
		if h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "DealerDesk-Webhook/1" || h.Get("X-DealerDesk-Event") != e.Type ||
			h.Get("X-DealerDesk-Delivery") != e.ID || !eventID.MatchString(e.ID) {
			t.Fatalf("headers %v for %s", h, r.Body)
		}
		if e.CreatedAt != now.UTC().Format(time.RFC3339) || e.StoreID != 1 || e.Data["customerId"] != float64(lead.CustomerID) {
			t.Fatalf("event %s", r.Body)
		}
		return e
	}
	got := ra.got()
	if len(got) != 3 {
		t.Fatalf("ERP got %d events", len(got))
	}
	var types []string
	for _, r := range got {
		e := check(r, secretA)
		types = append(types, e.Type)
		if e.Data["phone"] != "137****1234" || e.Data["name"] != nil || strings.Contains(string(r.Body), "13700001234") {
			t.Fatalf("personal data to a webhook that did not opt in: %s", r.Body)
		}
	}
	if strings.Join(types, ",") != "customer.created,lead.created,lead.assigned" {
		t.Fatalf("ERP got %v", types)
	}
	created := decodeEvent(t, got[1].Body)
	if created.Entity != "lead" || created.EntityID != lead.LeadID || created.Data["channel"] != "phone" || created.Data["outcome"] != "new" {
		t.Fatalf("lead.created %+v", created)
	}
	if assigned := decodeEvent(t, got[2].Body); assigned.Data["ownerId"] != float64(sales) || assigned.Data["reason"] != "manual" {
		t.Fatalf("lead.assigned %+v", assigned)
	}
	bi := rb.got()
	if len(bi) != 1 {
		t.Fatalf("BI got %d events", len(bi))
	}
	e := check(bi[0], secretB)
	if e.Data["phone"] != "13700001234" || e.Data["name"] != "钱先生" || e.ID != created.ID {
		t.Fatalf("BI (personal data on) got %s; ERP's event id %s", bi[0].Body, created.ID)
	}
	// the receiver's check is real: another secret or a changed body fails
	if verify(secretB, got[0].Header, got[0].Body, now) == nil || verify(secretA, got[0].Header, append([]byte(" "), got[0].Body...), now) == nil {
		t.Fatal("the verifier accepts anything")
	}

	// Rotation: the new secret signs from now on.
	var rot struct {
		Webhook webhookOut `json:"webhook"`
		Secret  string     `json:"secret"`
	}
	admin.Do("POST", fmt.Sprintf("/webhooks/%d/rotate-secret", a.ID), nil).Expect(t, 200).JSON(t, &rot)
	if rot.Secret == secretA || !strings.HasPrefix(rot.Secret, "whsec_") || rot.Webhook.Version != a.Version+1 {
		t.Fatalf("rotation %+v", rot)
	}
	var ping notify.PingResult
	admin.Do("POST", fmt.Sprintf("/webhooks/%d/ping", a.ID), nil).Expect(t, 200).JSON(t, &ping)
	last := ra.got()[3]
	if !ping.OK || verify(rot.Secret, last.Header, last.Body, now) != nil || verify(secretA, last.Header, last.Body, now) == nil {
		t.Fatalf("ping after rotation: %+v %s", ping, last.Header.Get("X-DealerDesk-Signature"))
	}
	// Audited without secrets.
	if n := env.AuditCount("create", "webhook"); n != 4 {
		t.Errorf("%d create audit rows", n)
	}
	if n := env.AuditCount("rotate_secret", "webhook"); n != 1 {
		t.Errorf("%d rotate audit rows", n)
	}
	var audit string
	env.App.DB.R.QueryRow(`SELECT group_concat(coalesce(before_json, '') || coalesce(after_json, ''), ' ') FROM audit_log WHERE entity = 'webhook'`).Scan(&audit)
	for _, s := range []string{secretA, secretB, rot.Secret, "erp-token-777"} {
		if strings.Contains(audit, s) {
			t.Fatalf("audit shows a secret: %s", audit)
		}
	}
}

// TestWebhooks_EditValidationAndConflict: field errors, a kept URL, 409 on a
// stale version; the event type list.
func TestWebhooks_EditValidationAndConflict(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	r := newReceiver(t, nil)
	w, _ := createWebhook(t, admin, map[string]any{"name": "ERP", "url": r.URL + "/h?key=abcdefgh12345", "events": []string{"lead.created"}})
	put := func(body map[string]any) *apptest.Response {
		base := map[string]any{"storeId": 1, "name": "ERP", "url": w.URL, "events": []string{"lead.created", "customer.lost"}, "includePersonalData": false, "enabled": true, "version": w.Version}
		for k, v := range body {
			base[k] = v
		}
		return admin.Do("PUT", fmt.Sprintf("/webhooks/%d", w.ID), base)
	}
	apptest.ExpectField(t, put(map[string]any{"events": []string{}}), "events", "webhook.events_empty")
	apptest.ExpectField(t, put(map[string]any{"events": []string{"lead.deleted"}}), "events", "webhook.unknown_event")
	apptest.ExpectField(t, put(map[string]any{"events": []string{"ping"}}), "events", "webhook.unknown_event")
	apptest.ExpectField(t, put(map[string]any{"url": "mailto:erp@example.com"}), "url", "webhook.url_invalid")
	apptest.ExpectField(t, put(map[string]any{"name": ""}), "name", "required")
	var after webhookOut
	put(nil).Expect(t, 200).JSON(t, &after)
	var stored string
	env.App.DB.R.QueryRow(`SELECT url FROM webhook WHERE id = ?`, w.ID).Scan(&stored)
	if stored != r.URL+"/h?key=abcdefgh12345" || len(after.Events) != 2 || after.Version != w.Version+1 {
		t.Fatalf("after edit: url %s, %+v", stored, after)
	}
	apptest.ExpectErr(t, put(nil), http.StatusConflict, "conflict.stale")
	var types struct {
		Items []struct {
			Type      string `json:"type"`
			Available bool   `json:"available"`
		}
	}
	admin.Do("GET", "/webhooks/event-types", nil).Expect(t, 200).JSON(t, &types)
	avail := map[string]bool{}
	for _, it := range types.Items {
		avail[it.Type] = it.Available
	}
	if len(types.Items) != len(notify.EventTypes)-1 || !avail["lead.created"] || !avail["order.signed"] || avail["repair_order.done"] {
		t.Fatalf("event types %+v", types.Items)
	}
	admin.Do("DELETE", fmt.Sprintf("/webhooks/%d", w.ID), nil).Expect(t, 204)
	if n := env.AuditCount("delete", "webhook"); n != 1 {
		t.Fatalf("%d delete audit rows", n)
	}
}

// emitTx emits an event in one write transaction, as a domain does.
func emitTx(t *testing.T, env *apptest.Env, ev notify.Event) {
	t.Helper()
	err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
		return env.App.Notify.Emit(context.Background(), tx, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
}

type webhookRow struct {
	Status       string
	Attempts     int
	NextAt       int64
	ResponseCode *int
	ResponseBody string
	LastError    string
}

func webhookRows(t *testing.T, env *apptest.Env, webhookID int64) []webhookRow {
	t.Helper()
	rows, err := env.App.DB.R.Query(`SELECT status, attempts, next_at, response_code, response_body, last_error FROM webhook_delivery WHERE webhook_id = ? ORDER BY id`, webhookID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []webhookRow
	for rows.Next() {
		var r webhookRow
		if err := rows.Scan(&r.Status, &r.Attempts, &r.NextAt, &r.ResponseCode, &r.ResponseBody, &r.LastError); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestWebhooks_RetryBackoffThenDeliveredOrFailed: a receiver failing 3 times
// then answering 2xx gets attempt 4 exactly on the back-off (30 s, 2 min,
// 10 min), the same event id and body each time; one failing 7 times ends
// failed and the administrators get webhook.failed.
func TestWebhooks_RetryBackoffThenDeliveredOrFailed(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	flaky := newReceiver(t, func(n int) int {
		if n <= 3 {
			return 503
		}
		return 202
	})
	deadRecv := newReceiver(t, func(int) int { return 500 })
	wf, _ := createWebhook(t, admin, map[string]any{"name": "flaky", "url": flaky.URL, "events": []string{"lead.created"}})
	wd, _ := createWebhook(t, admin, map[string]any{"storeId": nil, "name": "down", "url": deadRecv.URL, "events": []string{"lead.created"}})
	emitTx(t, env, notify.Event{Type: "lead.created", StoreID: 1, Entity: "lead", EntityID: 42, Data: map[string]any{"channel": "website"}})

	for i := 0; i < 3; i++ {
		if n := deliver(t, env); n != 2 {
			t.Fatalf("round %d: %d attempts, want 2", i+1, n)
		}
		d := webhookRows(t, env, wf.ID)[0]
		if d.Status != "pending" || d.Attempts != i+1 || d.NextAt != env.Clock.Now().Add(notify.Backoff[i]).UnixMilli() ||
			d.ResponseCode == nil || *d.ResponseCode != 503 || d.LastError != "HTTP 503" {
			t.Fatalf("after failure %d: %+v", i+1, d)
		}
		env.Clock.Advance(notify.Backoff[i] - time.Second)
		if n := deliver(t, env); n != 0 {
			t.Fatalf("retried %d before the back-off ended", n)
		}
		env.Clock.Advance(time.Second)
	}
	if n := deliver(t, env); n != 2 {
		t.Fatalf("4th round: %d attempts", n)
	}
	d := webhookRows(t, env, wf.ID)[0]
	if d.Status != "sent" || d.Attempts != 4 || *d.ResponseCode != 202 || d.ResponseBody != `{"received":4}` {
		t.Fatalf("after success: %+v", d)
	}
	reqs := flaky.got()
	for _, r := range reqs[1:] {
		if r.Header.Get("X-DealerDesk-Delivery") != reqs[0].Header.Get("X-DealerDesk-Delivery") || string(r.Body) != string(reqs[0].Body) {
			t.Fatal("a retry changed the event id or body")
		}
	}
	// the other one goes on failing: 7 attempts, then failed and an alarm
	for i := 3; i < 7; i++ {
		if i < 6 {
			if dd := webhookRows(t, env, wd.ID)[0]; dd.Status != "pending" || dd.Attempts != i+1 {
				t.Fatalf("down after %d: %+v", i+1, dd)
			}
			env.Clock.Advance(notify.Backoff[i])
			deliver(t, env)
		}
	}
	if dd := webhookRows(t, env, wd.ID)[0]; dd.Status != "failed" || dd.Attempts != 7 {
		t.Fatalf("down after 7 attempts: %+v", dd)
	}
	if n := len(deadRecv.got()); n != 7 {
		t.Fatalf("the dead receiver got %d requests", n)
	}
	if n := notificationsOf(t, env, env.UserID("admin"), "webhook.failed"); n != 1 {
		t.Fatalf("admin has %d webhook.failed notifications", n)
	}
	if n := notificationsOf(t, env, env.UserID("gm"), "webhook.failed"); n != 0 {
		t.Fatal("a user without settings.manage was alarmed")
	}
	env.Clock.Advance(24 * time.Hour)
	if n := deliver(t, env); n != 0 {
		t.Fatalf("a failed delivery was tried again (%d)", n)
	}
}

// TestWebhooks_PingRedeliverAndLog: ping answers at once and is logged; a
// redelivery sends the same payload again; the log pages by keyset.
func TestWebhooks_PingRedeliverAndLog(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	r := newReceiver(t, nil)
	w, secret := createWebhook(t, admin, map[string]any{"name": "ERP", "url": r.URL, "events": []string{"lead.created"}})
	var ping notify.PingResult
	admin.Do("POST", fmt.Sprintf("/webhooks/%d/ping", w.ID), nil).Expect(t, 200).JSON(t, &ping)
	if !ping.OK || ping.ResponseCode == nil || *ping.ResponseCode != 200 || ping.DeliveryID == 0 {
		t.Fatalf("ping %+v", ping)
	}
	if e := decodeEvent(t, r.got()[0].Body); e.Type != "ping" || r.got()[0].Header.Get("X-DealerDesk-Event") != "ping" || verify(secret, r.got()[0].Header, r.got()[0].Body, env.Clock.Now()) != nil {
		t.Fatalf("ping body %s", r.got()[0].Body)
	}
	emitTx(t, env, notify.Event{Type: "lead.created", StoreID: 1, Entity: "lead", EntityID: 1, Data: map[string]any{}})
	deliver(t, env)
	var page struct {
		Items []notify.WebhookDelivery `json:"items"`
		Next  string                   `json:"next"`
	}
	admin.Do("GET", fmt.Sprintf("/webhooks/%d/deliveries?limit=1", w.ID), nil).Expect(t, 200).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].EventType != "lead.created" || page.Next == "" {
		t.Fatalf("first page %+v", page)
	}
	admin.Do("GET", fmt.Sprintf("/webhooks/%d/deliveries?limit=1&cursor=%s", w.ID, page.Next), nil).Expect(t, 200).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].EventType != "ping" || page.Next != "" {
		t.Fatalf("second page %+v", page)
	}
	admin.Do("GET", fmt.Sprintf("/webhooks/%d/deliveries?status=failed", w.ID), nil).Expect(t, 200).JSON(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("failed filter %+v", page.Items)
	}
	apptest.ExpectField(t, admin.Do("GET", fmt.Sprintf("/webhooks/%d/deliveries?status=lost", w.ID), nil), "status", "invalid_format")

	var det struct {
		ID           int64           `json:"id"`
		EventID      string          `json:"eventId"`
		Attempts     int             `json:"attempts"`
		Status       string          `json:"status"`
		Payload      json.RawMessage `json:"payload"`
		ResponseBody string          `json:"responseBody"`
	}
	admin.Do("GET", fmt.Sprintf("/webhooks/deliveries/%d", ping.DeliveryID), nil).Expect(t, 200).JSON(t, &det)
	if decodeEvent(t, det.Payload).ID != det.EventID || det.ResponseBody != `{"received":1}` || det.Status != "sent" {
		t.Fatalf("delivery detail %+v", det)
	}
	admin.Do("POST", fmt.Sprintf("/webhooks/deliveries/%d/redeliver", ping.DeliveryID), nil).Expect(t, 200).JSON(t, &det)
	got := r.got()
	if det.Attempts != 2 || det.Status != "sent" || len(got) != 3 || got[2].Header.Get("X-DealerDesk-Delivery") != det.EventID || string(got[2].Body) != string(got[0].Body) {
		t.Fatalf("redelivery %+v; receiver got %d", det, len(got))
	}
	admin.Do("GET", "/webhooks/deliveries/999999", nil).Expect(t, 404)
}

// TestEmit_RefusesUnknownTypes: a type not in the registry is a programming error.
func TestEmit_RefusesUnknownTypes(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
		return env.App.Notify.Emit(context.Background(), tx, notify.Event{Type: "lead.deleted", StoreID: 1})
	})
	if err == nil || !strings.Contains(err.Error(), "unknown event type") {
		t.Fatalf("Emit of an unknown type: %v", err)
	}
}

// TestWebhooks_LostCustomerAndApprovalDecision: the approval engine's final
// decision and the customer it marks lost reach a subscribed webhook, with the
// customer's phone masked.
func TestWebhooks_LostCustomerAndApprovalDecision(t *testing.T) {
	t.Parallel()
	env := deliveryEnv(t)
	admin := env.As("admin")
	r := newReceiver(t, nil)
	createWebhook(t, admin, map[string]any{"name": "ERP", "url": r.URL, "events": []string{"customer.lost", "approval.decided"}})
	s := env.As("sales")
	var lead struct {
		CustomerID int64 `json:"customerId"`
	}
	s.Do("POST", "/leads", map[string]any{"phone": "18600002222", "channel": "phone", "assign": "me"}).Expect(t, http.StatusCreated).JSON(t, &lead)
	var req struct {
		ApprovalID int64 `json:"approvalId"`
	}
	s.Do("POST", fmt.Sprintf("/customers/%d/lost", lead.CustomerID), map[string]any{"reason": "bought_competitor", "brand": "本田"}).Expect(t, http.StatusCreated).JSON(t, &req)
	env.As("sales_manager").Do("POST", fmt.Sprintf("/approvals/%d/approve", req.ApprovalID), map[string]any{"comment": "同意"}).Expect(t, http.StatusOK)
	if n := deliver(t, env); n != 2 {
		t.Fatalf("delivered %d, want 2", n)
	}
	byType := map[string]eventBody{}
	for _, g := range r.got() {
		e := decodeEvent(t, g.Body)
		byType[e.Type] = e
		if strings.Contains(string(g.Body), "18600002222") {
			t.Fatalf("full phone in %s", g.Body)
		}
	}
	lost, dec := byType["customer.lost"], byType["approval.decided"]
	if lost.EntityID != lead.CustomerID || lost.Data["reason"] != "bought_competitor" || lost.Data["phone"] != "186****2222" {
		t.Fatalf("customer.lost %+v", lost)
	}
	if dec.EntityID != req.ApprovalID || dec.Data["outcome"] != "approved" || dec.Data["docType"] != "crm.lost" || dec.Data["title"] != "186****2222" {
		t.Fatalf("approval.decided %+v", dec)
	}
}
