package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Result describes a backup file written by WriteFile.
type Result struct {
	Path     string // dir/<FileName(...)>
	Size     int64  // bytes of the encrypted file
	SHA256   string // of the encrypted file
	Manifest Manifest
}

// WriteFile runs Create into dir/.dealerdesk-*.part, fsyncs it, renames it to
// dir/FileName(kind, createdAt, compression), fsyncs dir, then writes the
// plaintext sidecar dir/<name>.json the same way. A crash leaves either a
// complete backup or a .part file that Sweep removes; a listed backup always
// has its sidecar (if the sidecar cannot be written, the backup is removed and
// the error returned). An existing file of the same name is never replaced.
func WriteFile(ctx context.Context, opt Options, dir string) (Result, error) {
	if err := opt.validate(); err != nil {
		return Result{}, err
	}
	unlock, err := lock(opt.DBPath)
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	f, err := os.CreateTemp(dir, ".dealerdesk-*.part")
	if err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	part := f.Name()
	placed := false
	defer func() {
		if !placed {
			f.Close()
			os.Remove(part)
		}
	}()

	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	m, err := create(ctx, opt, cw)
	if err != nil {
		return Result{}, err
	}
	if err := f.Sync(); err != nil {
		return Result{}, fmt.Errorf("backup: sync %s: %w", part, err)
	}
	if err := f.Close(); err != nil {
		return Result{}, fmt.Errorf("backup: close %s: %w", part, err)
	}

	name := FileName(m.Kind, m.CreatedAt, m.Compression)
	final := filepath.Join(dir, name)
	// os.Rename replaces an existing file; this process holds the lock for
	// this database, so checking first is enough to never overwrite a backup.
	if ok, err := exists(final); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("%s already exists", final)
		}
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(part, final); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	placed = true
	if err := syncDir(dir); err != nil {
		os.Remove(final)
		return Result{}, fmt.Errorf("backup: sync %s: %w", dir, err)
	}

	side, err := json.MarshalIndent(m, "", "  ")
	if err == nil {
		err = writeFileAtomic(final+".json", side, 0o600)
	}
	if err != nil {
		os.Remove(final)
		syncDir(dir)
		return Result{}, fmt.Errorf("backup: write sidecar manifest: %w", err)
	}
	return Result{Path: final, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil)), Manifest: m}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
