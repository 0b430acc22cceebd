package system

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/backup"
)

// The backup setting key (store 0: backups are of the whole group's database).
const backupSettingKey = "backup"

// Backup kinds, as in backup.Manifest.Kind and the file names.
const (
	KindScheduled  = "scheduled"
	KindManual     = "manual"
	KindPreUpgrade = "pre_upgrade"
	KindPreRestore = "pre_restore"
	KindCLI        = "cli"
)

// BackupSettings is the backup schedule and where copies go (an audited setting row).
type BackupSettings struct {
	Enabled     bool   `json:"enabled"`
	Time        string `json:"time"` // HH:MM, Asia/Shanghai
	KeepDaily   int    `json:"keepDaily"`
	KeepWeekly  int    `json:"keepWeekly"`
	KeepMonthly int    `json:"keepMonthly"`
	KeepSpecial int    `json:"keepSpecial"`
	// ExtraDir is a second place for every backup: a USB disk or a mounted NAS share.
	ExtraDir    string `json:"extraDir"`
	Compression string `json:"compression"` // gzip or zstd
	// RecoveryRecipient is the public half of the owner's offline key: every backup
	// is encrypted to it as well as to this machine's own key.
	RecoveryRecipient string `json:"recoveryRecipient"`
	Version           int64  `json:"version"`
}

// DefaultBackupSettings: nightly at 02:30, 7 daily + 4 weekly + 12 monthly.
func DefaultBackupSettings() BackupSettings {
	return BackupSettings{Enabled: true, Time: "02:30", KeepDaily: 7, KeepWeekly: 4, KeepMonthly: 12, KeepSpecial: 3, Compression: "gzip"}
}

var hhmm = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// Normalize trims the text fields.
func (s *BackupSettings) Normalize() {
	s.Time = strings.TrimSpace(s.Time)
	s.ExtraDir = strings.TrimSpace(s.ExtraDir)
	s.Compression = strings.TrimSpace(s.Compression)
	s.RecoveryRecipient = strings.TrimSpace(s.RecoveryRecipient)
	if s.Compression == "" {
		s.Compression = "gzip"
	}
}

// Validate checks shapes; dataDir rules out an extra folder inside the data dir.
func (s BackupSettings) Validate(dataDir string) error {
	f := apperr.Fields{}
	if !hhmm.MatchString(s.Time) {
		f.Add("time", "invalid_format")
	}
	rng := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			f.Add(name, "out_of_range", "min", lo, "max", hi)
		}
	}
	rng("keepDaily", s.KeepDaily, 1, 90)
	rng("keepWeekly", s.KeepWeekly, 0, 104)
	rng("keepMonthly", s.KeepMonthly, 0, 120)
	rng("keepSpecial", s.KeepSpecial, 1, 20)
	if s.Compression != "gzip" && s.Compression != "zstd" {
		f.Add("compression", "backup.compression_invalid")
	}
	if s.ExtraDir != "" {
		switch {
		case !filepath.IsAbs(s.ExtraDir) && !isWindowsAbs(s.ExtraDir):
			f.Add("extraDir", "backup.extra_not_absolute")
		case dataDir != "" && within(s.ExtraDir, dataDir):
			f.Add("extraDir", "backup.extra_inside_data")
		case len(s.ExtraDir) > 400:
			f.Add("extraDir", "too_long", "max", 400)
		}
	}
	if s.RecoveryRecipient != "" {
		if _, err := backup.ParseRecipient(s.RecoveryRecipient); err != nil {
			f.Add("recoveryRecipient", "backup.recipient_invalid")
		}
	}
	return f.Err()
}

