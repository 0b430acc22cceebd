package cli_test

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gofrs/flock"
)

func count(t *testing.T, dbPath, q string) int {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s on %s: %v", q, dbPath, err)
	}
	return n
}

// The console round trip: a passphrase backup restored into another data dir,
// the refusals (wrong passphrase, truncated file, server running), and the
// default backup restored in place with the previous data kept aside.
func TestCLI_BackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := run(t, "", "demo", "--data", dir); code != 0 {
		t.Fatalf("demo: %d %q %q", code, out, errs)
	}
	customers := count(t, filepath.Join(dir, "dealerdesk.db"), `SELECT count(*) FROM customer`)
	pass := filepath.Join(t.TempDir(), "pass.txt")
	writeFile(t, pass, "门店备份口令 2026\n")
	out := filepath.Join(t.TempDir(), "store.age")
	code, stdout, errs := run(t, "", "backup", "--data", dir, "--out", out, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(stdout, "test restore: ok") {
		t.Fatalf("backup: %d %q %q", code, stdout, errs)
	}

	wrong := filepath.Join(t.TempDir(), "wrong.txt")
	writeFile(t, wrong, "not it\n")
	other := t.TempDir()
	if code, _, errs := run(t, "", "restore", "--data", other, "--passphrase-file", wrong, out); code != 1 || !strings.Contains(errs, "the key does not open this backup") {
		t.Fatalf("wrong passphrase: %d %q", code, errs)
	}
	raw, _ := os.ReadFile(out)
	cut := filepath.Join(t.TempDir(), "cut.age")
	os.WriteFile(cut, raw[:len(raw)-100], 0o600)
	if code, _, errs := run(t, "", "restore", "--data", other, "--passphrase-file", pass, cut); code != 1 || !strings.Contains(errs, "damaged or incomplete") {
		t.Fatalf("truncated: %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(other, "dealerdesk.db")); err == nil {
		t.Fatal("a refused restore created a database")
	}
	// Flags after the file name work too.
	code, stdout, errs = run(t, "", "restore", out, "--data", other, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(stdout, "restored in") {
		t.Fatalf("restore: %d %q %q", code, stdout, errs)
	}
	if got := count(t, filepath.Join(other, "dealerdesk.db"), `SELECT count(*) FROM customer`); got != customers {
		t.Fatalf("restored %d customers, want %d", got, customers)
	}
	if n := count(t, filepath.Join(other, "dealerdesk.db"), `SELECT count(*) FROM session`); n != 0 {
		t.Fatalf("%d sessions survived the restore", n)
	}

	// The default backup: into <data>/backups, to this machine's key.
	code, stdout, errs = run(t, "", "backup", "--data", dir)
	if code != 0 || !strings.Contains(stdout, "backup written and test-restored") {
		t.Fatalf("default backup: %d %q %q", code, stdout, errs)
	}
	var file string
	des, _ := os.ReadDir(filepath.Join(dir, "backups"))
	for _, de := range des {
		if strings.HasSuffix(de.Name(), "-cli.tar.gz.age") {
			file = filepath.Join(dir, "backups", de.Name())
		}
	}
	if file == "" {
		t.Fatalf("no cli backup in %v", des)
	}
	// A running server holds the data dir's lock: no restore under it.
	l := flock.New(filepath.Join(dir, "dealerdesk.lock"))
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatal("cannot take the lock", err)
	}
	if code, _, errs := run(t, "", "restore", "--data", dir, file); code != 1 || !strings.Contains(errs, "already running") {
		t.Fatalf("restore under a running server: %d %q", code, errs)
	}
	l.Unlock()
	// A change after the backup, then the restore in place (this machine's key).
	d, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "dealerdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`INSERT INTO setting(key, store_id, value, updated_at) VALUES ('after_backup', 0, '1', 1)`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	code, stdout, errs = run(t, "", "restore", "--data", dir, file)
	if code != 0 || !strings.Contains(stdout, "previous data is kept in") {
		t.Fatalf("restore in place: %d %q %q", code, stdout, errs)
	}
	if got := count(t, filepath.Join(dir, "dealerdesk.db"), `SELECT count(*) FROM customer`); got != customers {
		t.Fatalf("restored %d customers, want %d", got, customers)
	}
	if n := count(t, filepath.Join(dir, "dealerdesk.db"), `SELECT count(*) FROM setting WHERE key = 'after_backup'`); n != 0 {
		t.Fatal("a change made after the backup survived the restore")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "backups", "pre-restore-*", "dealerdesk.db"))
	if len(matches) != 1 {
		t.Fatalf("previous data kept aside: %v", matches)
	}
}

// The recovery path the README documents, with the standard tools only: age
// decrypts with the key file, tar unpacks, sqlite3 reads the database.
// Required under CI (.ci/run installs age); skipped elsewhere when missing.
func TestCLI_BackupOpensWithStandardTools(t *testing.T) {
	for _, tool := range []string{"age", "tar", "sqlite3"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing under CI (.ci/run installs it)", tool)
			}
			t.Skipf("%s not installed (apt-get install age sqlite3)", tool)
		}
	}
	dir := t.TempDir()
	if code, out, errs := run(t, "", "demo", "--data", dir); code != 0 {
		t.Fatalf("demo: %d %q %q", code, out, errs)
	}
	users := count(t, filepath.Join(dir, "dealerdesk.db"), `SELECT count(*) FROM app_user`)
	out := filepath.Join(t.TempDir(), "b.age")
	if code, stdout, errs := run(t, "", "backup", "--data", dir, "--out", out, "--compression", "gzip"); code != 0 {
		t.Fatalf("backup: %d %q %q", code, stdout, errs)
	}
	work := t.TempDir()
	cmd := exec.Command("sh", "-c", `age -d -i "$1" "$2" | tar xz -C "$3" && sqlite3 "$3/dealerdesk.db" "SELECT count(*) FROM app_user" && cat "$3/manifest.json"`,
		"sh", filepath.Join(dir, "keys", "backup-local.agekey"), out, work)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("age | tar | sqlite3: %v\n%s", err, got)
	}
	lines := strings.SplitN(string(got), "\n", 2)
	if strings.TrimSpace(lines[0]) != strconv.Itoa(users) || !strings.Contains(lines[1], `"schemaVersion"`) {
		t.Fatalf("standard tools read %q, want %d users and the manifest", got, users)
	}
}
