package crm

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/sheet"
)

// exportMax bounds one export (Excel's own limit is about a million rows).
const exportMax = 200000

// exportPage is how many rows one read of the export takes (keyset, no OFFSET).
const exportPage = 2000

// Export streams the filtered customer list as .xlsx. Phones and ID numbers
// stay masked unless the actor may reveal them; every export is audited with
// its filter, row count and whether full numbers were included.
func (s *Service) Export(ctx context.Context, a auth.Actor, f ListFilter, w http.ResponseWriter) error {
	if err := auth.Require(a, auth.PermCustomerExport); err != nil {
		return err
	}
	f.Limit, f.Cursor, f.Count = 200, "", false
	if err := f.Validate(); err != nil {
		return err
	}
	full := a.Has(auth.PermPIReveal)
	tr := func(key string) string {
		if s.text == nil {
			return key
		}
		return s.text(a.Locale, key)
	}
	cols := []sheet.Col{
		{Header: "ID", Kind: sheet.KindInt, Width: 9},
		{Header: tr("crm.field.name"), Width: 12},
		{Header: tr("crm.field.phone"), Text: true, Width: 16},
		{Header: tr("crm.field.grade"), Width: 6},
		{Header: tr("crm.field.stage"), Width: 8},
		{Header: tr("crm.field.status"), Width: 8},
		{Header: tr("crm.field.channel"), Width: 10},
		{Header: tr("crm.field.series"), Width: 14},
		{Header: tr("crm.field.owner"), Width: 10},
		{Header: tr("crm.field.region"), Width: 18},
		{Header: tr("crm.field.tags"), Width: 20},
		{Header: tr("crm.field.nextFollowupAt"), Kind: sheet.KindDateTime, Width: 18},
		{Header: tr("crm.field.lastContactAt"), Kind: sheet.KindDateTime, Width: 18},
		{Header: tr("crm.field.createdAt"), Kind: sheet.KindDateTime, Width: 18},
		{Header: tr("crm.field.store"), Width: 20},
	}
	// Audit first: the record exists even if the download is cut off.
	if err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "export", Entity: "customer", StoreID: a.StoreID,
			After: map[string]any{"filter": f, "fullPhones": full}})
	}); err != nil {
		return err
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	stamp := s.clock.Now().In(loc).Format("20060102-1504")
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	// An ASCII name for old clients, the user's language for the rest (RFC 6266).
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="customers-%s.xlsx"; filename*=UTF-8''%s`,
		stamp, url.PathEscape(tr("crm.exportSheet")+"-"+stamp+".xlsx")))
	xw, err := sheet.NewWriter(w, tr("crm.exportSheet"), cols, sheet.WithLocation(loc))
	if err != nil {
		return err
	}
	rows := 0
	cursor := ""
	for rows < exportMax {
		f.Cursor = cursor
		page, err := s.list(ctx, f, scopeOf(a))
		if err != nil {
			return err
		}
		phones := map[int64]string{}
		if full && len(page.Items) > 0 {
			ids := make([]int64, len(page.Items))
			for i, c := range page.Items {
				ids[i] = c.ID
			}
			in, args := inArgs(ids)
			q, qa, _ := sq.Select("id", "phone").From("customer").Where(sq.Expr("id IN "+in, args...)).ToSql()
			rs, err := s.db.R.QueryContext(ctx, q, qa...)
			if err != nil {
				return err
			}
			for rs.Next() {
				var id int64
				var p string
				if err := rs.Scan(&id, &p); err != nil {
					rs.Close()
					return err
				}
				phones[id] = p
			}
			rs.Close()
		}
		for _, c := range page.Items {
			phone := c.Phone
			if full {
				phone = phones[c.ID]
			}
			var series string
			if c.SeriesName != "" {
				series = c.SeriesName
			}
			if err := xw.Write(c.ID, c.Name, phone, c.Grade, tr("crm.stage."+c.Stage), tr("crm.status."+c.Status), tr("crm.channel."+c.Channel),
				series, c.OwnerName, c.Region, strings.Join(c.Tags, "、"), c.NextFollowupAt, c.LastContactAt, c.CreatedAt, c.StoreName); err != nil {
				return err
			}
			rows++
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if err := xw.Close(); err != nil {
		return err
	}
	s.log.Info("customer export", "user_id", a.UserID, "rows", rows, "full_phones", full)
	return nil
}
