package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
)

// Energy types of a model (DOMAIN.md S3).
var EnergyTypes = []string{"ice", "hev", "phev", "bev", "erev"}

// Limits of catalogue texts and lists.
const (
	maxBrandName  = 30
	maxSeriesName = 50
	maxBodyType   = 20
	maxModelName  = 100
	maxModelCode  = 40
	maxColors     = 50
	maxOptions    = 100
	maxColorName  = 30
	maxOptionName = 100
	maxAmount     = int64(1e12) // fen
)

// BrandInput creates or edits a brand. Version is checked on edit.
type BrandInput struct {
	Name    string `json:"name"`
	Active  *bool  `json:"active"` // default true
	Version int64  `json:"version"`
}

// SeriesInput creates or edits a series (moving it to another brand is allowed).
type SeriesInput struct {
	BrandID  int64  `json:"brandId"`
	Name     string `json:"name"`
	BodyType string `json:"bodyType"` // 轿车, SUV, MPV …
	Active   *bool  `json:"active"`
	Version  int64  `json:"version"`
}

// ModelInput creates or edits a model (trim).
type ModelInput struct {
	SeriesID   int64  `json:"seriesId"`
	Name       string `json:"name"`
	ModelYear  int    `json:"modelYear"`
	Code       string `json:"code"` // factory model code; trimmed, upper-cased, unique when given
	MSRP       *int64 `json:"msrp"` // fen
	EnergyType string `json:"energyType"`
	Active     *bool  `json:"active"`
	Version    int64  `json:"version"`
}

// ColorsInput replaces a model's colour list.
type ColorsInput struct {
	Colors  []Color `json:"colors"`
	Version int64   `json:"version"` // the model's
}

// OptionsInput replaces a model's option list.
type OptionsInput struct {
	Options []Option `json:"options"`
	Version int64    `json:"version"` // the model's
}

func active(p *bool) bool { return p == nil || *p }

func requiredText(f apperr.Fields, field, v string, max int) {
	if v == "" {
		f.Add(field, "required")
	}
	limitText(f, field, v, max)
}

// Validate checks a brand input.
func (in *BrandInput) Validate() error {
	f := apperr.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	requiredText(f, "name", in.Name, maxBrandName)
	return f.Err()
}

// Validate checks a series input.
func (in *SeriesInput) Validate() error {
	f := apperr.Fields{}
	in.Name, in.BodyType = strings.TrimSpace(in.Name), strings.TrimSpace(in.BodyType)
	if in.BrandID <= 0 {
		f.Add("brandId", "required")
	}
	requiredText(f, "name", in.Name, maxSeriesName)
	limitText(f, "bodyType", in.BodyType, maxBodyType)
	return f.Err()
}

// Validate checks a model input.
func (in *ModelInput) Validate() error {
	f := apperr.Fields{}
	in.Name, in.EnergyType = strings.TrimSpace(in.Name), strings.TrimSpace(in.EnergyType)
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	if in.SeriesID <= 0 {
		f.Add("seriesId", "required")
	}
	requiredText(f, "name", in.Name, maxModelName)
	if in.ModelYear < 1990 || in.ModelYear > 2100 {
		f.Add("modelYear", "out_of_range", "min", 1990, "max", 2100)
	}
	limitText(f, "code", in.Code, maxModelCode)
	if in.MSRP == nil {
		f.Add("msrp", "required")
	} else if *in.MSRP < 0 || *in.MSRP > maxAmount {
		f.Add("msrp", "out_of_range", "min", 0, "max", maxAmount)
	}
	if in.EnergyType == "" {
		f.Add("energyType", "required")
	} else if !oneOf(in.EnergyType, EnergyTypes) {
		f.Add("energyType", "catalog.energy_type_unknown")
	}
	return f.Err()
}

// Validate checks a colour list: names given, unique, surcharges in range.
func (in *ColorsInput) Validate() error {
	f := apperr.Fields{}
	if len(in.Colors) > maxColors {
		f.Add("colors", "catalog.list_too_long", "max", maxColors)
	}
	seen := map[string]bool{}
	for i := range in.Colors {
		c := &in.Colors[i]
		c.Name = strings.TrimSpace(c.Name)
		field := fmt.Sprintf("colors.%d", i)
		requiredText(f, field+".name", c.Name, maxColorName)
		if seen[c.Name] {
			f.Add(field+".name", "catalog.duplicate_name")
		}
		seen[c.Name] = true
		if c.Surcharge < 0 || c.Surcharge > maxAmount {
			f.Add(field+".surcharge", "out_of_range", "min", 0, "max", maxAmount)
		}
	}
	return f.Err()
}

