package backup

import (
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Archive layout and manifest constants.
const (
	// FormatVersion is the Manifest.Format this package writes and reads.
	FormatVersion = 1
	// AppName is the Manifest.App of every DealerDesk backup.
	AppName = "dealerdesk"
	// DBMember is the archive member holding the database snapshot.
	DBMember = "dealerdesk.db"
	// ManifestMember is the first archive member.
	ManifestMember = "manifest.json"

	// maxManifestSize caps manifest.json (about 150 bytes per file entry, so
	// room for several hundred thousand attachments).
	maxManifestSize = 64 << 20
	// maxTotalSize is a sanity cap on the sum of the member sizes a manifest
	// may declare; Open never writes more than the manifest declares.
	maxTotalSize = 1 << 40
)

// Backup kinds (Manifest.Kind, Options.Kind and the kind in file names).
const (
	KindScheduled  = "scheduled"
	KindManual     = "manual"
	KindCLI        = "cli"
	KindPreUpgrade = "pre_upgrade"
	KindPreRestore = "pre_restore"
)

// Compression names (Options.Compression, Manifest.Compression).
const (
	CompressionGzip = "gzip"
	CompressionZstd = "zstd"
)

func knownKind(k string) bool {
	switch k {
	case KindScheduled, KindManual, KindCLI, KindPreUpgrade, KindPreRestore:
		return true
	}
	return false
}

// Manifest describes one backup. It is stored as manifest.json, the first
// member of the archive, and as a plaintext sidecar "<file>.json" next to the
// encrypted file (so backups can be listed without a key). The sidecar is
// informational; Open trusts only the encrypted copy.
type Manifest struct {
	Format        int              `json:"format"`        // FormatVersion
	App           string           `json:"app"`           // AppName
	AppVersion    string           `json:"appVersion"`    // version of the binary that made it
	SchemaVersion int64            `json:"schemaVersion"` // max(version_id) FROM goose_db_version WHERE is_applied (0 if none)
	CreatedAt     time.Time        `json:"createdAt"`     // UTC, whole seconds, when the snapshot was taken
	Kind          string           `json:"kind"`          // scheduled | manual | pre_upgrade | pre_restore | cli
	Host          string           `json:"host"`          // host name of the machine that made it
	Compression   string           `json:"compression"`   // gzip | zstd
	Tables        map[string]int64 `json:"tables"`        // row count of every table in the snapshot (sqlite_% excluded)
	Files         []FileEntry      `json:"files"`         // every archive member except manifest.json, in archive order
}

// FileEntry is one archive member: its slash-separated path, size and the
// lowercase hex SHA-256 of its content.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// validate checks a manifest read from an archive before anything is
// extracted. A manifest of another app or format is ErrNotBackup; one of ours
// that is inconsistent (bad paths, duplicates, no database) is ErrCorrupt.
func (m *Manifest) validate() error {
	if m.App != AppName {
		return kindError(ErrNotBackup, "manifest app is %q", m.App)
	}
	if m.Format != FormatVersion {
		return kindError(ErrNotBackup, "unknown backup format %d (this version reads format %d)", m.Format, FormatVersion)
	}
	seen := make(map[string]bool, len(m.Files))
	dirs := make(map[string]bool)
	var total int64
	hasDB := false
	for _, f := range m.Files {
		if err := checkMemberPath(f.Path); err != nil {
			return kindError(ErrCorrupt, "manifest: %w", err)
		}
		if f.Path == ManifestMember {
			return kindError(ErrCorrupt, "manifest lists %s", ManifestMember)
		}
		// Compare case-insensitively: on Windows two such members would be one file.
		key := strings.ToLower(f.Path)
		if seen[key] {
			return kindError(ErrCorrupt, "manifest lists %q twice", f.Path)
		}
		seen[key] = true
		for d := path.Dir(key); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
		if f.Size < 0 || f.Size > maxTotalSize-total {
			return kindError(ErrCorrupt, "manifest: implausible size %d for %q", f.Size, f.Path)
		}
		total += f.Size
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 || strings.ToLower(f.SHA256) != f.SHA256 {
			return kindError(ErrCorrupt, "manifest: bad sha256 for %q", f.Path)
		}
		if f.Path == DBMember {
			hasDB = true
		}
	}
	for p := range seen {
		if dirs[p] {
			return kindError(ErrCorrupt, "manifest: %q is both a file and a directory", p)
		}
	}
	if !hasDB {
		return kindError(ErrCorrupt, "manifest lists no %s", DBMember)
	}
	return nil
}

// checkMemberPath accepts only plain relative slash paths: no absolute paths,
// no "." or ".." elements, no backslashes, nothing Windows would read as a
// device or drive (filepath.IsLocal), so extraction can never leave its
// directory.
func checkMemberPath(p string) error {
	switch {
	case p == "" || len(p) > 1024:
		return fmt.Errorf("bad member path %q", p)
	case strings.ContainsAny(p, "\\:\x00"):
		return fmt.Errorf("member path %q has a forbidden character", p)
	case path.IsAbs(p) || path.Clean(p) != p:
		return fmt.Errorf("member path %q is not a clean relative path", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == "." || el == ".." {
			return fmt.Errorf("member path %q leaves the archive", p)
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return fmt.Errorf("member path %q is not local", p)
	}
	return nil
}
