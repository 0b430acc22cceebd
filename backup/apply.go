package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Apply swaps a verified backup into dataDir. The caller has stopped using the
// database and closed it (Windows cannot rename an open file). It moves into
// asideDir whatever exists of dbName, its -wal, -shm and -journal (an old WAL
// or hot journal next to the restored file would be applied to it and corrupt
// it) and each of dirs; then it renames e.DBPath to dataDir/dbName and each
// e.Dir/<dir> that exists to dataDir/<dir>. Only renames are used, so
// asideDir and e.Dir must be on the same volume as dataDir (both under it).
// Nothing is ever overwritten: an entry already in asideDir, or still in
// dataDir after it was moved aside, fails the swap. On any failure every
// rename done so far is undone, newest first, and the error (joined with any
// rollback failure) is returned. asideDir then holds the previous data, which
// the caller keeps as the pre-restore copy.
func Apply(e *Extracted, dataDir, dbName string, dirs []string, asideDir string) error {
	if e == nil || e.DBPath == "" {
		return errors.New("backup: apply: nothing extracted")
	}
	if err := plainName(dbName); err != nil {
		return err
	}
	for _, d := range dirs {
		if err := plainName(d); err != nil {
			return err
		}
	}
	if _, err := os.Stat(e.DBPath); err != nil {
		return fmt.Errorf("backup: apply: %w", err)
	}
	if err := os.MkdirAll(asideDir, 0o700); err != nil {
		return fmt.Errorf("backup: apply: %w", err)
	}

	type move struct{ from, to string }
	var done []move
	rename := func(from, to string) error {
		if ok, err := exists(to); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("%s is in the way", to)
			}
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
		done = append(done, move{from, to})
		return nil
	}
	fail := func(err error) error {
		errs := []error{fmt.Errorf("backup: apply: %w", err)}
		for i := len(done) - 1; i >= 0; i-- {
			if rerr := os.Rename(done[i].to, done[i].from); rerr != nil {
				errs = append(errs, fmt.Errorf("backup: apply: rollback %s -> %s: %w", done[i].to, done[i].from, rerr))
			}
		}
		syncDir(dataDir)
		syncDir(asideDir)
		return errors.Join(errs...)
	}

	// Phase 1: the live data goes aside.
	aside := []string{dbName, dbName + "-wal", dbName + "-shm", dbName + "-journal"}
	aside = append(aside, dirs...)
	for _, name := range aside {
		from := filepath.Join(dataDir, name)
		ok, err := exists(from)
		if err != nil {
			return fail(err)
		}
		if !ok {
			continue
		}
		if err := rename(from, filepath.Join(asideDir, name)); err != nil {
			return fail(err)
		}
	}
	// Phase 2: the restored data goes in.
	if err := rename(e.DBPath, filepath.Join(dataDir, dbName)); err != nil {
		return fail(err)
	}
	for _, d := range dirs {
		from := filepath.Join(e.Dir, d)
		ok, err := exists(from)
		if err != nil {
			return fail(err)
		}
		if !ok {
			continue // the backup had no such files: the directory stays absent
		}
		if err := rename(from, filepath.Join(dataDir, d)); err != nil {
			return fail(err)
		}
	}
	if err := syncDir(dataDir); err != nil {
		return fail(err)
	}
	if err := syncDir(asideDir); err != nil {
		return fail(err)
	}
	return nil
}
