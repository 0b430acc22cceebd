package inventory

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// Routes is the inventory route table.
func (s *Service) Routes() []api.Route {
	return append([]api.Route{
		{Method: http.MethodGet, Path: "/catalog", Perm: auth.PermVehicleRead, Summary: "The vehicle catalogue: brands, series, models with MSRP, colours and options (all=1: retired ones too)", Out: api.List[Brand]{}, Handler: s.hCatalog},
		{Method: http.MethodGet, Path: "/vehicles", Perm: auth.PermVehicleRead, Summary: "List the stock in scope: filters (status, model, colour, age, VIN suffix, text), sorts, keyset paging, capped count", Query: ListFilter{}, Out: VehicleList{}, Handler: s.hList},
		{Method: http.MethodGet, Path: "/vehicles/export", Perm: auth.PermVehicleRead, Summary: "Export the filtered stock list to Excel (audited; cost only with cost.read)", Query: ListFilter{}, Handler: s.hExport},
		{Method: http.MethodGet, Path: "/vehicles/settings", Perm: auth.PermVehicleRead, Summary: "A store's stock settings: ageing thresholds", Out: Settings{}, Handler: s.hGetSettings},
		{Method: http.MethodPut, Path: "/vehicles/settings", Perm: auth.PermVehicleWrite, Summary: "Change a store's ageing thresholds", In: Settings{}, Out: Settings{}, Handler: s.hSaveSettings},
		{Method: http.MethodPost, Path: "/vehicles/import/preview", Perm: auth.PermVehicleWrite, Multipart: true, MaxBody: MaxImportBytes + 1<<20, Summary: "Read a factory allocation sheet (multipart: file): headers, suggested mapping, first rows", Out: ImportPreview{}, Handler: s.hImportPreview},
		{Method: http.MethodPost, Path: "/vehicles/import", Perm: auth.PermVehicleWrite, Multipart: true, MaxBody: MaxImportBytes + 1<<20, Summary: "Import a factory allocation sheet (multipart: file, storeId, mapping): per-row result", Out: ImportResult{}, Handler: s.hImport},
		{Method: http.MethodPost, Path: "/vehicles", Perm: auth.PermVehicleWrite, Summary: "Add a vehicle to stock (VIN validated; a non-China VIN with a wrong check digit is kept with a warning)", In: VehicleInput{}, Out: Vehicle{}, Status: http.StatusCreated, Handler: s.hCreate},
		{Method: http.MethodGet, Path: "/vehicles/:id", Perm: auth.PermVehicleRead, Summary: "A vehicle with its status history", Out: Vehicle{}, Handler: s.hGet},
		{Method: http.MethodPut, Path: "/vehicles/:id", Perm: auth.PermVehicleWrite, Summary: "Edit a vehicle (not its status); version checked", In: VehicleInput{}, Out: Vehicle{}, Handler: s.hUpdate},
		{Method: http.MethodPost, Path: "/vehicles/:id/status", Perm: auth.PermVehicleWrite, Summary: "Move a vehicle: ordered → in transit → in stock, sold → delivered; admin corrections", In: StatusInput{}, Out: Vehicle{}, Handler: s.hStatus},
		{Method: http.MethodPost, Path: "/vehicles/:id/reserve", Perm: auth.PermSalesWrite, Summary: "Reserve an in-stock car for a customer until a time (409 vehicle.not_available otherwise)", In: ReserveInput{}, Out: Vehicle{}, Handler: s.hReserve},
		{Method: http.MethodPost, Path: "/vehicles/:id/release", Perm: auth.PermSalesWrite, Summary: "Release a reservation: the car is in stock again", In: ReleaseInput{}, Out: Vehicle{}, Handler: s.hRelease},
		{Method: http.MethodPost, Path: "/vehicles/:id/sell", Perm: auth.PermSalesWrite, Summary: "Mark a car sold to a customer (from in stock, or reserved for that customer)", In: SellInput{}, Out: Vehicle{}, Handler: s.hSell},
	}, s.catalogRoutes()...)
}

func ok(c echo.Context, status int, v any, err error) error {
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

func splitList(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// listFilter reads the list filter from the query string.
func listFilter(c echo.Context) (ListFilter, error) {
	f := ListFilter{Statuses: splitList(c.QueryParam("status")), Color: c.QueryParam("color"), Age: c.QueryParam("age"), VIN: c.QueryParam("vin"),
		Q: c.QueryParam("q"), Sort: c.QueryParam("sort"), Order: c.QueryParam("order"), Cursor: c.QueryParam("cursor"),
		Count: c.QueryParam("count") == "1" || c.QueryParam("count") == "true"}
	var err error
	for name, dst := range map[string]*int64{"storeId": &f.StoreID, "modelId": &f.ModelID, "seriesId": &f.SeriesID, "brandId": &f.BrandID} {
		if *dst, err = api.QueryInt64(c, name); err != nil {
			return f, err
		}
	}
	if f.Limit, err = api.QueryLimit(c); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Service) hList(c echo.Context) error {
	f, err := listFilter(c)
	if err != nil {
		return err
	}
	out, err := s.ListVehicles(c.Request().Context(), api.Actor(c), f)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hExport(c echo.Context) error {
	f, err := listFilter(c)
	if err != nil {
		return err
	}
	return s.Export(c.Request().Context(), api.Actor(c), f, c.Response())
}

func (s *Service) hGetSettings(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	out, err := s.GetSettings(c.Request().Context(), api.Actor(c), store)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hSaveSettings(c echo.Context) error {
	store, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	var in Settings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.SaveSettings(c.Request().Context(), api.Actor(c), store, in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hCreate(c echo.Context) error {
	var in VehicleInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateVehicle(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hGet(c echo.Context) error {
	return withID(c, func(id int64) error {
		out, err := s.GetVehicle(c.Request().Context(), api.Actor(c), id)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hUpdate(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in VehicleInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateVehicle(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hStatus(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in StatusInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.SetStatus(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hReserve(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in ReserveInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.ReserveVehicle(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hRelease(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in ReleaseInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.ReleaseVehicle(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hSell(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in SellInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.SellVehicle(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}
