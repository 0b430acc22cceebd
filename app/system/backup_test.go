package system_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/pressly/goose/v3"

	"dealerdesk/app/apptest"
	"dealerdesk/app/db"
	"dealerdesk/app/system"
	"dealerdesk/backup"
)

func backupFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".age") {
			out = append(out, de.Name())
		}
	}
	sort.Strings(out)
	return out
}

func waitIdle(t *testing.T, env *apptest.Env, c *apptest.Client) system.BackupStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var st system.BackupStatus
		c.Do("GET", "/system/backup", nil).Expect(t, 200).JSON(t, &st)
		if st.Running == nil {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("backup still running after 60 s")
	return system.BackupStatus{}
}

// The nightly backup runs once per night at the set time, also when the job runs
// many times a minute, not again when the clock is set back, and once (not 30
// times) after the PC was off for a month.
func TestBackup_ScheduledOncePerNightWithCatchUpAndClockJumps(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	b := env.App.Backups
	ctx := context.Background()
	ran, err := b.RunDue(ctx)
	if err != nil || ran {
		t.Fatalf("first look on a new install ran a backup (%v, %v); the first one is at the next 02:30", ran, err)
	}
	// 2026-11-23 09:00 UTC is 17:00 in Shanghai; the next 02:30 is 18:30 UTC.
	env.Clock.Set(time.Date(2026, 11, 23, 18, 29, 0, 0, time.UTC))
	if ran, _ := b.RunDue(ctx); ran {
		t.Fatal("ran before 02:30")
	}
	env.Clock.Set(time.Date(2026, 11, 23, 18, 31, 0, 0, time.UTC))
	if ran, err := b.RunDue(ctx); !ran || err != nil {
		t.Fatalf("02:31: ran=%v err=%v", ran, err)
	}
	for i := 0; i < 3; i++ {
		if ran, _ := b.RunDue(ctx); ran {
			t.Fatal("a second backup in the same night")
		}
	}
	env.Clock.Set(time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)) // NTP sets a fast clock back
	if ran, _ := b.RunDue(ctx); ran {
		t.Fatal("a clock set back made a second backup")
	}
	env.Clock.Set(time.Date(2026, 12, 24, 3, 0, 0, 0, time.UTC)) // off for a month
	if ran, err := b.RunDue(ctx); !ran || err != nil {
		t.Fatalf("catch-up after a month: ran=%v err=%v", ran, err)
	}
	if ran, _ := b.RunDue(ctx); ran {
		t.Fatal("more than one catch-up backup")
	}
	files := backupFiles(t, b.Dir())
	if len(files) != 2 {
		t.Fatalf("backups %v, want 2 (one night + one catch-up)", files)
	}
	for _, f := range files {
		if !strings.Contains(f, "scheduled") {
			t.Errorf("%s is not named as a scheduled backup", f)
		}
	}
	var st system.BackupStatus
	env.As("admin").Do("GET", "/system/backup", nil).Expect(t, 200).JSON(t, &st)
	if st.Last == nil || !st.Last.OK || !st.Last.Verified || st.LastSuccessAt == nil {
		t.Fatalf("status after the backups: %+v", st)
	}
	if st.NextRunAt == nil || time.UnixMilli(*st.NextRunAt).UTC() != time.Date(2026, 12, 24, 18, 30, 0, 0, time.UTC) {
		t.Errorf("next run %v, want 2026-12-25 02:30 Shanghai", st.NextRunAt)
	}
}

