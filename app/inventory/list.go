package inventory

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/pii"
)

// ListFilter selects vehicles for the stock list (every filter and sort has its
// index in 0011_vehicle_stock.sql).
type ListFilter struct {
	StoreID  int64    `json:"storeId" query:"storeId"`
	Statuses []string `json:"status" query:"status"` // comma list in the query string
	ModelID  int64    `json:"modelId" query:"modelId"`
	SeriesID int64    `json:"seriesId" query:"seriesId"`
	BrandID  int64    `json:"brandId" query:"brandId"`
	Color    string   `json:"color" query:"color"`
	Age      string   `json:"age" query:"age"`     // normal | warn | alarm: cars in stock or reserved, by the store's thresholds
	VIN      string   `json:"vin" query:"vin"`     // the last 6–17 characters
	Q        string   `json:"q" query:"q"`         // a VIN suffix (6–17 letters/digits with a digit) or model/colour/location text
	Sort     string   `json:"sort" query:"sort"`   // created (default) | age | arrival | msrp
	Order    string   `json:"order" query:"order"` // asc | desc: flips the sort's own direction
	Cursor   string   `json:"cursor" query:"cursor"`
	Limit    int      `json:"limit" query:"limit"`
	Count    bool     `json:"count" query:"count"`

	vinRev string // reversed VIN suffix, when searching by one
	text   string // free text, when q is not a VIN suffix
}

// VehicleList is a page of vehicles; Total is counted only on request, capped.
type VehicleList struct {
	Items       []Vehicle `json:"items"`
	Next        string    `json:"next"`
	Total       *int      `json:"total,omitempty"`
	TotalCapped bool      `json:"totalCapped,omitempty"`
}

const countCap = 10000

// sorts: the column and its natural direction ("age": most days in stock first
// is the oldest arrival first).
var sorts = map[string]struct {
	col  string
	desc bool
}{
	"created": {"v.id", true},
	"age":     {"v.arrival_at", false},
	"arrival": {"v.arrival_at", true},
	"msrp":    {"v.msrp", true},
}

// vinFragment returns s normalized when it looks like the end of a VIN: 6–17 VIN
// characters, at least one a digit (so a model name such as "GL8豪华" is text).
func vinFragment(s string) (string, bool) {
	v := pii.NormalizeVIN(s)
	if len(v) < 6 || len(v) > 17 {
		return "", false
	}
	digit := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' && c != 'Q':
		default:
			return "", false
		}
	}
	return v, digit
}

// Validate checks and completes the filter.
func (f *ListFilter) Validate() error {
	e := apperr.Fields{}
	for _, st := range f.Statuses {
		if !oneOf(st, Statuses) {
			e.Add("status", "invalid_format")
		}
	}
	if f.Age != "" && !oneOf(f.Age, []string{"normal", "warn", "alarm"}) {
		e.Add("age", "invalid_format")
	}
	if f.Sort == "" {
		f.Sort = "created"
	}
	if _, ok := sorts[f.Sort]; !ok {
		e.Add("sort", "invalid_format")
	}
	if f.Order != "" && f.Order != "asc" && f.Order != "desc" {
		e.Add("order", "invalid_format")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		e.Add("limit", "out_of_range", "min", 1, "max", 200)
	}
	f.Color, f.Q = strings.TrimSpace(f.Color), strings.TrimSpace(f.Q)
	limitText(e, "q", f.Q, 50)
	limitText(e, "color", f.Color, 30)
	f.vinRev, f.text = "", ""
	if f.VIN != "" {
		v, _ := vinFragment(f.VIN)
		if v == "" {
			e.Add("vin", "vehicle.vin_suffix")
		}
		f.vinRev = reverse(v)
	} else if v, ok := vinFragment(f.Q); ok {
		f.vinRev = reverse(v)
	} else {
		f.text = f.Q
	}
	return e.Err()
}

// desc reports the effective direction of the sort.
func (f ListFilter) desc() bool {
	d := sorts[f.Sort].desc
	switch f.Order {
	case "asc":
		return false
	case "desc":
		return true
	}
	return d
}

