package auth_test

import (
	"context"
	"testing"
	"time"

	"dealerdesk/app/apptest"
)

// TestPurgeExpired_RemovesOnlyDeadSessions: the scheduled purge deletes sessions
// past their idle timeout and keeps live ones, which still work afterwards.
func TestPurgeExpired_RemovesOnlyDeadSessions(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	env.As("sales")
	env.As("gm")
	env.Clock.Advance(20 * time.Minute)
	live := env.As("admin")
	env.Clock.Advance(15 * time.Minute) // sales and gm idle 35 min, admin 15 min
	count := func() (n int) {
		env.App.DB.R.QueryRow(`SELECT count(*) FROM session`).Scan(&n)
		return
	}
	if count() != 3 {
		t.Fatalf("want 3 sessions before the purge, have %d", count())
	}
	n, err := env.App.Auth.PurgeExpired(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || count() != 1 {
		t.Fatalf("purged %d, %d left; want 2 purged, 1 left", n, count())
	}
	live.Do("GET", "/auth/me", nil).Expect(t, 200)
	if jobs := env.App.Auth.Jobs(); len(jobs) != 1 || jobs[0].Every <= 0 || jobs[0].Run == nil {
		t.Fatalf("purge job not offered to the scheduler: %+v", jobs)
	}
}