// "Back up now", the list, a download that opens with this machine's key and the
// age library's own reader, and the audit rows of both.
func TestBackup_ManualRunListDownloadAndAudit(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	admin.Do("POST", "/system/backup/run", nil).Expect(t, http.StatusAccepted)
	st := waitIdle(t, env, admin)
	if st.Last == nil || !st.Last.OK || st.Last.Kind != "manual" {
		t.Fatalf("last backup %+v", st.Last)
	}
	var list struct{ Items []system.BackupFile }
	admin.Do("GET", "/system/backups", nil).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 1 || !list.Items[0].Verified || list.Items[0].SchemaVersion != db.LatestVersion() || list.Items[0].Rows == 0 || list.Items[0].SHA256 == "" {
		t.Fatalf("list %+v", list.Items)
	}
	name := list.Items[0].Name
	r := admin.Do("GET", "/system/backups/"+name+"/download", nil).Expect(t, 200)
	if int64(len(r.Body)) != list.Items[0].Size {
		t.Fatalf("downloaded %d bytes, list says %d", len(r.Body), list.Items[0].Size)
	}
	id, err := system.LocalIdentity(env.Dir)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := age.Decrypt(bytes.NewReader(r.Body), id)
	if err != nil {
		t.Fatalf("age cannot open the download with this machine's key: %v", err)
	}
	if n, _ := io.Copy(io.Discard, plain); n < 1000 {
		t.Fatalf("decrypted archive is %d bytes", n)
	}
	if env.AuditCount("backup.run", "") != 1 || env.AuditCount("backup.download", "backup") != 1 {
		t.Errorf("audit: run %d, download %d", env.AuditCount("backup.run", ""), env.AuditCount("backup.download", "backup"))
	}
	admin.Do("GET", "/system/backups/..%2F..%2Fdealerdesk.db/download", nil).Expect(t, 404)
	var v system.VerifyResult
	admin.Do("POST", "/system/backups/"+name+"/verify", nil).Expect(t, 200).JSON(t, &v)
	if !v.OK {
		t.Fatalf("verify: %+v", v)
	}
	// Someone without system.backup sees none of it.
	env.As("gm").Do("GET", "/system/backup", nil).Expect(t, 403)
	env.As("gm").Do("GET", "/system/backups/"+name+"/download", nil).Expect(t, 403)
}

func TestBackup_SettingsValidateAndConflict(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var st system.BackupStatus
	admin.Do("GET", "/system/backup", nil).Expect(t, 200).JSON(t, &st)
	if !st.Settings.Enabled || st.Settings.Time != "02:30" || st.Settings.KeepDaily != 7 || st.RecoveryConfigured {
		t.Fatalf("defaults %+v", st.Settings)
	}
	bad := st.Settings
	bad.Time = "25:00"
	apptest.ExpectField(t, admin.Do("PUT", "/system/backup/settings", bad), "time", "invalid_format")
	bad = st.Settings
	bad.ExtraDir = "backups"
	apptest.ExpectField(t, admin.Do("PUT", "/system/backup/settings", bad), "extraDir", "backup.extra_not_absolute")
	bad.ExtraDir = filepath.Join(env.Dir, "backups", "copy")
	apptest.ExpectField(t, admin.Do("PUT", "/system/backup/settings", bad), "extraDir", "backup.extra_inside_data")
	bad = st.Settings
	bad.RecoveryRecipient = "age1notakey"
	apptest.ExpectField(t, admin.Do("PUT", "/system/backup/settings", bad), "recoveryRecipient", "backup.recipient_invalid")
	good := st.Settings
	good.Time, good.KeepDaily = "23:15", 10
	admin.Do("PUT", "/system/backup/settings", good).Expect(t, 200)
	apptest.ExpectErr(t, admin.Do("PUT", "/system/backup/settings", good), 409, "conflict.stale")
	if env.AuditCount("backup.settings", "setting") != 1 {
		t.Error("settings change not audited")
	}
}