// Validate checks an option list; costOK says whether the actor may see (and so
// set) costs.
func (in *OptionsInput) Validate(costOK bool) error {
	f := apperr.Fields{}
	if len(in.Options) > maxOptions {
		f.Add("options", "catalog.list_too_long", "max", maxOptions)
	}
	seen := map[string]bool{}
	for i := range in.Options {
		o := &in.Options[i]
		o.Name = strings.TrimSpace(o.Name)
		field := fmt.Sprintf("options.%d", i)
		requiredText(f, field+".name", o.Name, maxOptionName)
		if seen[o.Name] {
			f.Add(field+".name", "catalog.duplicate_name")
		}
		seen[o.Name] = true
		if o.Price < 0 || o.Price > maxAmount {
			f.Add(field+".price", "out_of_range", "min", 0, "max", maxAmount)
		}
		if o.Cost != nil && !costOK {
			f.Add(field+".cost", "catalog.cost_not_allowed")
		} else if o.Cost != nil && (*o.Cost < 0 || *o.Cost > maxAmount) {
			f.Add(field+".cost", "out_of_range", "min", 0, "max", maxAmount)
		}
	}
	return f.Err()
}

// taken is the 409 of a name or code another catalogue row holds already.
func taken(field, code string) error {
	e := apperr.New(apperr.Conflict, code)
	e.Fields = map[string]apperr.FieldError{field: {Code: code}}
	return e
}

func (s *Service) catalogWrite(ctx context.Context, a auth.Actor, fn func(tx *sql.Tx) error) error {
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return err
	}
	if err := s.db.WriteTx(ctx, fn); err != nil {
		return err
	}
	s.afterCommit()
	return nil
}

// markVehicles queues the search documents of the vehicles matching where (they
// show brand, series and model names, so a rename must reach them).
func markVehicles(ctx context.Context, q db.Querier, where string, arg int64) error {
	rows, err := q.QueryContext(ctx, `SELECT v.id FROM vehicle v WHERE `+where, arg)
	if err != nil {
		return fmt.Errorf("inventory: vehicles to re-index: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return findex.Mark(ctx, q, searchKind, ids...)
}

func getBrand(ctx context.Context, q db.Querier, id int64) (Brand, error) {
	b := Brand{Series: []Series{}}
	err := q.QueryRowContext(ctx, `SELECT id, name, active, version FROM vehicle_brand WHERE id = ?`, id).Scan(&b.ID, &b.Name, &b.Active, &b.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "not_found")
	}
	return b, err
}

func getSeries(ctx context.Context, q db.Querier, id int64) (Series, error) {
	s := Series{Models: []Model{}}
	err := q.QueryRowContext(ctx, `SELECT id, brand_id, name, body_type, active, version FROM vehicle_series WHERE id = ?`, id).
		Scan(&s.ID, &s.BrandID, &s.Name, &s.BodyType, &s.Active, &s.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return s, apperr.New(apperr.NotFound, "not_found")
	}
	return s, err
}

func getModel(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Model, error) {
	var m Model
	err := q.QueryRowContext(ctx, `SELECT id, series_id, name, model_year, code, msrp, energy_type, active, version FROM vehicle_model WHERE id = ?`, id).
		Scan(&m.ID, &m.SeriesID, &m.Name, &m.ModelYear, &m.Code, &m.MSRP, &m.EnergyType, &m.Active, &m.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return m, fmt.Errorf("inventory: model %d: %w", id, err)
	}
	colors, err := loadColors(ctx, q, id)
	if err != nil {
		return m, err
	}
	opts, err := loadOptions(ctx, q, a, id)
	if err != nil {
		return m, err
	}
	m.fill(colors, opts[id])
	return m, nil
}

// CreateBrand adds a brand (vehicle.write; the catalogue is the group's).
func (s *Service) CreateBrand(ctx context.Context, a auth.Actor, in BrandInput) (Brand, error) {
	if err := in.Validate(); err != nil {
		return Brand{}, err
	}
	var out Brand
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		id, err := insertBrand(ctx, tx, in.Name, active(in.Active), s.now())
		if err != nil {
			return err
		}
		if out, err = getBrand(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "vehicle_brand", id, 0, nil, map[string]any{"name": out.Name, "active": out.Active})
	})
	return out, err
}

