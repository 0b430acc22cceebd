package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/notify"
)

type item struct {
	ID        int64          `json:"id"`
	Kind      string         `json:"kind"`
	TitleKey  string         `json:"titleKey"`
	Params    map[string]any `json:"params"`
	Link      string         `json:"link"`
	Level     string         `json:"level"`
	CreatedAt int64          `json:"createdAt"`
	ReadAt    *int64         `json:"readAt"`
	Popup     bool           `json:"popup"`
}

type page struct {
	Items []item `json:"items"`
	Next  string `json:"next"`
}

func msg(userID int64, kind, dedup string) notify.Message {
	return notify.Message{UserID: userID, StoreID: 1, Kind: kind, TitleKey: "notify.msg.lead_assigned",
		Params: map[string]any{"name": "张先生", "minutes": 15}, Link: "/crm/customers/7", Entity: "customer", EntityID: 7, DedupKey: dedup, Level: "warning"}
}

// send writes the messages in one write transaction, as a domain does, then wakes the streams.
func send(t *testing.T, env *apptest.Env, msgs ...notify.Message) int {
	t.Helper()
	var n int
	err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		n, err = env.App.Notify.Send(context.Background(), tx, msgs...)
		return err
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	env.App.Notify.Wake()
	return n
}

func unread(t *testing.T, c *apptest.Client) int64 {
	t.Helper()
	var v struct{ Count int64 }
	c.Do("GET", "/notifications/unread-count", nil).Expect(t, 200).JSON(t, &v)
	return v.Count
}

func TestSend_ListUnreadCountAndRead(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	uid := env.UserID("sales")
	if n := send(t, env, msg(uid, "lead.assigned", ""), msg(uid, "task.reminder", "")); n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
	if got := unread(t, sales); got != 2 {
		t.Fatalf("unread %d, want 2", got)
	}
	var p page
	sales.Do("GET", "/notifications", nil).Expect(t, 200).JSON(t, &p)
	if len(p.Items) != 2 || p.Items[0].Kind != "task.reminder" || p.Items[1].Kind != "lead.assigned" {
		t.Fatalf("list not newest first: %+v", p.Items)
	}
	first := p.Items[1]
	if first.TitleKey != "notify.msg.lead_assigned" || first.Params["name"] != "张先生" || first.Link != "/crm/customers/7" ||
		first.Level != "warning" || first.ReadAt != nil || !first.Popup || first.CreatedAt != apptest.Start.UnixMilli() {
		t.Fatalf("stored notification %+v", first)
	}

	var read item
	sales.Do("POST", fmt.Sprintf("/notifications/%d/read", first.ID), "{}").Expect(t, 200).JSON(t, &read)
	if read.ReadAt == nil || *read.ReadAt != apptest.Start.UnixMilli() {
		t.Fatalf("read notification %+v", read)
	}
	env.Clock.Advance(time.Minute)
	sales.Do("POST", fmt.Sprintf("/notifications/%d/read", first.ID), "{}").Expect(t, 200).JSON(t, &read)
	if *read.ReadAt != apptest.Start.UnixMilli() {
		t.Fatal("reading again moved the read time")
	}
	if got := unread(t, sales); got != 1 {
		t.Fatalf("unread after one read: %d", got)
	}
	sales.Do("GET", "/notifications?unread=1", nil).Expect(t, 200).JSON(t, &p)
	if len(p.Items) != 1 || p.Items[0].Kind != "task.reminder" {
		t.Fatalf("unread list %+v", p.Items)
	}

	// read-all up to an id leaves a later arrival unread
	seen := p.Items[0].ID
	send(t, env, msg(uid, "lead.returned", ""))
	sales.Do("POST", "/notifications/read-all", map[string]any{"upTo": seen}).Expect(t, 204)
	if got := unread(t, sales); got != 1 {
		t.Fatalf("unread after read-all up to %d: %d, want 1", seen, got)
	}
	sales.Do("POST", "/notifications/read-all", "{}").Expect(t, 204)
	if got := unread(t, sales); got != 0 {
		t.Fatalf("unread after read-all: %d", got)
	}
	// marking the inbox read is not an audited change
	if n := env.AuditCount("update", "notification"); n != 0 {
		t.Fatalf("%d audit rows for reading", n)
	}
}