// isWindowsAbs accepts C:\… and \\server\share paths typed on a Linux box too
// (tests and docs), so the check does not depend on where it runs.
func isWindowsAbs(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') || strings.HasPrefix(p, `\\`)
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// BackupRun is the backup in progress.
type BackupRun struct {
	Kind      string `json:"kind"`
	Phase     string `json:"phase"`
	Percent   int    `json:"percent"`
	StartedAt int64  `json:"startedAt"`
}

// BackupOutcome is how one backup ended.
type BackupOutcome struct {
	At         int64  `json:"at"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	OK         bool   `json:"ok"`
	Error      string `json:"error"`
	Verified   bool   `json:"verified"`
	DurationMs int64  `json:"durationMs"`
	ExtraCopy  string `json:"extraCopy"` // ok, failed, none
	ExtraError string `json:"extraError"`
}

// ExtraDirState is what the status page says about the second folder.
type ExtraDirState struct {
	Path      string `json:"path"`
	OK        bool   `json:"ok"`
	Error     string `json:"error"`
	FreeBytes int64  `json:"freeBytes"`
}

// BackupStatus is the backup page's header.
type BackupStatus struct {
	Settings           BackupSettings `json:"settings"`
	Running            *BackupRun     `json:"running"`
	Last               *BackupOutcome `json:"last"`
	LastSuccessAt      *int64         `json:"lastSuccessAt"`
	NextRunAt          *int64         `json:"nextRunAt"`
	LocalRecipient     string         `json:"localRecipient"`
	RecoveryConfigured bool           `json:"recoveryConfigured"`
	ExtraDir           *ExtraDirState `json:"extraDir"`
	DataFreeBytes      int64          `json:"dataFreeBytes"`
	DataDir            string         `json:"dataDir"`
	Warnings           []string       `json:"warnings"`
}

// BackupFile is one backup on disk.
type BackupFile struct {
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	CreatedAt     int64    `json:"createdAt"`
	Size          int64    `json:"size"`
	SHA256        string   `json:"sha256"`
	SchemaVersion int64    `json:"schemaVersion"`
	AppVersion    string   `json:"appVersion"`
	Verified      bool     `json:"verified"`
	VerifiedAt    *int64   `json:"verifiedAt"`
	Copies        []string `json:"copies"`
	Tables        int      `json:"tables"`
	Rows          int64    `json:"rows"`
}

// backupState is kept in <data>/backups/status.json, outside the database, so it
// survives a restore and can be read when the database cannot.
type backupState struct {
	LastSlot    int64               `json:"lastSlot"` // the scheduled time last attempted (unix ms)
	Since       int64               `json:"since"`    // when the schedule first ran on this data dir
	SlotTries   int                 `json:"slotTries"`
	RetryAt     int64               `json:"retryAt"`
	Last        *BackupOutcome      `json:"last"`
	LastSuccess *BackupOutcome      `json:"lastSuccess"`
	Files       map[string]fileInfo `json:"files"`
}

type fileInfo struct {
	SHA256     string `json:"sha256"`
	VerifiedAt int64  `json:"verifiedAt"`
}

// Restorer swaps a verified, extracted backup in for the live data. The app's
// host implements it (it must stop serving and close the database first); it runs
// in the background and calls done when finished.
type Restorer func(ex *backup.Extracted, info RestoreInfo, done func())

// RestoreInfo says what is being restored and by whom.
type RestoreInfo struct {
	Name string
	By   audit.Who
}

// Backups makes, checks, copies, rotates and restores backups of the data dir.
type Backups struct {
	db      *db.DB
	dataDir string
	clock   clock.Clock
	log     *slog.Logger
	notify  *notify.Service
	version string
	loc     *time.Location

	mu       sync.Mutex // one backup or restore at a time
	ctx      context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup // manual backups running in the background
	running  atomic.Pointer[BackupRun]
	stateMu  sync.Mutex // status.json
	restorer Restorer
}

// NewBackups returns the backup service of the data dir.
func NewBackups(d *db.DB, dataDir string, c clock.Clock, log *slog.Logger, n *notify.Service, version string) *Backups {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Backups{db: d, dataDir: dataDir, clock: c, log: log, notify: n, version: version, loc: loc, ctx: ctx, stop: stop}
}

// Close cancels a backup running in the background and waits for it (its
// temporary files are removed; the next one starts from scratch).
func (b *Backups) Close() {
	b.stop()
	b.wg.Wait()
}

// SetNotify sets the notification service (made after the database is migrated,
// while the pre-upgrade backup runs before).
func (b *Backups) SetNotify(n *notify.Service) { b.notify = n }

// SetRestorer installs the function that swaps a backup in (the serving host).
func (b *Backups) SetRestorer(r Restorer) { b.restorer = r }

// Dir is where backups are written.
func (b *Backups) Dir() string { return BackupDir(b.dataDir) }

// BackupDir is <data>/backups.
func BackupDir(dataDir string) string { return filepath.Join(dataDir, "backups") }

// IdentityPath is the machine's own backup key: <data>/keys/backup-local.agekey.
// It is never put into a backup.
func IdentityPath(dataDir string) string {
	return filepath.Join(dataDir, "keys", "backup-local.agekey")
}

// LocalIdentity loads (creating on first use) the machine's own backup key.
func LocalIdentity(dataDir string) (*age.X25519Identity, error) {
	if err := os.MkdirAll(filepath.Join(dataDir, "keys"), 0o700); err != nil {
		return nil, fmt.Errorf("system: keys dir: %w", err)
	}
	return backup.LoadOrCreateIdentity(IdentityPath(dataDir))
}

// Settings returns the backup settings (defaults when never saved).
func (b *Backups) Settings(ctx context.Context, q db.Querier) (BackupSettings, error) {
	s := DefaultBackupSettings()
	found, ver, err := db.LoadSetting(ctx, q, backupSettingKey, 0, &s)
	if err != nil {
		return s, err
	}
	if found {
		s.Version = ver
	}
	return s, nil
}

// SaveSettings changes the backup settings (optimistic version, audited).
func (b *Backups) SaveSettings(ctx context.Context, a auth.Actor, in BackupSettings) (BackupStatus, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return BackupStatus{}, err
	}
	in.Normalize()
	if err := in.Validate(b.dataDir); err != nil {
		return BackupStatus{}, err
	}
	err := b.db.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, err := b.Settings(ctx, tx)
		if err != nil {
			return err
		}
		if in.Version != cur.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		next := in
		next.Version = 0
		if err := db.SaveSetting(ctx, tx, backupSettingKey, 0, next, a.UserID, b.clock.Now().UnixMilli()); err != nil {
			return err
		}
		cur.Version = 0
		return b.audit(ctx, tx, a, "backup.settings", "setting", backupSettingKey, cur, next)
	})
	if err != nil {
		return BackupStatus{}, err
	}
	return b.Status(ctx, a)
}

// RecoveryKey is a newly generated offline key: shown once, never stored.
type RecoveryKey struct {
	Identity  string `json:"identity"`
	Recipient string `json:"recipient"`
}

// NewRecoveryKey generates an offline recovery key for the owner to keep. Only its
// public half is saved, and only after ConfirmRecoveryKey proves it was kept.
func (b *Backups) NewRecoveryKey(ctx context.Context, a auth.Actor) (RecoveryKey, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return RecoveryKey{}, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return RecoveryKey{}, fmt.Errorf("system: generate recovery key: %w", err)
	}
	return RecoveryKey{Identity: id.String(), Recipient: id.Recipient().String()}, nil
}

// ConfirmRecoveryInput is the recovery key pasted back by the administrator.
type ConfirmRecoveryInput struct {
	Identity string `json:"identity"`
}

// ConfirmRecoveryKey saves the public half of the pasted secret key as the
// recovery recipient of every future backup. The secret itself is not kept.
func (b *Backups) ConfirmRecoveryKey(ctx context.Context, a auth.Actor, in ConfirmRecoveryInput) (BackupStatus, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return BackupStatus{}, err
	}
	ids, err := backup.ParseIdentities(strings.NewReader(in.Identity))
	if err != nil || len(ids) != 1 {
		return BackupStatus{}, apperr.Field("identity", "backup.identity_invalid")
	}
	x, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return BackupStatus{}, apperr.Field("identity", "backup.identity_invalid")
	}
	err = b.db.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, err := b.Settings(ctx, tx)
		if err != nil {
			return err
		}
		before := cur.RecoveryRecipient
		cur.RecoveryRecipient = x.Recipient().String()
		cur.Version = 0
		if err := db.SaveSetting(ctx, tx, backupSettingKey, 0, cur, a.UserID, b.clock.Now().UnixMilli()); err != nil {
			return err
		}
		return b.audit(ctx, tx, a, "backup.recovery_key", "setting", backupSettingKey,
			map[string]string{"recoveryRecipient": before}, map[string]string{"recoveryRecipient": cur.RecoveryRecipient})
	})
	if err != nil {
		return BackupStatus{}, err
	}
	return b.Status(ctx, a)
}

// Status returns the state of backups for the admin page.
func (b *Backups) Status(ctx context.Context, a auth.Actor) (BackupStatus, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return BackupStatus{}, err
	}
	set, err := b.Settings(ctx, b.db.R)
	if err != nil {
		return BackupStatus{}, err
	}
	st := b.loadState()
	out := BackupStatus{Settings: set, Running: b.running.Load(), Last: st.Last, DataDir: b.dataDir, Warnings: []string{}}
	if st.LastSuccess != nil {
		t := st.LastSuccess.At
		out.LastSuccessAt = &t
	}
	if id, err := LocalIdentity(b.dataDir); err == nil {
		out.LocalRecipient = id.Recipient().String()
	}
	out.RecoveryConfigured = set.RecoveryRecipient != ""
	now := b.clock.Now()
	if set.Enabled {
		n := b.nextRun(set, st, now).UnixMilli()
		out.NextRunAt = &n
	}
	out.DataFreeBytes = freeBytes(b.dataDir)
	if set.ExtraDir != "" {
		es := &ExtraDirState{Path: set.ExtraDir}
		if err := checkWritableDir(set.ExtraDir); err != nil {
			es.Error = err.Error()
			out.Warnings = append(out.Warnings, "backup.warn.extra_missing")
		} else {
			es.OK = true
			es.FreeBytes = freeBytes(set.ExtraDir)
		}
		out.ExtraDir = es
	}
	if st.LastSuccess == nil || staleAge(now.Sub(time.UnixMilli(st.LastSuccess.At))) {
		out.Warnings = append(out.Warnings, "backup.warn.no_recent")
	}
	if st.Last != nil && !st.Last.OK {
		out.Warnings = append(out.Warnings, "backup.warn.last_failed")
	}
	if !out.RecoveryConfigured {
		out.Warnings = append(out.Warnings, "backup.warn.no_recovery_key")
	}
	if !set.Enabled {
		out.Warnings = append(out.Warnings, "backup.warn.disabled")
	}
	return out, nil
}

// staleAge: over 26 hours, or in the future (the clock was wrong when it was made).
func staleAge(age time.Duration) bool { return age > 26*time.Hour || age < -time.Hour }

// slot returns the most recent scheduled time at or before now.
func (b *Backups) slot(set BackupSettings, now time.Time) time.Time {
	h, _ := strconv.Atoi(set.Time[:2])
	m, _ := strconv.Atoi(set.Time[3:])
	l := now.In(b.loc)
	s := time.Date(l.Year(), l.Month(), l.Day(), h, m, 0, 0, b.loc)
	if s.After(l) {
		s = s.AddDate(0, 0, -1)
	}
	return s
}

func (b *Backups) nextRun(set BackupSettings, st backupState, now time.Time) time.Time {
	s := b.slot(set, now)
	if st.LastSlot != 0 && st.LastSlot < s.UnixMilli() {
		return now // due (catch-up)
	}
	if st.RetryAt > 0 {
		return time.UnixMilli(st.RetryAt)
	}
	return s.AddDate(0, 0, 1)
}

// Jobs is the backup scheduler: a check every minute whether a backup is due.
// Checking a recorded slot rather than trusting a timer means a restart, a PC
// that was off at night (one catch-up backup) or a clock set back (no second
// backup for the same night) all come out right.
func (b *Backups) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "backup.schedule", Every: time.Minute, Run: func(ctx context.Context) error {
		_, err := b.RunDue(ctx)
		return err
	}}}
}

// RunDue runs the scheduled backup when it is due and reports whether it ran.
func (b *Backups) RunDue(ctx context.Context) (bool, error) {
	set, err := b.Settings(ctx, b.db.R)
	if err != nil || !set.Enabled {
		return false, err
	}
	now := b.clock.Now()
	slot := b.slot(set, now).UnixMilli()
	st := b.loadState()
	b.checkStale(ctx, st, now)
	switch {
	case st.LastSlot == 0:
		// A new install: the first backup is at the next scheduled time (the
		// status page shows it), not in the first minute of an empty database.
		return false, b.saveState(func(s *backupState) { s.LastSlot, s.Since = slot, now.UnixMilli() })
	case st.LastSlot > slot+24*3_600_000:
		// The last slot is more than a day ahead of the clock: the clock was wrong
		// (a wrong year in the BIOS) and has been corrected. Start again from now
		// rather than wait for the wrong date to come round; a small correction
		// (NTP setting a fast clock back) stays within the day and runs nothing twice.
		st.LastSlot, st.SlotTries, st.RetryAt = slot, 0, 0
	case st.LastSlot < slot:
		st.LastSlot, st.SlotTries, st.RetryAt = slot, 0, 0
	case st.RetryAt > 0 && now.UnixMilli() >= st.RetryAt && st.SlotTries < 3:
		st.RetryAt = 0
	default:
		return false, nil
	}
	st.SlotTries++
	if err := b.saveState(func(s *backupState) { s.LastSlot, s.SlotTries, s.RetryAt = st.LastSlot, st.SlotTries, 0 }); err != nil {
		return false, err
	}
	_, runErr := b.Run(ctx, KindScheduled)
	if runErr != nil {
		tries := st.SlotTries
		_ = b.saveState(func(s *backupState) {
			if tries < 3 {
				s.RetryAt = b.clock.Now().Add(time.Hour).UnixMilli()
			}
		})
	}
	return true, runErr
}

// checkStale alerts the administrators, once a day, when scheduled backups have
// been running for over 26 hours without one succeeding (a failing disk, a
// full one, a recovery key edited into nonsense).
func (b *Backups) checkStale(ctx context.Context, st backupState, now time.Time) {
	ref := st.Since // a new install has had no chance yet
	if st.LastSuccess != nil && st.LastSuccess.At > ref {
		ref = st.LastSuccess.At
	}
	if ref == 0 || now.Sub(time.UnixMilli(ref)) < 26*time.Hour {
		return
	}
	b.alert(ctx, "notify.msg.backup_stale", map[string]any{})
}

var errBusy = apperr.New(apperr.Conflict, "backup.busy")

// Start runs a manual backup in the background (the "back up now" button).
func (b *Backups) Start(ctx context.Context, a auth.Actor) (BackupRun, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return BackupRun{}, err
	}
	if !b.mu.TryLock() {
		return BackupRun{}, errBusy
	}
	run := &BackupRun{Kind: KindManual, Phase: "snapshot", StartedAt: b.clock.Now().UnixMilli()}
	b.running.Store(run)
	if err := b.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return b.audit(ctx, tx, a, "backup.run", "backup", KindManual, nil, nil)
	}); err != nil {
		b.running.Store(nil)
		b.mu.Unlock()
		return BackupRun{}, err
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer b.mu.Unlock()
		if _, err := b.run(b.ctx, KindManual); err != nil {
			b.log.Error("manual backup failed", "err", err)
		}
	}()
	return *run, nil
}

// Run makes a backup of the given kind now and waits for it: snapshot, checks,
// encryption to this machine's key and the recovery key, a test restore, the copy
// to the extra folder and rotation. A backup that fails its test restore is
// deleted: it never counts as good.
func (b *Backups) Run(ctx context.Context, kind string) (BackupOutcome, error) {
	if !b.mu.TryLock() {
		return BackupOutcome{}, errBusy
	}
	defer b.mu.Unlock()
	return b.run(ctx, kind)
}

func (b *Backups) run(ctx context.Context, kind string) (BackupOutcome, error) {
	start := b.clock.Now()
	wall := time.Now()
	run := &BackupRun{Kind: kind, Phase: "snapshot", StartedAt: start.UnixMilli()}
	b.running.Store(run)
	defer b.running.Store(nil)
	setPhase := func(phase string, pct int) {
		r := *b.running.Load()
		r.Phase, r.Percent = phase, pct
		b.running.Store(&r)
	}
	out := BackupOutcome{At: start.UnixMilli(), Kind: kind, ExtraCopy: "none"}
	res, err := b.make(ctx, kind, setPhase)
	if err == nil {
		out.Name, out.Size, out.Verified = filepath.Base(res.Path), res.Size, true
		_ = b.saveState(func(s *backupState) {
			if s.Files == nil {
				s.Files = map[string]fileInfo{}
			}
			s.Files[out.Name] = fileInfo{SHA256: res.SHA256, VerifiedAt: b.clock.Now().UnixMilli()}
		})
		setPhase("copy", 92)
		set, serr := b.Settings(ctx, b.db.R)
		if serr == nil && set.ExtraDir != "" {
			if cerr := copyBackup(res.Path, set.ExtraDir, res.SHA256); cerr != nil {
				out.ExtraCopy, out.ExtraError = "failed", cerr.Error()
				b.log.Warn("backup copy to the extra folder failed", "dir", set.ExtraDir, "err", cerr)
			} else {
				out.ExtraCopy = "ok"
			}
		}
		setPhase("rotate", 97)
		if serr == nil {
			b.rotate(set)
		}
	}
	out.DurationMs = time.Since(wall).Milliseconds()
	if err != nil {
		out.Error = err.Error()
	} else {
		out.OK = true
	}
	_ = b.saveState(func(s *backupState) {
		o := out
		s.Last = &o
		if out.OK {
			s.LastSuccess = &o
		}
	})
	if err != nil {
		b.log.Error("backup failed", "kind", kind, "err", err)
		if kind != KindPreUpgrade {
			b.alert(ctx, "notify.msg.backup_failed", map[string]any{"error": truncate(out.Error, 300)})
		}
		return out, err
	}
	if out.ExtraCopy == "failed" {
		b.alert(ctx, "notify.msg.backup_copy_failed", map[string]any{"dir": filepath.Base(out.Name), "error": truncate(out.ExtraError, 300)})
	}
	b.log.Info("backup done", "kind", kind, "file", out.Name, "bytes", out.Size, "ms", out.DurationMs)
	return out, nil
}

// make writes and test-restores one backup.
func (b *Backups) make(ctx context.Context, kind string, phase func(string, int)) (backup.Result, error) {
	set, err := b.Settings(ctx, b.db.R)
	if err != nil && kind != KindPreUpgrade {
		return backup.Result{}, err
	}
	if err != nil {
		set = DefaultBackupSettings()
	}
	local, err := LocalIdentity(b.dataDir)
	if err != nil {
		return backup.Result{}, err
	}
	recips := []age.Recipient{local.Recipient()}
	if set.RecoveryRecipient != "" {
		r, err := backup.ParseRecipient(set.RecoveryRecipient)
		if err != nil {
			return backup.Result{}, fmt.Errorf("recovery key in the settings: %w", err)
		}
		recips = append(recips, r)
	}
	if err := os.MkdirAll(b.Dir(), 0o700); err != nil {
		return backup.Result{}, fmt.Errorf("backups dir: %w", err)
	}
	weights := map[string][2]int{"snapshot": {0, 30}, "check": {30, 15}, "archive": {45, 15}, "encrypt": {60, 15}}
	opt := backup.Options{
		DBPath: b.db.Path, Dirs: b.dirs(), ScratchDir: b.Dir(), AppVersion: b.version, Kind: kind,
		Compression: set.Compression, Recipients: recips, Now: b.clock.Now,
		Progress: func(p string, done, total int64) {
			w, ok := weights[p]
			if !ok {
				return
			}
			pct := w[0]
			if total > 0 {
				pct += int(int64(w[1]) * done / total)
			}
			phase(p, pct)
		},
	}
	res, err := backup.WriteFile(ctx, opt, b.Dir())
	if err != nil {
		return res, err
	}
	phase("verify", 75)
	m, err := backup.Verify(ctx, res.Path, []age.Identity{local}, b.Dir())
	if err == nil && (m.SchemaVersion != res.Manifest.SchemaVersion || len(m.Tables) != len(res.Manifest.Tables)) {
		err = fmt.Errorf("test restore read a different manifest")
	}
	if err != nil {
		os.Remove(res.Path)
		os.Remove(res.Path + ".json")
		return res, fmt.Errorf("the new backup failed its test restore and was deleted: %w", err)
	}
	return res, nil
}

// dirs are the data-dir folders a backup carries besides the database: uploaded
// files. The search index is rebuilt from the database instead; keys never leave.
func (b *Backups) dirs() map[string]string {
	out := map[string]string{}
	if fi, err := os.Stat(filepath.Join(b.dataDir, "files")); err == nil && fi.IsDir() {
		out["files"] = filepath.Join(b.dataDir, "files")
	}
	return out
}

// RestoreDirs are the data-dir folders a restore replaces.
var RestoreDirs = []string{"files"}

// rotate applies the retention policy. Only backups this installation made and
// test-restored take part: one that was never verified (the machine died between
// writing and checking it) neither counts as a day's keeper nor is deleted, and
// another installation's backups in a shared extra folder are left alone.
func (b *Backups) rotate(set BackupSettings) {
	p := backup.Policy{Daily: set.KeepDaily, Weekly: set.KeepWeekly, Monthly: set.KeepMonthly, Special: set.KeepSpecial}
	st := b.loadState()
	for _, dir := range []string{b.Dir(), set.ExtraDir} {
		if dir == "" {
			continue
		}
		var entries []backup.Entry
		for _, e := range listEntries(dir) {
			if st.Files[e.Name].VerifiedAt > 0 {
				entries = append(entries, e)
			}
		}
		_, remove := backup.Plan(entries, b.clock.Now(), p, b.loc)
		for _, e := range remove {
			if err := os.Remove(filepath.Join(dir, e.Name)); err != nil && !os.IsNotExist(err) {
				b.log.Warn("rotate backup", "file", e.Name, "err", err)
				continue
			}
			os.Remove(filepath.Join(dir, e.Name+".json"))
			b.log.Info("old backup removed by rotation", "file", e.Name)
		}
	}
	// Forget the files that are gone from both folders.
	_ = b.saveState(func(s *backupState) {
		for name := range s.Files {
			_, err1 := os.Stat(filepath.Join(b.Dir(), name))
			gone := os.IsNotExist(err1)
			if gone && set.ExtraDir != "" {
				_, err2 := os.Stat(filepath.Join(set.ExtraDir, name))
				gone = os.IsNotExist(err2)
			}
			if gone {
				delete(s.Files, name)
			}
		}
	})
}

func listEntries(dir string) []backup.Entry {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []backup.Entry
	for _, de := range des {
		if de.IsDir() {
			continue
		}
		if e, ok := backup.ParseFileName(de.Name()); ok {
			out = append(out, e)
		}
	}
	return out
}

// List returns the backups in the backups dir, newest first.
func (b *Backups) List(ctx context.Context, a auth.Actor) ([]BackupFile, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return nil, err
	}
	set, _ := b.Settings(ctx, b.db.R)
	st := b.loadState()
	out := []BackupFile{}
	for _, e := range listEntries(b.Dir()) {
		fi, err := os.Stat(filepath.Join(b.Dir(), e.Name))
		if err != nil {
			continue
		}
		f := BackupFile{Name: e.Name, Kind: e.Kind, CreatedAt: e.CreatedAt.UnixMilli(), Size: fi.Size(), Copies: []string{"local"}}
		if m, err := readSidecar(filepath.Join(b.Dir(), e.Name+".json")); err == nil {
			f.SchemaVersion, f.AppVersion, f.Tables = m.SchemaVersion, m.AppVersion, len(m.Tables)
			for _, n := range m.Tables {
				f.Rows += n
			}
		}
		if info, ok := st.Files[e.Name]; ok {
			f.SHA256 = info.SHA256
			if info.VerifiedAt > 0 {
				v := info.VerifiedAt
				f.Verified, f.VerifiedAt = true, &v
			}
		}
		if set.ExtraDir != "" {
			if _, err := os.Stat(filepath.Join(set.ExtraDir, e.Name)); err == nil {
				f.Copies = append(f.Copies, "extra")
			}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt > out[j].CreatedAt })
	return out, nil
}

func readSidecar(path string) (backup.Manifest, error) {
	var m backup.Manifest
	raw, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(raw, &m)
}

// Path checks a backup name from a request and returns its file; the name must
// be one of ours, so no path can escape the backups dir.
func (b *Backups) Path(name string) (string, error) {
	if _, ok := backup.ParseFileName(name); !ok || filepath.Base(name) != name {
		return "", apperr.New(apperr.NotFound, "not_found")
	}
	p := filepath.Join(b.Dir(), name)
	if _, err := os.Stat(p); err != nil {
		return "", apperr.New(apperr.NotFound, "not_found")
	}
	return p, nil
}

// Download returns the backup's file for the browser, after auditing it: a
// backup is a copy of every record.
func (b *Backups) Download(ctx context.Context, a auth.Actor, name string) (string, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return "", err
	}
	p, err := b.Path(name)
	if err != nil {
		return "", err
	}
	err = b.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return b.audit(ctx, tx, a, "backup.download", "backup", name, nil, nil)
	})
	return p, err
}

// VerifyResult is the outcome of a test restore.
type VerifyResult struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error"`
	ErrorCode string `json:"errorCode"`
}

// VerifyFile test-restores a backup with this machine's key.
func (b *Backups) VerifyFile(ctx context.Context, a auth.Actor, name string) (VerifyResult, error) {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return VerifyResult{}, err
	}
	p, err := b.Path(name)
	if err != nil {
		return VerifyResult{}, err
	}
	local, err := LocalIdentity(b.dataDir)
	if err != nil {
		return VerifyResult{}, err
	}
	if _, err := backup.Verify(ctx, p, []age.Identity{local}, b.Dir()); err != nil {
		return VerifyResult{Error: err.Error(), ErrorCode: apperr.As(BackupError(err)).Code}, nil
	}
	_ = b.saveState(func(s *backupState) {
		if s.Files == nil {
			s.Files = map[string]fileInfo{}
		}
		fi := s.Files[name]
		fi.VerifiedAt = b.clock.Now().UnixMilli()
		s.Files[name] = fi
	})
	return VerifyResult{OK: true}, nil
}

