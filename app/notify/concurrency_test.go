package notify_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"dealerdesk/app/apptest"
)

// TestConcurrent_SendDedup: 20 job runs racing to send the same reminder deliver
// it once; the partial UNIQUE index decides, not a Go lock.
func TestConcurrent_SendDedup(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	uid := env.UserID("sales")
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	errs := make(chan error, 20)
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
				n, err := env.App.Notify.Send(context.Background(), tx, msg(uid, "lead.sla_overdue", "sla:42:first_contact:1:1"))
				mu.Lock()
				total += n
				mu.Unlock()
				return err
			})
			env.App.Notify.Wake()
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != 1 {
		t.Fatalf("%d sends reported new, want 1", total)
	}
	if got := unread(t, env.As("sales")); got != 1 {
		t.Fatalf("%d rows for one dedup key", got)
	}
}
