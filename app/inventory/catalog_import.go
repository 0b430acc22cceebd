package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/sheet"
)

// catalogFields are the columns of a catalogue sheet (price lists as OEMs and
// dealers keep them).
var catalogFields = []sheet.Field{
	{Key: "brand", Aliases: []string{"品牌", "厂商", "brand"}},
	{Key: "series", Aliases: []string{"车系", "系列", "series"}},
	{Key: "name", Aliases: []string{"车型/配置", "车型", "配置", "车型名称", "款型", "model", "trim"}},
	{Key: "year", Aliases: []string{"年款", "年型", "model year", "year"}},
	{Key: "code", Aliases: []string{"车型代码", "车型编码", "code"}},
	{Key: "msrp", Aliases: []string{"指导价", "厂商指导价", "零售价", "msrp"}},
	{Key: "energy", Aliases: []string{"能源类型", "能源", "动力类型", "energy"}},
	{Key: "colors", Aliases: []string{"颜色", "车身颜色", "外观颜色", "colors"}},
	{Key: "body", Aliases: []string{"车身", "车身类型", "车身形式", "级别", "body"}},
}

// energyOf reads an energy type cell: a code or its Chinese name.
func energyOf(v string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "ice", "汽油", "燃油", "柴油", "汽油车":
		return "ice", true
	case "hev", "混动", "油电混动", "油电混合", "混合动力":
		return "hev", true
	case "phev", "插混", "插电混动", "插电式混合动力":
		return "phev", true
	case "bev", "ev", "纯电", "纯电动":
		return "bev", true
	case "erev", "增程", "增程式", "增程式电动":
		return "erev", true
	}
	return "", false
}

// parseFen reads an amount in yuan as price lists write it (185,000.00,
// ¥185000, 18.58万) and returns fen, with integer arithmetic only: a price is
// never rounded through a float. More decimals than fen is a bad price.
func parseFen(v string) (int64, bool) {
	v = strings.NewReplacer(",", "", "，", "", "¥", "", "￥", "", "元", "", " ", "").Replace(strings.TrimSpace(v))
	scale := 2 // decimal digits of a fen in the unit written
	if strings.HasSuffix(v, "万") {
		v, scale = strings.TrimSuffix(v, "万"), 6
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" && frac == "" || len(whole) > 10 || len(frac) > scale || !digits(whole) || !digits(frac) {
		return 0, false
	}
	frac += strings.Repeat("0", scale-len(frac))
	var n int64
	for _, r := range whole + frac {
		n = n*10 + int64(r-'0')
	}
	if n > maxAmount {
		return 0, false
	}
	return n, true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// splitColors reads a colour list cell: names separated by commas, 、 or semicolons.
func splitColors(v string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(",，、;；/\n", r) }) {
		if x = strings.TrimSpace(x); x != "" && !seen[x] {
			out = append(out, x)
			seen[x] = true
		}
	}
	return out
}

// CatalogImportRow is the outcome of one sheet row.
type CatalogImportRow struct {
	Row     int    `json:"row"`
	Result  string `json:"result"` // created | updated | rejected
	Code    string `json:"code,omitempty"`
	ModelID int64  `json:"modelId,omitempty"`
}

// CatalogImportResult counts and lists the rows' outcomes.
type CatalogImportResult struct {
	Created  int                `json:"created"`
	Updated  int                `json:"updated"`
	Rejected int                `json:"rejected"`
	Rows     []CatalogImportRow `json:"rows"`
}

type catalogRow struct {
	out                 CatalogImportRow
	brand, series, body string
	model               ModelInput
	hasMSRP, hasEnergy  bool
	colors              []string
}

func (s *Service) hCatalogImportPreview(c echo.Context) error {
	return previewUpload(c, suggestCatalog)
}

func suggestCatalog(headers []string) map[string]int {
	out := map[string]int{}
	for col, key := range sheet.SuggestMapping(headers, catalogFields) {
		out[key] = col
	}
	return out
}

