package attach

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// Routes is the attachment route table. The route permissions are the coarse
// gate; the service checks the owning record's own read or write permission.
func (s *Service) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodPost, Path: "/attachments", Perm: auth.PermAttachWrite, Multipart: true,
			Summary: "Upload a file to a record (multipart: file, entity, entityId)", Out: Attachment{}, Handler: s.handleUpload},
		{Method: http.MethodGet, Path: "/attachments", Perm: api.SignedIn,
			Summary: "List the files of a record", Query: ListQuery{}, Out: api.List[Attachment]{}, Handler: s.handleList},
		{Method: http.MethodGet, Path: "/attachments/:id/content", Perm: api.SignedIn,
			Summary: "Download a file (?size=thumb for the phone-sized copy of an image)", Query: ContentQuery{}, Handler: s.handleContent},
		{Method: http.MethodDelete, Path: "/attachments/:id", Perm: auth.PermAttachWrite,
			Summary: "Delete a file", Handler: s.handleDelete},
	}
}

// ListQuery are the query parameters of GET /attachments.
type ListQuery struct {
	Entity   string `query:"entity"`
	EntityID int64  `query:"entityId"`
}

// ContentQuery are the query parameters of GET /attachments/:id/content.
type ContentQuery struct {
	Size string `query:"size"` // "" or "thumb"
}

// maxMultipartMemory is how much of an upload is held in memory while parsing;
// the rest goes to a temporary file that is removed after the request.
const maxMultipartMemory = 8 << 20

func (s *Service) handleUpload(c echo.Context) error {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxSize+1<<20)
	if err := req.ParseMultipartForm(maxMultipartMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
	}
	defer req.MultipartForm.RemoveAll()
	form := req.MultipartForm
	entityID, err := strconv.ParseInt(first(form.Value["entityId"]), 10, 64)
	if err != nil {
		return apperr.Field("entityId", "invalid_format")
	}
	fhs := form.File["file"]
	if len(fhs) != 1 {
		return apperr.Field("file", "required")
	}
	f, err := fhs[0].Open()
	if err != nil {
		return err
	}
	defer f.Close()
	att, err := s.Upload(req.Context(), api.Actor(c), first(form.Value["entity"]), entityID, fhs[0].Filename, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, att)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (s *Service) handleList(c echo.Context) error {
	id, err := api.QueryInt64(c, "entityId")
	if err != nil {
		return err
	}
	items, err := s.List(c.Request().Context(), api.Actor(c), c.QueryParam("entity"), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[Attachment]{Items: items})
}

func (s *Service) handleContent(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	size := c.QueryParam("size")
	if size != "" && size != "thumb" {
		return apperr.Field("size", "invalid_format")
	}
	att, f, err := s.Open(c.Request().Context(), api.Actor(c), id, size == "thumb")
	if err != nil {
		return err
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, att.Mime)
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(echo.HeaderContentDisposition, ContentDisposition(inline(att.Mime), att.Name))
	h.Set("Cache-Control", "private, max-age=0")
	h.Set("ETag", `"`+att.SHA256+`"`)
	// An empty name keeps ServeContent from guessing the type; it adds ranges,
	// If-None-Match and If-Modified-Since.
	http.ServeContent(c.Response(), c.Request(), "", time.UnixMilli(att.CreatedAt), f)
	return nil
}

func (s *Service) handleDelete(c echo.Context) error {
	id, err := api.ID(c, "id")
	if err != nil {
		return err
	}
	if err := s.Delete(c.Request().Context(), api.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
