package embedui_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"dealerdesk/embedui"
)

// sourceFiles lists the files scripts/source-hash.mjs hashes, relative to embedui/,
// with forward slashes, sorted by byte order.
func sourceFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, name := range []string{"index.html", "package.json", "package-lock.json", "vite.config.ts"} {
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
			files = append(files, name)
		}
	}
	top, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	tsconfig := regexp.MustCompile(`^tsconfig.*\.json$`)
	for _, e := range top {
		if e.Type().IsRegular() && tsconfig.MatchString(e.Name()) {
			files = append(files, e.Name())
		}
	}
	for _, dir := range []string{"src", "public", "scripts"} {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, filepath.ToSlash(p))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files) // Go compares strings byte-wise, as the build script does
	return files
}

func TestDistMatchesSources(t *testing.T) {
	h := sha256.New()
	for _, f := range sourceFiles(t) {
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		h.Write([]byte(f + "\x00" + hex.EncodeToString(sum[:]) + "\n"))
	}
	got := hex.EncodeToString(h.Sum(nil))
	want, err := os.ReadFile("dist/.source-hash")
	if err != nil {
		t.Fatalf("read dist/.source-hash: %v: run `npm ci && npm run build` in embedui/", err)
	}
	if strings.TrimSpace(string(want)) != got {
		t.Fatalf("UI source changed but dist/ was not rebuilt: run `npm ci && npm run build` in embedui/ (sources hash %s, dist/.source-hash %s)", got, strings.TrimSpace(string(want)))
	}
}

func TestDistHasIndex(t *testing.T) {
	b, err := fs.ReadFile(embedui.Dist(), "index.html")
	if err != nil {
		t.Fatalf("dist/index.html: %v", err)
	}
	if !bytes.Contains(b, []byte("/assets/")) {
		t.Fatalf("dist/index.html does not reference /assets/:\n%s", b)
	}
	if _, err := fs.Stat(embedui.Dist(), ".source-hash"); err != nil {
		t.Fatalf("embedded dist has no .source-hash: %v", err)
	}
}

// The server translates error codes with these files: both must be valid nested JSON
// and carry the same set of keys.
func TestLocalesHaveSameKeys(t *testing.T) {
	keys := map[string]map[string]bool{}
	for _, name := range []string{"zh-CN", "en"} {
		b, err := fs.ReadFile(embedui.Locales, "src/locales/"+name+".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		keys[name] = map[string]bool{}
		flatten("", m, keys[name])
	}
	for k := range keys["zh-CN"] {
		if !keys["en"][k] {
			t.Errorf("en.json lacks %q", k)
		}
	}
	for k := range keys["en"] {
		if !keys["zh-CN"][k] {
			t.Errorf("zh-CN.json lacks %q", k)
		}
	}
	for _, code := range []string{"invalid", "conflict", "conflict.stale", "phone.invalid", "auth.locked", "password.too_short"} {
		k := "errors." + code
		if !keys["zh-CN"][k] && !keys["zh-CN"][k+"._"] {
			t.Errorf("locale lacks %s", k)
		}
	}
}

func flatten(prefix string, m map[string]any, out map[string]bool) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			flatten(key, v, out)
		case string:
			out[key] = true
		}
	}
}
