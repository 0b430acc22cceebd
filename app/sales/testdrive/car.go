package testdrive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/pii"
)

// The states of a test-drive car: only active cars can be booked.
const (
	CarActive      = "active"
	CarMaintenance = "maintenance"
	CarRetired     = "retired"
)

// Car is one car of a store's test-drive fleet (试驾车).
type Car struct {
	ID         int64  `json:"id"`
	StoreID    int64  `json:"storeId"`
	ModelID    int64  `json:"modelId"`
	ModelName  string `json:"modelName"` // series + trim, e.g. 凯美瑞 2.0E 精英版
	BrandName  string `json:"brandName"`
	EnergyType string `json:"energyType"` // ice, hev, phev, bev, erev
	Plate      string `json:"plate"`
	VIN        string `json:"vin"`
	VehicleID  *int64 `json:"vehicleId"`
	Color      string `json:"color"`
	Mileage    int64  `json:"mileage"` // km
	Status     string `json:"status"`
	Note       string `json:"note"`
	Version    int64  `json:"version"`
	UpdatedAt  int64  `json:"updatedAt"`
}

// Label is how a car is named in lists and messages: model and plate.
func (c Car) Label() string { return c.ModelName + " " + c.Plate }

// CarInput creates or edits a car. Version is required on edit.
type CarInput struct {
	StoreID   int64  `json:"storeId"` // group roles: the store; others: their own
	ModelID   int64  `json:"modelId"`
	Plate     string `json:"plate"`
	VIN       string `json:"vin"`
	VehicleID int64  `json:"vehicleId"` // a stock vehicle serving as the demo car (its VIN and model are taken)
	Color     string `json:"color"`
	Mileage   int64  `json:"mileage"`
	Status    string `json:"status"`
	Note      string `json:"note"`
	Version   int64  `json:"version"`
}

// plateRe is a Chinese plate: province character, city letter, 4–6 letters or
// digits (new-energy plates have 6), and an optional 挂/学/临-style suffix.
var plateRe = regexp.MustCompile(`^\p{Han}[A-Z][A-Z0-9]{4,6}\p{Han}?$`)

// NormalizePlate upper-cases a plate and drops spaces, dots and dashes.
func NormalizePlate(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '·', '•', '-', '.', '\u3000':
			return -1
		}
		return r
	}, s)
}

// Normalize cleans the input and reports field errors of its shape.
func (in *CarInput) Normalize() error {
	f := apperr.Fields{}
	in.Plate = NormalizePlate(in.Plate)
	in.VIN = pii.NormalizeVIN(in.VIN)
	in.Color = strings.TrimSpace(in.Color)
	in.Note = strings.TrimSpace(in.Note)
	if in.Status == "" {
		in.Status = CarActive
	}
	switch {
	case in.Plate == "":
		f.Add("plate", "required")
	case !plateRe.MatchString(in.Plate):
		f.Add("plate", "testdrive.plate_invalid")
	}
	if in.VIN != "" {
		vin, _, err := pii.ValidateVIN(in.VIN)
		var ve *pii.VINError
		if errors.As(err, &ve) {
			f.Add("vin", ve.Code)
		}
		in.VIN = vin
	}
	if in.ModelID <= 0 && in.VehicleID <= 0 {
		f.Add("modelId", "required")
	}
	if in.Mileage < 0 || in.Mileage > 1_000_000 {
		f.Add("mileage", "out_of_range", "min", 0, "max", 1_000_000)
	}
	switch in.Status {
	case CarActive, CarMaintenance, CarRetired:
	default:
		f.Add("status", "invalid_format")
	}
	if utf8.RuneCountInString(in.Color) > 30 {
		f.Add("color", "too_long", "max", 30)
	}
	if utf8.RuneCountInString(in.Note) > 500 {
		f.Add("note", "too_long", "max", 500)
	}
	return f.Err()
}

