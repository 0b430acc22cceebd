package httpapi

// PublicRoutes lists every /api/v1 route reachable without signing in. A route
// marked api.Public that is missing here — or listed here but not marked — fails
// TestRoutes_EveryRouteDeclaresAccess, so opening a route is always a deliberate,
// reviewed change in this one file.
var PublicRoutes = map[string]bool{
	"GET /health":               true,
	"GET /openapi.json":         true,
	"GET /setup/status":         true,
	"POST /setup":               true,
	"GET /auth/password-policy": true,
	"POST /auth/login":          true,
}
