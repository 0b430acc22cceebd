package inventory

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/pii"
	"dealerdesk/app/sheet"
)

// Import limits: factory allocation sheets are small, so the import runs in the
// request, one transaction per batch (the single writer is never held long).
const (
	MaxImportBytes = 10 << 20
	MaxImportRows  = 5000
	importBatch    = 500
)

// importFields are the columns an allocation sheet may carry, with the headers
// OEM portals and dealers use for them.
var importFields = []sheet.Field{
	{Key: "vin", Aliases: []string{"VIN", "车架号", "车辆识别代号", "车辆识别号", "底盘号", "车架号码"}},
	{Key: "model", Aliases: []string{"车型", "车型名称", "车型代码", "车型编码", "型号", "配置车型", "model"}},
	{Key: "color", Aliases: []string{"颜色", "车身颜色", "外观颜色", "外饰颜色", "color"}},
	{Key: "cost", Aliases: []string{"成本", "开票价", "开票价格", "进价", "采购价", "批发价", "cost"}},
	{Key: "msrp", Aliases: []string{"指导价", "厂商指导价", "零售价", "msrp"}},
	{Key: "status", Aliases: []string{"状态", "车辆状态", "在途", "在途状态", "status"}},
	{Key: "expectedAt", Aliases: []string{"预计到店", "预计到店日期", "预计到达", "预计到货", "到店日期"}},
	{Key: "location", Aliases: []string{"库位", "存放位置", "仓库", "库区", "location"}},
	{Key: "options", Aliases: []string{"选装", "选装包", "配置", "options"}},
	{Key: "note", Aliases: []string{"备注", "note"}},
}

// ImportPreview is what the import page shows before importing.
type ImportPreview struct {
	Headers []string       `json:"headers"`
	Mapping map[string]int `json:"mapping"` // field → column index (0-based)
	Rows    [][]string     `json:"rows"`    // the first 10 data rows
	Total   int            `json:"total"`   // data rows
}

// ImportRow is the outcome of one sheet row.
type ImportRow struct {
	Row    int    `json:"row"`
	VIN    string `json:"vin"`
	Result string `json:"result"` // created | updated | rejected
	Code   string `json:"code,omitempty"`
	ID     int64  `json:"id,omitempty"`
}

// ImportResult counts and lists the rows' outcomes.
type ImportResult struct {
	Created  int         `json:"created"`
	Updated  int         `json:"updated"`
	Rejected int         `json:"rejected"`
	Rows     []ImportRow `json:"rows"`
}

func readUpload(c echo.Context) (*sheet.Reader, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apperr.New(apperr.TooLarge, "too_large")
		}
		return nil, apperr.Field("file", "required")
	}
	if fh.Size > MaxImportBytes {
		return nil, apperr.New(apperr.TooLarge, "too_large")
	}
	b, err := readAll(fh)
	if err != nil {
		return nil, err
	}
	return sheet.OpenWithLimits(bytes.NewReader(b), int64(len(b)), fh.Filename, sheet.Limits{MaxRows: MaxImportRows})
}

func readAll(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxImportBytes+1))
}

func suggest(headers []string) map[string]int {
	out := map[string]int{}
	for col, key := range sheet.SuggestMapping(headers, importFields) {
		out[key] = col
	}
	return out
}

func (s *Service) hImportPreview(c echo.Context) error {
	return previewUpload(c, suggest)
}

