package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/sheet"
)

// exportMax bounds one export.
const exportMax = 200000

// Export streams the filtered stock list as .xlsx: VINs as text, money in yuan,
// the cost column only for actors with cost.read. Every export is audited with its
// filter and whether cost was included.
func (s *Service) Export(ctx context.Context, a auth.Actor, f ListFilter, w http.ResponseWriter) error {
	if err := auth.Require(a, auth.PermVehicleRead); err != nil {
		return err
	}
	f.Limit, f.Cursor, f.Count = 200, "", false
	if err := f.Validate(); err != nil {
		return err
	}
	withCost := a.Has(auth.PermCostRead)
	tr := func(key string) string {
		if s.text == nil {
			return key
		}
		return s.text(a.Locale, key)
	}
	cols := []sheet.Col{
		{Header: "VIN", Text: true, Width: 20},
		{Header: tr("stock.field.brand"), Width: 10},
		{Header: tr("stock.field.series"), Width: 12},
		{Header: tr("stock.field.model"), Width: 24},
		{Header: tr("stock.field.color"), Width: 8},
		{Header: tr("stock.field.status"), Width: 8},
		{Header: tr("stock.field.location"), Width: 10},
		{Header: tr("stock.field.arrivalAt"), Kind: sheet.KindDate, Width: 12},
		{Header: tr("stock.field.daysInStock"), Kind: sheet.KindInt, Width: 8},
		{Header: tr("stock.field.msrp"), Kind: sheet.KindMoney, Width: 12},
	}
	if withCost {
		cols = append(cols, sheet.Col{Header: tr("stock.field.cost"), Kind: sheet.KindMoney, Width: 12})
	}
	cols = append(cols, sheet.Col{Header: tr("stock.field.reservedCustomer"), Width: 10}, sheet.Col{Header: tr("stock.field.store"), Width: 16})
	if err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "export", Entity: "vehicle", StoreID: a.StoreID,
			After: map[string]any{"filter": f, "cost": withCost}})
	}); err != nil {
		return err
	}
	loc := time.FixedZone("CST", 8*3600)
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		loc = l
	}
	stamp := s.clock.Now().In(loc).Format("20060102-1504")
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vehicles-%s.xlsx"; filename*=UTF-8''%s`,
		stamp, url.PathEscape(tr("stock.exportSheet")+"-"+stamp+".xlsx")))
	xw, err := sheet.NewWriter(w, tr("stock.exportSheet"), cols, sheet.WithLocation(loc))
	if err != nil {
		return err
	}
	rows := 0
	for rows < exportMax {
		page, err := s.ListVehicles(ctx, a, f)
		if err != nil {
			return err
		}
		for _, v := range page.Items {
			var arrival, days, cost any
			if v.ArrivalAt != nil {
				arrival = *v.ArrivalAt
			}
			if v.DaysInStock != nil {
				days = *v.DaysInStock
			}
			vals := []any{v.VIN, v.BrandName, v.SeriesName, v.ModelName, v.Color, tr("stock.status." + v.Status), v.Location, arrival, days, v.MSRP}
			if withCost {
				if v.Cost != nil {
					cost = *v.Cost
				}
				vals = append(vals, cost)
			}
			vals = append(vals, v.ReservedCustomerName, v.StoreName)
			if err := xw.Write(vals...); err != nil {
				return err
			}
			rows++
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if err := xw.Close(); err != nil {
		return err
	}
	s.log.Info("vehicle export", "user_id", a.UserID, "rows", rows, "cost", withCost)
	return nil
}
