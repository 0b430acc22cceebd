package demo

import (
	"context"
	"time"

	"dealerdesk/app/db"
)

func fillTradeIns(ctx context.Context, d *db.DB, now time.Time) error {
	return nil // TODO: demo data
}
