package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pressly/goose/v3"

	"dealerdesk/app/db"
)

// open opens (creating) the database file at path and closes it when the test ends.
func open(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, db.Options{Readers: 3})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// migrated returns a fully migrated database on a fresh file.
func migrated(t *testing.T) (*db.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dealerdesk.db")
	d := open(t, path)
	if _, err := d.Migrate(context.Background(), "", nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d, path
}

func checksums(t *testing.T, d *db.DB) map[int64]string {
	t.Helper()
	rows, err := d.R.Query(`SELECT version, checksum FROM schema_checksum`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var v int64
		var s string
		if err := rows.Scan(&v, &s); err != nil {
			t.Fatal(err)
		}
		out[v] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func tableExists(t *testing.T, q db.Querier, name string) bool {
	t.Helper()
	var n int
	if err := q.QueryRowContext(context.Background(), `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestMigrate_EmptyDatabaseGetsEveryMigrationAndItsChecksum(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t, filepath.Join(t.TempDir(), "dealerdesk.db"))
	if v, err := d.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("new database: schema version %d, %v; want 0", v, err)
	}
	backups := filepath.Join(t.TempDir(), "backups")
	applied, err := d.Migrate(ctx, backups, nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 3 || len(applied) != len(ms) {
		t.Fatalf("applied %v, want all %d embedded migrations", applied, len(ms))
	}
	for i, m := range ms {
		if applied[i] != m.Version {
			t.Errorf("applied[%d] = %d, want %d (in order)", i, applied[i], m.Version)
		}
	}
	if v, _ := d.SchemaVersion(ctx); v != db.LatestVersion() {
		t.Errorf("schema version %d, want %d", v, db.LatestVersion())
	}
	sums := checksums(t, d)
	if len(sums) != len(ms) {
		t.Errorf("%d schema_checksum rows, want %d", len(sums), len(ms))
	}
	for _, m := range ms {
		if sums[m.Version] != m.Checksum || len(m.Checksum) != 64 {
			t.Errorf("checksum of %s stored as %q, want %q", m.Name, sums[m.Version], m.Checksum)
		}
	}
	for _, table := range []string{"app_user", "session", "audit_log", "attachment"} {
		if !tableExists(t, d.R, table) {
			t.Errorf("table %s missing after migration", table)
		}
	}
	// Nothing to keep a copy of: the database had no schema.
	if entries, _ := os.ReadDir(backups); len(entries) != 0 {
		t.Errorf("a new database got a pre-migration copy: %v", entries)
	}
}

func TestMigrate_ReopeningAnExistingDatabaseChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := migrated(t)
	before := checksums(t, d)
	var gooseRows int
	d.R.QueryRow(`SELECT count(*) FROM goose_db_version`).Scan(&gooseRows)
	if _, err := d.W.Exec(`INSERT INTO setting(key, store_id, value, updated_at) VALUES ('probe', 0, '1', 1)`); err != nil {
		t.Fatal(err)
	}
	d.Close()

	backups := filepath.Join(t.TempDir(), "backups")
	d2 := open(t, path)
	applied, err := d2.Migrate(ctx, backups, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, %v; want nothing", applied, err)
	}
	ms, err := d2.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !m.Applied {
			t.Errorf("%s reported as not applied after re-open", m.Name)
		}
	}
	after := checksums(t, d2)
	if len(after) != len(before) {
		t.Errorf("schema_checksum rows %d → %d", len(before), len(after))
	}
	for v, s := range before {
		if after[v] != s {
			t.Errorf("checksum of version %d changed on re-open", v)
		}
	}
	var n int
	d2.R.QueryRow(`SELECT count(*) FROM goose_db_version`).Scan(&n)
	if n != gooseRows {
		t.Errorf("goose_db_version rows %d → %d", gooseRows, n)
	}
	if entries, _ := os.ReadDir(backups); len(entries) != 0 {
		t.Errorf("an up-to-date database got a pre-migration copy: %v", entries)
	}
	var v string
	if err := d2.R.QueryRow(`SELECT value FROM setting WHERE key = 'probe'`).Scan(&v); err != nil || v != "1" {
		t.Errorf("data lost on re-open: %q, %v", v, err)
	}
}

// TestMigrate_KeepsACopyBeforeMigratingADatabaseWithData starts from the previous
// schema (every migration but the last, applied by goose from the same files) with
// a row in it, then lets Migrate bring it up to date.
func TestMigrate_KeepsACopyBeforeMigratingADatabaseWithData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1]
	prev := ms[len(ms)-2].Version
	path := filepath.Join(t.TempDir(), "dealerdesk.db")
	d := open(t, path)
	p, err := goose.NewProvider(goose.DialectSQLite3, d.W, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, prev); err != nil {
		t.Fatal(err)
	}
	if v, _ := d.SchemaVersion(ctx); v != prev {
		t.Fatalf("set-up: schema version %d, want %d", v, prev)
	}
	if _, err := d.W.Exec(`INSERT INTO setting(key, store_id, value, updated_at) VALUES ('kept', 0, '"yes"', 1)`); err != nil {
		t.Fatal(err)
	}

	backups := filepath.Join(t.TempDir(), "backups")
	applied, err := d.Migrate(ctx, backups, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || applied[0] != latest.Version {
		t.Fatalf("applied %v, want [%d]", applied, latest.Version)
	}
	entries, err := os.ReadDir(backups)
	if err != nil || len(entries) != 1 {
		t.Fatalf("backup dir holds %v (%v), want one pre-migration copy", entries, err)
	}
	name := entries[0].Name()
	if want := fmt.Sprintf("pre-migrate-v%04d-", prev); !strings.HasPrefix(name, want) || !strings.HasSuffix(name, ".db") {
		t.Errorf("copy named %q, want %s<time>.db", name, want)
	}
	// a table the latest migration creates
	src, err := os.ReadFile(filepath.Join("migrations", latest.Name))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`CREATE TABLE (\w+)`).FindStringSubmatch(string(src))
	if m == nil {
		t.Fatalf("latest migration %s creates no table; adapt this test", latest.Name)
	}
	newTable := m[1]
	// The copy is the database as it was: previous schema, the row, no new table.
	cp := open(t, filepath.Join(backups, name))
	if v, _ := cp.SchemaVersion(ctx); v != prev {
		t.Errorf("copy has schema version %d, want %d", v, prev)
	}
	var v string
	if err := cp.R.QueryRow(`SELECT value FROM setting WHERE key = 'kept'`).Scan(&v); err != nil || v != `"yes"` {
		t.Errorf("copy lost the data: %q, %v", v, err)
	}
	if tableExists(t, cp.R, newTable) {
		t.Errorf("copy already has the table of migration %s", latest.Name)
	}
	// And the live database is complete, with a checksum for every migration.
	if !tableExists(t, d.R, newTable) {
		t.Errorf("migration %s not applied", latest.Name)
	}
	if sums := checksums(t, d); len(sums) != len(ms) {
		t.Errorf("%d checksum rows after the upgrade, want %d", len(sums), len(ms))
	}
}

func TestMigrate_RefusesADatabaseFromANewerVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := migrated(t)
	if _, err := d.W.Exec(`INSERT INTO goose_db_version(version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d2 := open(t, path)
	backups := filepath.Join(t.TempDir(), "backups")
	_, err := d2.Migrate(ctx, backups, nil)
	if !errors.Is(err, db.ErrNewerSchema) {
		t.Fatalf("Migrate on a version-9999 database: %v, want ErrNewerSchema", err)
	}
	if _, err := d2.MigrationStatus(ctx); !errors.Is(err, db.ErrNewerSchema) {
		t.Errorf("MigrationStatus: %v, want ErrNewerSchema", err)
	}
	if entries, _ := os.ReadDir(backups); len(entries) != 0 {
		t.Errorf("a refused database was touched: %v", entries)
	}
}

func TestMigrate_RefusesAnAppliedMigrationWhoseChecksumChanged(t *testing.T) {
	t.Parallel()
	for _, tampered := range []string{strings.Repeat("ab", 32), "x", ""} {
		d, _ := migrated(t)
		if _, err := d.W.Exec(`UPDATE schema_checksum SET checksum = ? WHERE version = 1`, tampered); err != nil {
			t.Fatal(err)
		}
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("checksum %q: Migrate panicked: %v", tampered, r)
				}
			}()
			_, err = d.Migrate(context.Background(), "", nil)
		}()
		if !errors.Is(err, db.ErrChangedMigration) {
			t.Errorf("checksum %q: Migrate = %v, want ErrChangedMigration", tampered, err)
		}
	}
}

func TestOpen_PragmasHoldOnTheWriterAndEveryReader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := migrated(t)
	want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "5000"}
	check := func(name string, q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) {
		for p, w := range want {
			var got string
			if err := q.QueryRowContext(ctx, "PRAGMA "+p).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if strings.ToLower(got) != w {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, p, got, w)
			}
		}
	}
	check("writer", d.W)
	// Hold every reader connection at once so each one is checked, not one reused.
	var conns []*sql.Conn
	for i := 0; i < 3; i++ {
		c, err := d.R.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		check(fmt.Sprintf("reader %d", i), c)
		// Readers are read-only: a write through one fails.
		if _, err := c.ExecContext(ctx, `INSERT INTO setting(key, store_id, value, updated_at) VALUES ('r', 0, '1', 1)`); err == nil {
			t.Errorf("reader %d accepted a write", i)
		}
	}
	// Foreign keys are enforced, not only reported.
	_, err := d.W.Exec(`INSERT INTO department(store_id, name, kind, created_at, updated_at) VALUES (999, 'x', 'sales', 1, 1)`)
	if !db.IsForeignKey(err) {
		t.Errorf("insert with a missing store: %v, want a foreign key violation", err)
	}
}