// The recovery key: generated, shown once, confirmed by pasting it back; from then
// on every backup also opens with it (and only its public half is stored).
func TestBackup_RecoveryKeyOpensNewBackups(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var k system.RecoveryKey
	admin.Do("POST", "/system/backup/recovery-key", nil).Expect(t, 200).JSON(t, &k)
	if !strings.HasPrefix(k.Identity, "AGE-SECRET-KEY-1") || !strings.HasPrefix(k.Recipient, "age1") {
		t.Fatalf("key %+v", k)
	}
	apptest.ExpectField(t, admin.Do("POST", "/system/backup/recovery-key/confirm", map[string]string{"identity": "nope"}), "identity", "backup.identity_invalid")
	var st system.BackupStatus
	admin.Do("POST", "/system/backup/recovery-key/confirm", map[string]string{"identity": k.Identity}).Expect(t, 200).JSON(t, &st)
	if !st.RecoveryConfigured || st.Settings.RecoveryRecipient != k.Recipient {
		t.Fatalf("status %+v", st)
	}
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM setting WHERE value LIKE '%AGE-SECRET-KEY%'`).Scan(&n)
	if n != 0 {
		t.Fatal("the secret recovery key was stored")
	}
	out, err := env.App.Backups.Run(context.Background(), system.KindManual)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := backup.ParseIdentities(strings.NewReader(k.Identity))
	m, err := backup.Verify(context.Background(), filepath.Join(env.App.Backups.Dir(), out.Name), ids, t.TempDir())
	if err != nil {
		t.Fatalf("the recovery key does not open the backup: %v", err)
	}
	if m.Tables["app_user"] == 0 {
		t.Errorf("manifest %+v", m.Tables)
	}
}

// Rotation over a simulated calendar: with 3 daily, 2 weekly and 1 monthly kept,
// 40 nights of backups leave exactly the newest of each bucket, in the data dir
// and in the extra folder.
func TestBackup_RotationAndExtraFolderOverASimulatedCalendar(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.Login(setupAdmin(t, env))
	var st system.BackupStatus
	admin.Do("GET", "/system/backup", nil).Expect(t, 200).JSON(t, &st)
	extra := t.TempDir()
	set := st.Settings
	set.KeepDaily, set.KeepWeekly, set.KeepMonthly, set.KeepSpecial, set.ExtraDir = 3, 2, 1, 1, extra
	admin.Do("PUT", "/system/backup/settings", set).Expect(t, 200)
	b := env.App.Backups
	ctx := context.Background()
	b.RunDue(ctx) // first look records tonight's slot
	day := time.Date(2026, 11, 23, 18, 31, 0, 0, time.UTC)
	for i := 0; i < 40; i++ {
		env.Clock.Set(day.AddDate(0, 0, i))
		if ran, err := b.RunDue(ctx); !ran || err != nil {
			t.Fatalf("night %d: ran=%v err=%v", i, ran, err)
		}
	}
	local := backupFiles(t, b.Dir())
	if got := backupFiles(t, extra); strings.Join(got, ",") != strings.Join(local, ",") {
		t.Errorf("extra folder %v, data dir %v", got, local)
	}
	var days []string
	for _, f := range local {
		e, ok := backup.ParseFileName(f)
		if !ok {
			t.Fatalf("unparsable %s", f)
		}
		days = append(days, e.CreatedAt.In(time.FixedZone("CST", 8*3600)).Format("01-02"))
	}
	// Last night is 01-02 (2027); daily: 01-02, 01-01, 12-31; weekly (ISO weeks,
	// newest per week): 01-02 is in the week of 12-28..01-03, the week before's
	// newest is 12-27; monthly: the newest of December is 12-31 (already kept).
	want := []string{"12-27", "12-31", "01-01", "01-02"}
	if strings.Join(days, ",") != strings.Join(want, ",") {
		t.Fatalf("kept %v, want %v", days, want)
	}
}

func setupAdmin(t *testing.T, env *apptest.Env) (string, string) {
	t.Helper()
	env.Client().Do("POST", "/setup", map[string]string{"groupName": "测试集团", "storeName": "一店", "storeCode": "S1",
		"adminUsername": "boss", "adminName": "老板", "password": "Str0ng-Passw0rd!"}).Expect(t, http.StatusCreated)
	return "boss", "Str0ng-Passw0rd!"
}

// A backup that fails raises an urgent notification for the administrators.
func TestBackup_FailureNotifiesAdministrators(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	ctx := context.Background()
	// A broken recovery key in the settings (as if edited outside the UI) makes
	// the backup fail before anything is written.
	if err := db.SaveSetting(ctx, env.App.DB.W, "backup", 0, map[string]any{"enabled": true, "time": "02:30", "keepDaily": 7,
		"keepWeekly": 4, "keepMonthly": 12, "keepSpecial": 3, "compression": "gzip", "recoveryRecipient": "age1broken"}, 0, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Backups.Run(ctx, system.KindManual); err == nil {
		t.Fatal("backup with a broken recovery key succeeded")
	}
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM notification n JOIN app_user u ON u.id = n.user_id WHERE n.kind = 'backup.failed' AND u.username = 'admin' AND n.level = 'urgent'`).Scan(&n)
	if n != 1 {
		t.Fatalf("admin got %d backup.failed notifications", n)
	}
	if files := backupFiles(t, env.App.Backups.Dir()); len(files) != 0 {
		t.Fatalf("a failed backup left %v", files)
	}
	var st system.BackupStatus
	env.As("admin").Do("GET", "/system/backup", nil).Expect(t, 200).JSON(t, &st)
	if st.Last == nil || st.Last.OK || st.Last.Error == "" {
		t.Fatalf("status %+v", st.Last)
	}
}

