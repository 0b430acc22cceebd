package demo_test

import (
	"context"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

func TestScratchAuditRowsSpeed(t *testing.T) {
	env := apptest.New(t)
	env.Demo()
	start := time.Now()
	n := 50000
	if err := demo.AuditRows(context.Background(), env.App.DB, n, 3, 70, env.Clock.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d rows in %v = %.0f rows/s", n, el, float64(n)/el.Seconds())
}
