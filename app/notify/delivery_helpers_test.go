package notify_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/httpapi"
	"dealerdesk/app/notify"
)

// deliveryEnv starts the app with the demo data, ready for delivery tests: the
// worker's own runs paused (tests call DeliverDue), robot URLs free to point at
// local servers, and the UI texts loaded for rendering.
func deliveryEnv(t *testing.T) *apptest.Env {
	t.Helper()
	env := apptest.NewDemo(t)
	setupDelivery(t, env.App.Notify)
	notify.AllowAnyHost(env.App.Notify)
	return env
}

func setupDelivery(t *testing.T, s *notify.Service) {
	t.Helper()
	notify.PauseDelivery(s)
	cat, err := httpapi.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	s.SetText(cat.Text)
}

// deliver works the queue as the worker would.
func deliver(t *testing.T, env *apptest.Env) int {
	t.Helper()
	n, err := env.App.Notify.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

// robotPost is one request a fake robot got.
type robotPost struct {
	Query url.Values
	Body  map[string]any
	Raw   string
}

// robot is a fake chat robot: it records what it gets and answers with
// answer(n) for the n-th request (from 1); by default {"errcode":0}.
type robot struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []robotPost
	answer func(n int) (int, string)
}

func newRobot(t *testing.T, answer func(n int) (int, string)) *robot {
	t.Helper()
	r := &robot{answer: answer}
	if r.answer == nil {
		r.answer = func(int) (int, string) { return 200, `{"errcode":0,"errmsg":"ok"}` }
	}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		p := robotPost{Query: req.URL.Query(), Raw: string(b)}
		_ = json.Unmarshal(b, &p.Body)
		r.mu.Lock()
		r.posts = append(r.posts, p)
		n := len(r.posts)
		r.mu.Unlock()
		status, body := r.answer(n)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *robot) got() []robotPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]robotPost(nil), r.posts...)
}

// text is the message text of a WeCom or DingTalk post.
func (p robotPost) text() string {
	t, _ := p.Body["text"].(map[string]any)
	s, _ := t["content"].(string)
	return s
}

// channelOut is a channel as the API shows it.
type channelOut struct {
	ID        int64          `json:"id"`
	StoreID   int64          `json:"storeId"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Enabled   bool           `json:"enabled"`
	Kinds     []string       `json:"kinds"`
	Config    map[string]any `json:"config"`
	Version   int64          `json:"version"`
	LastOKAt  *int64         `json:"lastOkAt"`
	LastError string         `json:"lastError"`
}

func createChannel(t *testing.T, c *apptest.Client, body map[string]any) channelOut {
	t.Helper()
	if _, ok := body["enabled"]; !ok {
		body["enabled"] = true
	}
	if _, ok := body["storeId"]; !ok {
		body["storeId"] = 1
	}
	var out channelOut
	c.Do("POST", "/notify/channels", body).Expect(t, http.StatusCreated).JSON(t, &out)
	return out
}

// robotChannel creates a WeCom channel of store 1 posting to r.
func robotChannel(t *testing.T, c *apptest.Client, r *robot, kinds ...string) channelOut {
	t.Helper()
	return createChannel(t, c, map[string]any{"type": "wecom", "name": "销售群", "kinds": kinds,
		"config": map[string]any{"url": r.URL + "/cgi-bin/webhook/send?key=test-key-0001", "linkBase": "https://dd.lan:8443"}})
}

// deliveryRow is a notify_delivery row.
type deliveryRow struct {
	ID        int64
	Kind      string
	Status    string
	Attempts  int
	NextAt    int64
	LastError string
	Title     string
	Body      string
}

func deliveryRows(t *testing.T, env *apptest.Env, channelID int64) []deliveryRow {
	t.Helper()
	rows, err := env.App.DB.R.Query(`SELECT id, kind, status, attempts, next_at, last_error, title, body FROM notify_delivery WHERE channel_id = ? ORDER BY id`, channelID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []deliveryRow
	for rows.Next() {
		var d deliveryRow
		if err := rows.Scan(&d.ID, &d.Kind, &d.Status, &d.Attempts, &d.NextAt, &d.LastError, &d.Title, &d.Body); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// sendTx sends messages in one write transaction, as a domain does.
func sendTx(t *testing.T, env *apptest.Env, msgs ...notify.Message) {
	t.Helper()
	err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
		_, err := env.App.Notify.Send(context.Background(), tx, msgs...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// notificationsOf counts a user's notifications of a kind.
func notificationsOf(t *testing.T, env *apptest.Env, userID int64, kind string) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM notification WHERE user_id = ? AND kind = ?`, userID, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