func (s *Service) carRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/test-drive-cars", Perm: auth.PermVehicleRead, Summary: "A store's test-drive fleet (all=1: retired cars too)", Query: CarFilter{}, Out: api.List[Car]{}, Handler: s.hCars},
		{Method: http.MethodPost, Path: "/test-drive-cars", Perm: auth.PermVehicleWrite, Summary: "Add a car to the test-drive fleet (plate unique in the store; VIN validated)", In: CarInput{}, Out: Car{}, Status: http.StatusCreated, Handler: s.hCreateCar},
		{Method: http.MethodGet, Path: "/test-drive-cars/:id", Perm: auth.PermVehicleRead, Summary: "A test-drive car", Out: Car{}, Handler: s.hCar},
		{Method: http.MethodPut, Path: "/test-drive-cars/:id", Perm: auth.PermVehicleWrite, Summary: "Edit a test-drive car (status active / maintenance / retired); version checked", In: CarInput{}, Out: Car{}, Handler: s.hUpdateCar},
	}
}

// CarFilter selects a store's fleet.
type CarFilter struct {
	StoreID int64 `query:"storeId"`
	All     bool  `query:"all"`
}

const carCols = `c.id, c.store_id, c.model_id, se.name || ' ' || m.name, b.name, m.energy_type, c.plate, c.vin, c.vehicle_id, c.color, c.mileage, c.status, c.note, c.version, c.updated_at`
const carFrom = ` FROM test_drive_car c JOIN vehicle_model m ON m.id = c.model_id JOIN vehicle_series se ON se.id = m.series_id JOIN vehicle_brand b ON b.id = se.brand_id`

func scanCar(sc interface{ Scan(...any) error }) (Car, error) {
	var c Car
	var veh sql.NullInt64
	err := sc.Scan(&c.ID, &c.StoreID, &c.ModelID, &c.ModelName, &c.BrandName, &c.EnergyType, &c.Plate, &c.VIN, &veh, &c.Color, &c.Mileage, &c.Status, &c.Note, &c.Version, &c.UpdatedAt)
	c.VehicleID = nullInt(veh)
	return c, err
}

