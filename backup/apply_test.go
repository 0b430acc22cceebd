package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"dealerdesk/backup"
)

// snapshotTree returns path -> sha256 of every file under dir.
func snapshotTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = sha256.Sum256(b)
		return nil
	})
	return out
}

func sameTree(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// applyFixture makes a backup, then changes the live data (more rows, one
// more file, -wal and -shm next to the closed database) and extracts the backup.
func applyFixture(t *testing.T) (*fixture, *backup.Extracted) {
	t.Helper()
	f := newFixture(t, 100)
	writeFiles(t, f.files, 2, 1000)
	var buf bytes.Buffer
	if _, err := backup.Create(context.Background(), f.options(backup.KindPreRestore), &buf); err != nil {
		t.Fatal(err)
	}
	insertCustomers(t, f.db, 100, 50)
	os.WriteFile(filepath.Join(f.files, "later"), []byte("added after the backup"), 0o600)
	f.db.Close() // the caller closes the database before Apply
	os.WriteFile(f.dbPath+"-wal", []byte("old wal"), 0o600)
	os.WriteFile(f.dbPath+"-shm", []byte("old shm"), 0o600)
	e, err := backup.Open(context.Background(), &buf, []age.Identity{f.id}, f.scratch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove() })
	return f, e
}

func TestApply_SwapsLiveDataAside(t *testing.T) {
	t.Parallel()
	f, e := applyFixture(t)
	before := snapshotTree(t, f.data)
	aside := filepath.Join(f.data, "aside-1")

	if err := backup.Apply(e, f.data, "dealerdesk.db", []string{"files", "search"}, aside); err != nil {
		t.Fatal(err)
	}
	// The previous data is aside, byte for byte.
	got := snapshotTree(t, aside)
	for p, sum := range before {
		if strings.HasPrefix(p, "scratch/") {
			continue
		}
		if got[p] != sum {
			t.Errorf("aside lacks %s", p)
		}
	}
	// The restored data is in place, with no WAL of the old database.
	for _, n := range []string{"dealerdesk.db-wal", "dealerdesk.db-shm"} {
		if _, err := os.Stat(filepath.Join(f.data, n)); !os.IsNotExist(err) {
			t.Errorf("%s is still next to the restored database", n)
		}
	}
	if _, err := os.Stat(filepath.Join(f.data, "files", "later")); !os.IsNotExist(err) {
		t.Error("a file added after the backup survived the restore")
	}
	if err := backup.CheckDB(context.Background(), f.dbPath, e.Manifest); err != nil {
		t.Fatalf("post-restore check: %v", err)
	}
	db, _ := sql.Open("sqlite", liveDSN(f.dbPath))
	defer db.Close()
	if n := count(t, db, "SELECT count(*) FROM customer"); n != 100 {
		t.Errorf("%d customers after restore, want 100", n)
	}
	if _, err := db.Exec("INSERT INTO store (id, name) VALUES (3, '广州店')"); err != nil {
		t.Errorf("restored database is not writable: %v", err)
	}
}

func TestApply_RollsBackWhenAsideIsBlocked(t *testing.T) {
	t.Parallel()
	f, e := applyFixture(t)
	aside := filepath.Join(f.data, "aside-1")
	// A directory in the way of the third move (files), after the database,
	// -wal and -shm have gone aside.
	os.MkdirAll(filepath.Join(aside, "files", "x"), 0o700)
	before := snapshotTree(t, f.data)

	err := backup.Apply(e, f.data, "dealerdesk.db", []string{"files"}, aside)
	if err == nil || !strings.Contains(err.Error(), "in the way") {
		t.Fatalf("Apply = %v, want a failure", err)
	}
	if after := snapshotTree(t, f.data); !sameTree(before, after) {
		t.Errorf("data dir changed:\nbefore %v\nafter  %v", keys(before), keys(after))
	}
	if _, err := os.Stat(e.DBPath); err != nil {
		t.Errorf("extracted database lost: %v", err)
	}
}

func TestApply_RollsBackWhenMovingInFails(t *testing.T) {
	t.Parallel()
	f, e := applyFixture(t)
	// Put the extracted files directory on another file system: the database
	// moves in, then renaming the directory fails (EXDEV) and all is undone.
	other, err := os.MkdirTemp("/dev/shm", "backup-test-")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	defer os.RemoveAll(other)
	probe := filepath.Join(other, "probe")
	os.WriteFile(probe, nil, 0o600)
	if os.Rename(probe, filepath.Join(f.data, "probe")) == nil {
		t.Skip("/dev/shm is on the same file system as the temp dir")
	}
	if err := os.Rename(filepath.Join(e.Dir, "files"), filepath.Join(other, "files")); err == nil {
		t.Fatal("moved across file systems?")
	}
	copyTree(t, filepath.Join(e.Dir, "files"), filepath.Join(other, "files"))
	moved := &backup.Extracted{Dir: other, DBPath: e.DBPath, Manifest: e.Manifest}
	before := snapshotTree(t, f.data)

	err = backup.Apply(moved, f.data, "dealerdesk.db", []string{"files"}, filepath.Join(f.data, "aside-1"))
	if err == nil {
		t.Fatal("Apply across file systems succeeded")
	}
	t.Logf("Apply: %v", err)
	if after := snapshotTree(t, f.data); !sameTree(before, after) {
		t.Errorf("data dir changed:\nbefore %v\nafter  %v", keys(before), keys(after))
	}
	if _, err := os.Stat(e.DBPath); err != nil {
		t.Errorf("extracted database not moved back: %v", err)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, _ := os.ReadFile(p)
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
}

func keys(m map[string][32]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
