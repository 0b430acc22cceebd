package httpapi

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// Prefix is where the versioned JSON API lives.
const Prefix = "/api/v1"

// Deps is what the server needs.
type Deps struct {
	Auth    *auth.Service
	Routes  []api.Route
	Catalog *Catalog
	Log     *slog.Logger
	UI      fs.FS // the built web UI (nil: no UI)
	Version string
	// LoginRate bounds sign-in and setup calls per client address (per second);
	// 0 uses the default.
	LoginRate float64
}

// Server is the configured echo instance with its route table.
type Server struct {
	Echo   *echo.Echo
	Routes []api.Route
	deps   Deps
	cop    *http.CrossOriginProtection
}

// New builds the HTTP server.
func New(d Deps) (*Server, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{Echo: e, Routes: d.Routes, deps: d, cop: http.NewCrossOriginProtection()}
	e.HTTPErrorHandler = s.ErrorHandler
	e.Use(middleware.RequestID())
	e.Use(s.logRequests) // outside recover, so a panic is logged and answered like any error
	e.Use(s.recover)
	e.Use(s.secureHeaders)
	// The largest ordinary upload is a 50 MiB import sheet; JSON bodies are limited
	// to 1 MiB in api.Bind, attachments to 20 MiB. A route with its own MaxBody (a
	// backup upload) is limited in guard instead.
	bigBody := map[string]bool{}
	for _, rt := range d.Routes {
		if rt.MaxBody > 0 {
			bigBody[rt.Method+" "+Prefix+rt.Path] = true
		}
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "52M", Skipper: func(c echo.Context) bool {
		return bigBody[c.Request().Method+" "+c.Path()]
	}}))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, Skipper: func(c echo.Context) bool {
		// attachments: images and PDFs are compressed already; the notification
		// stream must reach the browser event by event, not when a gzip block fills
		return strings.HasSuffix(c.Path(), "/content") || c.Path() == Prefix+"/notifications/stream"
	}}))

	g := e.Group(Prefix, s.apiHeaders)
	lr := d.LoginRate
	if lr == 0 {
		lr = 5
	}
	limiter := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{Rate: rate.Limit(lr), Burst: int(lr * 6), ExpiresIn: 10 * time.Minute}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return api.ClientIP(c), nil },
		ErrorHandler:        func(c echo.Context, err error) error { return apperr.New(apperr.TooMany, "too_many") },
		DenyHandler:         func(c echo.Context, id string, err error) error { return apperr.New(apperr.TooMany, "too_many") },
	})
	seen := map[string]bool{}
	for _, rt := range d.Routes {
		key := rt.Method + " " + rt.Path
		if seen[key] {
			return nil, fmt.Errorf("httpapi: route %s declared twice", key)
		}
		seen[key] = true
		if rt.Perm == "" {
			return nil, fmt.Errorf("httpapi: route %s declares no permission", key)
		}
		if (rt.Perm == api.Public) != PublicRoutes[key] {
			return nil, fmt.Errorf("httpapi: route %s: api.Public and httpapi.PublicRoutes disagree", key)
		}
		var mw []echo.MiddlewareFunc
		if key == "POST /auth/login" || key == "POST /setup" {
			mw = append(mw, limiter)
		}
		g.Add(rt.Method, rt.Path, s.guard(rt), mw...)
	}
	spec, err := s.OpenAPI()
	if err != nil {
		return nil, err
	}
	g.GET("/openapi.json", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, spec) })
	g.Any("/*", func(c echo.Context) error { return apperr.New(apperr.NotFound, "not_found") })
	if d.UI != nil {
		e.GET("/*", s.spa(d.UI))
		e.HEAD("/*", s.spa(d.UI))
	}
	return s, nil
}

// guard wraps a route's handler with the access rules every route obeys.
func (s *Server) guard(rt api.Route) echo.HandlerFunc {
	mutating := rt.Method != http.MethodGet && rt.Method != http.MethodHead
	return func(c echo.Context) error {
		r := c.Request()
		if mutating {
			if err := s.cop.Check(r); err != nil {
				return apperr.Wrap(apperr.Forbidden, "csrf", err)
			}
			ct, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
			if rt.Multipart {
				// An upload route with a JSON body type takes either form.
				if ct != "multipart/form-data" && (rt.In == nil || ct != echo.MIMEApplicationJSON) {
					return apperr.New(apperr.UnsupportedMedia, "request.content_type")
				}
			} else if ct != echo.MIMEApplicationJSON {
				return apperr.New(apperr.UnsupportedMedia, "request.content_type")
			}
		}
		if rt.MaxBody > 0 {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, rt.MaxBody)
		}
		if rt.Perm == api.Public {
			return rt.Handler(c)
		}
		a, err := s.resolve(c)
		if err != nil {
			return err
		}
		if a.MustChangePW && !rt.AllowPasswordChange {
			return apperr.New(apperr.Forbidden, "password_change_required")
		}
		if rt.Perm != api.SignedIn && !a.Has(rt.Perm) {
			return apperr.New(apperr.Forbidden, "forbidden")
		}
		return rt.Handler(c)
	}
}

