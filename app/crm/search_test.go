package crm_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/findex"
)

// searchFor polls the global search until want(ids) holds: the index follows
// changes through the outbox worker, a moment after the commit.
func searchFor(t *testing.T, c *apptest.Client, q string, want func(map[int64]bool) bool) map[int64]bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var res findex.Result
		c.Do("GET", "/search?q="+url.QueryEscape(q), nil).Expect(t, http.StatusOK).JSON(t, &res)
		got := map[int64]bool{}
		for _, h := range res.Items {
			if h.Kind == "customer" {
				got[h.EntityID] = true
			}
		}
		if want(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %q: got %v", q, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSearch_FollowsChangesAndRespectsScope(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	mine := postLead(t, s, map[string]any{"phone": "13866661234", "channel": "phone", "assign": "me", "name": "张三丰", "tags": []string{"二胎家庭"}})
	theirs := postLead(t, env.As("sales_HZ012"), map[string]any{"phone": "13877775678", "channel": "phone", "assign": "me", "name": "张无忌"})
	only := func(id int64) func(map[int64]bool) bool {
		return func(m map[int64]bool) bool { return len(m) == 1 && m[id] }
	}
	searchFor(t, s, "张", only(mine.CustomerID)) // a single-character surname; only one's own customers
	searchFor(t, s, "1234", only(mine.CustomerID))
	searchFor(t, s, "zsf", only(mine.CustomerID)) // pinyin initials
	searchFor(t, s, "二胎", only(mine.CustomerID))
	mgr := env.As("sales_manager")
	searchFor(t, mgr, "张", func(m map[int64]bool) bool { return m[mine.CustomerID] && m[theirs.CustomerID] })
	searchFor(t, env.As("sales_NB011"), "张", func(m map[int64]bool) bool { return len(m) == 0 })
	// A rename is found under the new name.
	var c struct {
		Version int64 `json:"version"`
	}
	s.Do("GET", fmt.Sprintf("/customers/%d", mine.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &c)
	s.Do("PUT", fmt.Sprintf("/customers/%d", mine.CustomerID), map[string]any{"name": "李四光", "grade": "A", "version": c.Version}).Expect(t, http.StatusOK)
	searchFor(t, s, "李四光", only(mine.CustomerID))
	searchFor(t, s, "张三丰", func(m map[int64]bool) bool { return len(m) == 0 })
	// A reassignment moves it out of the old owner's results.
	mgr.Do("POST", fmt.Sprintf("/customers/%d/assign", mine.CustomerID), map[string]any{"ownerId": env.UserID("sales_HZ013")}).Expect(t, http.StatusOK)
	searchFor(t, s, "李四光", func(m map[int64]bool) bool { return len(m) == 0 })
	searchFor(t, env.As("sales_HZ013"), "李", only(mine.CustomerID))
}
