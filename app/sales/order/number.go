package order

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dealerdesk/app/db"
)

// chinaTime is the calendar contract numbers and commission months follow.
var chinaTime = time.FixedZone("CST", 8*3600)

// period is the sequence period a format names: the day, month or year of
// signing, or "" for a running number.
func period(format string, t time.Time) string {
	t = t.In(chinaTime)
	switch {
	case strings.Contains(format, "{yyyymmdd}"):
		return t.Format("20060102")
	case strings.Contains(format, "{yyyymm}"):
		return t.Format("200601")
	case strings.Contains(format, "{yyyy}"):
		return t.Format("2006")
	}
	return ""
}

// formatNumber renders a contract number.
func formatNumber(format, storeCode string, t time.Time, seq int64) string {
	t = t.In(chinaTime)
	digits, err := checkFormat(format)
	if err != nil {
		digits = 4
	}
	out := tokenRE.ReplaceAllStringFunc(format, func(tok string) string {
		switch tok {
		case "{store}":
			return storeCode
		case "{yyyy}":
			return t.Format("2006")
		case "{yyyymm}":
			return t.Format("200601")
		case "{yyyymmdd}":
			return t.Format("20060102")
		}
		return fmt.Sprintf("%0*d", digits, seq)
	})
	return out
}

// nextNumber draws the next contract number of a store inside the order's
// transaction: the sequence row is bumped with one upsert (the writer's
// BEGIN IMMEDIATE serialises concurrent orders), and a number already taken
// (after the format was changed back and forth) is skipped, so a number is
// never issued twice — not even after the order holding it was cancelled.
func nextNumber(ctx context.Context, q db.Querier, storeID int64, format string, now time.Time) (string, error) {
	var code string
	if err := q.QueryRowContext(ctx, `SELECT code FROM store WHERE id = ?`, storeID).Scan(&code); err != nil {
		return "", fmt.Errorf("order: store %d: %w", storeID, err)
	}
	p := period(format, now)
	for i := 0; i < 1000; i++ {
		var seq int64
		err := q.QueryRowContext(ctx, `INSERT INTO sales_order_seq (store_id, period, last) VALUES (?, ?, 1)
			ON CONFLICT (store_id, period) DO UPDATE SET last = last + 1 RETURNING last`, storeID, p).Scan(&seq)
		if err != nil {
			return "", fmt.Errorf("order: number sequence of store %d: %w", storeID, err)
		}
		no := formatNumber(format, code, now, seq)
		var taken int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sales_order WHERE contract_no = ?`, no).Scan(&taken); err != nil {
			return "", err
		}
		if taken == 0 {
			return no, nil
		}
	}
	return "", fmt.Errorf("order: no free contract number for store %d", storeID)
}