// BackupError classifies the backup package's refusals as API errors whose codes
// are the messages the UI shows.
func BackupError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, backup.ErrWrongKey):
		return apperr.Wrap(apperr.Invalid, "backup.wrong_key", err)
	case errors.Is(err, backup.ErrNotBackup):
		return apperr.Wrap(apperr.Invalid, "backup.not_backup", err)
	case errors.Is(err, backup.ErrCorrupt):
		return apperr.Wrap(apperr.Invalid, "backup.corrupt", err)
	case errors.Is(err, backup.ErrCheckFailed):
		return apperr.Wrap(apperr.Invalid, "backup.check_failed", err)
	case errors.Is(err, db.ErrNewerSchema):
		return apperr.Wrap(apperr.Invalid, "backup.newer_schema", err)
	}
	return err
}

// RestoreKey says how to open a backup: a pasted identity, a passphrase, or
// (both empty) this machine's own key.
type RestoreKey struct {
	Identity   string `json:"identity"`
	Passphrase string `json:"passphrase"`
}

// Identities returns the age identities for the key.
func (k RestoreKey) Identities(dataDir string) ([]age.Identity, error) {
	switch {
	case strings.TrimSpace(k.Identity) != "":
		ids, err := backup.ParseIdentities(strings.NewReader(k.Identity))
		if err != nil || len(ids) == 0 {
			return nil, apperr.Field("identity", "backup.identity_invalid")
		}
		return ids, nil
	case k.Passphrase != "":
		id, err := backup.PassphraseIdentity(k.Passphrase)
		if err != nil {
			return nil, apperr.Field("passphrase", "backup.wrong_key")
		}
		return []age.Identity{id}, nil
	}
	id, err := LocalIdentity(dataDir)
	if err != nil {
		return nil, err
	}
	return []age.Identity{id}, nil
}

