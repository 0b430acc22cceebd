package notify

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"dealerdesk/app/auth"
)

// The live stream is Server-Sent Events, written by hand (the protocol is a few
// lines of text):
//
//	retry: 3000                      once, the browser's reconnect delay
//	id: 42 / event: notification     one per new notification; the id is the row id
//	event: unread / data: {"count":3}  whenever the unread count changes
//	event: reset                     more was missed than is replayed: reload the list
//	event: signout                   the session ended; the stream closes
//	: ping                           heartbeat comment
//
// Nothing is queued in memory for a stream: a stream holds a one-slot signal
// ("look for news") and reads what is new from the database itself. Senders
// therefore never wait for a slow browser, and a browser that cannot take an
// event within writeTimeout is dropped (it reconnects and resumes by id).

const (
	maxStreamsPerUser = 8   // tabs and devices; the oldest is dropped beyond this
	catchUpLimit      = 200 // a reconnect missing more than this gets "reset"
	eventBatch        = 100
)

type stream struct {
	user int64
	sig  chan struct{} // capacity 1: pokes coalesce
	kick chan struct{} // closed when the hub drops the stream
}

// hub knows the open streams per user, for per-user fan-out of pokes.
type hub struct {
	mu     sync.Mutex
	byUser map[int64][]*stream
	n      int
}

func newHub() *hub { return &hub{byUser: map[int64][]*stream{}} }

func (h *hub) add(user int64) *stream {
	st := &stream{user: user, sig: make(chan struct{}, 1), kick: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.byUser[user]
	if len(list) >= maxStreamsPerUser {
		close(list[0].kick)
		list = append([]*stream(nil), list[1:]...)
		h.n--
	}
	h.byUser[user] = append(list, st)
	h.n++
	return st
}

func (h *hub) remove(st *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.byUser[st.user]
	out := make([]*stream, 0, len(list))
	for _, x := range list {
		if x != st {
			out = append(out, x)
		}
	}
	if len(out) == len(list) {
		return // dropped by add already
	}
	h.n--
	if len(out) == 0 {
		delete(h.byUser, st.user)
	} else {
		h.byUser[st.user] = out
	}
}

func (h *hub) poke(user int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range h.byUser[user] {
		signal(st.sig)
	}
}

func (h *hub) pokeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, list := range h.byUser {
		for _, st := range list {
			signal(st.sig)
		}
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// StreamStart is where a stream begins: after the notification id the browser
// saw last (Resume), or, for a fresh stream, after the user's newest one.
type StreamStart struct {
	After  int64
	Resume bool
}

// Stream serves the actor's live stream on w until the client goes away, the
// session ends or the service closes. w must not be compressed or buffered by a
// middleware. It returns an error only before anything was written.
func (s *Service) Stream(ctx context.Context, w http.ResponseWriter, a auth.Actor, from StreamStart) error {
	uid, err := user(a)
	if err != nil {
		return err
	}
	after := from.After
	reset := false
	if from.Resume {
		n, err := countNewer(ctx, s.db.R, uid, after, catchUpLimit+1)
		if err != nil {
			return err
		}
		reset = n > catchUpLimit
	}
	if !from.Resume || reset {
		if after, err = newestID(ctx, s.db.R, uid); err != nil {
			return err
		}
	}
	st := s.hub.add(uid)
	defer s.hub.remove(st)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx and friends: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// The controller goes to the server's own writer, so flush errors are seen
	// (a wrapping writer may swallow them).
	rc := http.NewResponseController(unwrap(w))
	// The server's ReadTimeout would otherwise end this long response.
	_ = rc.SetReadDeadline(time.Time{})

	var buf bytes.Buffer
	buf.WriteString("retry: 3000\n\n")
	if reset {
		buf.WriteString("event: reset\ndata: {}\n\n")
	}
	beat := time.NewTicker(time.Duration(s.heartbeat.Load()))
	defer beat.Stop()
	poll := time.NewTicker(time.Duration(s.poll.Load()))
	defer poll.Stop()
	lastCount := int64(-1)
	look := true
	for {
		if look {
			live, err := s.sessionLive(ctx, a)
			if err == nil && !live {
				buf.WriteString("event: signout\ndata: {}\n\n")
				_ = s.flush(w, rc, &buf)
				return nil
			}
			if err == nil {
				after, lastCount, err = s.news(ctx, &buf, uid, after, lastCount)
			}
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("notify stream", "user_id", uid, "err", err)
				}
				return nil // the browser reconnects and resumes by id
			}
		}
		if buf.Len() > 0 {
			if err := s.flush(w, rc, &buf); err != nil {
				return nil // gone or too slow: dropped
			}
		}
		look = false
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case <-st.kick:
			return nil
		case <-st.sig:
			look = true
		case <-poll.C:
			look = true // the fallback for a Wake that came early or never
		case <-beat.C:
			live, err := s.sessionLive(ctx, a)
			if err != nil || !live {
				if err == nil {
					buf.WriteString("event: signout\ndata: {}\n\n")
					_ = s.flush(w, rc, &buf)
				}
				return nil
			}
			buf.WriteString(": ping\n\n")
		}
	}
}