func TestWriteTx_TakesTheWriteLockAtBegin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := migrated(t)
	probe, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	conn, err := probe.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// No transaction open: the probe gets the lock (so the check below can fail).
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("probe BEGIN IMMEDIATE with the writer idle: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	err = d.WriteTx(ctx, func(tx *sql.Tx) error {
		// The transaction has only begun, nothing read or written yet.
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			conn.ExecContext(ctx, "ROLLBACK")
			t.Error("a second connection could BEGIN IMMEDIATE while a WriteTx was open: the writer's transactions are deferred")
		} else if !db.IsBusy(err) {
			t.Errorf("probe: %v, want SQLITE_BUSY", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriteTx_RollsBackWhenFnFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := migrated(t)
	boom := errors.New("boom")
	err := d.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO setting(key, store_id, value, updated_at) VALUES ('gone', 0, '1', 1)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WriteTx = %v, want the fn's error", err)
	}
	var n int
	d.R.QueryRow(`SELECT count(*) FROM setting WHERE key = 'gone'`).Scan(&n)
	if n != 0 {
		t.Error("the write of a failed WriteTx was committed")
	}
}

func TestUniqueColumn_NamesTheViolatedColumn(t *testing.T) {
	t.Parallel()
	d, _ := migrated(t)
	ins := `INSERT INTO store(code, name, created_at, updated_at) VALUES (?, 'x', 1, 1)`
	if _, err := d.W.Exec(ins, "HZ01"); err != nil {
		t.Fatal(err)
	}
	_, err := d.W.Exec(ins, "hz01") // code is COLLATE NOCASE
	if !db.IsUnique(err) || db.UniqueColumn(err) != "store.code" {
		t.Errorf("duplicate code: IsUnique %v, UniqueColumn %q; want true, store.code (%v)", db.IsUnique(err), db.UniqueColumn(err), err)
	}
	// A composite key names its first column.
	dep := `INSERT INTO department(store_id, name, kind, created_at, updated_at) VALUES (1, '销售部', 'sales', 1, 1)`
	if _, err := d.W.Exec(dep); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(dep); db.UniqueColumn(err) != "department.store_id" {
		t.Errorf("duplicate department: UniqueColumn %q, want department.store_id (%v)", db.UniqueColumn(err), err)
	}
	if db.IsUnique(errors.New("UNIQUE constraint failed: store.code")) || db.UniqueColumn(nil) != "" {
		t.Error("a plain error or nil was taken for a SQLite constraint violation")
	}
}

