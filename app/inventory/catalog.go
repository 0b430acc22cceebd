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
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Series []Series `json:"series"`
}

// Series is a model line (e.g. 凯美瑞).
type Series struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	BodyType string  `json:"bodyType"`
	Models   []Model `json:"models"`
}

// Model is one trim with its price.
type Model struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	ModelYear  int      `json:"modelYear"`
	MSRP       int64    `json:"msrp"` // fen
	EnergyType string   `json:"energyType"`
	Colors     []string `json:"colors"`
}

// Catalog returns the active catalogue as a tree, brands by name. Three queries,
// whatever the size (no per-row lookups).
func (s *Service) Catalog(ctx context.Context, a auth.Actor) ([]Brand, error) {
	if err := auth.Require(a, auth.PermVehicleRead); err != nil {
		return nil, err
	}
	colors := map[int64][]string{}
	if err := each(ctx, s.db.R, `SELECT model_id, name FROM vehicle_color ORDER BY model_id, id`, func(r *sql.Rows) error {
		var id int64
		var n string
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		colors[id] = append(colors[id], n)
		return nil
	}); err != nil {
		return nil, err
	}
	models := map[int64][]Model{}
	if err := each(ctx, s.db.R, `SELECT id, series_id, name, model_year, msrp, energy_type FROM vehicle_model WHERE active = 1 ORDER BY series_id, msrp, id`, func(r *sql.Rows) error {
		var m Model
		var sid int64
		if err := r.Scan(&m.ID, &sid, &m.Name, &m.ModelYear, &m.MSRP, &m.EnergyType); err != nil {
			return err
		}
		m.Colors = colors[m.ID]
		if m.Colors == nil {
			m.Colors = []string{}
		}
		models[sid] = append(models[sid], m)
		return nil
	}); err != nil {
		return nil, err
	}
	var out []Brand
	idx := map[int64]int{}
	if err := each(ctx, s.db.R, `SELECT b.id, b.name, s.id, s.name, s.body_type FROM vehicle_brand b JOIN vehicle_series s ON s.brand_id = b.id ORDER BY b.name, s.name`, func(r *sql.Rows) error {
		var bid, sid int64
		var bn, sn, body string
		if err := r.Scan(&bid, &bn, &sid, &sn, &body); err != nil {
			return err
		}
		i, ok := idx[bid]
		if !ok {
			out = append(out, Brand{ID: bid, Name: bn, Series: []Series{}})
			i = len(out) - 1
			idx[bid] = i
		}
		ms := models[sid]
		if ms == nil {
			ms = []Model{}
		}
		out[i].Series = append(out[i].Series, Series{ID: sid, Name: sn, BodyType: body, Models: ms})
		return nil
	}); err != nil {
		return nil, err
	}
	if out == nil {
		out = []Brand{}
	}
	return out, nil
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
	v, err := s.Catalog(c.Request().Context(), api.Actor(c))
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
