package attach

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// path returns where the bytes with the hex digest sum live. The digest comes
// from our own rows; it is still checked so a damaged row cannot name another path.
func (s *Service) path(sum string) (string, error) {
	if len(sum) != 64 {
		return "", fmt.Errorf("attach: bad digest %q", sum)
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return "", fmt.Errorf("attach: bad digest %q", sum)
	}
	return filepath.Join(s.files, sum[:2], sum), nil
}

// put stores data content-addressed and returns its hex SHA-256. An existing file
// of the same digest and size is reused; otherwise the bytes go to a temporary file
// in the same directory, are fsynced, and renamed into place, so the final name
// only ever holds complete content.
func (s *Service) put(data []byte) (string, error) {
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	dst, _ := s.path(sum)
	if fi, err := os.Stat(dst); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(data)) {
		return sum, nil
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("attach: store file: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("attach: store file: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
		// On Windows the rename fails while another request serves the same
		// content; that file is complete, so it will do.
		if fi, serr := os.Stat(dst); err != nil && serr == nil && fi.Size() == int64(len(data)) {
			os.Remove(tmp)
			return sum, nil
		}
	}
	if err != nil {
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			s.log.Warn("remove temporary attachment file", "path", tmp, "err", rerr)
		}
		return "", fmt.Errorf("attach: store file: %w", err)
	}
	syncDir(dir)
	return sum, nil
}

// syncDir makes the rename durable. Windows cannot open a directory for syncing
// (NTFS journals the rename itself), so errors are ignored there and elsewhere
// treated as best effort: the file content is already synced.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// open opens the bytes with digest sum and returns them with their size.
func (s *Service) open(sum string) (*os.File, int64, error) {
	p, err := s.path(sum)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// SweepTemp removes temporary files a crash left in the file store (".tmp-*"
// older than a minute, so an upload in progress elsewhere is not disturbed) and
// returns how many it removed. The app calls it at start.
func (s *Service) SweepTemp() (int, error) {
	root := s.files
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		if info, err := d.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
			if os.Remove(p) == nil {
				n++
			}
		}
		return nil
	})
	return n, err
}
