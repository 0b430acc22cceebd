// Package apptest is the test harness: the real App on a fresh data dir under
// t.TempDir(), served by a real HTTP server on loopback, with a fake clock and an
// HTTP client per user. No part of the storage is mocked.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"dealerdesk/app"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/config"
	"dealerdesk/app/demo"
)

func init() {
	// argon2id at 64 MiB × 3 passes costs ~150 ms a hash; tests create many users.
	auth.SetHashCost(1024, 1)
}

// Start is the fake clock's starting time.
var Start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// Env is one test's running application.
type Env struct {
	T   testing.TB
	App *app.App
	// Host serves App; after a restore through the API, Host.App() is the new App
	// (call e.Reload to point App at it).
	Host   *app.Host
	Clock  *clock.Fake
	Server *httptest.Server
	URL    string // base URL of /api/v1
	Dir    string
}

// Options change the environment.
type Options struct {
	Dir string // reuse a data dir (e.g. to test restarts); default t.TempDir()
}

// Reload points e.App at the App the host serves now (after a restore).
func (e *Env) Reload() { e.App = e.Host.App() }

// New starts the app on a new data dir.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	cfg := config.Defaults()
	cfg.DataDir = o.Dir
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(Start)
	h, err := app.StartHost(context.Background(), cfg, app.Options{Clock: fc, LoginRate: 10000}, false)
	if err != nil {
		t.Fatalf("apptest: start app: %v", err)
	}
	srv := httptest.NewServer(h)
	e := &Env{T: t, App: h.App(), Host: h, Clock: fc, Server: srv, URL: srv.URL + "/api/v1", Dir: o.Dir}
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return e
}

// Demo fills the demo data set (3 stores, every role) and returns the summary.
func (e *Env) Demo() demo.Summary {
	e.T.Helper()
	s, err := demo.Fill(context.Background(), e.App.DB, demo.ScaleDemo, e.Clock.Now().UnixMilli())
	if err != nil {
		e.T.Fatalf("apptest: demo: %v", err)
	}
	return s
}

// Client is an HTTP client with its own cookie jar (one browser).
type Client struct {
	env    *Env
	HTTP   *http.Client
	Header http.Header // sent with every request (e.g. Authorization, Accept-Language)
}

// Client returns a new anonymous client.
func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{env: e, HTTP: &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, Header: http.Header{}}
}

// Login signs in and fails the test if that does not work.
func (e *Env) Login(login, password string) *Client {
	e.T.Helper()
	c := e.Client()
	r := c.Do("POST", "/auth/login", map[string]string{"login": login, "password": password})
	if r.Status != http.StatusOK {
		e.T.Fatalf("apptest: login %s: %d %s", login, r.Status, r.Body)
	}
	return c
}

// As signs in as a demo account (admin, gm, sales, … or any demo username).
func (e *Env) As(username string) *Client {
	e.T.Helper()
	return e.Login(username, demo.Password)
}

// Response is an HTTP response with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request. body is JSON-encoded unless it is a []byte or string (sent
// as is); mutating requests get Content-Type: application/json unless the header
// is set already.
func (c *Client) Do(method, path string, body any, hdr ...string) *Response {
	c.env.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.env.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = c.env.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		c.env.T.Fatal(err)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if method != "GET" && method != "HEAD" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.env.T.Fatalf("apptest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("apptest: decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Err is the error part of an error response.
type Err struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
	Fields    map[string]struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"fields"`
	Details map[string]any `json:"details"`
}

// Error decodes an error response.
func (r *Response) Error(t testing.TB) Err {
	t.Helper()
	var b struct {
		Error Err `json:"error"`
	}
	r.JSON(t, &b)
	return b.Error
}

// Expect fails the test unless the status matches.
func (r *Response) Expect(t testing.TB, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want status %d, got %d: %s", status, r.Status, r.Body)
	}
	return r
}

func (r *Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// AuditCount counts audit rows matching action (and entity when not empty).
func (e *Env) AuditCount(action, entity string) int {
	e.T.Helper()
	q := `SELECT count(*) FROM audit_log WHERE action = ?`
	args := []any{action}
	if entity != "" {
		q += ` AND entity = ?`
		args = append(args, entity)
	}
	var n int
	if err := e.App.DB.R.QueryRow(q, args...).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}

// UserID returns the id of a username.
func (e *Env) UserID(username string) int64 {
	e.T.Helper()
	var id int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM app_user WHERE username = ?`, username).Scan(&id); err != nil {
		e.T.Fatalf("apptest: user %s: %v", username, err)
	}
	return id
}

// NewDemo starts the app and fills the demo data set.
func NewDemo(t testing.TB) *Env {
	t.Helper()
	e := New(t)
	e.Demo()
	return e
}

// ExpectErr fails the test unless r is an error response with the status and code.
func ExpectErr(t testing.TB, r *Response, status int, code string) Err {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want %d %s, got %s", status, code, r)
	}
	e := r.Error(t)
	if e.Code != code {
		t.Fatalf("want error code %s, got %s", code, r)
	}
	return e
}

// ExpectField fails the test unless r is a 400 with the field error.
func ExpectField(t testing.TB, r *Response, field, code string) {
	t.Helper()
	e := ExpectErr(t, r, http.StatusBadRequest, "invalid")
	if got := e.Fields[field].Code; got != code {
		t.Fatalf("want field %s: %s, got %s", field, code, r)
	}
}

// RoleID returns the id of a role code.
func (e *Env) RoleID(code string) int64 {
	e.T.Helper()
	var id int64
	if err := e.App.DB.R.QueryRow(`SELECT id FROM role WHERE code = ?`, code).Scan(&id); err != nil {
		e.T.Fatalf("apptest: role %s: %v", code, err)
	}
	return id
}
