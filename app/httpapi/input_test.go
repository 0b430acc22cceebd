package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"dealerdesk/app/apptest"
)

// TestBadInput_CleanErrorsAndNothingChanges sends malformed requests to a write
// endpoint; each gets its 4xx with the one error shape, and no user is created.
func TestBadInput_CleanErrorsAndNothingChanges(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	admin := env.As("admin")
	var before int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM app_user`).Scan(&before)
	valid := `{"username":"newbie","name":"新人","phone":"13900001111","roleId":4,"storeId":1,"password":"Xk9#pLm2qz"}`
	cases := []struct {
		name   string
		body   string
		hdr    []string
		status int
		code   string
	}{
		{"invalid JSON", `{"username":`, nil, 400, "request.invalid_json"},
		{"invalid UTF-8", "{\"username\":\"a\xff\xfe\",\"name\":\"x\"}", nil, 400, "request.invalid_utf8"},
		{"unknown field", `{"username":"newbie","isAdmin":true}`, nil, 400, "request.unknown_field"},
		{"mass assignment of status", strings.Replace(valid, `{`, `{"status":"active",`, 1), nil, 400, "request.unknown_field"},
		{"duplicate key", `{"username":"newbie","username":"other"}`, nil, 400, "request.duplicate_field"},
		{"duplicate key differing in case", `{"username":"newbie","UserName":"other"}`, nil, 400, "request.duplicate_field"},
		{"trailing data", valid + `{}`, nil, 400, "request.invalid_json"},
		{"wrong type", `{"username":"newbie","roleId":"four"}`, nil, 400, "invalid"},
		{"not JSON content type", valid, []string{"Content-Type", "text/plain"}, 415, "request.content_type"},
		{"form content type", valid, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "request.content_type"},
		{"oversized body", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, "too_large"},
		{"cross-origin", valid, []string{"Origin", "http://evil.lan", "Sec-Fetch-Site", "cross-site"}, 403, "csrf"},
	}
	for _, tc := range cases {
		r := admin.Do("POST", "/users", tc.body, tc.hdr...)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		e := r.Error(t)
		if e.Code != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, e.Code, tc.code)
		}
		if e.Message == "" || e.Message == e.Code || e.RequestID == "" {
			t.Errorf("%s: error lacks a translated message or request id: %+v", tc.name, e)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: error response is cacheable", tc.name)
		}
	}
	var after int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM app_user`).Scan(&after)
	if after != before {
		t.Fatalf("bad requests changed the user count from %d to %d", before, after)
	}
	// The same body, well-formed, goes through: the cases above failed for their reason.
	admin.Do("POST", "/users", valid).Expect(t, 201)
}

// TestBadInput_InjectionStringsStoredVerbatim: SQL and HTML in text fields are data.
func TestBadInput_InjectionStringsStoredVerbatim(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	admin := env.As("admin")
	for i, s := range []string{`' OR 1=1--`, `Robert'); DROP TABLE app_user;--`, `<img src=x onerror=alert(1)>`} {
		r := admin.Do("POST", "/users", map[string]any{"username": fmt.Sprintf("inj%d", i), "name": s, "roleId": 4, "storeId": 1, "password": "Xk9#pLm2qz"}).Expect(t, 201)
		var u struct{ ID int64 }
		r.JSON(t, &u)
		var got string
		env.App.DB.R.QueryRow(`SELECT name FROM app_user WHERE id = ?`, u.ID).Scan(&got)
		if got != s {
			t.Errorf("stored %q, want %q", got, s)
		}
		if !strings.Contains(string(admin.Do("GET", fmt.Sprintf("/users/%d", u.ID), nil).Body), "\\u003cimg") && strings.Contains(s, "<img") {
			t.Errorf("HTML in JSON is not escaped")
		}
	}
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM app_user`).Scan(&n)
	if n < 70 {
		t.Fatalf("users table damaged: %d rows", n)
	}
}

// TestErrors_FieldErrorsInUsersLanguage: the same mistake reads in Chinese by
// default and in English when asked, per field.
func TestErrors_FieldErrorsInUsersLanguage(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	admin := env.As("admin")
	body := map[string]any{"username": "x", "name": "", "phone": "12345", "roleId": 4, "storeId": 1, "password": "short"}
	zh := admin.Do("POST", "/users", body).Expect(t, 400).Error(t)
	for _, f := range []string{"username", "name", "phone"} {
		if zh.Fields[f].Code == "" || zh.Fields[f].Message == "" {
			t.Fatalf("no field error for %s: %+v", f, zh)
		}
	}
	if zh.Fields["phone"].Code != "phone.invalid" || !containsHan(zh.Fields["phone"].Message) {
		t.Errorf("phone error not in Chinese: %+v", zh.Fields["phone"])
	}
	admin.Do("PUT", "/auth/profile", map[string]string{"name": "系统管理员", "locale": "en"}).Expect(t, 200)
	en := admin.Do("POST", "/users", body).Expect(t, 400).Error(t)
	if containsHan(en.Fields["phone"].Message) || en.Fields["phone"].Message == "" {
		t.Errorf("phone error not in English after switching: %+v", en.Fields["phone"])
	}
	anon := env.Client()
	anon.Header.Set("Accept-Language", "en-US,en;q=0.9")
	e := anon.Do("POST", "/auth/login", map[string]string{"login": "nobody", "password": "whatever1"}).Expect(t, 401).Error(t)
	if e.Code != "auth.bad_credentials" || containsHan(e.Message) {
		t.Errorf("anonymous English error: %+v", e)
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// TestHeaders_SecurityAndCaching checks the headers on API, UI and asset responses.
func TestHeaders_SecurityAndCaching(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	c := env.Client()
	api := c.Do("GET", "/health", nil).Expect(t, 200)
	ui := c.Do("GET", env.Server.URL+"/system/users", nil).Expect(t, 200)
	for name, r := range map[string]*apptest.Response{"api": api, "ui": ui} {
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", name, csp, want)
			}
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: missing security headers: %v", name, r.Header)
		}
		if r.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain HTTP", name)
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", name)
		}
	}
	if api.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("api Cache-Control %q", api.Header.Get("Cache-Control"))
	}
	if ui.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(string(ui.Body), `<div id="app">`) {
		t.Errorf("client route did not get index.html uncached: %q", ui.Header.Get("Cache-Control"))
	}
	// a hashed asset referenced by index.html is immutable
	start := strings.Index(string(ui.Body), "/assets/")
	if start < 0 {
		t.Fatal("index.html references no /assets/")
	}
	end := strings.IndexAny(string(ui.Body[start:]), `"'`)
	asset := c.Do("GET", env.Server.URL+string(ui.Body[start:start+end]), nil).Expect(t, 200)
	if !strings.Contains(asset.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("asset Cache-Control %q", asset.Header.Get("Cache-Control"))
	}
	c.Do("GET", env.Server.URL+"/assets/missing-123.js", nil).Expect(t, http.StatusNotFound)
	unknown := c.Do("GET", "/no/such/endpoint", nil).Expect(t, http.StatusNotFound)
	if unknown.Error(t).Code != "not_found" {
		t.Errorf("unknown api path: %s", unknown.Body)
	}
}

// TestErrors_UnauthenticatedAndExpiredSessions: no or forged credentials get 401.
func TestErrors_UnauthenticatedAndExpiredSessions(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	c := env.Client()
	r := c.Do("GET", "/auth/me", nil).Expect(t, 401)
	if r.Error(t).Code != "unauthenticated" {
		t.Errorf("code %s", r.Body)
	}
	c.Do("GET", "/users", nil, "Cookie", "dd_session=forged-token-value").Expect(t, 401)
	c.Do("GET", "/users", nil, "Authorization", "Bearer ddk_forged").Expect(t, 401)
	c.Do("GET", "/users", nil, "Authorization", "Basic YWRtaW46eA==").Expect(t, 401)
}
