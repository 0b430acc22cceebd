package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Brand is a make with its series.
type Brand struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Active  bool     `json:"active"`
	Version int64    `json:"version"`
	Series  []Series `json:"series"`
}

// Series is a model line (e.g. 凯美瑞).
type Series struct {
	ID       int64   `json:"id"`
	BrandID  int64   `json:"brandId"`
	Name     string  `json:"name"`
	BodyType string  `json:"bodyType"`
	Active   bool    `json:"active"`
	Version  int64   `json:"version"`
	Models   []Model `json:"models"`
}

// Model is one trim with its price.
type Model struct {
	ID         int64    `json:"id"`
	SeriesID   int64    `json:"seriesId"`
	Name       string   `json:"name"`
	ModelYear  int      `json:"modelYear"`
	Code       string   `json:"code"` // factory model code (车型代码); '' when unknown
	MSRP       int64    `json:"msrp"` // fen
	EnergyType string   `json:"energyType"`
	Active     bool     `json:"active"`
	Version    int64    `json:"version"`
	Colors     []string `json:"colors"`    // colour names (the original shape)
	ColorList  []Color  `json:"colorList"` // the same colours with their surcharge
	Options    []Option `json:"options"`
}

// Color is a paint a model comes in, with its surcharge.
type Color struct {
	Name      string `json:"name"`
	Surcharge int64  `json:"surcharge"` // fen
}

// Option is a factory option or package of a model.
type Option struct {
	Name  string `json:"name"`
	Price int64  `json:"price"` // fen
	Cost  *int64 `json:"cost"`  // fen; null when unknown or hidden (no cost.read)
}

// Catalog returns the catalogue as a tree, brands by name: the active part by
// default, everything (retired brands, series and models too) when all is true,
// for the editors. Four queries, whatever the size (no per-row lookups).
func (s *Service) Catalog(ctx context.Context, a auth.Actor, all bool) ([]Brand, error) {
	if err := auth.Require(a, auth.PermVehicleRead); err != nil {
		return nil, err
	}
	active := ` WHERE active = 1`
	if all {
		active = ""
	}
	colors := map[int64][]Color{}
	if err := each(ctx, s.db.R, `SELECT model_id, name, surcharge FROM vehicle_color ORDER BY model_id, id`, func(r *sql.Rows) error {
		var id int64
		var c Color
		if err := r.Scan(&id, &c.Name, &c.Surcharge); err != nil {
			return err
		}
		colors[id] = append(colors[id], c)
		return nil
	}); err != nil {
		return nil, err
	}
	options, err := loadOptions(ctx, s.db.R, a, 0)
	if err != nil {
		return nil, err
	}
	models := map[int64][]Model{}
	if err := each(ctx, s.db.R, `SELECT id, series_id, name, model_year, code, msrp, energy_type, active, version FROM vehicle_model`+active+` ORDER BY series_id, msrp, id`, func(r *sql.Rows) error {
		var m Model
		if err := r.Scan(&m.ID, &m.SeriesID, &m.Name, &m.ModelYear, &m.Code, &m.MSRP, &m.EnergyType, &m.Active, &m.Version); err != nil {
			return err
		}
		m.fill(colors[m.ID], options[m.ID])
		models[m.SeriesID] = append(models[m.SeriesID], m)
		return nil
	}); err != nil {
		return nil, err
	}
	where := ` WHERE b.active = 1 AND s.active = 1`
	if all {
		where = ""
	}
	var out []Brand
	idx := map[int64]int{}
	if err := each(ctx, s.db.R, `SELECT b.id, b.name, b.active, b.version, s.id, s.name, s.body_type, s.active, s.version
		FROM vehicle_brand b LEFT JOIN vehicle_series s ON s.brand_id = b.id`+where+` ORDER BY b.name, s.name`, func(r *sql.Rows) error {
		var b Brand
		var sid, sver sql.NullInt64
		var sn, body sql.NullString
		var sact sql.NullBool
		if err := r.Scan(&b.ID, &b.Name, &b.Active, &b.Version, &sid, &sn, &body, &sact, &sver); err != nil {
			return err
		}
		i, ok := idx[b.ID]
		if !ok {
			b.Series = []Series{}
			out = append(out, b)
			i = len(out) - 1
			idx[b.ID] = i
		}
		if !sid.Valid { // a brand without series yet (only listed with all)
			return nil
		}
		ms := models[sid.Int64]
		if ms == nil {
			ms = []Model{}
		}
		out[i].Series = append(out[i].Series, Series{ID: sid.Int64, BrandID: b.ID, Name: sn.String, BodyType: body.String, Active: sact.Bool, Version: sver.Int64, Models: ms})
		return nil
	}); err != nil {
		return nil, err
	}
	if out == nil {
		out = []Brand{}
	}
	return out, nil
}