// resolve finds the actor of the request (API key or session cookie) and stores it
// in the request context.
func (s *Server) resolve(c echo.Context) (auth.Actor, error) {
	r := c.Request()
	ctx := r.Context()
	var a auth.Actor
	var err error
	if h := r.Header.Get(echo.HeaderAuthorization); h != "" {
		key, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return a, apperr.New(apperr.Unauthenticated, "apikey.invalid")
		}
		a, err = s.deps.Auth.ResolveAPIKey(ctx, strings.TrimSpace(key))
	} else {
		a, err = s.deps.Auth.ResolveSession(ctx, api.SessionToken(c))
		if apperr.Is(err, apperr.Unauthenticated) && api.SessionToken(c) != "" {
			api.SetSession(c, "")
		}
	}
	if err != nil {
		return a, err
	}
	a.IP = api.ClientIP(c)
	a.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	c.Set("actor", a)
	c.SetRequest(r.WithContext(auth.WithActor(ctx, a)))
	return a, nil
}

func (s *Server) apiHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
}

// contentSecurityPolicy suits the built SPA: scripts only from this origin, inline
// styles for Element Plus, images from blobs/data for previews, nothing framed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.IsTLS() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

func (s *Server) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = apperr.Wrap(apperr.Internal, "internal", fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
			}
		}()
		return next(c)
	}
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r := c.Request()
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			return nil
		}
		attrs := []any{"method", r.Method, "path", c.Path(), "status", c.Response().Status,
			"ms", time.Since(start).Milliseconds(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID)}
		if a, ok := c.Get("actor").(auth.Actor); ok {
			attrs = append(attrs, "user_id", a.UserID, "store_id", a.StoreID)
			if a.APIKeyID != 0 {
				attrs = append(attrs, "api_key_id", a.APIKeyID)
			}
		}
		s.deps.Log.Info("request", attrs...)
		return nil
	}
}

// errorBody is the one JSON error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string                 `json:"code"`
	Message   string                 `json:"message"`
	Fields    map[string]fieldDetail `json:"fields,omitempty"`
	Details   map[string]any         `json:"details,omitempty"`
	RequestID string                 `json:"requestId"`
}

type fieldDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Params  map[string]any `json:"params,omitempty"`
}

func (s *Server) locale(c echo.Context) string {
	if a, ok := c.Get("actor").(auth.Actor); ok && a.Locale != "" && a.APIKeyID == 0 {
		return a.Locale
	}
	return Negotiate(c.Request().Header.Get("Accept-Language"))
}

// ErrorHandler writes every error in the one JSON shape.
func (s *Server) ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			err = apperr.New(apperr.NotFound, "not_found")
		case http.StatusRequestEntityTooLarge:
			err = apperr.New(apperr.TooLarge, "too_large")
		case http.StatusTooManyRequests:
			err = apperr.New(apperr.TooMany, "too_many")
		default:
			err = apperr.Wrap(apperr.Internal, "internal", err)
		}
	}
	e := apperr.As(err)
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if e.Kind == apperr.Internal {
		s.deps.Log.Error("request failed", "err", err, "request_id", reqID, "path", c.Request().URL.Path)
		e = apperr.New(apperr.Internal, "internal")
	}
	loc := s.locale(c)
	code := e.Code
	if code == "" {
		code = string(e.Kind)
	}
	body := errorBody{Error: errorDetail{Code: code, Message: s.deps.Catalog.Message(loc, code, string(e.Kind), e.Details), Details: e.Details, RequestID: reqID}}
	if len(e.Fields) > 0 {
		body.Error.Fields = map[string]fieldDetail{}
		for name, f := range e.Fields {
			body.Error.Fields[name] = fieldDetail{Code: f.Code, Params: f.Params, Message: s.deps.Catalog.Message(loc, f.Code, "invalid_format", f.Params)}
		}
	}
	if e.Kind == apperr.TooMany {
		if v, ok := e.Details["retryAfterSeconds"]; ok {
			c.Response().Header().Set("Retry-After", fmt.Sprint(v))
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if c.Request().Method == http.MethodHead {
		c.NoContent(e.Kind.Status())
		return
	}
	if werr := c.JSON(e.Kind.Status(), body); werr != nil {
		s.deps.Log.Warn("write error response", "err", werr)
	}
}

// spa serves the embedded web UI: real files as they are (hashed /assets/* cached
// for a year), every other path gets index.html (client-side routes), never cached.
func (s *Server) spa(dist fs.FS) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := strings.TrimPrefix(path.Clean("/"+c.Param("*")), "/")
		if p == "" || p == "." {
			p = "index.html"
		}
		if strings.HasPrefix(p, "api/") || p == "api" {
			return apperr.New(apperr.NotFound, "not_found")
		}
		st, err := fs.Stat(dist, p)
		if err != nil || st.IsDir() || strings.HasPrefix(path.Base(p), ".") {
			if path.Ext(p) != "" && !strings.HasSuffix(p, ".html") {
				return apperr.New(apperr.NotFound, "not_found") // a missing asset is a 404, not the app
			}
			p = "index.html"
		}
		h := c.Response().Header()
		if strings.HasPrefix(p, "assets/") {
			h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			h.Set(echo.HeaderCacheControl, "no-cache")
		}
		f, err := dist.Open(p)
		if err != nil {
			return apperr.Wrap(apperr.Internal, "internal", err)
		}
		defer f.Close()
		st, err = f.Stat()
		if err != nil {
			return apperr.Wrap(apperr.Internal, "internal", err)
		}
		rs, ok := f.(interface {
			Read([]byte) (int, error)
			Seek(int64, int) (int64, error)
		})
		if !ok {
			return apperr.New(apperr.Internal, "internal")
		}
		if ct := mime.TypeByExtension(path.Ext(p)); ct != "" {
			h.Set(echo.HeaderContentType, ct)
		}
		http.ServeContent(c.Response(), c.Request(), p, st.ModTime(), rs)
		return nil
	}
}
