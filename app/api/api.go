// Package api is what every domain's *_http.go uses to declare its routes and to
// read requests: the route table entry (method, path, permission, summary, input and
// output types for the OpenAPI description), strict JSON binding, the actor of the
// request, and keyset cursors. The httpapi package mounts the routes.
package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// Public marks a route that needs no sign-in; it must also be listed in
// httpapi/public.go (a test walks the routes and checks both agree).
const Public = "public"

// SignedIn marks a route any signed-in user may call (their own profile, sign-out).
const SignedIn = "signed_in"

// Route is one entry of a domain's route table.
type Route struct {
	Method  string
	Path    string // relative to /api/v1, echo syntax (":id")
	Perm    string // a permission code, Public or SignedIn
	Summary string
	In      any // zero value of the JSON body type, or nil
	Query   any // zero value of the query-parameter struct (tags `query:"x"`), or nil
	Out     any // zero value of the response type, or nil for 204
	Handler echo.HandlerFunc
	// AllowPasswordChange lets the route run while the user must change the password.
	AllowPasswordChange bool
	// Multipart marks an upload route (exempt from the JSON content-type rule).
	Multipart bool
	// MaxBody raises the request-size limit above the server-wide one (a backup
	// upload); 0 keeps the default.
	MaxBody int64
	// Status is the success status when it is not the usual one (e.g. 202 for
	// work that continues in the background); it is what the OpenAPI states.
	Status int
}

// Actor returns the actor of the request (set by the auth middleware).
func Actor(c echo.Context) auth.Actor {
	a, _ := auth.FromContext(c.Request().Context())
	return a
}

// MaxJSONBody bounds JSON request bodies.
const MaxJSONBody = 1 << 20

// Bind decodes the JSON body into v strictly: valid UTF-8, no unknown keys, no
// duplicate keys (also case-insensitive ones, which encoding/json would merge), no
// trailing data. Errors are Invalid with a request.* code.
func Bind(c echo.Context, v any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxJSONBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "too_large")
		}
		return apperr.Wrap(apperr.Invalid, "request.invalid_json", err)
	}
	if len(body) > MaxJSONBody {
		return apperr.New(apperr.TooLarge, "too_large")
	}
	return Decode(body, v)
}

// Decode is Bind on a byte slice.
func Decode(body []byte, v any) error {
	if !utf8.Valid(body) {
		return apperr.New(apperr.Invalid, "request.invalid_utf8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := checkDuplicateKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			e := apperr.New(apperr.Invalid, "request.unknown_field")
			e.Details = map[string]any{"field": name}
			return e
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return apperr.Field(te.Field, "invalid_format")
		}
		return apperr.Wrap(apperr.Invalid, "request.invalid_json", err)
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "request.invalid_json")
	}
	return nil
}

// checkDuplicateKeys walks the JSON tokens and refuses an object that names a key
// twice (compared case-insensitively, as encoding/json matches keys).
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token in an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return apperr.Wrap(apperr.Invalid, "request.invalid_json", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expect: true})
			case '[':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.obj && top.expect {
				k := strings.ToLower(t)
				if top.keys[k] {
					e := apperr.New(apperr.Invalid, "request.duplicate_field")
					e.Details = map[string]any{"field": t}
					return e
				}
				top.keys[k] = true
				top.expect = false
			} else if top != nil && top.obj {
				top.expect = true
			}
		default:
			if top != nil && top.obj {
				top.expect = true
			}
		}
	}
}

// ID returns the integer path parameter name, or NotFound.
func ID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "not_found")
	}
	return id, nil
}

// QueryInt64 parses an optional integer query parameter (0 when absent).
func QueryInt64(c echo.Context, name string) (int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, apperr.Field(name, "invalid_format")
	}
	return v, nil
}

// Limit parses the limit query parameter: default 50, at most 200.
func Limit(c echo.Context) (int, error) {
	v, err := QueryInt64(c, "limit")
	if err != nil {
		return 0, err
	}
	switch {
	case v == 0:
		return 50, nil
	case v < 1 || v > 200:
		return 0, apperr.Field("limit", "out_of_range", "min", 1, "max", 200)
	}
	return int(v), nil
}

// QueryLimit parses the limit query parameter as given, 0 when absent, for a
// list whose service applies its own default and range (1–200): a value that is
// not a whole number is the same out_of_range field error the range check gives.
func QueryLimit(c echo.Context) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, apperr.Field("limit", "out_of_range", "min", 1, "max", 200)
	}
	return n, nil
}

// List is the response of every list endpoint.
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// Cursor is a keyset position: the sort value and the id of the last row seen.
type Cursor struct {
	Sort string `json:"s,omitempty"`
	ID   int64  `json:"i"`
}

// Encode returns the opaque cursor string.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes the cursor query parameter ("" gives the zero cursor).
func ParseCursor(s string) (Cursor, error) {
	var c Cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID < 0 {
		return c, apperr.Field("cursor", "invalid_format")
	}
	return c, nil
}

// TypeName is the OpenAPI schema name of a Go value's type.
func TypeName(v any) string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return ""
	}
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 { // generic: List[dealerdesk/app/org.User·1]
		inner := n[i+1 : len(n)-1]
		if j := strings.LastIndexAny(inner, "./"); j >= 0 {
			inner = inner[j+1:]
		}
		if j := strings.IndexByte(inner, '·'); j >= 0 {
			inner = inner[:j]
		}
		n = n[:i] + inner
	}
	return fmt.Sprintf("%s%s", strings.ToUpper(n[:1]), n[1:])
}

// SessionCookie is the name of the session cookie; under TLS the __Host- prefix
// pins it to this origin, path / and Secure.
func SessionCookie(tls bool) string {
	if tls {
		return "__Host-dd_session"
	}
	return "dd_session"
}

// SetSession writes the session cookie (HttpOnly, SameSite=Lax, Secure under TLS).
// An empty token clears it.
func SetSession(c echo.Context, token string) {
	tls := c.IsTLS()
	ck := &http.Cookie{Name: SessionCookie(tls), Value: token, Path: "/", HttpOnly: true, Secure: tls, SameSite: http.SameSiteLaxMode}
	if token == "" {
		ck.MaxAge = -1
	}
	c.SetCookie(ck)
}

// SessionToken returns the session cookie's value, or "".
func SessionToken(c echo.Context) string {
	if ck, err := c.Cookie(SessionCookie(c.IsTLS())); err == nil {
		return ck.Value
	}
	return ""
}

// ClientIP is the address of the peer. Forwarding headers are ignored on purpose:
// the appliance is reached directly on the LAN, and a header would let anyone
// pose as the machine itself (setup) or dodge the sign-in lock-out.
func ClientIP(c echo.Context) string {
	host := c.Request().RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
