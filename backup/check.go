package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// dbInfo is what inspect learns about a database file.
type dbInfo struct {
	integrity    []string         // integrity_check rows; exactly ["ok"] when healthy
	fkViolations []string         // foreign_key_check rows, formatted
	tables       map[string]int64 // row count per table (sqlite_% excluded)
	schema       int64            // goose schema version, 0 without goose_db_version
}

// openReadOnly opens path with mode=ro: SQLite never writes to the database
// file, never creates it, and (for a rollback-journal file such as a VACUUM INTO
// output) leaves nothing next to it. A WAL-mode database still gets its -shm
// and an empty -wal, which SQLite needs to read it.
func openReadOnly(path string) (*sql.DB, error) {
	// A 64 MiB page cache (allocated as used) roughly halves integrity_check
	// on a 100 MB database: it re-reads index pages that a small cache evicts.
	dsn, err := sqliteDSN(path, "mode=ro&_pragma=busy_timeout(5000)&_pragma=cache_size(-65536)")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// inspect runs the checks and counts on the database file at path.
// progress, if not nil, is called with steps done and total steps.
func inspect(ctx context.Context, path string, progress func(done, total int64)) (dbInfo, error) {
	var info dbInfo
	// mode=ro would report a missing file as "unable to open database file";
	// say it plainly instead.
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return info, fmt.Errorf("database file %s does not exist", path)
		}
		return info, err
	}
	db, err := openReadOnly(path)
	if err != nil {
		return info, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return info, err
	}
	defer conn.Close()

	// The check runs inside one read transaction so that, on a live database,
	// the counts and the integrity check see the same state.
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return info, err
	}
	defer tx.Rollback()

	names, err := strings1(ctx, tx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return info, fmt.Errorf("list tables: %w", err)
	}
	// integrity_check is most of the work: count it as one step, like each table.
	total := int64(len(names) + 1)
	if progress != nil {
		progress(0, total)
	}
	if info.integrity, err = strings1(ctx, tx, "PRAGMA integrity_check(20)"); err != nil {
		return info, fmt.Errorf("integrity_check: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return info, fmt.Errorf("foreign_key_check: %w", err)
	}
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int64
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			rows.Close()
			return info, fmt.Errorf("foreign_key_check: %w", err)
		}
		if len(info.fkViolations) < 20 {
			info.fkViolations = append(info.fkViolations,
				fmt.Sprintf("table %s rowid %d references a missing row in %s", table, rowid.Int64, parent))
		}
	}
	if err := rows.Close(); err != nil {
		return info, err
	}
	if err := rows.Err(); err != nil {
		return info, fmt.Errorf("foreign_key_check: %w", err)
	}
	if progress != nil {
		progress(1, total)
	}

	info.tables = make(map[string]int64, len(names))
	for i, name := range names {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(name)).Scan(&n); err != nil {
			return info, fmt.Errorf("count table %s: %w", name, err)
		}
		info.tables[name] = n
		if progress != nil {
			progress(int64(i+2), total)
		}
	}
	if _, ok := info.tables["goose_db_version"]; ok {
		if err := tx.QueryRowContext(ctx,
			"SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&info.schema); err != nil {
			return info, fmt.Errorf("schema version: %w", err)
		}
	}
	return info, nil
}

// problem returns the first reason the database is unhealthy, or "".
func (info dbInfo) problem() string {
	if len(info.integrity) != 1 || info.integrity[0] != "ok" {
		return "integrity_check: " + strings.Join(info.integrity, "; ")
	}
	if len(info.fkViolations) > 0 {
		return "foreign_key_check: " + strings.Join(info.fkViolations, "; ")
	}
	return ""
}

// strings1 runs a query returning one text column.
func strings1(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// CheckDB checks the database file at dbPath against m: PRAGMA integrity_check
// must say exactly "ok", PRAGMA foreign_key_check must find nothing, the set of
// tables (sqlite_% excluded) must equal m.Tables with equal row counts, and the
// schema version must equal m.SchemaVersion. integrity_check alone is not
// enough: an interrupted VACUUM INTO leaves a file that opens as an empty
// database and passes it. CheckDB opens the file read-only; it is used on a
// backup before it is released and again on the live database after a restore.
// Failures wrap ErrCheckFailed and name the first mismatch, e.g.
// "table customer: 0 rows, manifest says 1200".
func CheckDB(ctx context.Context, dbPath string, m Manifest) error {
	info, err := inspect(ctx, dbPath, nil)
	if err != nil {
		if cerr := ctxErr(ctx); cerr != nil {
			return cerr
		}
		return kindError(ErrCheckFailed, "%w", err)
	}
	if p := info.problem(); p != "" {
		return kindError(ErrCheckFailed, "%s", p)
	}
	if info.schema != m.SchemaVersion {
		return kindError(ErrCheckFailed, "schema version %d, manifest says %d", info.schema, m.SchemaVersion)
	}
	names := make([]string, 0, len(m.Tables)+len(info.tables))
	for name := range m.Tables {
		names = append(names, name)
	}
	for name := range info.tables {
		if _, ok := m.Tables[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		want, inManifest := m.Tables[name]
		got, inDB := info.tables[name]
		switch {
		case !inDB:
			return kindError(ErrCheckFailed, "table %s is missing, manifest says %d rows", name, want)
		case !inManifest:
			return kindError(ErrCheckFailed, "table %s (%d rows) is not in the manifest", name, got)
		case got != want:
			return kindError(ErrCheckFailed, "table %s: %d rows, manifest says %d", name, got, want)
		}
	}
	return nil
}
