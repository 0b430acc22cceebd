// Package embedui holds the built web UI (dist/) and its locale files, embedded into the binary.
//
// dist/ is the committed output of `npm run build`; embed_test.go fails when the UI sources
// changed without a rebuild. The locale files are embedded as well because the server
// translates error codes (errors.<code>) with the same messages the UI shows.
package embedui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Locales holds src/locales/zh-CN.json and src/locales/en.json (nested JSON; a key that is
// also a prefix of longer keys keeps its own text under "_").
//
//go:embed src/locales/zh-CN.json src/locales/en.json
var Locales embed.FS

// Dist returns the built UI rooted at dist/.
func Dist() fs.FS {
	sub, _ := fs.Sub(dist, "dist")
	return sub
}