// where builds the conditions (scope first).
func (f ListFilter) where(scope sq.Sqlizer, now int64, th Settings) sq.And {
	w := sq.And{scope}
	if f.StoreID != 0 {
		w = append(w, sq.Eq{"v.store_id": f.StoreID})
	}
	if len(f.Statuses) > 0 {
		w = append(w, sq.Eq{"v.status": f.Statuses})
	}
	switch {
	case f.ModelID != 0:
		w = append(w, sq.Eq{"v.model_id": f.ModelID})
	case f.SeriesID != 0:
		w = append(w, sq.Expr("v.model_id IN (SELECT id FROM vehicle_model WHERE series_id = ?)", f.SeriesID))
	case f.BrandID != 0:
		w = append(w, sq.Expr("v.model_id IN (SELECT m2.id FROM vehicle_model m2 JOIN vehicle_series s2 ON s2.id = m2.series_id WHERE s2.brand_id = ?)", f.BrandID))
	}
	if f.Color != "" {
		// Colours are few per model; the list's own index walk filters them.
		w = append(w, sq.Eq{"v.color": f.Color})
	}
	if f.Age != "" {
		warn, alarm := now-int64(th.WarnDays)*day, now-int64(th.AlarmDays)*day
		w = append(w, sq.Eq{"v.status": []string{StatusInStock, StatusReserved}}, sq.Expr("v.arrival_at IS NOT NULL"))
		switch f.Age {
		case "alarm":
			w = append(w, sq.LtOrEq{"v.arrival_at": alarm})
		case "warn":
			w = append(w, sq.LtOrEq{"v.arrival_at": warn}, sq.Gt{"v.arrival_at": alarm})
		default:
			w = append(w, sq.Gt{"v.arrival_at": warn})
		}
	}
	if f.text != "" {
		like := "%" + escapeLike(f.text) + "%"
		w = append(w, sq.Expr(`(v.model_id IN (SELECT m3.id FROM vehicle_model m3 JOIN vehicle_series s3 ON s3.id = m3.series_id JOIN vehicle_brand b3 ON b3.id = s3.brand_id
			WHERE m3.name LIKE ? ESCAPE '\' OR s3.name LIKE ? ESCAPE '\' OR b3.name LIKE ? ESCAPE '\') OR v.color LIKE ? ESCAPE '\' OR v.location LIKE ? ESCAPE '\')`,
			like, like, like, like, like))
	}
	if f.Sort == "age" || f.Sort == "arrival" {
		w = append(w, sq.Expr("v.arrival_at IS NOT NULL"))
	}
	return w
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// from is the list's FROM. A VIN suffix matches a handful of cars group-wide:
// the query starts from them (a range on vin_rev; CROSS JOIN keeps that loop
// outermost) instead of walking the store's index and testing every car.
func (f ListFilter) from(q sq.SelectBuilder) sq.SelectBuilder {
	joins := vehicleJoins
	if f.vinRev == "" {
		return q.From("vehicle v" + joins)
	}
	sub := sq.Select("id").From("vehicle").Where("vin_rev >= ? AND vin_rev < ?", f.vinRev, f.vinRev+"~")
	return q.FromSelect(sub, "vr").JoinClause("CROSS JOIN vehicle v ON v.id = vr.id" + joins)
}

// ListVehicles returns a page of the stock the actor may read.
func (s *Service) ListVehicles(ctx context.Context, a auth.Actor, f ListFilter) (VehicleList, error) {
	out := VehicleList{Items: []Vehicle{}}
	if err := auth.Require(a, auth.PermVehicleRead); err != nil {
		return out, err
	}
	if err := f.Validate(); err != nil {
		return out, err
	}
	now := s.now()
	thStore := f.StoreID
	if thStore == 0 {
		thStore = a.StoreID
	}
	th, err := LoadSettings(ctx, s.db.R, thStore)
	if err != nil {
		return out, err
	}
	w := f.where(vehicleScope(a, auth.PermVehicleRead), now, th)
	srt := sorts[f.Sort]
	desc := f.desc()
	q := f.from(sq.Select(vehicleCols)).Where(w)
	if f.Cursor != "" {
		c, err := api.ParseCursor(f.Cursor)
		if err != nil {
			return out, err
		}
		op := ">"
		if desc {
			op = "<"
		}
		if f.Sort == "created" {
			q = q.Where("v.id "+op+" ?", c.ID)
		} else {
			n, err := strconv.ParseInt(c.Sort, 10, 64)
			if err != nil {
				return out, apperr.Field("cursor", "invalid_format")
			}
			// A row value: the index seeks straight to the cursor.
			q = q.Where(fmt.Sprintf("(%s, v.id) %s (?, ?)", srt.col, op), n, c.ID)
		}
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	order := []string{srt.col + " " + dir}
	if f.Sort != "created" {
		order = append(order, "v.id "+dir)
	}
	query, args, err := q.OrderBy(order...).Limit(uint64(f.Limit + 1)).ToSql()
	if err != nil {
		return out, err
	}
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("inventory: list vehicles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanVehicle(rows)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, v)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows.Close()
	if len(out.Items) > f.Limit {
		last := out.Items[f.Limit-1]
		out.Items = out.Items[:f.Limit]
		out.Next = api.Cursor{Sort: sortValue(f.Sort, last), ID: last.ID}.Encode()
	}
	ths := map[int64]Settings{thStore: th}
	cost := a.Has(auth.PermCostRead)
	for i := range out.Items {
		v := &out.Items[i]
		t, ok := ths[v.StoreID]
		if !ok {
			if t, err = LoadSettings(ctx, s.db.R, v.StoreID); err != nil {
				return out, err
			}
			ths[v.StoreID] = t
		}
		v.finish(now, t, cost)
	}
	if f.Count {
		cq, cargs, err := sq.Select("count(*)").FromSelect(f.from(sq.Select("1")).Where(w).Limit(countCap+1), "x").ToSql()
		if err != nil {
			return out, err
		}
		var n int
		if err := s.db.R.QueryRowContext(ctx, cq, cargs...).Scan(&n); err != nil {
			return out, fmt.Errorf("inventory: count vehicles: %w", err)
		}
		if n > countCap {
			n, out.TotalCapped = countCap, true
		}
		out.Total = &n
	}
	return out, nil
}

func sortValue(sort string, v Vehicle) string {
	switch sort {
	case "age", "arrival":
		if v.ArrivalAt != nil {
			return strconv.FormatInt(*v.ArrivalAt, 10)
		}
	case "msrp":
		return strconv.FormatInt(v.MSRP, 10)
	}
	return ""
}