// OpenBackup decrypts, unpacks and checks a backup into a scratch dir inside the
// data dir (so the swap is a rename) and refuses one from a newer schema. Nothing
// live is touched.
func OpenBackup(ctx context.Context, r io.Reader, ids []age.Identity, dataDir string) (*backup.Extracted, error) {
	ex, err := backup.Open(ctx, r, ids, dataDir)
	if err != nil {
		return nil, BackupError(err)
	}
	if latest := db.LatestVersion(); ex.Manifest.SchemaVersion > latest {
		ex.Remove()
		e := apperr.Wrap(apperr.Invalid, "backup.newer_schema",
			fmt.Errorf("%w: the backup has schema version %d, this DealerDesk knows up to %d; install the newer version first", db.ErrNewerSchema, ex.Manifest.SchemaVersion, latest))
		e.Details = map[string]any{"backup": ex.Manifest.SchemaVersion, "current": latest}
		return nil, e
	}
	return ex, nil
}

// RestoreInput is a restore request for a backup in the list.
type RestoreInput struct {
	Name string `json:"name"`
	RestoreKey
}

// Restore checks the backup (in the list, or uploaded when r is not nil) and hands
// it to the host, which stops serving, swaps it in and starts again. Every refusal
// (wrong key, damaged file, newer schema) comes back here, before anything live is
// touched.
func (b *Backups) Restore(ctx context.Context, a auth.Actor, in RestoreInput, upload io.Reader) error {
	if err := auth.Require(a, auth.PermBackup); err != nil {
		return err
	}
	if b.restorer == nil {
		return apperr.New(apperr.Conflict, "backup.restore_unavailable")
	}
	ids, err := in.Identities(b.dataDir)
	if err != nil {
		return err
	}
	name := in.Name
	var r io.Reader = upload
	if upload == nil {
		p, err := b.Path(in.Name)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	if !b.mu.TryLock() {
		return errBusy
	}
	ex, err := OpenBackup(ctx, r, ids, b.dataDir)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if name == "" {
		name = "upload:" + ex.Manifest.CreatedAt.UTC().Format(time.RFC3339)
	}
	if err := b.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return b.audit(ctx, tx, a, "backup.restore", "backup", name, nil, map[string]any{
			"createdAt": ex.Manifest.CreatedAt, "schemaVersion": ex.Manifest.SchemaVersion, "appVersion": ex.Manifest.AppVersion})
	}); err != nil {
		ex.Remove()
		b.mu.Unlock()
		return err
	}
	b.restorer(ex, RestoreInfo{Name: name, By: a.Who()}, b.mu.Unlock)
	return nil
}

