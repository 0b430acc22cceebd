package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema migration and its state in a database.
type Migration struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
	Checksum  string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// Migrations lists the embedded migrations in order with their checksums.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("db: list migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("db: migration file %q is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.ParseInt(m[1], 10, 64)
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: e.Name(), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// LatestVersion is the schema version this binary knows.
func LatestVersion() int64 {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// SchemaVersion returns the highest migration version applied to the database (0 when new).
func (d *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var n int
	if err := d.W.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name='goose_db_version'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := d.W.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return 0, fmt.Errorf("db: schema version: %w", err)
	}
	return v.Int64, nil
}

// ErrNewerSchema is returned when the database was written by a newer DealerDesk.
var ErrNewerSchema = errors.New("db: the database was created by a newer version of DealerDesk")

// ErrChangedMigration is returned when an applied migration's file has changed since.
var ErrChangedMigration = errors.New("db: an applied migration has changed")

// MigrationStatus returns every embedded migration with whether it is applied, and
// checks the guards: a database newer than the binary, or an applied migration
// whose text changed, is an error.
func (d *DB) MigrationStatus(ctx context.Context) ([]Migration, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	cur, err := d.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if latest := LatestVersion(); cur > latest {
		return nil, fmt.Errorf("%w: schema version %d, this binary knows up to %d; install the newer DealerDesk or restore a matching backup", ErrNewerSchema, cur, latest)
	}
	sums := map[int64]string{}
	if cur > 0 {
		rows, err := d.W.QueryContext(ctx, `SELECT version, checksum FROM schema_checksum`)
		if err != nil {
			return nil, fmt.Errorf("db: read checksums: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int64
			var s string
			if err := rows.Scan(&v, &s); err != nil {
				return nil, err
			}
			sums[v] = s
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		applied := map[int64]time.Time{}
		rows2, err := d.W.QueryContext(ctx, `SELECT version_id, tstamp FROM goose_db_version WHERE is_applied AND version_id > 0`)
		if err != nil {
			return nil, fmt.Errorf("db: read versions: %w", err)
		}
		defer rows2.Close()
		for rows2.Next() {
			var v int64
			var ts any
			if err := rows2.Scan(&v, &ts); err != nil {
				return nil, err
			}
			if t, ok := ts.(time.Time); ok {
				applied[v] = t
			} else {
				applied[v] = time.Time{}
			}
		}
		if err := rows2.Err(); err != nil {
			return nil, err
		}
		for i := range ms {
			if t, ok := applied[ms[i].Version]; ok {
				ms[i].Applied = true
				ms[i].AppliedAt = t
				if s, ok := sums[ms[i].Version]; ok && s != ms[i].Checksum {
					return nil, fmt.Errorf("%w: %s (stored checksum %.12q, file %.12s…); released migrations must never be edited", ErrChangedMigration, ms[i].Name, s, ms[i].Checksum)
				}
			}
		}
	}
	return ms, nil
}

// Migrate applies pending migrations, each in its own transaction. Before it changes
// a database that already has data, it keeps a copy of the file in backupDir
// (VACUUM INTO, a consistent snapshot). It returns the versions applied.
func (d *DB) Migrate(ctx context.Context, backupDir string, log *slog.Logger) ([]int64, error) {
	ms, err := d.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := d.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	var pending []Migration
	for _, m := range ms {
		if !m.Applied {
			pending = append(pending, m)
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	if cur > 0 && backupDir != "" {
		if err := os.MkdirAll(backupDir, 0o700); err != nil {
			return nil, fmt.Errorf("db: pre-migration copy: %w", err)
		}
		dst := filepath.Join(backupDir, fmt.Sprintf("pre-migrate-v%04d-%s.db", cur, time.Now().UTC().Format("20060102T150405Z")))
		if _, err := d.W.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
			return nil, fmt.Errorf("db: pre-migration copy to %s: %w", dst, err)
		}
		if log != nil {
			log.Info("pre-migration copy kept", "path", dst, "from_version", cur)
		}
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.W, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("db: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: apply migrations: %w", err)
	}
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	// Record checksums of everything applied (the table comes with 0001).
	for _, m := range ms {
		if _, err := d.W.ExecContext(ctx, `INSERT INTO schema_checksum(version, name, checksum) VALUES (?,?,?) ON CONFLICT(version) DO NOTHING`, m.Version, m.Name, m.Checksum); err != nil {
			return applied, fmt.Errorf("db: record checksum: %w", err)
		}
	}
	if log != nil {
		log.Info("migrations applied", "versions", applied)
	}
	return applied, nil
}