func insertBrand(ctx context.Context, q db.Querier, name string, act bool, now int64) (int64, error) {
	r, err := q.ExecContext(ctx, `INSERT INTO vehicle_brand (name, active, created_at, updated_at) VALUES (?, ?, ?, ?)`, name, act, now, now)
	if db.IsUnique(err) {
		return 0, taken("name", "catalog.brand_taken")
	}
	if err != nil {
		return 0, fmt.Errorf("inventory: insert brand: %w", err)
	}
	return r.LastInsertId()
}

// UpdateBrand renames or (de)activates a brand; version checked.
func (s *Service) UpdateBrand(ctx context.Context, a auth.Actor, id int64, in BrandInput) (Brand, error) {
	if err := in.Validate(); err != nil {
		return Brand{}, err
	}
	var out Brand
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		cur, err := getBrand(ctx, tx, id)
		if err != nil {
			return err
		}
		act := cur.Active
		if in.Active != nil {
			act = *in.Active
		}
		r, err := tx.ExecContext(ctx, `UPDATE vehicle_brand SET name = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			in.Name, act, s.now(), id, in.Version)
		if db.IsUnique(err) {
			return taken("name", "catalog.brand_taken")
		}
		if err != nil {
			return fmt.Errorf("inventory: update brand %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if in.Name != cur.Name {
			if err := markVehicles(ctx, tx, `v.model_id IN (SELECT m.id FROM vehicle_model m JOIN vehicle_series s ON s.id = m.series_id WHERE s.brand_id = ?)`, id); err != nil {
				return err
			}
		}
		if out, err = getBrand(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "vehicle_brand", id, 0, map[string]any{"name": cur.Name, "active": cur.Active},
			map[string]any{"name": out.Name, "active": out.Active})
	})
	return out, err
}

func brandExists(ctx context.Context, q db.Querier, id int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM vehicle_brand WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.Field("brandId", "catalog.brand_unknown")
	}
	return nil
}

// CreateSeries adds a series under a brand.
func (s *Service) CreateSeries(ctx context.Context, a auth.Actor, in SeriesInput) (Series, error) {
	if err := in.Validate(); err != nil {
		return Series{}, err
	}
	var out Series
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		if err := brandExists(ctx, tx, in.BrandID); err != nil {
			return err
		}
		id, err := insertSeries(ctx, tx, in, s.now())
		if err != nil {
			return err
		}
		if out, err = getSeries(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "vehicle_series", id, 0, nil, seriesAudit(out))
	})
	return out, err
}

func insertSeries(ctx context.Context, q db.Querier, in SeriesInput, now int64) (int64, error) {
	r, err := q.ExecContext(ctx, `INSERT INTO vehicle_series (brand_id, name, body_type, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		in.BrandID, in.Name, in.BodyType, active(in.Active), now, now)
	if db.IsUnique(err) {
		return 0, taken("name", "catalog.series_taken")
	}
	if err != nil {
		return 0, fmt.Errorf("inventory: insert series: %w", err)
	}
	return r.LastInsertId()
}

func seriesAudit(s Series) map[string]any {
	return map[string]any{"brandId": s.BrandID, "name": s.Name, "bodyType": s.BodyType, "active": s.Active}
}

// UpdateSeries edits a series; version checked.
func (s *Service) UpdateSeries(ctx context.Context, a auth.Actor, id int64, in SeriesInput) (Series, error) {
	if err := in.Validate(); err != nil {
		return Series{}, err
	}
	var out Series
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		cur, err := getSeries(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := brandExists(ctx, tx, in.BrandID); err != nil {
			return err
		}
		act := cur.Active
		if in.Active != nil {
			act = *in.Active
		}
		r, err := tx.ExecContext(ctx, `UPDATE vehicle_series SET brand_id = ?, name = ?, body_type = ?, active = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`, in.BrandID, in.Name, in.BodyType, act, s.now(), id, in.Version)
		if db.IsUnique(err) {
			return taken("name", "catalog.series_taken")
		}
		if err != nil {
			return fmt.Errorf("inventory: update series %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if in.Name != cur.Name || in.BrandID != cur.BrandID {
			if err := markVehicles(ctx, tx, `v.model_id IN (SELECT id FROM vehicle_model WHERE series_id = ?)`, id); err != nil {
				return err
			}
		}
		if out, err = getSeries(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "vehicle_series", id, 0, seriesAudit(cur), seriesAudit(out))
	})
	return out, err
}

func seriesExists(ctx context.Context, q db.Querier, id int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM vehicle_series WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.Field("seriesId", "catalog.series_unknown")
	}
	return nil
}

