package demo

import (
	"context"
	"time"

	"dealerdesk/app/db"
)

// FillSales adds the sales process on top of the customers and stock: SOP
// stages of the customers, test drives, trade-in appraisals, quotes, and orders from
// signed to delivered. Each part reads what the earlier ones made.
func FillSales(ctx context.Context, d *db.DB, now time.Time) error {
	for _, fill := range []func(context.Context, *db.DB, time.Time) error{fillSOP, fillTestDrives, fillTradeIns, fillQuotes, fillOrders} {
		if err := fill(ctx, d, now); err != nil {
			return err
		}
	}
	return nil
}
