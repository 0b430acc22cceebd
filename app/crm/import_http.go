package crm

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// importRoutes are the import wizard's routes: managers (customer.assign) import.
func (s *Service) importRoutes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Path: "/imports", Perm: auth.PermCustomerAssign, Multipart: true,
			Summary: "Upload a customer or lead sheet (.xlsx, CSV in UTF-8 or GBK; multipart: file, storeId; at most 50 MiB): headers, preview, suggested mapping, row count",
			Out:     ImportJob{}, Handler: s.hUploadImport},
		{Method: http.MethodGet, Path: "/imports", Perm: auth.PermCustomerAssign, Summary: "A store's recent imports, newest first",
			Query: ImportListQuery{}, Out: ImportList{}, Handler: s.hListImports},
		{Method: http.MethodGet, Path: "/imports/:id", Perm: auth.PermCustomerAssign, Summary: "An import's status and counters (a waiting one also has its preview)",
			Out: ImportJob{}, Handler: s.hGetImport},
		{Method: http.MethodPost, Path: "/imports/:id/start", Perm: auth.PermCustomerAssign, Summary: "Start an uploaded import with its column mapping and options",
			In: StartImportInput{}, Out: ImportJob{}, Handler: s.hStartImport},
		{Method: http.MethodPost, Path: "/imports/:id/cancel", Perm: auth.PermCustomerAssign, Summary: "Cancel an import (rows already imported stay)",
			Out: ImportJob{}, Handler: s.hCancelImport},
		{Method: http.MethodGet, Path: "/imports/:id/rows", Perm: auth.PermCustomerAssign, Summary: "The per-row report: rejected rows with their field errors, duplicates within the file, rows attached to known customers",
			Query: ImportRowQuery{}, Out: api.List[ImportRow]{}, Handler: s.hImportRows},
		{Method: http.MethodGet, Path: "/imports/:id/report.xlsx", Perm: auth.PermCustomerAssign, Summary: "The rows not imported, with the reason, as Excel (correct and import again)",
			Handler: s.hImportReport},
	}
}

// ImportListQuery are the query parameters of GET /imports.
type ImportListQuery struct {
	StoreID int64  `query:"storeId"`
	Cursor  string `query:"cursor"`
	Limit   int    `query:"limit"`
}

// ImportRowQuery are the query parameters of GET /imports/:id/rows.
type ImportRowQuery struct {
	Outcome string `query:"outcome"` // rejected (with duplicates) | duplicate_in_file | attached; "" all
	Cursor  string `query:"cursor"`
	Limit   int    `query:"limit"`
}

func (s *Service) hUploadImport(c echo.Context) error {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxImportBytes+1<<20)
	mr, err := req.MultipartReader()
	if err != nil {
		return apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
	}
	var (
		storeID int64
		staged  *stagedImport
		name    string
	)
	defer func() {
		if staged != nil && staged.path != "" {
			os.Remove(staged.path) // UploadImport moved it, or it stays unused
		}
	}()
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return importTooLarge()
			}
			return apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
		}
		switch p.FormName() {
		case "storeId":
			b, _ := io.ReadAll(io.LimitReader(p, 32))
			if v := strings.TrimSpace(string(b)); v != "" {
				if storeID, err = strconv.ParseInt(v, 10, 64); err != nil || storeID < 0 {
					p.Close()
					return apperr.Field("storeId", "invalid_format")
				}
			}
		case "file":
			if staged != nil {
				p.Close()
				return apperr.Field("file", "crm.import_one_file")
			}
			st, err := s.stageImport(p)
			if err != nil {
				p.Close()
				return err
			}
			staged, name = &st, p.FileName()
		}
		p.Close()
	}
	if staged == nil {
		return apperr.Field("file", "required")
	}
	st := *staged
	staged = nil // UploadImport owns the file now
	job, err := s.UploadImport(req.Context(), api.Actor(c), storeID, name, st)
	return ok(c, http.StatusCreated, job, err)
}

func (s *Service) hListImports(c echo.Context) error {
	storeID, err := api.QueryInt64(c, "storeId")
	if err != nil {
		return err
	}
	limit, err := api.Limit(c)
	if err != nil {
		return err
	}
	out, err := s.ListImports(c.Request().Context(), api.Actor(c), storeID, c.QueryParam("cursor"), limit)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hGetImport(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.GetImport(c.Request().Context(), api.Actor(c), id)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hStartImport(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	var in StartImportInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	out, err := s.StartImport(c.Request().Context(), api.Actor(c), id, in)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hCancelImport(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.CancelImport(c.Request().Context(), api.Actor(c), id)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hImportRows(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	limit, err := api.Limit(c)
	if err != nil {
		return err
	}
	out, err := s.ImportRows(c.Request().Context(), api.Actor(c), id, c.QueryParam("outcome"), c.QueryParam("cursor"), limit)
	return ok(c, http.StatusOK, out, err)
}

func (s *Service) hImportReport(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	return s.ImportReport(c.Request().Context(), api.Actor(c), id, c.Response())
}
