package demo

import (
	"context"
	"time"

	"dealerdesk/app/db"
)

func fillSOP(ctx context.Context, d *db.DB, now time.Time) error {
	return nil // TODO: demo data
}
