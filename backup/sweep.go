package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Sweep removes what interrupted runs left in dir (not recursively):
// ".tmp-*" snapshots with their -journal/-wal/-shm (an interrupted VACUUM INTO
// leaves a partial file and a hot journal that would open as an empty, healthy
// database), "*.part" backups and sidecars, and ".restore-*" directories. It
// returns how many entries it removed. Call it when no backup or restore is
// running (at start, or while holding the caller's backup lock): it would
// remove the files of a run in progress.
func Sweep(dir string) (removed int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("backup: sweep: %w", err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ".tmp-") && !strings.HasSuffix(name, ".part") &&
			!(strings.HasPrefix(name, ".restore-") && e.IsDir()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("backup: sweep: %w", errors.Join(errs...))
	}
	return removed, nil
}
