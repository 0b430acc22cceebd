package backup_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"dealerdesk/backup"
)

func TestWriteFile_AtomicWithSidecarAndVerifies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 500)
	names := writeFiles(t, f.files, 5, 1000)
	os.WriteFile(filepath.Join(f.files, "00", ".tmp-upload-123"), []byte("partial"), 0o600) // an upload in progress
	opt := f.options(backup.KindManual)
	opt.Now = func() time.Time { return time.Date(2026, 11, 23, 2, 30, 0, 123, time.UTC) }
	var phases []string
	opt.Progress = func(phase string, done, total int64) {
		if len(phases) == 0 || phases[len(phases)-1] != phase {
			phases = append(phases, phase)
		}
	}

	res, err := backup.WriteFile(context.Background(), opt, f.backups)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.backups, "dealerdesk-20261123T023000Z-manual.tar.gz.age"); res.Path != want {
		t.Fatalf("path %s, want %s", res.Path, want)
	}
	if got := strings.Join(phases, ","); got != "snapshot,check,archive,encrypt" {
		t.Errorf("phases %s", got)
	}
	raw, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if res.Size != int64(len(raw)) || res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("result size/hash %d %s do not match the file (%d bytes)", res.Size, res.SHA256, len(raw))
	}
	// Only the backup and its sidecar are left; no .part, no snapshot.
	if got := strings.Join(entries(t, f.backups), " "); got != filepath.Base(res.Path)+" "+filepath.Base(res.Path)+".json" {
		t.Errorf("backups dir holds %s", got)
	}
	if got := entries(t, f.scratch); len(got) != 0 {
		t.Errorf("scratch dir holds %v", got)
	}
	var side backup.Manifest
	b, _ := os.ReadFile(res.Path + ".json")
	if err := json.Unmarshal(b, &side); err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if side.CreatedAt != m.CreatedAt || side.Kind != backup.KindManual || len(side.Files) != len(m.Files) {
		t.Errorf("sidecar %+v differs from manifest %+v", side, m)
	}
	if m.SchemaVersion != 9 || m.Tables["customer"] != 500 || m.Tables["store"] != 2 || m.App != "dealerdesk" ||
		m.Format != 1 || m.Compression != "gzip" || !m.CreatedAt.Equal(time.Date(2026, 11, 23, 2, 30, 0, 0, time.UTC)) {
		t.Errorf("manifest %+v", m)
	}
	if len(m.Files) != 1+len(names) || m.Files[0].Path != "dealerdesk.db" {
		t.Errorf("manifest files %+v", m.Files)
	}
	for _, fe := range m.Files {
		if strings.Contains(fe.Path, ".tmp-") {
			t.Errorf("temporary file %s was backed up", fe.Path)
		}
	}
	if e, ok := backup.ParseFileName(filepath.Base(res.Path)); !ok || e.Kind != backup.KindManual || !e.CreatedAt.Equal(m.CreatedAt) {
		t.Errorf("ParseFileName = %+v, %v", e, ok)
	}

	vm, err := backup.Verify(context.Background(), res.Path, []age.Identity{f.id}, f.scratch)
	if err != nil {
		t.Fatal(err)
	}
	if vm.CreatedAt != m.CreatedAt {
		t.Errorf("verified manifest %+v", vm)
	}
	if got := entries(t, f.scratch); len(got) != 0 {
		t.Errorf("Verify left %v in scratch", got)
	}

	// The same second again: the existing backup is not overwritten.
	if _, err := backup.WriteFile(context.Background(), opt, f.backups); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second WriteFile in the same second: %v", err)
	}
	if len(entries(t, f.backups)) != 2 {
		t.Errorf("backups dir holds %v", entries(t, f.backups))
	}
	after, _ := os.ReadFile(res.Path)
	if sha256.Sum256(after) != sum {
		t.Error("the first backup changed")
	}
}