// fill sets a model's colour and option lists (never null in JSON).
func (m *Model) fill(colors []Color, options []Option) {
	m.ColorList, m.Options, m.Colors = colors, options, make([]string, 0, len(colors))
	if m.ColorList == nil {
		m.ColorList = []Color{}
	}
	if m.Options == nil {
		m.Options = []Option{}
	}
	for _, c := range m.ColorList {
		m.Colors = append(m.Colors, c.Name)
	}
}

// loadOptions returns the options by model (one model when modelID > 0); costs
// only for actors with cost.read.
func loadOptions(ctx context.Context, q db.Querier, a auth.Actor, modelID int64) (map[int64][]Option, error) {
	out := map[int64][]Option{}
	costOK := a.Has(auth.PermCostRead)
	query, args := `SELECT model_id, name, price, cost FROM vehicle_option ORDER BY model_id, id`, []any{}
	if modelID > 0 {
		query, args = `SELECT model_id, name, price, cost FROM vehicle_option WHERE model_id = ? ORDER BY id`, []any{modelID}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("inventory: options: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var o Option
		var cost sql.NullInt64
		if err := rows.Scan(&id, &o.Name, &o.Price, &cost); err != nil {
			return nil, err
		}
		if cost.Valid && costOK {
			o.Cost = &cost.Int64
		}
		out[id] = append(out[id], o)
	}
	return out, rows.Err()
}

func each(ctx context.Context, q db.Querier, query string, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Service) hCatalog(c echo.Context) error {
	all := c.QueryParam("all") == "1" || c.QueryParam("all") == "true"
	v, err := s.Catalog(c.Request().Context(), api.Actor(c), all)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Brand]{Items: v})
}

// SeedModel is one trim for AddCatalogTx.
type SeedModel struct {
	Brand, Series, Body, Name string
	Year                      int
	MSRP                      int64 // fen
	Energy                    string
	Colors                    []string
}

// AddCatalogTx inserts catalogue rows inside tx, creating brands and series as
// needed (demo data; the import wizard of the sales module will use it too).
func AddCatalogTx(ctx context.Context, q db.Querier, ms []SeedModel, now int64) error {
	for _, m := range ms {
		if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_brand(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING`, m.Brand, now); err != nil {
			return fmt.Errorf("inventory: brand: %w", err)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_series(brand_id, name, body_type, created_at) SELECT id, ?, ?, ? FROM vehicle_brand WHERE name = ? ON CONFLICT(brand_id, name) DO NOTHING`, m.Series, m.Body, now, m.Brand); err != nil {
			return fmt.Errorf("inventory: series: %w", err)
		}
		res, err := q.ExecContext(ctx, `INSERT INTO vehicle_model(series_id, name, model_year, msrp, energy_type, created_at)
			SELECT s.id, ?, ?, ?, ?, ? FROM vehicle_series s JOIN vehicle_brand b ON b.id = s.brand_id WHERE b.name = ? AND s.name = ?`,
			m.Name, m.Year, m.MSRP, m.Energy, now, m.Brand, m.Series)
		if err != nil {
			return fmt.Errorf("inventory: model %s %s: %w", m.Series, m.Name, err)
		}
		id, _ := res.LastInsertId()
		for _, c := range m.Colors {
			if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_color(model_id, name) VALUES (?, ?)`, id, c); err != nil {
				return fmt.Errorf("inventory: colour: %w", err)
			}
		}
	}
	return nil
}
