package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/notify"
)

// event is one Server-Sent Event as a browser parses it; comments have Event ":".
type event struct {
	ID    string
	Event string
	Data  string
	Retry string
}

// sse is an open stream read by a goroutine into a channel.
type sse struct {
	resp   *http.Response
	events chan event
	cancel context.CancelFunc
}

// openStream opens GET /notifications/stream over the real server as the
// client's browser would (its cookies), with extra headers.
func openStream(t *testing.T, env *apptest.Env, c *apptest.Client, query string, hdr ...string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", env.URL+"/notifications/stream"+query, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip") // set by hand, so Go's transport would not hide a gzip answer
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	// No client timeout: the stream is long-lived; tests bound waits with contexts.
	resp, err := (&http.Client{Jar: c.HTTP.Jar}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	s := &sse{resp: resp, events: make(chan event, 100), cancel: cancel}
	t.Cleanup(s.close)
	if resp.StatusCode != 200 {
		return s
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (event{}) {
					s.events <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, ":"):
				s.events <- event{Event: ":", Data: strings.TrimSpace(line[1:])}
			default:
				k, v, _ := strings.Cut(line, ":")
				v = strings.TrimPrefix(v, " ")
				switch k {
				case "id":
					ev.ID = v
				case "event":
					ev.Event = v
				case "data":
					ev.Data = v
				case "retry":
					ev.Retry = v
				}
			}
		}
	}()
	return s
}

func (s *sse) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next event of the kind (skipping others) within the deadline.
func (s *sse) next(t *testing.T, kind string, within time.Duration) event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended while waiting for %q", kind)
			}
			if ev.Event == kind {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %q event within %s", kind, within)
		}
	}
}

// ended reports whether the stream closes within the deadline, failing on a
// notification event meanwhile.
func (s *sse) ended(t *testing.T, within time.Duration) []event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var seen []event
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return seen
			}
			seen = append(seen, ev)
		case <-ctx.Done():
			t.Fatalf("stream still open after %s (events %+v)", within, seen)
		}
	}
}

func notificationOf(t *testing.T, ev event) item {
	t.Helper()
	var it item
	if err := json.Unmarshal([]byte(ev.Data), &it); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	if ev.ID != strconv.FormatInt(it.ID, 10) {
		t.Fatalf("event id %q is not the notification id %d", ev.ID, it.ID)
	}
	return it
}

func unreadOf(t *testing.T, ev event) int64 {
	t.Helper()
	var v struct{ Count int64 }
	if err := json.Unmarshal([]byte(ev.Data), &v); err != nil {
		t.Fatalf("unread data %q: %v", ev.Data, err)
	}
	return v.Count
}

const wait = 5 * time.Second

func TestStream_DeliversLiveAndUncompressed(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	uid := env.UserID("sales")
	send(t, env, msg(uid, "lead.assigned", "before")) // already in the inbox: not replayed to a fresh stream
	s := openStream(t, env, env.As("sales"), "")
	if s.resp.StatusCode != 200 {
		t.Fatalf("stream status %d", s.resp.StatusCode)
	}
	h := s.resp.Header
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	if ce := h.Get("Content-Encoding"); ce != "" || s.resp.Uncompressed {
		t.Fatalf("stream is compressed (%q): events would wait for gzip blocks", ce)
	}
	if h.Get("X-Accel-Buffering") != "no" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", h)
	}
	if ev := <-s.events; ev.Retry != "3000" {
		t.Fatalf("first event %+v, want retry: 3000", ev)
	}
	if n := unreadOf(t, s.next(t, "unread", wait)); n != 1 {
		t.Fatalf("initial unread %d", n)
	}

	send(t, env, msg(uid, "lead.sla_overdue", "live"), msg(env.UserID("sales_HZ012"), "lead.assigned", "someone else"))
	it := notificationOf(t, s.next(t, "notification", wait))
	if it.Kind != "lead.sla_overdue" || it.TitleKey != "notify.msg.lead_assigned" || it.Params["name"] != "张先生" || !it.Popup {
		t.Fatalf("live event %+v", it)
	}
	if n := unreadOf(t, s.next(t, "unread", wait)); n != 2 {
		t.Fatalf("unread after send %d", n)
	}
	// reading in another tab updates this one's bell
	env.As("sales").Do("POST", "/notifications/read-all", "{}").Expect(t, 204)
	if n := unreadOf(t, s.next(t, "unread", wait)); n != 0 {
		t.Fatalf("unread after read-all %d", n)
	}
	select {
	case ev := <-s.events:
		if ev.Event == "notification" {
			t.Fatalf("another user's notification reached this stream: %+v", ev)
		}
	default:
	}
}

