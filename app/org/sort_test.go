package org_test

import (
	"net/url"
	"strings"
	"testing"

	"dealerdesk/app/apptest"
)

// TestListUsers_SortedKeysetPagingVisitsEveryUserOnce pages through all users by
// name and by username in small pages: every user appears exactly once and the
// order holds across page boundaries (where an OFFSET-free cursor must seek).
func TestListUsers_SortedKeysetPagingVisitsEveryUserOnce(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	admin := env.As("admin")
	var total int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM app_user`).Scan(&total)
	for _, sort := range []string{"name", "username", "id"} {
		seen := map[int64]bool{}
		var prevKey string
		var prevID int64
		cursor := ""
		for pages := 0; pages < 100; pages++ {
			var page struct {
				Items []struct {
					ID       int64
					Name     string
					Username string
				}
				Next string
			}
			admin.Do("GET", "/users?limit=7&sort="+sort+"&cursor="+url.QueryEscape(cursor), nil).Expect(t, 200).JSON(t, &page)
			for _, u := range page.Items {
				if seen[u.ID] {
					t.Fatalf("sort %s: user %d returned twice", sort, u.ID)
				}
				seen[u.ID] = true
				// usernames are COLLATE NOCASE: "Li" and "li" are the same sign-in name
				key := map[string]string{"name": u.Name, "username": strings.ToLower(u.Username), "id": ""}[sort]
				if key < prevKey || (key == prevKey && u.ID < prevID) {
					t.Fatalf("sort %s: %q/%d came after %q/%d", sort, key, u.ID, prevKey, prevID)
				}
				prevKey, prevID = key, u.ID
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if len(seen) != total {
			t.Fatalf("sort %s: saw %d of %d users", sort, len(seen), total)
		}
	}
	if r := admin.Do("GET", "/users?sort=password_hash", nil); r.Status != 400 || r.Error(t).Fields["sort"].Code != "invalid_format" {
		t.Fatalf("unknown sort accepted: %s", r.Body)
	}
}