func TestList_KeysetPagingNewestFirst(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	uid := env.UserID("sales")
	var msgs []notify.Message
	for i := 0; i < 7; i++ {
		msgs = append(msgs, msg(uid, "lead.assigned", fmt.Sprintf("k%d", i)))
	}
	send(t, env, msgs...)
	var ids []int64
	next := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		var p page
		sales.Do("GET", "/notifications?limit=3&cursor="+next, nil).Expect(t, 200).JSON(t, &p)
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.Next == "" {
			break
		}
		next = p.Next
	}
	if len(ids) != 7 {
		t.Fatalf("paged %d items, want 7: %v", len(ids), ids)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not strictly newest first: %v", ids)
		}
	}
	apptest.ExpectField(t, sales.Do("GET", "/notifications?cursor=not-a-cursor!", nil), "cursor", "invalid_format")
	apptest.ExpectField(t, sales.Do("GET", "/notifications?limit=500", nil), "limit", "out_of_range")
	apptest.ExpectField(t, sales.Do("GET", "/notifications?unread=maybe", nil), "unread", "invalid_format")
}

func TestSend_DedupKeyDeliversOnce(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	uid, other := env.UserID("sales"), env.UserID("sales_HZ012")
	if n := send(t, env, msg(uid, "task.reminder", "task:12:1700000000000")); n != 1 {
		t.Fatalf("first send: %d new", n)
	}
	// a job running again, after a restart or a clock jump, sends the same key
	env.Clock.Advance(48 * time.Hour)
	if n := send(t, env, msg(uid, "task.reminder", "task:12:1700000000000")); n != 0 {
		t.Fatalf("second send with the same key: %d new", n)
	}
	// the key is per user; an empty key never deduplicates
	if n := send(t, env, msg(other, "task.reminder", "task:12:1700000000000"), msg(uid, "task.reminder", ""), msg(uid, "task.reminder", "")); n != 3 {
		t.Fatalf("other user / no key: %d new, want 3", n)
	}
	var count int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM notification WHERE user_id = ?`, uid).Scan(&count)
	if count != 3 {
		t.Fatalf("user has %d rows, want 3", count)
	}
}

func TestSend_RefusesBadMessagesAndRollsBackWithCaller(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	uid := env.UserID("sales")
	ctx := context.Background()
	for name, m := range map[string]notify.Message{
		"unknown kind":      {UserID: uid, Kind: "lead.nonsense", TitleKey: "notify.msg.x"},
		"no user":           {Kind: "lead.assigned", TitleKey: "notify.msg.x"},
		"title not in msg":  {UserID: uid, Kind: "lead.assigned", TitleKey: "errors.internal"},
		"external link":     {UserID: uid, Kind: "lead.assigned", TitleKey: "notify.msg.x", Link: "//evil.example/x"},
		"absolute URL link": {UserID: uid, Kind: "lead.assigned", TitleKey: "notify.msg.x", Link: "https://evil.example/x"},
		"unknown level":     {UserID: uid, Kind: "lead.assigned", TitleKey: "notify.msg.x", Level: "loud"},
	} {
		if _, err := env.App.Notify.Send(ctx, env.App.DB.W, m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// a caller's rollback takes its notifications with it
	err := env.App.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := env.App.Notify.Send(ctx, tx, msg(uid, "lead.assigned", "")); err != nil {
			return err
		}
		return fmt.Errorf("the domain change failed")
	})
	if err == nil {
		t.Fatal("transaction did not fail")
	}
	if got := unread(t, env.As("sales")); got != 0 {
		t.Fatalf("rolled-back notification visible: %d", got)
	}
}

func TestPrefs_MuteOptionalKindsButNotMandatoryOnes(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	uid := env.UserID("sales")
	type pref struct {
		Kind      string
		Group     string
		Mandatory bool
		InApp     bool
		Popup     bool
	}
	var ps struct{ Items []pref }
	sales.Do("GET", "/notifications/prefs", nil).Expect(t, 200).JSON(t, &ps)
	if len(ps.Items) != len(notify.Kinds) {
		t.Fatalf("%d prefs for %d kinds", len(ps.Items), len(notify.Kinds))
	}
	for _, p := range ps.Items {
		if !p.InApp || !p.Popup || p.Group == "" {
			t.Fatalf("default pref %+v", p)
		}
	}

	// mandatory kinds cannot be switched off, unknown kinds are refused; nothing is stored
	r := sales.Do("PUT", "/notifications/prefs", map[string]any{"items": []map[string]any{
		{"kind": "lead.assigned", "inApp": false, "popup": false},
		{"kind": "lead.sla_overdue", "inApp": false, "popup": true},
	}})
	apptest.ExpectField(t, r, "items", "notify.mandatory")
	apptest.ExpectField(t, sales.Do("PUT", "/notifications/prefs", map[string]any{"items": []map[string]any{{"kind": "lead.bogus", "inApp": false}}}), "items", "notify.unknown_kind")
	if n := send(t, env, msg(uid, "lead.assigned", "")); n != 1 {
		t.Fatal("a refused preference change muted a kind")
	}

	// mute one kind; take popups off another
	sales.Do("PUT", "/notifications/prefs", map[string]any{"items": []map[string]any{
		{"kind": "lead.assigned", "inApp": false, "popup": false},
		{"kind": "task.reminder", "inApp": true, "popup": false},
		{"kind": "approval.pending", "inApp": true, "popup": true},
	}}).Expect(t, 200).JSON(t, &ps)
	got := map[string]pref{}
	for _, p := range ps.Items {
		got[p.Kind] = p
	}
	if got["lead.assigned"].InApp || !got["task.reminder"].InApp || got["task.reminder"].Popup || !got["approval.pending"].Mandatory || !got["approval.pending"].Popup {
		t.Fatalf("saved prefs %+v", got)
	}
	if n := env.AuditCount("update", "notify_pref"); n != 1 {
		t.Fatalf("%d audit rows for the preference change, want 1", n)
	}

	if n := send(t, env, msg(uid, "lead.assigned", ""), msg(uid, "lead.sla_overdue", ""), msg(uid, "task.reminder", "")); n != 2 {
		t.Fatalf("after muting lead.assigned: %d new, want 2 (mandatory and task)", n)
	}
	var p page
	sales.Do("GET", "/notifications?limit=2", nil).Expect(t, 200).JSON(t, &p)
	if p.Items[0].Kind != "task.reminder" || p.Items[0].Popup || p.Items[1].Kind != "lead.sla_overdue" || !p.Items[1].Popup {
		t.Fatalf("popup flags %+v", p.Items)
	}
	// someone else's choices are theirs
	if n := send(t, env, msg(env.UserID("sales_HZ012"), "lead.assigned", "")); n != 1 {
		t.Fatal("one user's mute silenced another")
	}
}

func TestRead_OnlyOwnNotifications(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	send(t, env, msg(env.UserID("sales"), "lead.assigned", ""))
	var p page
	env.As("sales").Do("GET", "/notifications", nil).Expect(t, 200).JSON(t, &p)
	id := p.Items[0].ID
	for _, who := range []string{"sales_HZ012", "admin", "gm"} {
		c := env.As(who)
		apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/notifications/%d/read", id), "{}"), http.StatusNotFound, "not_found")
		c.Do("GET", "/notifications", nil).Expect(t, 200).JSON(t, &p)
		if len(p.Items) != 0 {
			t.Fatalf("%s sees another user's notifications: %+v", who, p.Items)
		}
		c.Do("POST", "/notifications/read-all", "{}").Expect(t, 204)
	}
	if got := unread(t, env.As("sales")); got != 1 {
		t.Fatalf("others changed the owner's notification: unread %d", got)
	}
	apptest.ExpectErr(t, env.As("sales").Do("POST", "/notifications/999999/read", "{}"), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, env.Client().Do("GET", "/notifications", nil), http.StatusUnauthorized, "unauthenticated")
}

func TestPurge_DropsOldReadNotificationsOnly(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	uid := env.UserID("sales")
	send(t, env, msg(uid, "lead.assigned", "old-unread"), msg(uid, "lead.assigned", "old-read"))
	var p page
	sales.Do("GET", "/notifications", nil).Expect(t, 200).JSON(t, &p)
	newest := p.Items[0].ID // the read one is the newest row: purging it must not free its id
	sales.Do("POST", fmt.Sprintf("/notifications/%d/read", newest), "{}").Expect(t, 200)
	if n, err := env.App.Notify.Purge(context.Background()); err != nil || n != 0 {
		t.Fatalf("purge of fresh rows: %d %v", n, err)
	}
	env.Clock.Advance(notify.Retention + time.Hour)
	if n, err := env.App.Notify.Purge(context.Background()); err != nil || n != 1 {
		t.Fatalf("purge: %d %v, want 1", n, err)
	}
	// a purged key no longer blocks; ids never repeat, since browsers resume by id
	if n := send(t, env, msg(uid, "lead.assigned", "old-read")); n != 1 {
		t.Fatal("purged key still blocks")
	}
	sales = env.As("sales") // the old session idled out while the clock moved
	sales.Do("GET", "/notifications", nil).Expect(t, 200).JSON(t, &p)
	if len(p.Items) != 2 || p.Items[1].ReadAt != nil {
		t.Fatalf("after purge: %+v, want the old unread one and the new one", p.Items)
	}
	if p.Items[0].ID <= newest {
		t.Fatalf("id %d handed out again (purged newest was %d)", p.Items[0].ID, newest)
	}
}
