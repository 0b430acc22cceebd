package backup_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"dealerdesk/backup"
)

func TestSweep_RemovesLeftoversKeepsBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keep := []string{
		"dealerdesk-20261123T023000Z-scheduled.tar.gz.age",
		"dealerdesk-20261123T023000Z-scheduled.tar.gz.age.json",
		"status.json",
		"notes.tmp", // not ".tmp-*"
	}
	for _, n := range keep {
		write(n)
	}
	for _, n := range []string{
		".tmp-20261123T023000Z-ab12.db", ".tmp-20261123T023000Z-ab12.db-journal",
		".tmp-20261123T023000Z-cd34.db-wal", ".tmp-20261123T023000Z-cd34.db-shm",
		".dealerdesk-123456.part", "dealerdesk-20261123T023000Z-scheduled.tar.gz.age.json.part",
	} {
		write(n)
	}
	os.MkdirAll(filepath.Join(dir, ".restore-987", "files", "ab"), 0o700)
	os.WriteFile(filepath.Join(dir, ".restore-987", "dealerdesk.db"), []byte("x"), 0o600)
	os.MkdirAll(filepath.Join(dir, "restore-keep"), 0o700) // no leading dot: not ours
	keep = append(keep, "restore-keep")

	n, err := backup.Sweep(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Errorf("removed %d, want 7", n)
	}
	got := entries(t, dir)
	slices.Sort(keep)
	if !slices.Equal(got, keep) {
		t.Errorf("left %v, want %v", got, keep)
	}
	if n, err := backup.Sweep(filepath.Join(dir, "missing")); n != 0 || err != nil {
		t.Errorf("Sweep of a missing dir = %d, %v", n, err)
	}
}
