package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"dealerdesk/app/api"
	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
)

// skipInMatrix are routes whose effect on the caller's own session would stop the
// walk (tested on their own in the auth tests), and the notification stream, which
// never ends by itself (tested in app/notify).
var skipInMatrix = map[string]bool{"POST /auth/logout": true, "POST /auth/logout-all": true, "GET /notifications/stream": true}

// TestPermissionMatrix_EveryRoleEveryRoute signs in as each default role and calls
// every route. A role without the route's permission gets exactly 403 forbidden; a
// role with it never gets 401/403 (except where the route also needs group scope).
func TestPermissionMatrix_EveryRoleEveryRoute(t *testing.T) {
	t.Parallel()
	for _, role := range auth.DefaultRoles {
		t.Run(role.Code, func(t *testing.T) {
			t.Parallel()
			env := apptest.New(t)
			env.Demo()
			perms := map[string]bool{}
			for _, p := range role.Perms {
				perms[p] = true
			}
			c := env.As(role.Code)
			victim := env.UserID("sales_HZ012") // a consultant of store 1, not the caller
			for _, rt := range env.App.Server.Routes {
				key := rt.Method + " " + rt.Path
				if rt.Perm == api.Public || skipInMatrix[key] || rt.Multipart {
					continue
				}
				path := strings.NewReplacer(":id", fmt.Sprint(idFor(rt.Path, victim))).Replace(rt.Path)
				var body any
				if rt.Method != http.MethodGet {
					body = "{}"
				}
				r := c.Do(rt.Method, path, body)
				allowed := rt.Perm == api.SignedIn || perms[rt.Perm]
				switch {
				case !allowed && (r.Status != 403 || r.Error(t).Code != "forbidden"):
					t.Errorf("%s without %s: got %d %s, want 403 forbidden", key, rt.Perm, r.Status, r.Body)
				case allowed && r.Status == 401:
					t.Errorf("%s: allowed role got 401: %s", key, r.Body)
				case allowed && r.Status == 403 && !groupOnly(key, role.Scope) && !(key == "POST /auth/switch-store" && role.Scope != auth.ScopeGroup) &&
					!(key == "POST /users/:id/reveal-phone" && r.Error(t).Code == "reauth_required"):
					t.Errorf("%s: role %s holds %s but got 403: %s", key, role.Code, rt.Perm, r.Body)
				}
			}
		})
	}
}

// groupOnly lists routes that also require group scope.
func groupOnly(key string, s auth.Scope) bool {
	switch key {
	case "PUT /group", "POST /stores", "PUT /settings/security", "POST /audit/verify":
		return s != auth.ScopeGroup
	}
	return false
}

func idFor(path string, victim int64) int64 {
	switch {
	case strings.HasPrefix(path, "/users/"):
		return victim
	case strings.HasPrefix(path, "/departments/"):
		return 8 // store 1's marketing department: no members
	case strings.HasPrefix(path, "/roles/"):
		return 5
	}
	return 1
}

// TestDataScope_NoLeakAcrossStores: store-scope roles see and touch only their own
// store; another store's records answer 404 (their existence is not revealed), and
// lists never include them. Group admins see all.
func TestDataScope_NoLeakAcrossStores(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	other := env.UserID("sales_NB011") // a consultant of store 2
	own := env.UserID("sales_HZ012")   // a consultant of store 1
	for _, tc := range []struct {
		role                string
		ownUser, otherStore int
		listOnlyStore1      bool
	}{
		{"gm", 200, 404, true},
		{"sales_manager", 200, 404, true},
		{"hr", 200, 404, true},
		{"admin", 200, 200, false},
	} {
		c := env.As(tc.role)
		if r := c.Do("GET", fmt.Sprintf("/users/%d", own), nil); r.Status != tc.ownUser {
			t.Errorf("%s GET own-store user: %d", tc.role, r.Status)
		}
		r := c.Do("GET", fmt.Sprintf("/users/%d", other), nil)
		if r.Status != tc.otherStore {
			t.Errorf("%s GET other-store user: %d %s", tc.role, r.Status, r.Body)
		}
		if r := c.Do("GET", "/stores/2", nil); r.Status != tc.otherStore {
			t.Errorf("%s GET other store: %d", tc.role, r.Status)
		}
		var list struct {
			Items []struct{ StoreID int64 }
			Next  string
		}
		c.Do("GET", "/users?limit=200", nil).Expect(t, 200).JSON(t, &list)
		stores := map[int64]bool{}
		for _, u := range list.Items {
			stores[u.StoreID] = true
		}
		if tc.listOnlyStore1 && (len(stores) != 1 || !stores[1]) {
			t.Errorf("%s user list spans stores %v", tc.role, stores)
		}
		if !tc.listOnlyStore1 && len(stores) < 3 {
			t.Errorf("%s user list spans only stores %v", tc.role, stores)
		}
		var sl struct{ Items []struct{ ID int64 } }
		c.Do("GET", "/stores", nil).Expect(t, 200).JSON(t, &sl)
		if tc.listOnlyStore1 && (len(sl.Items) != 1 || sl.Items[0].ID != 1) {
			t.Errorf("%s store list %+v", tc.role, sl.Items)
		}
	}
	// A store-scope user manager cannot change another store's user, and nothing changes.
	hr := env.As("hr")
	r := hr.Do("PUT", fmt.Sprintf("/users/%d", other), map[string]any{"name": "改名", "roleId": 4, "storeId": 2, "version": 1})
	if r.Status != 404 {
		t.Fatalf("hr edit other-store user: %d %s", r.Status, r.Body)
	}
	hr.Do("POST", fmt.Sprintf("/users/%d/disable", other), "{}").Expect(t, 404)
	var name, status string
	env.App.DB.R.QueryRow(`SELECT name, status FROM app_user WHERE id = ?`, other).Scan(&name, &status)
	if name == "改名" || status != "active" {
		t.Fatalf("other store's user changed: %s %s", name, status)
	}
	// The audit log of a store-scope reader holds only its store's rows.
	var al struct{ Items []struct{ StoreID *int64 } }
	env.As("gm").Do("GET", "/audit?limit=200", nil).Expect(t, 200).JSON(t, &al)
	if len(al.Items) == 0 {
		t.Fatal("gm sees no audit rows at all")
	}
	for _, it := range al.Items {
		if it.StoreID == nil || *it.StoreID != 1 {
			t.Fatalf("gm sees an audit row of store %v", it.StoreID)
		}
	}
}