func loadCar(ctx context.Context, q db.Querier, id int64) (Car, error) {
	c, err := scanCar(q.QueryRowContext(ctx, `SELECT `+carCols+carFrom+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return c, fmt.Errorf("testdrive: car %d: %w", id, err)
	}
	return c, nil
}

func listCars(ctx context.Context, q db.Querier, storeID int64, all bool) ([]Car, error) {
	query := `SELECT ` + carCols + carFrom + ` WHERE c.store_id = ?`
	if !all {
		query += ` AND c.status <> 'retired'`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY c.status = 'maintenance', c.id`, storeID)
	if err != nil {
		return nil, fmt.Errorf("testdrive: cars of store %d: %w", storeID, err)
	}
	defer rows.Close()
	out := []Car{}
	for rows.Next() {
		c, err := scanCar(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// carAccess checks perm on a car's store: 403 without it, 404 for a car of a
// store outside the actor's reach (the fleet has no owner: a consultant works
// with the whole showroom's cars).
func carAccess(a auth.Actor, perm string, storeID int64) error {
	if err := auth.Require(a, perm); err != nil {
		return err
	}
	if a.Scope != auth.ScopeGroup && storeID != a.HomeStoreID {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}

// Cars lists a store's fleet.
func (s *Service) Cars(ctx context.Context, a auth.Actor, f CarFilter) ([]Car, error) {
	if err := auth.Require(a, auth.PermVehicleRead); err != nil {
		return nil, err
	}
	storeID, ok := storeOf(a, f.StoreID)
	if !ok {
		return nil, apperr.New(apperr.NotFound, "not_found")
	}
	return listCars(ctx, s.d.DB.R, storeID, f.All)
}

// GetCar returns one car.
func (s *Service) GetCar(ctx context.Context, a auth.Actor, id int64) (Car, error) {
	c, err := loadCar(ctx, s.d.DB.R, id)
	if err != nil {
		return c, err
	}
	return c, carAccess(a, auth.PermVehicleRead, c.StoreID)
}

// resolveCar checks the model and the linked stock vehicle against the store.
func resolveCar(ctx context.Context, q db.Querier, storeID int64, in *CarInput) error {
	if in.VehicleID > 0 {
		var vStore, model int64
		var vin string
		err := q.QueryRowContext(ctx, `SELECT store_id, model_id, vin FROM vehicle WHERE id = ?`, in.VehicleID).Scan(&vStore, &model, &vin)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && vStore != storeID) {
			return apperr.Field("vehicleId", "testdrive.vehicle_unknown")
		}
		if err != nil {
			return fmt.Errorf("testdrive: vehicle %d: %w", in.VehicleID, err)
		}
		if in.ModelID == 0 {
			in.ModelID = model
		}
		if in.VIN == "" {
			in.VIN = vin
		}
		if in.ModelID != model || in.VIN != vin {
			return apperr.Field("vehicleId", "testdrive.vehicle_mismatch")
		}
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM vehicle_model WHERE id = ?`, in.ModelID).Scan(&n); err != nil {
		return fmt.Errorf("testdrive: model %d: %w", in.ModelID, err)
	}
	if n == 0 {
		return apperr.Field("modelId", "vehicle.model_unknown")
	}
	return nil
}

func plateTaken(err error) error {
	if db.IsUnique(err) {
		return apperr.Field("plate", "testdrive.plate_taken")
	}
	return err
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// CreateCar adds a car to the fleet.
func (s *Service) CreateCar(ctx context.Context, a auth.Actor, in CarInput) (Car, error) {
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return Car{}, err
	}
	storeID, ok := storeOf(a, in.StoreID)
	if !ok {
		return Car{}, apperr.Field("storeId", "invalid_format")
	}
	if err := in.Normalize(); err != nil {
		return Car{}, err
	}
	var id int64
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := resolveCar(ctx, tx, storeID, &in); err != nil {
			return err
		}
		now := s.now()
		r, err := tx.ExecContext(ctx, `INSERT INTO test_drive_car (store_id, model_id, plate, vin, vehicle_id, color, mileage, status, note, created_at, created_by, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, storeID, in.ModelID, in.Plate, in.VIN, nullID(in.VehicleID), in.Color, in.Mileage, in.Status, in.Note,
			now, userID(a), now, userID(a))
		if err != nil {
			return plateTaken(fmt.Errorf("testdrive: create car: %w", err))
		}
		id, _ = r.LastInsertId()
		c, err := loadCar(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "test_drive_car", id, storeID, nil, c)
	})
	if err != nil {
		return Car{}, err
	}
	return loadCar(ctx, s.d.DB.R, id)
}

// UpdateCar edits a car; the version must match (409 conflict.stale). A car
// taken out of service keeps its bookings: the calendar shows them, and the
// manager moves them to another car.
func (s *Service) UpdateCar(ctx context.Context, a auth.Actor, id int64, in CarInput) (Car, error) {
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return Car{}, err
	}
	if err := in.Normalize(); err != nil {
		return Car{}, err
	}
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := loadCar(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := carAccess(a, auth.PermVehicleWrite, old.StoreID); err != nil {
			return err
		}
		if in.Mileage < old.Mileage {
			return apperr.Field("mileage", "testdrive.mileage_back", "km", old.Mileage)
		}
		if err := resolveCar(ctx, tx, old.StoreID, &in); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `UPDATE test_drive_car SET model_id = ?, plate = ?, vin = ?, vehicle_id = ?, color = ?, mileage = ?, status = ?, note = ?,
			version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ?`,
			in.ModelID, in.Plate, in.VIN, nullID(in.VehicleID), in.Color, in.Mileage, in.Status, in.Note, s.now(), userID(a), id, in.Version)
		if err != nil {
			return plateTaken(fmt.Errorf("testdrive: update car %d: %w", id, err))
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		c, err := loadCar(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "test_drive_car", id, old.StoreID, old, c)
	})
	if err != nil {
		return Car{}, err
	}
	return loadCar(ctx, s.d.DB.R, id)
}

func (s *Service) hCars(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	f := CarFilter{StoreID: store, All: c.QueryParam("all") == "1" || c.QueryParam("all") == "true"}
	out, err := s.Cars(c.Request().Context(), api.Actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Car]{Items: out})
}

func (s *Service) hCreateCar(c echo.Context) error {
	var in CarInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateCar(c.Request().Context(), api.Actor(c), in)
	return reply(c, http.StatusCreated, out, err)
}

func (s *Service) hCar(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.GetCar(c.Request().Context(), api.Actor(c), id)
		return reply(c, http.StatusOK, out, err)
	})
}

func (s *Service) hUpdateCar(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in CarInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateCar(c.Request().Context(), api.Actor(c), id, in)
		return reply(c, http.StatusOK, out, err)
	})
}

func reply(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

func withID(c echo.Context, fn func(id int64) error) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	return fn(id)
}