func (s *Service) hCatalogImport(c echo.Context) error {
	a := api.Actor(c)
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return err
	}
	r, err := readUpload(c)
	if err != nil {
		return err
	}
	defer r.Close()
	mapping := suggestCatalog(r.Header())
	if m := c.FormValue("mapping"); m != "" {
		mapping = map[string]int{}
		if err := json.Unmarshal([]byte(m), &mapping); err != nil {
			return apperr.Field("mapping", "invalid_format")
		}
		for k, col := range mapping {
			known := false
			for _, f := range catalogFields {
				known = known || f.Key == k
			}
			if !known || col < 0 || col >= len(r.Header()) {
				return apperr.Field("mapping", "invalid_format")
			}
		}
	}
	for _, k := range []string{"brand", "series", "name"} {
		if _, ok := mapping[k]; !ok {
			return apperr.Field("mapping", "catalog.import_columns")
		}
	}
	var rows []sheetRow
	for {
		num, cells, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rows = append(rows, sheetRow{num: num, cells: cells})
	}
	out, err := s.ImportCatalog(c.Request().Context(), a, mapping, rows)
	return ok(c, http.StatusOK, out, err)
}

// ImportCatalog creates or updates catalogue models from a sheet's rows: missing
// brands and series are created; a model is matched by its code when the row
// gives one (else by series + year + name) and updated, or created; a colour
// list in the row replaces the model's colours (surcharges of kept names stay).
// One transaction per 500 rows; each change is audited in it.
func (s *Service) ImportCatalog(ctx context.Context, a auth.Actor, mapping map[string]int, rows []sheetRow) (CatalogImportResult, error) {
	res := CatalogImportResult{Rows: []CatalogImportRow{}}
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return res, err
	}
	if len(rows) == 0 {
		return res, apperr.Field("file", "vehicle.import_no_rows")
	}
	cell := func(cells []string, key string) string {
		if col, ok := mapping[key]; ok && col < len(cells) {
			return strings.TrimSpace(cells[col])
		}
		return ""
	}
	seen := map[string]bool{}
	var todo []catalogRow
	for _, r := range rows {
		cr := catalogRow{out: CatalogImportRow{Row: r.num}, brand: cell(r.cells, "brand"), series: cell(r.cells, "series"), body: cell(r.cells, "body"),
			colors: splitColors(cell(r.cells, "colors"))}
		reject := func(code string) {
			cr.out.Result, cr.out.Code = "rejected", code
			res.Rows = append(res.Rows, cr.out)
			res.Rejected++
		}
		m := &cr.model
		m.Name, m.Code = cell(r.cells, "name"), strings.ToUpper(cell(r.cells, "code"))
		year, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(cell(r.cells, "year"), "款")), "年"))
		m.ModelYear = year
		switch {
		case cr.brand == "":
			reject("catalog.import_brand_missing")
			continue
		case cr.series == "":
			reject("catalog.import_series_missing")
			continue
		case m.Name == "":
			reject("catalog.import_name_missing")
			continue
		case err != nil || year < 1990 || year > 2100:
			reject("catalog.import_year")
			continue
		}
		if v := cell(r.cells, "msrp"); v != "" {
			fen, ok := parseFen(v)
			if !ok {
				reject("catalog.import_price")
				continue
			}
			m.MSRP, cr.hasMSRP = &fen, true
		} else {
			zero := int64(0)
			m.MSRP = &zero // only used when the row updates (a new model needs a price: checked below)
		}
		if v := cell(r.cells, "energy"); v != "" {
			e, ok := energyOf(v)
			if !ok {
				reject("catalog.energy_type_unknown")
				continue
			}
			m.EnergyType, cr.hasEnergy = e, true
		} else {
			m.EnergyType = "ice"
		}
		f := apperr.Fields{}
		limitText(f, "brand", cr.brand, maxBrandName)
		limitText(f, "series", cr.series, maxSeriesName)
		limitText(f, "body", cr.body, maxBodyType)
		limitText(f, "name", m.Name, maxModelName)
		limitText(f, "code", m.Code, maxModelCode)
		for _, c := range cr.colors {
			limitText(f, "colors", c, maxColorName)
		}
		if len(f) > 0 {
			reject("catalog.import_too_long")
			continue
		}
		key := "n:" + foldKey(cr.brand+"\x00"+cr.series+"\x00"+strconv.Itoa(year)+"\x00"+m.Name)
		if seen[key] || (m.Code != "" && seen["c:"+m.Code]) {
			reject("catalog.duplicate_in_file")
			continue
		}
		seen[key], seen["c:"+m.Code] = true, m.Code != ""
		todo = append(todo, cr)
	}
	for start := 0; start < len(todo); start += importBatch {
		batch := todo[start:min(start+importBatch, len(todo))]
		var done []CatalogImportRow
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			done = done[:0]
			for _, cr := range batch {
				row, err := s.importCatalogRow(ctx, tx, a, cr)
				if err != nil {
					return err
				}
				done = append(done, row)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		for _, row := range done {
			switch row.Result {
			case "created":
				res.Created++
			case "updated":
				res.Updated++
			default:
				res.Rejected++
			}
			res.Rows = append(res.Rows, row)
		}
	}
	if err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return s.audit(ctx, tx, a, "import", "vehicle_model", 0, 0, nil, map[string]any{"created": res.Created, "updated": res.Updated, "rejected": res.Rejected})
	}); err != nil {
		return res, err
	}
	for i := 1; i < len(res.Rows); i++ {
		for j := i; j > 0 && res.Rows[j].Row < res.Rows[j-1].Row; j-- {
			res.Rows[j], res.Rows[j-1] = res.Rows[j-1], res.Rows[j]
		}
	}
	s.afterCommit()
	return res, nil
}