func countRows(t *testing.T, d *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A restore from the browser: the backup comes back, what was written after it
// is gone (set aside), every session ends, the restored audit log records it, and
// the search index is rebuilt from the restored data.
func TestRestore_ThroughTheAPISwapsTheDataAndEndsSessions(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	ctx := context.Background()
	out, err := env.App.Backups.Run(ctx, system.KindManual)
	if err != nil {
		t.Fatal(err)
	}
	users := countRows(t, env.App.DB.R, `SELECT count(*) FROM app_user`)
	if _, err := env.App.DB.W.Exec(`UPDATE app_user SET name = '改过的名字' WHERE username = 'gm'`); err != nil {
		t.Fatal(err)
	}
	sales := env.As("sales")
	r := admin.Do("POST", "/system/restore", map[string]string{"name": out.Name}).Expect(t, http.StatusAccepted)
	_ = r
	select {
	case <-env.Host.Restored():
	case <-time.After(60 * time.Second):
		t.Fatal("restore did not finish")
	}
	env.Reload()
	if got := countRows(t, env.App.DB.R, `SELECT count(*) FROM app_user`); got != users {
		t.Fatalf("users %d, want %d", got, users)
	}
	var name string
	env.App.DB.R.QueryRow(`SELECT name FROM app_user WHERE username = 'gm'`).Scan(&name)
	if name == "改过的名字" {
		t.Fatal("a change made after the backup survived the restore")
	}
	sales.Do("GET", "/auth/me", nil).Expect(t, 401)
	admin.Do("GET", "/system/backup", nil).Expect(t, 401)
	admin2 := env.As("admin")
	var last system.RestoreResult
	admin2.Do("GET", "/system/restore/last", nil).Expect(t, 200).JSON(t, &last)
	if !last.OK || last.Name != out.Name || last.SchemaTo != db.LatestVersion() {
		t.Fatalf("restore result %+v", last)
	}
	if _, err := os.Stat(filepath.Join(last.AsideDir, "dealerdesk.db")); err != nil {
		t.Fatalf("the previous database was not kept aside: %v", err)
	}
	if env.AuditCount("system.restored", "backup") != 1 {
		t.Error("the restored audit log does not record the restore")
	}
	// The search index is derived: it was removed and is rebuilt from the restored data.
	if _, err := os.Stat(filepath.Join(env.Dir, "search")); err != nil {
		t.Errorf("search index not rebuilt after the restore: %v", err)
	}
}

// Every refusal comes back before anything is touched: a wrong passphrase, a
// damaged file, a file that is no backup, a backup from a newer schema.
func TestRestore_RefusalsLeaveTheDataUntouched(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	ctx := context.Background()
	out, err := env.App.Backups.Run(ctx, system.KindManual)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(env.App.Backups.Dir(), out.Name))
	if err != nil {
		t.Fatal(err)
	}
	users := countRows(t, env.App.DB.R, `SELECT count(*) FROM app_user`)
	upload := func(file []byte, fields map[string]string) *apptest.Response {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for k, v := range fields {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("file", "backup.age")
		fw.Write(file)
		w.Close()
		return admin.Do("POST", "/system/restore", body.Bytes(), "Content-Type", w.FormDataContentType())
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x01
	apptest.ExpectErr(t, upload(flipped, nil), 400, "backup.corrupt")
	apptest.ExpectErr(t, upload(good[:len(good)*2/3], nil), 400, "backup.corrupt")
	apptest.ExpectErr(t, upload([]byte("PK\x03\x04 not an age file"), nil), 400, "backup.corrupt")
	other, _ := age.GenerateX25519Identity()
	apptest.ExpectErr(t, upload(good, map[string]string{"identity": other.String()}), 400, "backup.wrong_key")

	// A passphrase backup opened with the wrong passphrase.
	pr, _ := backup.PassphraseRecipient("correct horse battery staple")
	var enc bytes.Buffer
	if _, err := backup.Create(ctx, backup.Options{DBPath: env.App.DB.Path, ScratchDir: t.TempDir(), AppVersion: "test", Kind: "cli", Recipients: []age.Recipient{pr}}, &enc); err != nil {
		t.Fatal(err)
	}
	apptest.ExpectErr(t, upload(enc.Bytes(), map[string]string{"passphrase": "wrong"}), 400, "backup.wrong_key")

	// A backup from a newer DealerDesk: a copy of the database claiming a later schema.
	newer := filepath.Join(t.TempDir(), "dealerdesk.db")
	if _, err := env.App.DB.W.Exec(`VACUUM INTO ?`, newer); err != nil {
		t.Fatal(err)
	}
	nd, err := sql.Open("sqlite", "file:"+newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nd.Exec(`INSERT INTO goose_db_version(version_id, is_applied, tstamp) VALUES (9999, 1, CURRENT_TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	nd.Close()
	id, _ := system.LocalIdentity(env.Dir)
	enc.Reset()
	if _, err := backup.Create(ctx, backup.Options{DBPath: newer, ScratchDir: t.TempDir(), AppVersion: "9.9", Kind: "cli", Recipients: []age.Recipient{id.Recipient()}}, &enc); err != nil {
		t.Fatal(err)
	}
	e := apptest.ExpectErr(t, upload(enc.Bytes(), nil), 400, "backup.newer_schema")
	if !strings.Contains(e.Message, "9999") {
		t.Errorf("message %q does not name the backup's schema", e.Message)
	}
	if got := countRows(t, env.App.DB.R, `SELECT count(*) FROM app_user`); got != users {
		t.Fatalf("users %d after refused restores, want %d", got, users)
	}
	admin.Do("GET", "/system/backup", nil).Expect(t, 200) // still serving, same session
	des, _ := os.ReadDir(env.Dir)
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".restore") {
			t.Errorf("leftover %s in the data dir", de.Name())
		}
	}
}

// Upgrading is replacing the binary: opening a database of an older schema takes
// an encrypted, verified backup of it before migrating.
func TestBackup_PreUpgradeBackupBeforeMigrating(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	prev := ms[len(ms)-2].Version
	d, err := db.Open(ctx, filepath.Join(dir, "dealerdesk.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.W, os.DirFS("../db/migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, prev); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(`INSERT INTO setting(key, store_id, value, updated_at) VALUES ('kept', 0, '"yes"', 1)`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	env := apptest.New(t, apptest.Options{Dir: dir})
	files := backupFiles(t, env.App.Backups.Dir())
	if len(files) != 1 || !strings.Contains(files[0], "pre_upgrade") {
		t.Fatalf("backups %v, want one pre_upgrade", files)
	}
	id, _ := system.LocalIdentity(dir)
	m, err := backup.Verify(ctx, filepath.Join(env.App.Backups.Dir(), files[0]), []age.Identity{id}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != prev || m.Tables["setting"] != 1 {
		t.Fatalf("pre-upgrade backup has schema %d and %d settings, want %d and 1", m.SchemaVersion, m.Tables["setting"], prev)
	}
	if v, _ := env.App.DB.SchemaVersion(ctx); v != db.LatestVersion() {
		t.Fatalf("not migrated: %d", v)
	}

	// Restoring that older backup migrates it forward again, and what it held
	// (the setting written before the upgrade) comes back.
	if _, err := env.App.DB.W.Exec(`DELETE FROM setting WHERE key = 'kept'`); err != nil {
		t.Fatal(err)
	}
	admin := env.Login(setupAdmin(t, env))
	admin.Do("POST", "/system/restore", map[string]string{"name": files[0]}).Expect(t, http.StatusAccepted)
	select {
	case <-env.Host.Restored():
	case <-time.After(60 * time.Second):
		t.Fatal("restore did not finish")
	}
	env.Reload()
	// The backup predates the first-run setup, so nobody can sign in: read the
	// result where the page reads it from.
	var last system.RestoreResult
	raw, err := os.ReadFile(filepath.Join(env.App.Backups.Dir(), "restore-last.json"))
	if err != nil || json.Unmarshal(raw, &last) != nil {
		t.Fatalf("restore result: %v %s", err, raw)
	}
	if !last.OK || last.SchemaFrom != prev || last.SchemaTo != db.LatestVersion() {
		t.Fatalf("restore of an older backup: %+v", last)
	}
	if n := countRows(t, env.App.DB.R, `SELECT count(*) FROM setting WHERE key = 'kept'`); n != 1 {
		t.Fatalf("the older backup's data is not back (%d)", n)
	}
}

// Failing nightly backups raise the "no good backup for 26 hours" alert, and a
// clock that ran a year ahead and was corrected does not stop the schedule.
func TestBackup_StaleAlertAndACorrectedClock(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	b := env.App.Backups
	ctx := context.Background()
	b.RunDue(ctx) // a new install: records the schedule's start
	broken := map[string]any{"enabled": true, "time": "02:30", "keepDaily": 7, "keepWeekly": 4, "keepMonthly": 12,
		"keepSpecial": 3, "compression": "gzip", "recoveryRecipient": "age1broken"}
	if err := db.SaveSetting(ctx, env.App.DB.W, "backup", 0, broken, 0, 1); err != nil {
		t.Fatal(err)
	}
	stale := func() int {
		return countRows(t, env.App.DB.R, `SELECT count(*) FROM notification WHERE title_key = 'notify.msg.backup_stale'`)
	}
	for i := 0; i < 2; i++ {
		env.Clock.Set(time.Date(2026, 11, 23+i, 18, 31, 0, 0, time.UTC))
		if ran, err := b.RunDue(ctx); !ran || err == nil {
			t.Fatalf("night %d: ran=%v err=%v, want a failed run", i, ran, err)
		}
	}
	if stale() != 1 { // 2026-11-24 18:31 UTC is 33.5 h after the install
		t.Fatalf("%d stale alerts after two failed nights, want 1", stale())
	}
	b.RunDue(ctx)
	if stale() != 1 {
		t.Fatal("the stale alert repeated within the day")
	}
	ok := broken
	ok["recoveryRecipient"] = ""
	if err := db.SaveSetting(ctx, env.App.DB.W, "backup", 0, ok, 0, 2); err != nil {
		t.Fatal(err)
	}
	env.Clock.Set(time.Date(2027, 11, 25, 18, 31, 0, 0, time.UTC)) // the BIOS clock a year ahead
	if ran, err := b.RunDue(ctx); !ran || err != nil {
		t.Fatalf("a year ahead: ran=%v err=%v", ran, err)
	}
	env.Clock.Set(time.Date(2026, 11, 25, 18, 31, 0, 0, time.UTC)) // corrected
	if ran, err := b.RunDue(ctx); !ran || err != nil {
		t.Fatalf("after the clock was corrected the schedule stopped: ran=%v err=%v", ran, err)
	}
	if ran, _ := b.RunDue(ctx); ran {
		t.Fatal("a second backup for the same night after the correction")
	}
}
