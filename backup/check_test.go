package backup_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dealerdesk/backup"
)

// TestCheckDB_EmptySnapshotDoesNotPass is the trap found in the research: an
// interrupted VACUUM INTO leaves a file that opens as an empty database which
// passes integrity_check. Against a manifest it must fail.
func TestCheckDB_EmptySnapshotDoesNotPass(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := backup.Manifest{SchemaVersion: 9, Tables: map[string]int64{"customer": 100, "goose_db_version": 11, "store": 2, "ack": 0}}

	zero := filepath.Join(dir, "zero.db")
	os.WriteFile(zero, nil, 0o600)
	empty := filepath.Join(dir, "empty.db")
	db, err := sql.Open("sqlite", "file:"+empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 1"); err != nil { // a valid, empty database file
		t.Fatal(err)
	}
	db.Close()

	for _, p := range []string{zero, empty} {
		// The trap itself: integrity_check alone says ok.
		db, _ := sql.Open("sqlite", "file:"+p+"?mode=ro")
		var ic string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
			t.Fatalf("%s: integrity_check %q %v; the premise of this test changed", p, ic, err)
		}
		db.Close()

		err := backup.CheckDB(context.Background(), p, m)
		if !errors.Is(err, backup.ErrCheckFailed) {
			t.Fatalf("%s: CheckDB = %v, want ErrCheckFailed", filepath.Base(p), err)
		}
		if !strings.Contains(err.Error(), "schema version 0, manifest says 9") {
			t.Errorf("%s: message %q", filepath.Base(p), err)
		}
	}
	// Without the schema check, the missing table is named.
	m.SchemaVersion = 0
	err = backup.CheckDB(context.Background(), empty, m)
	if !errors.Is(err, backup.ErrCheckFailed) || !strings.Contains(err.Error(), "table ack is missing, manifest says 0 rows") {
		t.Errorf("CheckDB = %v", err)
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Errorf("CheckDB left files behind: %v", got)
	}
}

func TestCheckDB_NamesFirstMismatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1200)
	good := backup.Manifest{SchemaVersion: 9, Tables: map[string]int64{"ack": 0, "customer": 1200, "goose_db_version": 11, "store": 2}}
	if err := backup.CheckDB(context.Background(), f.dbPath, good); err != nil {
		t.Fatalf("live database against a matching manifest: %v", err)
	}
	for _, tc := range []struct {
		mutate func(m *backup.Manifest)
		msg    string
	}{
		{func(m *backup.Manifest) { m.Tables["customer"] = 1201 }, "table customer: 1200 rows, manifest says 1201"},
		{func(m *backup.Manifest) { delete(m.Tables, "store") }, "table store (2 rows) is not in the manifest"},
		{func(m *backup.Manifest) { m.Tables["vehicle"] = 0 }, "table vehicle is missing, manifest says 0 rows"},
		{func(m *backup.Manifest) { m.SchemaVersion = 8 }, "schema version 9, manifest says 8"},
	} {
		m := good
		m.Tables = map[string]int64{}
		for k, v := range good.Tables {
			m.Tables[k] = v
		}
		tc.mutate(&m)
		err := backup.CheckDB(context.Background(), f.dbPath, m)
		if !errors.Is(err, backup.ErrCheckFailed) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("CheckDB = %v, want %q", err, tc.msg)
		}
	}
	if err := backup.CheckDB(context.Background(), filepath.Join(f.data, "nope.db"), good); !errors.Is(err, backup.ErrCheckFailed) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.data, "nope.db")); !os.IsNotExist(err) {
		t.Error("CheckDB created the missing database")
	}
}

func TestCheckDB_DamagedPagesFail(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3000)
	f.db.Close()
	// Copy the database (checkpointed by the close) and overwrite a few pages
	// in the middle with garbage.
	b, err := os.ReadFile(f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 40*4096 {
		t.Fatalf("database too small: %d", len(b))
	}
	for i := 20 * 4096; i < 23*4096; i++ {
		b[i] = byte(i * 31)
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	os.WriteFile(bad, b, 0o600)
	m := backup.Manifest{SchemaVersion: 9, Tables: map[string]int64{"ack": 0, "customer": 3000, "goose_db_version": 11, "store": 2}}
	if err := backup.CheckDB(context.Background(), bad, m); !errors.Is(err, backup.ErrCheckFailed) {
		t.Fatalf("damaged database: %v", err)
	} else {
		t.Logf("damaged database: %v", err)
	}
}