// importCatalogRow writes one row inside the batch transaction. A row that
// breaks a rule the database keeps (a name or code taken) is rejected; SQLite
// undoes just that statement, the batch goes on.
func (s *Service) importCatalogRow(ctx context.Context, tx db.Querier, a auth.Actor, cr catalogRow) (CatalogImportRow, error) {
	out := cr.out
	reject := func(code string) (CatalogImportRow, error) {
		out.Result, out.Code = "rejected", code
		return out, nil
	}
	now := s.now()
	var brandID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM vehicle_brand WHERE name = ?`, cr.brand).Scan(&brandID)
	if errors.Is(err, sql.ErrNoRows) {
		if brandID, err = insertBrand(ctx, tx, cr.brand, true, now); err != nil {
			return out, err
		}
		if err := s.audit(ctx, tx, a, "create", "vehicle_brand", brandID, 0, nil, map[string]any{"name": cr.brand, "how": "import"}); err != nil {
			return out, err
		}
	} else if err != nil {
		return out, fmt.Errorf("inventory: import brand: %w", err)
	}
	var seriesID int64
	var body string
	err = tx.QueryRowContext(ctx, `SELECT id, body_type FROM vehicle_series WHERE brand_id = ? AND name = ?`, brandID, cr.series).Scan(&seriesID, &body)
	if errors.Is(err, sql.ErrNoRows) {
		if seriesID, err = insertSeries(ctx, tx, SeriesInput{BrandID: brandID, Name: cr.series, BodyType: cr.body}, now); err != nil {
			return out, err
		}
		if err := s.audit(ctx, tx, a, "create", "vehicle_series", seriesID, 0, nil, map[string]any{"brandId": brandID, "name": cr.series, "bodyType": cr.body, "how": "import"}); err != nil {
			return out, err
		}
	} else if err != nil {
		return out, fmt.Errorf("inventory: import series: %w", err)
	} else if cr.body != "" && cr.body != body {
		if _, err := tx.ExecContext(ctx, `UPDATE vehicle_series SET body_type = ?, version = version + 1, updated_at = ? WHERE id = ?`, cr.body, now, seriesID); err != nil {
			return out, fmt.Errorf("inventory: import series: %w", err)
		}
		if err := s.audit(ctx, tx, a, "update", "vehicle_series", seriesID, 0, map[string]any{"bodyType": body}, map[string]any{"bodyType": cr.body, "how": "import"}); err != nil {
			return out, err
		}
	}
	in := cr.model
	in.SeriesID = seriesID
	var id int64
	if in.Code != "" {
		err = tx.QueryRowContext(ctx, `SELECT id FROM vehicle_model WHERE code = ?`, in.Code).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, fmt.Errorf("inventory: import model: %w", err)
		}
	}
	if id == 0 {
		var code string
		err = tx.QueryRowContext(ctx, `SELECT id, code FROM vehicle_model WHERE series_id = ? AND model_year = ? AND name = ?`, seriesID, in.ModelYear, in.Name).Scan(&id, &code)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, fmt.Errorf("inventory: import model: %w", err)
		}
		if id != 0 && code != "" && in.Code != "" && code != in.Code {
			return reject("catalog.import_code_mismatch")
		}
	}
	if id == 0 {
		if !cr.hasMSRP {
			return reject("catalog.import_price")
		}
		if !cr.hasEnergy {
			return reject("catalog.energy_type_unknown")
		}
		if id, err = insertModel(ctx, tx, in, now); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return reject(apperr.As(err).Code)
			}
			return out, err
		}
		colors := make([]Color, len(cr.colors))
		for i, c := range cr.colors {
			colors[i] = Color{Name: c}
		}
		if err := replaceColors(ctx, tx, id, colors); err != nil {
			return out, err
		}
		after := modelAudit(Model{SeriesID: seriesID, Name: in.Name, ModelYear: in.ModelYear, Code: in.Code, MSRP: *in.MSRP, EnergyType: in.EnergyType, Active: true})
		after["colors"], after["how"] = cr.colors, "import"
		out.Result, out.ModelID = "created", id
		return out, s.audit(ctx, tx, a, "create", "vehicle_model", id, 0, nil, after)
	}
	cur, err := getModel(ctx, tx, a, id)
	if err != nil {
		return out, err
	}
	if !cr.hasMSRP {
		in.MSRP = &cur.MSRP
	}
	if !cr.hasEnergy {
		in.EnergyType = cur.EnergyType
	}
	if in.Code == "" {
		in.Code = cur.Code
	}
	in.Active, in.Version = &cur.Active, cur.Version
	out.ModelID = id
	changed := in.SeriesID != cur.SeriesID || in.Name != cur.Name || in.ModelYear != cur.ModelYear || in.Code != cur.Code || *in.MSRP != cur.MSRP || in.EnergyType != cur.EnergyType
	colorsChanged := len(cr.colors) > 0 && strings.Join(cr.colors, "\x00") != strings.Join(cur.Colors, "\x00")
	if changed || colorsChanged {
		if err := updateModelTx(ctx, tx, id, in, now); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return reject(apperr.As(err).Code)
			}
			return out, err
		}
	}
	if colorsChanged {
		surcharge := map[string]int64{}
		for _, c := range cur.ColorList {
			surcharge[c.Name] = c.Surcharge
		}
		colors := make([]Color, len(cr.colors))
		for i, c := range cr.colors {
			colors[i] = Color{Name: c, Surcharge: surcharge[c]}
		}
		if err := replaceColors(ctx, tx, id, colors); err != nil {
			return out, err
		}
	}
	if in.Name != cur.Name || in.ModelYear != cur.ModelYear || in.SeriesID != cur.SeriesID {
		if err := markVehicles(ctx, tx, `v.model_id = ?`, id); err != nil {
			return out, err
		}
	}
	out.Result = "updated"
	if !changed && !colorsChanged {
		return out, nil
	}
	before, after := modelAudit(cur), modelAudit(Model{SeriesID: in.SeriesID, Name: in.Name, ModelYear: in.ModelYear, Code: in.Code, MSRP: *in.MSRP, EnergyType: in.EnergyType, Active: cur.Active})
	before["colors"], after["colors"], after["how"] = cur.Colors, cr.colors, "import"
	if len(cr.colors) == 0 {
		after["colors"] = cur.Colors
	}
	return out, s.audit(ctx, tx, a, "update", "vehicle_model", id, 0, before, after)
}