// previewUpload answers an import preview: the sheet's headers, the suggested
// mapping, the first rows and the row count. Stock and catalogue imports share it.
func previewUpload(c echo.Context, suggest func([]string) map[string]int) error {
	if err := auth.Require(api.Actor(c), auth.PermVehicleWrite); err != nil {
		return err
	}
	r, err := readUpload(c)
	if err != nil {
		return err
	}
	defer r.Close()
	prev, err := r.Preview(10)
	if err != nil {
		return err
	}
	out := ImportPreview{Headers: r.Header(), Mapping: suggest(r.Header()), Rows: [][]string{}}
	for _, row := range prev {
		out.Rows = append(out.Rows, row.Cells)
	}
	for {
		_, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		out.Total++
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Service) hImport(c echo.Context) error {
	a := api.Actor(c)
	storeID, err := strconv.ParseInt(c.FormValue("storeId"), 10, 64)
	if err != nil && c.FormValue("storeId") != "" {
		return apperr.Field("storeId", "invalid_format")
	}
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermVehicleWrite, storeID); err != nil {
		return err
	}
	r, err := readUpload(c)
	if err != nil {
		return err
	}
	defer r.Close()
	mapping := suggest(r.Header())
	if m := c.FormValue("mapping"); m != "" {
		mapping = map[string]int{}
		if err := json.Unmarshal([]byte(m), &mapping); err != nil {
			return apperr.Field("mapping", "invalid_format")
		}
		for k, col := range mapping {
			if !knownField(k) || col < 0 || col >= len(r.Header()) {
				return apperr.Field("mapping", "invalid_format")
			}
		}
	}
	if _, ok := mapping["vin"]; !ok {
		return apperr.Field("mapping", "vehicle.import_vin_column")
	}
	if _, ok := mapping["model"]; !ok {
		return apperr.Field("mapping", "vehicle.import_model_column")
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
	out, err := s.Import(c.Request().Context(), a, storeID, mapping, rows)
	return ok(c, http.StatusOK, out, err)
}

func knownField(k string) bool {
	for _, f := range importFields {
		if f.Key == k {
			return true
		}
	}
	return false
}

type sheetRow struct {
	num   int
	cells []string
}

// modelIndex matches what sheets call a model: its code, its name, series +
// name, or brand + series + name, compared without spaces, case or width.
type modelIndex struct {
	byKey map[string][]int64
	msrp  map[int64]int64
}

func loadModels(ctx context.Context, q db.Querier) (modelIndex, error) {
	idx := modelIndex{byKey: map[string][]int64{}, msrp: map[int64]int64{}}
	rows, err := q.QueryContext(ctx, `SELECT m.id, m.code, m.name, m.model_year, m.msrp, s.name, b.name FROM vehicle_model m
		JOIN vehicle_series s ON s.id = m.series_id JOIN vehicle_brand b ON b.id = s.brand_id WHERE m.active = 1`)
	if err != nil {
		return idx, fmt.Errorf("inventory: models: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, msrp int64
		var code, name, series, brand string
		var year int
		if err := rows.Scan(&id, &code, &name, &year, &msrp, &series, &brand); err != nil {
			return idx, err
		}
		idx.msrp[id] = msrp
		keys := []string{name, series + name, brand + series + name, fmt.Sprintf("%s%d款%s", series, year, name), fmt.Sprintf("%d款%s", year, name)}
		if code != "" {
			keys = append(keys, code)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			k = foldKey(k)
			if !seen[k] {
				idx.byKey[k] = append(idx.byKey[k], id)
				seen[k] = true
			}
		}
	}
	return idx, rows.Err()
}

func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '！' && r <= '～' {
			r = r - '！' + '!'
		}
		if unicode.IsSpace(r) || r == '-' || r == '·' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// find returns the one model the text names, or 0 (unknown or ambiguous).
func (m modelIndex) find(v string) int64 {
	if ids := m.byKey[foldKey(v)]; len(ids) == 1 {
		return ids[0]
	}
	return 0
}

// statusOf reads a sheet's status cell; "" when empty (new cars: in transit).
func statusOf(v string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return "", true
	case "ordered", "已订购", "订购", "已下单", "计划":
		return StatusOrdered, true
	case "in_transit", "在途", "是", "运输中", "已发运", "发运":
		return StatusInTransit, true
	case "in_stock", "在库", "否", "已到店", "到店", "库存":
		return StatusInStock, true
	}
	return "", false
}

// parseDay reads a date cell (2024-03-05, 2024/3/5, 2024.3.5, 20240305) as the
// start of that day in China time.
func parseDay(v string) (int64, bool) {
	loc := time.FixedZone("CST", 8*3600)
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " T"); i > 0 {
		v = v[:i]
	}
	for _, layout := range []string{"2006-01-02", "2006-1-2", "2006/01/02", "2006/1/2", "2006.1.2", "20060102"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil && t.Year() >= 2000 && t.Year() <= 2100 {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// Import creates or updates the stock of a store from an allocation sheet's rows:
// a new VIN is created (in transit unless the sheet says otherwise); a VIN the
// store already has is updated (colour, location, cost, expected date, and its
// status when the sheet moves it forward: ordered → in transit → in stock).
// Rejected: a bad VIN, an unknown model, a VIN twice in the sheet, a car already
// sold, a VIN of another store.
func (s *Service) Import(ctx context.Context, a auth.Actor, storeID int64, mapping map[string]int, rows []sheetRow) (ImportResult, error) {
	res := ImportResult{Rows: []ImportRow{}}
	if err := storeAccess(a, auth.PermVehicleWrite, storeID); err != nil {
		return res, err
	}
	if len(rows) == 0 {
		return res, apperr.Field("file", "vehicle.import_no_rows")
	}
	models, err := loadModels(ctx, s.db.R)
	if err != nil {
		return res, err
	}
	cell := func(cells []string, key string) string {
		if col, ok := mapping[key]; ok && col < len(cells) {
			return strings.TrimSpace(cells[col])
		}
		return ""
	}
	costOK := a.Has(auth.PermCostRead)
	seen := map[string]int{}
	type prepared struct {
		out ImportRow
		in  VehicleInput
	}
	var todo []prepared
	for _, r := range rows {
		out := ImportRow{Row: r.num, VIN: cell(r.cells, "vin")}
		reject := func(code string) {
			out.Result, out.Code = "rejected", code
			res.Rows = append(res.Rows, out)
			res.Rejected++
		}
		vin, checkOK, err := pii.ValidateVIN(out.VIN)
		var ve *pii.VINError
		if errors.As(err, &ve) {
			reject(ve.Code)
			continue
		}
		out.VIN = vin
		if first, dup := seen[vin]; dup {
			_ = first
			reject("vehicle.duplicate_in_file")
			continue
		}
		seen[vin] = r.num
		in := VehicleInput{StoreID: storeID, VIN: vin, checkOK: checkOK, Color: cell(r.cells, "color"), Location: cell(r.cells, "location"),
			Options: cell(r.cells, "options"), Note: cell(r.cells, "note")}
		if in.ModelID = models.find(cell(r.cells, "model")); in.ModelID == 0 {
			reject("vehicle.model_unknown")
			continue
		}
		st, okStatus := statusOf(cell(r.cells, "status"))
		if !okStatus {
			reject("vehicle.import_status")
			continue
		}
		if st == "" {
			st = StatusInTransit
		}
		in.Status = st
		if v := cell(r.cells, "cost"); v != "" && costOK {
			fen, ok := parseFen(v)
			if !ok {
				reject("vehicle.import_amount")
				continue
			}
			in.Cost = &fen
		}
		if v := cell(r.cells, "msrp"); v != "" {
			fen, ok := parseFen(v)
			if !ok {
				reject("vehicle.import_amount")
				continue
			}
			in.MSRP = &fen
		}
		if v := cell(r.cells, "expectedAt"); v != "" {
			at, ok := parseDay(v)
			if !ok {
				reject("vehicle.import_date")
				continue
			}
			in.ExpectedAt = &at
		}
		if err := in.Validate(true); err != nil {
			code := "invalid"
			for _, fe := range apperr.As(err).Fields {
				code = fe.Code
			}
			reject(code)
			continue
		}
		todo = append(todo, prepared{out: out, in: in})
	}
	for start := 0; start < len(todo); start += importBatch {
		batch := todo[start:min(start+importBatch, len(todo))]
		var done []ImportRow
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			done = done[:0]
			for _, p := range batch {
				row, err := s.importOne(ctx, tx, a, p.in, p.out)
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
		return s.audit(ctx, tx, a, "import", "vehicle", 0, storeID, nil, map[string]any{"created": res.Created, "updated": res.Updated, "rejected": res.Rejected})
	}); err != nil {
		return res, err
	}
	sortRows(res.Rows)
	s.afterCommit()
	return res, nil
}

func sortRows(rows []ImportRow) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].Row < rows[j-1].Row; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// importOne creates or updates one row's vehicle inside the batch transaction.
func (s *Service) importOne(ctx context.Context, tx db.Querier, a auth.Actor, in VehicleInput, out ImportRow) (ImportRow, error) {
	var id, store int64
	err := tx.QueryRowContext(ctx, `SELECT id, store_id FROM vehicle WHERE vin = ?`, in.VIN).Scan(&id, &store)
	if errors.Is(err, sql.ErrNoRows) {
		out.ID, err = s.insertTx(ctx, tx, a, in, "import")
		out.Result = "created"
		return out, err
	}
	if err != nil {
		return out, err
	}
	if store != in.StoreID {
		// Another store's car: say so, without its id.
		out.Result, out.Code = "rejected", "vehicle.other_store"
		return out, nil
	}
	out.ID = id
	cur, err := loadVehicle(ctx, tx, id)
	if err != nil {
		return out, err
	}
	if cur.Status == StatusSold || cur.Status == StatusDelivered {
		out.Result, out.Code = "rejected", "vehicle.already_sold"
		return out, nil
	}
	cost := cur.Cost
	if in.Cost != nil {
		cost = in.Cost
	}
	expected := cur.ExpectedAt
	if in.ExpectedAt != nil {
		expected = in.ExpectedAt
	}
	pick := func(newV, oldV string) string {
		if newV != "" {
			return newV
		}
		return oldV
	}
	msrp := cur.MSRP
	if in.MSRP != nil {
		msrp = *in.MSRP
	}
	if _, err := tx.ExecContext(ctx, `UPDATE vehicle SET model_id = ?, color = ?, location = ?, options = ?, note = ?, cost = ?, msrp = ?, expected_at = ?,
		version = version + 1, updated_at = ?, updated_by = ? WHERE id = ?`,
		in.ModelID, pick(in.Color, cur.Color), pick(in.Location, cur.Location), pick(in.Options, cur.Options), pick(in.Note, cur.Note), cost, msrp, expected,
		s.now(), userID(a), id); err != nil {
		return out, fmt.Errorf("inventory: import update %d: %w", id, err)
	}
	if err := s.audit(ctx, tx, a, "update", "vehicle", id, store, map[string]any{"color": cur.Color, "location": cur.Location},
		map[string]any{"color": pick(in.Color, cur.Color), "location": pick(in.Location, cur.Location), "how": "import"}); err != nil {
		return out, err
	}
	// Forward along the logistics chain only; a sheet never moves a car back.
	rank := map[string]int{StatusOrdered: 1, StatusInTransit: 2, StatusInStock: 3}
	if r, ok := rank[cur.Status]; ok && rank[in.Status] > r {
		cur.Version++
		for cur.Status != in.Status {
			next := map[string]string{StatusOrdered: StatusInTransit, StatusInTransit: StatusInStock}[cur.Status]
			set := map[string]any{}
			if next == StatusInStock {
				set["arrival_at"] = s.now()
			}
			if err := s.moveTx(ctx, tx, a, cur, next, set, map[string]any{"how": "import"}); err != nil {
				return out, err
			}
			cur.Status = next
			cur.Version++
		}
	}
	out.Result = "updated"
	return out, findex.Mark(ctx, tx, searchKind, id)
}
