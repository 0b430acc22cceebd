package backup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// syncDir makes a rename or create inside dir durable. Windows cannot open a
// directory for fsync (and NTFS journals the metadata), so it is skipped there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFileAtomic writes data to path through path+".part": write, fsync,
// rename, fsync the directory. A crash leaves either the old file or the new
// one, never a partial one (a stale .part is removed by Sweep).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(part, path)
	}
	if err != nil {
		os.Remove(part)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// removeSQLite removes a database file and the journal, WAL and shared-memory
// files SQLite may have left next to it.
func removeSQLite(path string) error {
	var errs []error
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// sqliteDSN is the modernc DSN of the database file at path with the given
// query (URI parameters for SQLite, _pragma for the driver). The path is made
// absolute and the characters that end a URI path are escaped, so a data dir
// like "D:\数据 #2" works.
func sqliteDSN(path, query string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	p = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(p)
	if filepath.VolumeName(abs) != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p // file:///C:/data/dealerdesk.db
	}
	return "file://" + p + "?" + query, nil
}

// exists reports whether something is at p (without following a final symlink).
func exists(p string) (bool, error) {
	_, err := os.Lstat(p)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// plainName checks that n is a single path element (a data-dir entry name).
func plainName(n string) error {
	if n == "" || n == "." || n == ".." || filepath.Base(n) != n || strings.ContainsAny(n, `/\`) || !filepath.IsLocal(n) {
		return fmt.Errorf("backup: %q is not a plain file name", n)
	}
	return nil
}