func TestOpen_ExtractsVerifiedFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 300)
	names := writeFiles(t, f.files, 3, 70_000)
	var buf strings.Builder
	m, err := backup.Create(context.Background(), f.options(backup.KindCLI), &buf)
	if err != nil {
		t.Fatal(err)
	}
	e, err := backup.Open(context.Background(), strings.NewReader(buf.String()), []age.Identity{newIdentity(t), f.id}, f.scratch)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Remove()
	if filepath.Dir(e.Dir) != f.scratch || !strings.HasPrefix(filepath.Base(e.Dir), ".restore-") {
		t.Errorf("extracted into %s", e.Dir)
	}
	if e.Manifest.CreatedAt != m.CreatedAt {
		t.Errorf("manifest %+v", e.Manifest)
	}
	for _, n := range names {
		want, _ := os.ReadFile(filepath.Join(f.files, n))
		got, err := os.ReadFile(filepath.Join(e.Dir, "files", n))
		if err != nil || string(got) != string(want) {
			t.Errorf("files/%s differs after restore (%v)", n, err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+e.DBPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := count(t, db, "SELECT count(*) FROM customer"); n != 300 {
		t.Errorf("%d customers", n)
	}
	if err := e.Remove(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, f.scratch); len(got) != 0 {
		t.Errorf("Remove left %v", got)
	}
}

func TestCreate_PassphraseRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	r, err := backup.PassphraseRecipient("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	opt := f.options(backup.KindManual)
	opt.Recipients = []age.Recipient{r}
	var buf strings.Builder
	if _, err := backup.Create(context.Background(), opt, &buf); err != nil {
		t.Fatal(err)
	}
	id, err := backup.PassphraseIdentity("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	e, err := backup.Open(context.Background(), strings.NewReader(buf.String()), []age.Identity{id}, f.scratch)
	if err != nil {
		t.Fatal(err)
	}
	e.Remove()

	// A passphrase cannot be mixed with keys, and nothing else is accepted.
	opt.Recipients = []age.Recipient{r, f.id.Recipient()}
	if _, err := backup.Create(context.Background(), opt, io.Discard); err == nil {
		t.Error("passphrase mixed with a key was accepted")
	}
	opt.Recipients = nil
	if _, err := backup.Create(context.Background(), opt, io.Discard); err == nil {
		t.Error("no recipients was accepted")
	}
	hybrid, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	opt.Recipients = []age.Recipient{hybrid.Recipient()}
	if _, err := backup.Create(context.Background(), opt, io.Discard); err == nil {
		t.Error("a post-quantum hybrid recipient was accepted")
	}
}

func TestCreate_BusyWhileAnotherBackupRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	opt := f.options(backup.KindScheduled)
	var inner error
	called := false
	opt.Progress = func(phase string, done, total int64) {
		if phase == "snapshot" && !called {
			called = true
			_, inner = backup.Create(context.Background(), f.options(backup.KindManual), io.Discard)
		}
	}
	if _, err := backup.Create(context.Background(), opt, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(inner, backup.ErrBusy) {
		t.Fatalf("nested backup of the same database: %v, want ErrBusy", inner)
	}
	// Once done, the lock is free again.
	if _, err := backup.Create(context.Background(), f.options(backup.KindManual), io.Discard); err != nil {
		t.Fatal(err)
	}
}

func TestCreate_RefusesForeignKeyViolationAndCleansUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	if _, err := f.db.Exec(`PRAGMA foreign_keys = OFF`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`INSERT INTO customer (id, store_id, name, phone, created_at) VALUES (999, 42, '孤儿', '13800000000', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := backup.WriteFile(context.Background(), f.options(backup.KindScheduled), f.backups)
	if !errors.Is(err, backup.ErrCheckFailed) || !strings.Contains(err.Error(), "customer") {
		t.Fatalf("err = %v, want ErrCheckFailed naming customer", err)
	}
	if got := entries(t, f.scratch); len(got) != 0 {
		t.Errorf("scratch holds %v", got)
	}
	if got := entries(t, f.backups); len(got) != 0 {
		t.Errorf("backups dir holds %v", got)
	}
}

func TestCreate_CancelledLeavesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2000)
	writeFiles(t, f.files, 2, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	opt := f.options(backup.KindScheduled)
	opt.Progress = func(phase string, done, total int64) {
		if phase == "archive" && done > 0 {
			cancel()
		}
	}
	_, err := backup.WriteFile(ctx, opt, f.backups)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := append(entries(t, f.scratch), entries(t, f.backups)...); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
}

func TestCreate_IncludedDirectories(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	real := filepath.Join(t.TempDir(), "bigdisk-files")
	names := writeFiles(t, real, 2, 100)
	if err := os.Symlink(real, f.files); err != nil {
		t.Skip("no symlinks here:", err)
	}
	opt := f.options(backup.KindManual)
	opt.Dirs["imports"] = filepath.Join(f.data, "imports") // does not exist: nothing to include
	m, err := backup.Create(context.Background(), opt, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fe := range m.Files {
		got = append(got, fe.Path)
	}
	if want := []string{"dealerdesk.db", "files/" + names[0], "files/" + names[1]}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("members %v, want %v (a symlinked directory is followed)", got, want)
	}
	// A symlink inside an included directory is refused rather than followed or skipped.
	os.Symlink("/etc/passwd", filepath.Join(real, "00", "evil"))
	if _, err := backup.Create(context.Background(), opt, io.Discard); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("symlink inside: %v", err)
	}
	if got := entries(t, f.scratch); len(got) != 0 {
		t.Errorf("scratch holds %v", got)
	}
}
