// Package httpapi builds the HTTP server: echo with its middleware in a fixed
// order, the one error handler, the /api/v1 routes of every domain (routes.go), the
// public-route list (public.go), the OpenAPI description and the embedded web UI.
//
// Invariants:
//   - Every /api route declares a permission or is on the public list; the guard
//     around each handler resolves the actor, enforces the permission, refuses
//     cross-origin and non-JSON mutating requests, and blocks users who must change
//     their password.
//   - Errors leave only through ErrorHandler: one JSON shape, a translated message,
//     no internals; 5xx causes are logged with the request id.
//   - Every /api response is Cache-Control: no-store.
package httpapi