func TestSettings_SaveBumpsVersionLoadReportsAbsence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := migrated(t)
	var v struct{ N int }
	found, ver, err := db.LoadSetting(ctx, d.R, "sla", 0, &v)
	if err != nil || found || ver != 0 {
		t.Fatalf("absent setting: found %v version %d %v", found, ver, err)
	}
	for i := 1; i <= 2; i++ {
		if err := db.SaveSetting(ctx, d.W, "sla", 0, struct{ N int }{i * 10}, 7, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	found, ver, err = db.LoadSetting(ctx, d.R, "sla", 0, &v)
	if err != nil || !found || ver != 2 || v.N != 20 {
		t.Errorf("after two saves: found %v version %d value %d %v; want true 2 20", found, ver, v.N, err)
	}
	if found, _, _ := db.LoadSetting(ctx, d.R, "sla", 5, &v); found {
		t.Error("a group-wide setting was returned for store 5")
	}
}

// TestConcurrent_ReadThenWriteNoBusy is the case the single writer exists for:
// many goroutines each read a value and write it back changed, in one WriteTx.
// With deferred transactions most would fail with SQLITE_BUSY or lose updates.
func TestConcurrent_ReadThenWriteNoBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := migrated(t)
	if _, err := d.W.Exec(`INSERT INTO setting(key, store_id, value, updated_at) VALUES ('counter', 0, '0', 0)`); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- d.WriteTx(ctx, func(tx *sql.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM setting WHERE key = 'counter'`).Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `UPDATE setting SET value = ? WHERE key = 'counter'`, strconv.Itoa(n+1))
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			if failed <= 3 {
				t.Errorf("WriteTx: %v (busy: %v)", err, db.IsBusy(err))
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d transactions failed", failed, workers*each)
	}
	var n int
	if err := d.R.QueryRow(`SELECT CAST(value AS INTEGER) FROM setting WHERE key = 'counter'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != workers*each {
		t.Errorf("counter = %d, want %d (lost updates)", n, workers*each)
	}
}