// alert tells every active user who may run backups, in-app and on the channels
// subscribed to the kind. A failure to alert is logged, never raised.
func (b *Backups) alert(ctx context.Context, titleKey string, params map[string]any) {
	if b.notify == nil {
		return
	}
	kind := "backup.failed"
	err := b.db.WriteTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT u.id FROM app_user u JOIN role_permission rp ON rp.role_id = u.role_id
			WHERE rp.permission = ? AND u.status = 'active'`, auth.PermBackup)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Failures alert at most hourly; "no good backup for a day" once a day.
		dedup := titleKey + ":" + b.clock.Now().In(b.loc).Format("2006-01-02")
		if titleKey != "notify.msg.backup_stale" {
			dedup += ":" + strconv.FormatInt(b.clock.Now().UnixMilli()/3_600_000, 10)
		}
		var msgs []notify.Message
		for _, id := range ids {
			msgs = append(msgs, notify.Message{UserID: id, Kind: kind, TitleKey: titleKey, Params: params,
				Link: "/system/backup", Entity: "backup", Level: notify.LevelUrgent, DedupKey: dedup})
		}
		if len(msgs) == 0 {
			return nil
		}
		_, err = b.notify.Send(ctx, tx, msgs...)
		return err
	})
	if err != nil {
		b.log.Warn("backup alert not sent", "err", err)
		return
	}
	b.notify.Wake()
}

func (b *Backups) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity, id string, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: b.clock.Now().UnixMilli(), Action: action, Entity: entity,
		EntityID: id, Before: before, After: after})
}

func (b *Backups) statePath() string { return filepath.Join(b.Dir(), "status.json") }

func (b *Backups) loadState() backupState {
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	return readState(b.statePath())
}

func readState(path string) backupState {
	var st backupState
	raw, err := os.ReadFile(path)
	if err == nil {
		_ = json.Unmarshal(raw, &st)
	}
	return st
}

func (b *Backups) saveState(change func(*backupState)) error {
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	st := readState(b.statePath())
	change(&st)
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(b.Dir(), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(b.statePath(), raw)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r) + "…"
}
