package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"dealerdesk/app/api"
	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/httpapi"
)

// TestRoutes_EveryRouteDeclaresAccess walks the routes echo actually serves and
// fails on any /api route that neither declares a permission nor is public.
func TestRoutes_EveryRouteDeclaresAccess(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	declared := map[string]api.Route{}
	for _, rt := range env.App.Server.Routes {
		declared[rt.Method+" "+httpapi.Prefix+rt.Path] = rt
	}
	served := 0
	for _, r := range env.App.Server.Echo.Routes() {
		if !strings.HasPrefix(r.Path, httpapi.Prefix) || strings.HasPrefix(r.Method, "echo_") || r.Path == httpapi.Prefix+"/*" || r.Path == httpapi.Prefix+"/openapi.json" {
			continue
		}
		served++
		rt, ok := declared[r.Method+" "+r.Path]
		if !ok {
			t.Errorf("route %s %s is served but not in any route table", r.Method, r.Path)
			continue
		}
		if rt.Perm == "" {
			t.Errorf("route %s %s declares no permission", r.Method, r.Path)
		}
		if rt.Perm != api.Public && rt.Perm != api.SignedIn && !auth.KnownPermission(rt.Perm) {
			t.Errorf("route %s %s declares unknown permission %q", r.Method, r.Path, rt.Perm)
		}
		if rt.Method == http.MethodGet && strings.Contains(strings.ToLower(rt.Summary), "delete") {
			t.Errorf("GET route %s looks mutating", r.Path)
		}
	}
	if served < 40 {
		t.Fatalf("only %d api routes served; the walk is not seeing the table", served)
	}
	for key := range httpapi.PublicRoutes {
		if key == "GET /openapi.json" {
			continue
		}
		if rt, ok := declared[strings.Replace(key, " ", " "+httpapi.Prefix, 1)]; !ok || rt.Perm != api.Public {
			t.Errorf("public list names %s, which is not a public route", key)
		}
	}
}

// TestRoutes_NoPersonalDataInPaths: phone, ID numbers and tokens never travel in
// URLs (they end up in logs and browser history).
func TestRoutes_NoPersonalDataInPaths(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	bad := regexp.MustCompile(`(?i):(phone|idno|id_no|token|password|key)\b`)
	for _, rt := range env.App.Server.Routes {
		if bad.MatchString(rt.Path) {
			t.Errorf("route %s %s carries personal data or a secret in its path", rt.Method, rt.Path)
		}
	}
}

// TestOpenAPI_CoversEveryRoute checks the served description names every route
// with its permission.
func TestOpenAPI_CoversEveryRoute(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	r := env.Client().Do("GET", "/openapi.json", nil).Expect(t, 200)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	r.JSON(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([A-Za-z]+)`)
	for _, rt := range env.App.Server.Routes {
		p := param.ReplaceAllString(rt.Path, "{$1}")
		op, ok := doc.Paths[p][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("openapi lacks %s %s", rt.Method, p)
			continue
		}
		if rt.Perm != api.Public && rt.Perm != api.SignedIn && op["x-permission"] != rt.Perm {
			t.Errorf("openapi %s %s: permission %v, want %s", rt.Method, p, op["x-permission"], rt.Perm)
		}
		if rt.In != nil {
			if _, ok := op["requestBody"]; !ok {
				t.Errorf("openapi %s %s has no request body", rt.Method, p)
			}
		}
	}
	schemas := string(r.Body)
	for _, field := range []string{`"username"`, `"permissions"`, `"mustChangePassword"`} {
		if !strings.Contains(schemas, field) {
			t.Errorf("openapi schemas lack %s", field)
		}
	}
	if strings.Contains(schemas, "passwordHash") || strings.Contains(schemas, "password_hash") {
		t.Error("openapi exposes a password hash field")
	}
}

// TestLocales_EveryErrorCodeTranslated: every error code the Go code can return
// has a message in both locale files, so no user ever reads a raw code.
func TestLocales_EveryErrorCodeTranslated(t *testing.T) {
	t.Parallel()
	cat, err := httpapi.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	// Codes appear as string literals passed to apperr constructors, Fields.Add and
	// apperr.Field; collect them from the source tree.
	lit := regexp.MustCompile(`(?:apperr\.(?:New|Wrap)\([^,()]+,\s*|apperr\.Field\("[A-Za-z]+",\s*|\.Add\("[A-Za-z]+",\s*|errUnauth\()"([a-z_]+(?:\.[a-z_]+)*)"`)
	root := filepath.Join("..")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			codes[m[1]] = true
		}
		return nil
	})
	for _, k := range []string{"invalid", "unauthenticated", "forbidden", "not_found", "conflict", "too_large", "unsupported_media", "too_many", "internal"} {
		codes[k] = true
	}
	if len(codes) < 40 {
		t.Fatalf("found only %d codes; the scan is broken", len(codes))
	}
	var missing []string
	for code := range codes {
		for _, loc := range httpapi.Locales {
			if _, ok := cat.Lookup(loc, code); !ok {
				missing = append(missing, loc+":"+code)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("error codes without a message: %s", strings.Join(missing, ", "))
	}
	// Every permission and builtin role has a label in both languages.
	for _, loc := range httpapi.Locales {
		for _, p := range auth.Permissions {
			if !cat.Has(loc, "perm."+p.Code) {
				t.Errorf("%s: no label perm.%s", loc, p.Code)
			}
		}
		for _, r := range auth.DefaultRoles {
			if !cat.Has(loc, "roles."+r.Code) {
				t.Errorf("%s: no label roles.%s", loc, r.Code)
			}
		}
	}
}
