package attach_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/apperr"
	"dealerdesk/app/attach"
	"dealerdesk/app/auth"
)

// server mounts the route table under /api/v1 the way httpapi does, with the actor
// taken from the X-Test-Actor header and errors written as {"error":{"code":…}}.
func (e *env) server(t *testing.T) *echo.Echo {
	t.Helper()
	srv := echo.New()
	srv.HTTPErrorHandler = func(err error, c echo.Context) {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			c.JSON(he.Code, map[string]any{"error": map[string]any{"code": "http"}})
			return
		}
		ae := apperr.As(err)
		c.JSON(ae.Kind.Status(), map[string]any{"error": map[string]any{"code": ae.Code, "fields": ae.Fields}})
	}
	actors := map[string]auth.Actor{"writer": e.writer, "reader": e.reader,
		"other": actor(30, auth.ScopeStore, e.store2, auth.PermCustomerRead, auth.PermCustomerWrite, auth.PermAttachWrite)}
	withActor := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a := actors[c.Request().Header.Get("X-Test-Actor")]
			c.SetRequest(c.Request().WithContext(auth.WithActor(c.Request().Context(), a)))
			return next(c)
		}
	}
	for _, r := range e.svc.Routes() {
		if r.Perm == "" || r.Handler == nil {
			t.Fatalf("route %s %s lacks a permission or handler", r.Method, r.Path)
		}
		srv.Add(r.Method, "/api/v1"+r.Path, r.Handler, withActor)
	}
	return srv
}

func do(srv *echo.Echo, who, method, url string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, body)
	req.Header.Set("X-Test-Actor", who)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// uploadBody is a multipart form with the file first and the fields after it, as
// a client may order them.
func uploadBody(t *testing.T, entity string, entityID int64, filename string, data []byte) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.WriteField("entity", entity)
	mw.WriteField("entityId", strconv.FormatInt(entityID, 10))
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