func modelAudit(m Model) map[string]any {
	return map[string]any{"seriesId": m.SeriesID, "name": m.Name, "modelYear": m.ModelYear, "code": m.Code, "msrp": m.MSRP,
		"energyType": m.EnergyType, "active": m.Active}
}

// modelConflict turns a UNIQUE violation of a model write into its 409.
func modelConflict(err error) error {
	if db.UniqueColumn(err) == "vehicle_model.code" {
		return taken("code", "catalog.code_taken")
	}
	return taken("name", "catalog.model_taken")
}

// CreateModel adds a trim to a series.
func (s *Service) CreateModel(ctx context.Context, a auth.Actor, in ModelInput) (Model, error) {
	if err := in.Validate(); err != nil {
		return Model{}, err
	}
	var out Model
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		if err := seriesExists(ctx, tx, in.SeriesID); err != nil {
			return err
		}
		id, err := insertModel(ctx, tx, in, s.now())
		if err != nil {
			return err
		}
		if out, err = getModel(ctx, tx, a, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "vehicle_model", id, 0, nil, modelAudit(out))
	})
	return out, err
}

func insertModel(ctx context.Context, q db.Querier, in ModelInput, now int64) (int64, error) {
	r, err := q.ExecContext(ctx, `INSERT INTO vehicle_model (series_id, name, model_year, code, msrp, energy_type, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.SeriesID, in.Name, in.ModelYear, in.Code, *in.MSRP, in.EnergyType, active(in.Active), now, now)
	if db.IsUnique(err) {
		return 0, modelConflict(err)
	}
	if err != nil {
		return 0, fmt.Errorf("inventory: insert model: %w", err)
	}
	return r.LastInsertId()
}

// UpdateModel edits a trim; version checked. Retiring one (active=false) keeps
// it for the stock, quotes and customers that name it; the catalogue hides it.
// Its vehicles' search documents follow a rename in the same transaction.
func (s *Service) UpdateModel(ctx context.Context, a auth.Actor, id int64, in ModelInput) (Model, error) {
	if err := in.Validate(); err != nil {
		return Model{}, err
	}
	var out Model
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		cur, err := getModel(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := seriesExists(ctx, tx, in.SeriesID); err != nil {
			return err
		}
		if cur.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if in.Active == nil {
			in.Active = &cur.Active
		}
		if err := updateModelTx(ctx, tx, id, in, s.now()); err != nil {
			return err
		}
		if in.Name != cur.Name || in.ModelYear != cur.ModelYear || in.SeriesID != cur.SeriesID {
			if err := markVehicles(ctx, tx, `v.model_id = ?`, id); err != nil {
				return err
			}
		}
		if out, err = getModel(ctx, tx, a, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "vehicle_model", id, 0, modelAudit(cur), modelAudit(out))
	})
	return out, err
}

func updateModelTx(ctx context.Context, q db.Querier, id int64, in ModelInput, now int64) error {
	r, err := q.ExecContext(ctx, `UPDATE vehicle_model SET series_id = ?, name = ?, model_year = ?, code = ?, msrp = ?, energy_type = ?, active = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		in.SeriesID, in.Name, in.ModelYear, in.Code, *in.MSRP, in.EnergyType, active(in.Active), now, id, in.Version)
	if db.IsUnique(err) {
		return modelConflict(err)
	}
	if err != nil {
		return fmt.Errorf("inventory: update model %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

// bumpModel checks and advances a model's version (list replacements change the model).
func bumpModel(ctx context.Context, q db.Querier, id, version, now int64) error {
	r, err := q.ExecContext(ctx, `UPDATE vehicle_model SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, now, id, version)
	if err != nil {
		return fmt.Errorf("inventory: model %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

func replaceColors(ctx context.Context, q db.Querier, id int64, colors []Color) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM vehicle_color WHERE model_id = ?`, id); err != nil {
		return fmt.Errorf("inventory: colours %d: %w", id, err)
	}
	for _, c := range colors {
		if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_color (model_id, name, surcharge) VALUES (?, ?, ?)`, id, c.Name, c.Surcharge); err != nil {
			return fmt.Errorf("inventory: colour %d: %w", id, err)
		}
	}
	return nil
}

// SetModelColors replaces a model's colour list (in the given order); version checked.
func (s *Service) SetModelColors(ctx context.Context, a auth.Actor, id int64, in ColorsInput) (Model, error) {
	if err := in.Validate(); err != nil {
		return Model{}, err
	}
	var out Model
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		cur, err := getModel(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := bumpModel(ctx, tx, id, in.Version, s.now()); err != nil {
			return err
		}
		if err := replaceColors(ctx, tx, id, in.Colors); err != nil {
			return err
		}
		if out, err = getModel(ctx, tx, a, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "vehicle_model", id, 0, map[string]any{"colors": cur.ColorList}, map[string]any{"colors": out.ColorList})
	})
	return out, err
}

// SetModelOptions replaces a model's options and packages; version checked.
// Costs are set only by roles with cost.read; for others the cost an option of
// the same name had is kept (they cannot see it, so they cannot mean to erase it).
func (s *Service) SetModelOptions(ctx context.Context, a auth.Actor, id int64, in OptionsInput) (Model, error) {
	costOK := a.Has(auth.PermCostRead)
	if err := in.Validate(costOK); err != nil {
		return Model{}, err
	}
	var out Model
	err := s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		cur, err := getModel(ctx, tx, a, id)
		if err != nil {
			return err
		}
		old, err := loadOptions(ctx, tx, auth.Actor{Perms: map[string]bool{auth.PermCostRead: true}}, id)
		if err != nil {
			return err
		}
		oldCost := map[string]*int64{}
		for _, o := range old[id] {
			oldCost[o.Name] = o.Cost
		}
		if err := bumpModel(ctx, tx, id, in.Version, s.now()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vehicle_option WHERE model_id = ?`, id); err != nil {
			return fmt.Errorf("inventory: options %d: %w", id, err)
		}
		for _, o := range in.Options {
			cost := o.Cost
			if !costOK {
				cost = oldCost[o.Name]
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO vehicle_option (model_id, name, price, cost) VALUES (?, ?, ?, ?)`, id, o.Name, o.Price, cost); err != nil {
				return fmt.Errorf("inventory: option %d: %w", id, err)
			}
		}
		if out, err = getModel(ctx, tx, a, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "vehicle_model", id, 0, map[string]any{"options": cur.Options}, map[string]any{"options": out.Options})
	})
	return out, err
}

// DeleteModel removes a trim nothing refers to. A model that stock refers to
// can only be retired (409 catalog.model_in_stock); one named elsewhere (a
// customer's intended model, later quotes and test drives) neither (409
// catalog.model_in_use, from the foreign keys).
func (s *Service) DeleteModel(ctx context.Context, a auth.Actor, id int64) error {
	return s.catalogWrite(ctx, a, func(tx *sql.Tx) error {
		cur, err := getModel(ctx, tx, a, id)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vehicle WHERE model_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("inventory: model %d stock: %w", id, err)
		}
		if n > 0 {
			e := apperr.New(apperr.Conflict, "catalog.model_in_stock")
			e.Details = map[string]any{"vehicles": n}
			return e
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM vehicle_model WHERE id = ?`, id)
		if db.IsForeignKey(err) {
			return apperr.Wrap(apperr.Conflict, "catalog.model_in_use", err)
		}
		if err != nil {
			return fmt.Errorf("inventory: delete model %d: %w", id, err)
		}
		before := modelAudit(cur)
		before["colors"], before["options"] = cur.ColorList, cur.Options
		return s.audit(ctx, tx, a, "delete", "vehicle_model", id, 0, before, nil)
	})
}

func loadColors(ctx context.Context, q db.Querier, modelID int64) ([]Color, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, surcharge FROM vehicle_color WHERE model_id = ? ORDER BY id`, modelID)
	if err != nil {
		return nil, fmt.Errorf("inventory: colours %d: %w", modelID, err)
	}
	defer rows.Close()
	var out []Color
	for rows.Next() {
		var c Color
		if err := rows.Scan(&c.Name, &c.Surcharge); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
