package system

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/backup"
)

// DBName is the database file's name in the data dir.
const DBName = "dealerdesk.db"

// RestoreResult is how the last restore ended, kept in <data>/backups/restore-last.json
// (outside the database it replaced).
type RestoreResult struct {
	At         int64  `json:"at"`
	OK         bool   `json:"ok"`
	Name       string `json:"name"`
	Error      string `json:"error"`
	ErrorCode  string `json:"errorCode"`
	AsideDir   string `json:"asideDir"`
	SchemaFrom int64  `json:"schemaFrom"` // the backup's schema version
	SchemaTo   int64  `json:"schemaTo"`   // after migrating it forward
	DurationMs int64  `json:"durationMs"`
	By         string `json:"by"`
}

func restoreResultPath(dataDir string) string {
	return filepath.Join(BackupDir(dataDir), "restore-last.json")
}

// WriteRestoreResult records the outcome of a restore.
func WriteRestoreResult(dataDir string, r RestoreResult) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(BackupDir(dataDir), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(restoreResultPath(dataDir), raw)
}

// LastRestore returns the outcome of the last restore, or nil.
func (b *Backups) LastRestore(ctx context.Context, a auth.Actor) (*RestoreResult, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(restoreResultPath(b.dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r RestoreResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ApplyRestore swaps an opened backup in for the live data; the caller has stopped
// serving and closed the database. The current database (with its -wal, -shm and
// -journal) and files are moved aside into <data>/backups/pre-restore-<time>/,
// the backup's moved in, and then the live files are checked against the
// backup's manifest again. If the swap or that check fails, the previous data is
// put back. It returns the aside dir in every case where it may hold the
// previous data, so the caller can name it. The search index is removed: it is
// rebuilt from the restored database at the next start.
func ApplyRestore(ctx context.Context, dataDir string, ex *backup.Extracted, now time.Time) (string, error) {
	aside := filepath.Join(BackupDir(dataDir), "pre-restore-"+now.UTC().Format("20060102T150405.000Z"))
	if err := os.MkdirAll(BackupDir(dataDir), 0o700); err != nil {
		return "", err
	}
	if err := backup.Apply(ex, dataDir, DBName, RestoreDirs, aside); err != nil {
		// Apply undoes its renames; if that failed too, the previous database
		// may still be aside: put it back rather than leave no database at all.
		if _, serr := os.Stat(filepath.Join(dataDir, DBName)); serr != nil {
			if rerr := RollbackRestore(dataDir, aside); rerr != nil {
				return aside, fmt.Errorf("system: swap in the backup: %w; putting the previous data back failed too (%v): it is in %s", err, rerr, aside)
			}
		}
		os.Remove(aside) // empty when everything went back
		return "", fmt.Errorf("system: swap in the backup: %w", err)
	}
	if err := backup.CheckDB(ctx, filepath.Join(dataDir, DBName), ex.Manifest); err != nil {
		if rerr := RollbackRestore(dataDir, aside); rerr != nil {
			return aside, fmt.Errorf("system: restored data failed its check (%v) and putting the previous data back failed too: %w; the previous data is in %s", err, rerr, aside)
		}
		return "", apperr.Wrap(apperr.Invalid, "backup.check_failed", err)
	}
	// The index is derived data. If it cannot be removed (a virus scanner holding
	// a file on Windows), move it out of the way; failing that it is stale, and
	// `dealerdesk reindex` or the rebuild button fixes it.
	search := filepath.Join(dataDir, "search")
	if err := os.RemoveAll(search); err != nil {
		os.Rename(search, filepath.Join(aside, "search-stale"))
	}
	return aside, nil
}

// RollbackRestore puts the data set aside by ApplyRestore back in place.
func RollbackRestore(dataDir, aside string) error {
	names := append([]string{DBName, DBName + "-wal", DBName + "-shm", DBName + "-journal"}, RestoreDirs...)
	var errs []error
	for _, n := range names {
		src := filepath.Join(aside, n)
		dst := filepath.Join(dataDir, n)
		if _, err := os.Lstat(src); err != nil {
			// Not there before the restore: what the restore brought must go.
			if err := os.RemoveAll(dst); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := os.RemoveAll(dst); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Rename(src, dst); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		os.RemoveAll(aside)
	}
	return errors.Join(errs...)
}

// PruneAside keeps the newest keep pre-restore copies, and never the one named
// current (a clock set back can make the newest copy sort first). Call it only
// after a restore succeeded.
func PruneAside(dataDir string, keep int, current string) {
	des, err := os.ReadDir(BackupDir(dataDir))
	if err != nil {
		return
	}
	var dirs []string
	for _, de := range des {
		if de.IsDir() && strings.HasPrefix(de.Name(), "pre-restore-") && de.Name() != filepath.Base(current) {
			dirs = append(dirs, de.Name())
		}
	}
	sort.Strings(dirs)
	for len(dirs) > keep-1 {
		os.RemoveAll(filepath.Join(BackupDir(dataDir), dirs[0]))
		dirs = dirs[1:]
	}
}

// FinishRestore runs on the restored (and migrated) database: it ends every
// session (those in the backup are old, and the people using them must sign in
// again) and writes the restore into the restored audit log.
func FinishRestore(ctx context.Context, d *db.DB, who audit.Who, at int64, r RestoreResult) error {
	return d.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM session`); err != nil {
			return fmt.Errorf("system: end sessions after restore: %w", err)
		}
		return audit.Write(ctx, tx, audit.Entry{Who: who, At: at, Action: "system.restored", Entity: "backup", EntityID: r.Name,
			After: map[string]any{"schemaFrom": r.SchemaFrom, "schemaTo": r.SchemaTo, "asideDir": r.AsideDir}})
	})
}