func TestHTTP_UploadListDownloadDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.server(t)
	orig := pngBytes(t, 3000, 2000)
	body, ct := uploadBody(t, "widget", e.widget1, "行驶证 正面.png", orig)
	rec := do(srv, "writer", http.MethodPost, "/api/v1/attachments", body, "Content-Type", ct)
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "entity", "entityId", "name", "mime", "size", "width", "height", "hasThumb", "createdAt", "createdBy"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("response lacks %q: %s", k, rec.Body)
		}
	}
	if len(raw) != 11 {
		t.Errorf("response has extra keys (digests, store): %s", rec.Body)
	}
	id := strconv.FormatInt(int64(raw["id"].(float64)), 10)

	rec = do(srv, "reader", http.MethodGet, "/api/v1/attachments?entity=widget&entityId="+strconv.FormatInt(e.widget1, 10), nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"items":[{"id":`+id) {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}

	rec = do(srv, "reader", http.MethodGet, "/api/v1/attachments/"+id+"/content", nil)
	h := rec.Header()
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), orig) {
		t.Fatalf("content: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "private, max-age=0" {
		t.Fatalf("headers = %v", h)
	}
	disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil || disp != "inline" || params["filename"] != "行驶证 正面.png" {
		t.Fatalf("Content-Disposition %q → %s %q %v", h.Get("Content-Disposition"), disp, params["filename"], err)
	}

	rec = do(srv, "reader", http.MethodGet, "/api/v1/attachments/"+id+"/content", nil, "Range", "bytes=0-9")
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), orig[:10]) ||
		rec.Header().Get("Content-Range") != "bytes 0-9/"+strconv.Itoa(len(orig)) {
		t.Fatalf("range: %d %q %q", rec.Code, rec.Header().Get("Content-Range"), rec.Body.Bytes())
	}
	etag := h.Get("ETag")
	if rec = do(srv, "reader", http.MethodGet, "/api/v1/attachments/"+id+"/content", nil, "If-None-Match", etag); etag == "" || rec.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match %q: %d", etag, rec.Code)
	}

	rec = do(srv, "reader", http.MethodGet, "/api/v1/attachments/"+id+"/content?size=thumb", nil)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/jpeg" || err != nil || max(cfg.Width, cfg.Height) != 1600 {
		t.Fatalf("thumb: %d %s %v %+v", rec.Code, rec.Header().Get("Content-Type"), err, cfg)
	}
	if rec = do(srv, "reader", http.MethodGet, "/api/v1/attachments/"+id+"/content?size=huge", nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("size=huge: %d", rec.Code)
	}
	if rec = do(srv, "other", http.MethodGet, "/api/v1/attachments/"+id+"/content", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("other store: %d", rec.Code)
	}

	if rec = do(srv, "other", http.MethodDelete, "/api/v1/attachments/"+id, nil); rec.Code != http.StatusNotFound {
		t.Fatalf("delete by other store: %d", rec.Code)
	}
	if rec = do(srv, "writer", http.MethodDelete, "/api/v1/attachments/"+id, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if rec = do(srv, "reader", http.MethodGet, "/api/v1/attachments/"+id+"/content", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("content after delete: %d", rec.Code)
	}
}

func TestHTTP_OfficeFileDownloadsAsAttachment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.server(t)
	body, ct := uploadBody(t, "widget", e.widget1, "库存.xlsx", minimalXLSX(t))
	rec := do(srv, "writer", http.MethodPost, "/api/v1/attachments", body, "Content-Type", ct)
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var a attach.Attachment
	json.Unmarshal(rec.Body.Bytes(), &a)
	rec = do(srv, "writer", http.MethodGet, "/api/v1/attachments/"+strconv.FormatInt(a.ID, 10)+"/content", nil)
	disp, params, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
	if disp != "attachment" || params["filename"] != "库存.xlsx" || rec.Header().Get("Content-Type") != a.Mime {
		t.Fatalf("headers = %v", rec.Header())
	}
}

func TestHTTP_UploadRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.server(t)
	body, ct := uploadBody(t, "widget", e.widget1, "photo.jpg", []byte("MZ\x90\x00\x03\x00\x00\x00"))
	if rec := do(srv, "writer", http.MethodPost, "/api/v1/attachments", body, "Content-Type", ct); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), `"file":{"code":"attachment.type"}`) {
		t.Fatalf("renamed exe: %d %s", rec.Code, rec.Body)
	}
	body, ct = uploadBody(t, "widget", 0, "a.pdf", pdfBytes(0))
	if rec := do(srv, "writer", http.MethodPost, "/api/v1/attachments", body, "Content-Type", ct); rec.Code != http.StatusBadRequest {
		t.Fatalf("entityId 0: %d %s", rec.Code, rec.Body)
	}
	if rec := do(srv, "writer", http.MethodPost, "/api/v1/attachments", strings.NewReader(`{}`), "Content-Type", "application/json"); rec.Code != http.StatusBadRequest {
		t.Fatalf("not multipart: %d %s", rec.Code, rec.Body)
	}
	body, ct = uploadBody(t, "widget", e.widget2, "a.pdf", pdfBytes(0))
	if rec := do(srv, "writer", http.MethodPost, "/api/v1/attachments", body, "Content-Type", ct); rec.Code != http.StatusNotFound {
		t.Fatalf("other store's record: %d %s", rec.Code, rec.Body)
	}
	if n := e.count(t, `SELECT count(*) FROM attachment`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

// Not parallel: lowers MaxSize.
func TestHTTP_OverLimitUploadIs413(t *testing.T) {
	e := newEnv(t)
	srv := e.server(t)
	old := attach.MaxSize
	attach.MaxSize = 1000
	t.Cleanup(func() { attach.MaxSize = old })
	for _, size := range []int{1001, 3 << 20} { // refused by the service; cut off by MaxBytesReader
		body, ct := uploadBody(t, "widget", e.widget1, "big.pdf", pdfBytes(size))
		rec := do(srv, "writer", http.MethodPost, "/api/v1/attachments", body, "Content-Type", ct)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "attachment.too_large") {
			t.Fatalf("%d bytes: %d %s", size, rec.Code, rec.Body)
		}
	}
	if f := e.files(t); len(f) != 0 {
		t.Fatalf("files left: %v", f)
	}
}