// news appends the user's notifications above after and, when it changed, the
// unread count. It returns the new position and count.
func (s *Service) news(ctx context.Context, buf *bytes.Buffer, uid, after, lastCount int64) (int64, int64, error) {
	for {
		items, err := newerThan(ctx, s.db.R, uid, after, eventBatch)
		if err != nil {
			return after, lastCount, err
		}
		for _, n := range items {
			b, err := json.Marshal(n)
			if err != nil {
				return after, lastCount, fmt.Errorf("notify: encode event: %w", err)
			}
			fmt.Fprintf(buf, "id: %d\nevent: notification\ndata: %s\n\n", n.ID, b)
			after = n.ID
		}
		if len(items) < eventBatch {
			break
		}
	}
	cnt, err := unreadCount(ctx, s.db.R, uid)
	if err != nil {
		return after, lastCount, err
	}
	if cnt != lastCount {
		fmt.Fprintf(buf, "event: unread\ndata: {\"count\":%d}\n\n", cnt)
	}
	return after, cnt, nil
}

func (s *Service) flush(w http.ResponseWriter, rc *http.ResponseController, buf *bytes.Buffer) error {
	_ = rc.SetWriteDeadline(time.Now().Add(time.Duration(s.writeTimeout.Load())))
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err != nil {
		return err
	}
	return rc.Flush()
}

func unwrap(w http.ResponseWriter) http.ResponseWriter {
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		return u.Unwrap()
	}
	return w
}

// sessionLive re-checks the stream's session by the rules auth.ResolveSession
// applies (present, within its lifetime and idle timeout, user active), without
// touching it: an open stream alone must not keep an idle session alive. A
// sign-out, "sign out everywhere", a disabled user or a purge deletes the row.
func (s *Service) sessionLive(ctx context.Context, a auth.Actor) (bool, error) {
	if a.SessionHash == nil {
		return false, nil
	}
	var lastSeen, expires int64
	var status string
	err := s.db.R.QueryRowContext(ctx, `SELECT s.last_seen_at, s.expires_at, u.status FROM session s JOIN app_user u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.user_id = ?`, a.SessionHash, a.UserID).Scan(&lastSeen, &expires, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notify: check session: %w", err)
	}
	sec, err := s.rules.Security(ctx)
	if err != nil {
		return false, err
	}
	now := s.now()
	idle := int64(sec.SessionIdleMinutes) * int64(time.Minute/time.Millisecond)
	return status == "active" && now < expires && now-lastSeen < idle, nil
}

// ParseStreamStart reads where a stream resumes: the Last-Event-ID header a
// reconnecting browser sends, else the after query parameter; neither means a
// fresh stream.
func ParseStreamStart(lastEventID, after string) (StreamStart, bool) {
	for _, v := range []string{lastEventID, after} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return StreamStart{}, false
		}
		return StreamStart{After: n, Resume: true}, true
	}
	return StreamStart{}, true
}