func TestStream_WithoutWakeThePollDelivers(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	notify.SetStreamTimings(env.App.Notify, time.Minute, 50*time.Millisecond)
	uid := env.UserID("sales")
	s := openStream(t, env, env.As("sales"), "")
	s.next(t, "unread", wait)
	// a domain that forgets Wake (or calls it before its commit)
	env.App.Notify.Wake()
	if _, err := env.App.Notify.Send(context.Background(), env.App.DB.W, msg(uid, "task.reminder", "")); err != nil {
		t.Fatal(err)
	}
	if it := notificationOf(t, s.next(t, "notification", wait)); it.Kind != "task.reminder" {
		t.Fatalf("polled event %+v", it)
	}
}

func TestStream_ResumeAfterLastEventIDExactlyOnce(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	uid := env.UserID("sales")
	sales := env.As("sales")
	s := openStream(t, env, sales, "")
	s.next(t, "unread", wait)
	send(t, env, msg(uid, "lead.assigned", "a"))
	a := notificationOf(t, s.next(t, "notification", wait))
	s.close() // the network drops

	send(t, env, msg(uid, "lead.assigned", "b"), msg(uid, "lead.returned", "c"))
	s2 := openStream(t, env, sales, "?after=0", "Last-Event-ID", strconv.FormatInt(a.ID, 10)) // the header wins over ?after
	b := notificationOf(t, s2.next(t, "notification", wait))
	c := notificationOf(t, s2.next(t, "notification", wait))
	if b.ID <= a.ID || c.ID <= b.ID || c.Kind != "lead.returned" {
		t.Fatalf("missed events %d, %d after %d", b.ID, c.ID, a.ID)
	}
	if n := unreadOf(t, s2.next(t, "unread", wait)); n != 3 {
		t.Fatalf("unread %d", n)
	}
	send(t, env, msg(uid, "task.reminder", "d"))
	if d := notificationOf(t, s2.next(t, "notification", wait)); d.Kind != "task.reminder" {
		t.Fatalf("after catching up, got %+v (a replay?)", d)
	}

	// ?after= resumes the same way when the browser has no event id yet
	s3 := openStream(t, env, sales, "?after="+strconv.FormatInt(c.ID, 10))
	if d := notificationOf(t, s3.next(t, "notification", wait)); d.Kind != "task.reminder" {
		t.Fatalf("resume by ?after got %+v", d)
	}
	apptest.ExpectField(t, sales.Do("GET", "/notifications/stream?after=x", nil), "after", "invalid_format")
}

func TestStream_ResumeAfterTooMuchSaysReset(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	uid := env.UserID("sales")
	var msgs []notify.Message
	for i := 0; i < 205; i++ {
		msgs = append(msgs, msg(uid, "lead.assigned", strconv.Itoa(i)))
	}
	send(t, env, msgs...)
	s := openStream(t, env, env.As("sales"), "?after=0")
	s.next(t, "reset", wait)
	if n := unreadOf(t, s.next(t, "unread", wait)); n != 205 {
		t.Fatalf("unread %d", n)
	}
	send(t, env, msg(uid, "task.reminder", ""))
	if it := notificationOf(t, s.next(t, "notification", wait)); it.Kind != "task.reminder" {
		t.Fatalf("after reset got %+v", it)
	}
}

func TestStream_EndsWhenTheSessionEnds(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	notify.SetStreamTimings(env.App.Notify, 50*time.Millisecond, time.Minute)
	sales := env.As("sales")
	s := openStream(t, env, sales, "")
	s.next(t, ":", wait) // heartbeats flow while the session lives
	sales.Do("POST", "/auth/logout", "{}").Expect(t, 204)
	evs := s.ended(t, wait)
	if len(evs) == 0 || evs[len(evs)-1].Event != "signout" {
		t.Fatalf("stream ended without signout: %+v", evs)
	}

	// an idle session: the stream does not keep it alive
	other := env.As("sales_HZ012")
	s2 := openStream(t, env, other, "")
	s2.next(t, "unread", wait)
	env.Clock.Advance(31 * time.Minute)
	if evs := s2.ended(t, wait); evs[len(evs)-1].Event != "signout" {
		t.Fatalf("idle stream ended without signout: %+v", evs)
	}
	if r := other.Do("GET", "/notifications/stream", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("stream after idle timeout: %d", r.Status)
	}
}

func TestStream_CloseEndsStreams(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := openStream(t, env, env.As("sales"), "")
	s.next(t, "unread", wait)
	if notify.Streams(env.App.Notify) != 1 {
		t.Fatalf("%d streams open", notify.Streams(env.App.Notify))
	}
	env.App.Notify.Close()
	s.ended(t, wait)
	env.App.Notify.Close() // twice is fine
}

func TestStream_APIKeysHaveNoInbox(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	var key struct{ Key string }
	env.As("admin").Do("POST", "/apikeys", map[string]any{"name": "dms", "roleId": env.RoleID("sales"), "storeId": 1}).Expect(t, 201).JSON(t, &key)
	c := env.Client()
	c.Header.Set("Authorization", "Bearer "+key.Key)
	apptest.ExpectErr(t, c.Do("GET", "/notifications/stream", nil), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, c.Do("GET", "/notifications", nil), http.StatusForbidden, "forbidden")
}
