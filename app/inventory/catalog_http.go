package inventory

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/auth"
)

// catalogRoutes is the catalogue editing route table (the catalogue is the
// group's: no store applies; GET /catalog is in the inventory table).
func (s *Service) catalogRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Path: "/catalog/brands", Perm: auth.PermVehicleWrite, Summary: "Add a brand", In: BrandInput{}, Out: Brand{}, Status: http.StatusCreated, Handler: s.hCreateBrand},
		{Method: http.MethodPut, Path: "/catalog/brands/:id", Perm: auth.PermVehicleWrite, Summary: "Rename or retire a brand; version checked", In: BrandInput{}, Out: Brand{}, Handler: s.hUpdateBrand},
		{Method: http.MethodPost, Path: "/catalog/series", Perm: auth.PermVehicleWrite, Summary: "Add a series to a brand", In: SeriesInput{}, Out: Series{}, Status: http.StatusCreated, Handler: s.hCreateSeries},
		{Method: http.MethodPut, Path: "/catalog/series/:id", Perm: auth.PermVehicleWrite, Summary: "Edit or retire a series; version checked", In: SeriesInput{}, Out: Series{}, Handler: s.hUpdateSeries},
		{Method: http.MethodPost, Path: "/catalog/models", Perm: auth.PermVehicleWrite, Summary: "Add a model (trim) to a series: year, code, MSRP in fen, energy type", In: ModelInput{}, Out: Model{}, Status: http.StatusCreated, Handler: s.hCreateModel},
		{Method: http.MethodPut, Path: "/catalog/models/:id", Perm: auth.PermVehicleWrite, Summary: "Edit or retire a model; version checked", In: ModelInput{}, Out: Model{}, Handler: s.hUpdateModel},
		{Method: http.MethodDelete, Path: "/catalog/models/:id", Perm: auth.PermVehicleWrite, Summary: "Delete a model nothing refers to (409 catalog.model_in_stock / catalog.model_in_use: retire it instead)", Status: http.StatusNoContent, Handler: s.hDeleteModel},
		{Method: http.MethodPut, Path: "/catalog/models/:id/colors", Perm: auth.PermVehicleWrite, Summary: "Replace a model's colours with their surcharges; version checked", In: ColorsInput{}, Out: Model{}, Handler: s.hModelColors},
		{Method: http.MethodPut, Path: "/catalog/models/:id/options", Perm: auth.PermVehicleWrite, Summary: "Replace a model's factory options and packages (price; cost with cost.read); version checked", In: OptionsInput{}, Out: Model{}, Handler: s.hModelOptions},
		{Method: http.MethodPost, Path: "/catalog/import/preview", Perm: auth.PermVehicleWrite, Multipart: true, MaxBody: MaxImportBytes + 1<<20, Summary: "Read a catalogue sheet (multipart: file): headers, suggested mapping, first rows", Out: ImportPreview{}, Handler: s.hCatalogImportPreview},
		{Method: http.MethodPost, Path: "/catalog/import", Perm: auth.PermVehicleWrite, Multipart: true, MaxBody: MaxImportBytes + 1<<20, Summary: "Import a catalogue sheet (multipart: file, mapping): brands, series, models, colours; per-row result", Out: CatalogImportResult{}, Handler: s.hCatalogImport},
	}
}

func (s *Service) hCreateBrand(c echo.Context) error {
	var in BrandInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateBrand(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hUpdateBrand(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in BrandInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateBrand(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hCreateSeries(c echo.Context) error {
	var in SeriesInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateSeries(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hUpdateSeries(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in SeriesInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateSeries(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hCreateModel(c echo.Context) error {
	var in ModelInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.CreateModel(c.Request().Context(), api.Actor(c), in)
	return ok(c, http.StatusCreated, out, err)
}

func (s *Service) hUpdateModel(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in ModelInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.UpdateModel(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hDeleteModel(c echo.Context) error {
	return withID(c, func(id int64) error {
		if err := s.DeleteModel(c.Request().Context(), api.Actor(c), id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}

func (s *Service) hModelColors(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in ColorsInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.SetModelColors(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}

func (s *Service) hModelOptions(c echo.Context) error {
	return withID(c, func(id int64) error {
		var in OptionsInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		out, err := s.SetModelOptions(c.Request().Context(), api.Actor(c), id, in)
		return ok(c, http.StatusOK, out, err)
	})
}
