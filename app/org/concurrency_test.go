package org_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/org"
)

// race runs fn n times at once and returns the responses in index order.
func race(n int, fn func(i int) *apptest.Response) []*apptest.Response {
	out := make([]*apptest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// TestConcurrent_CreateSameUsernameOnlyOneWins: the UNIQUE index, not a check
// before the insert, decides who gets the name.
func TestConcurrent_CreateSameUsernameOnlyOneWins(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	body := userBody(t, env, "zhaolei")
	rs := race(20, func(i int) *apptest.Response {
		return admin.Do("POST", "/users", with(body, "name", fmt.Sprintf("赵磊%d", i)))
	})
	created := 0
	for _, r := range rs {
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
			if e := r.Error(t); e.Fields["username"].Code != "username.taken" {
				t.Errorf("loser got %s, want username.taken", r)
			}
		default:
			t.Errorf("unexpected answer %s", r)
		}
	}
	if created != 1 {
		t.Errorf("%d creates succeeded, want exactly 1", created)
	}
	if n := count(t, env, `SELECT count(*) FROM app_user WHERE username = 'zhaolei'`); n != 1 {
		t.Errorf("%d rows with the username, want 1", n)
	}
	if n := env.AuditCount("create", "user"); n != 1 {
		t.Errorf("%d create audit rows, want 1", n)
	}
}

// TestConcurrent_UpdateSameVersionOnlyOneWins: optimistic concurrency through the
// conditional UPDATE … WHERE version = ?.
func TestConcurrent_UpdateSameVersionOnlyOneWins(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	id := env.UserID("sales")
	u := getUser(t, admin, id)
	rs := race(10, func(i int) *apptest.Response {
		return admin.Do("PUT", fmt.Sprintf("/users/%d", id), map[string]any{"name": fmt.Sprintf("编辑%d", i), "roleId": u.RoleID,
			"storeId": u.StoreID, "departmentId": u.DepartmentID, "version": u.Version})
	})
	winner := ""
	for _, r := range rs {
		switch r.Status {
		case http.StatusOK:
			if winner != "" {
				t.Errorf("a second update succeeded: %s", r)
			}
			var got org.User
			r.JSON(t, &got)
			winner = got.Name
		case http.StatusConflict:
			if r.Error(t).Code != "conflict.stale" {
				t.Errorf("loser got %s, want conflict.stale", r)
			}
		default:
			t.Errorf("unexpected answer %s", r)
		}
	}
	now := getUser(t, admin, id)
	if winner == "" || now.Name != winner || now.Version != u.Version+1 {
		t.Errorf("stored %s v%d, winner %q; want the winner's name at v%d", now.Name, now.Version, winner, u.Version+1)
	}
	if n := env.AuditCount("update", "user"); n != 1 {
		t.Errorf("%d update audit rows, want 1", n)
	}
}

// TestConcurrent_AdminsDisablingEachOtherLeaveOneActive: two admins disabling
// each other at the same moment must not leave the installation without one.
func TestConcurrent_AdminsDisablingEachOtherLeaveOneActive(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	admin.Do("POST", "/users", map[string]any{"username": "admin2", "name": "管理员二", "roleId": env.RoleID("admin"), "storeId": 1, "password": "Second#2026"}).
		Expect(t, http.StatusCreated)
	second := signInNew(t, env, "admin2", "Second#2026")
	ids := []int64{env.UserID("admin2"), env.UserID("admin")}
	clients := []*apptest.Client{admin, second}
	rs := race(2, func(i int) *apptest.Response {
		return clients[i].Do("POST", fmt.Sprintf("/users/%d/disable", ids[i]), nil)
	})
	ok := 0
	for _, r := range rs {
		switch {
		case r.Status == http.StatusOK:
			ok++
		case r.Status == http.StatusConflict && r.Error(t).Code == "user.last_admin",
			r.Status == http.StatusUnauthorized: // the other was faster and ended this session
		default:
			t.Errorf("unexpected answer %s", r)
		}
	}
	if ok != 1 {
		t.Errorf("%d disables succeeded, want 1", ok)
	}
	if n := count(t, env, `SELECT count(*) FROM app_user u JOIN role r ON r.id = u.role_id WHERE r.code = 'admin' AND u.status = 'active'`); n != 1 {
		t.Errorf("%d active admins left, want 1", n)
	}
}
