package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"golang.org/x/term"

	"dealerdesk/app"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/config"
	"dealerdesk/app/db"
	"dealerdesk/app/system"
	"dealerdesk/backup"
)

// backupCmd writes a backup from the console. It only reads the database (the
// snapshot is VACUUM INTO on its own connection), so it is safe while the server
// runs. Without --out, --recipient or --passphrase-file it makes the same backup
// as the nightly one: into <data>/backups, to this machine's key and the recovery
// key, test-restored, copied to the extra folder, rotated.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := config.Defaults()
	fs := newFlags("backup", stderr, &cfg, false)
	out := fs.String("out", "", "write the backup to this file instead of <data>/backups")
	var recipients []string
	fs.Func("recipient", "encrypt to this age public key (age1…); repeat for several (for unattended backups)", func(v string) error {
		recipients = append(recipients, v)
		return nil
	})
	passFile := fs.String("passphrase-file", "", "encrypt with the passphrase in this file (first line) instead of keys")
	comp := fs.String("compression", "", "gzip or zstd (default: the backup setting, gzip)")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return fmt.Errorf("no database in %s (choose the data dir with --data)", cfg.DataDir)
	}
	d, err := db.Open(ctx, cfg.DBPath(), db.Options{Readers: 1})
	if err != nil {
		return err
	}
	defer fixOwner(cfg.DataDir)
	defer d.Close()
	log := logger(cfg.LogLevel, stderr)
	b := system.NewBackups(d, cfg.DataDir, clock.System{}, log, nil, app.Version)
	set, err := b.Settings(ctx, d.R)
	if err != nil {
		return err
	}
	if *comp != "" {
		set.Compression = *comp
	}
	if set.Compression != "gzip" && set.Compression != "zstd" {
		return fmt.Errorf("--compression must be gzip or zstd")
	}
	start := time.Now()
	if *out == "" && len(recipients) == 0 && *passFile == "" {
		res, err := b.Run(ctx, system.KindCLI)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup written and test-restored: %s (%s, %.1fs)\n", filepath.Join(b.Dir(), res.Name), humanBytes(res.Size), time.Since(start).Seconds())
		if res.ExtraCopy == "ok" {
			fmt.Fprintf(stdout, "copied to %s\n", set.ExtraDir)
		} else if res.ExtraCopy == "failed" {
			fmt.Fprintf(stdout, "WARNING: the copy to %s failed: %s\n", set.ExtraDir, res.ExtraError)
		}
		return nil
	}
	var recips []age.Recipient
	var ids []age.Identity
	switch {
	case *passFile != "" && len(recipients) > 0:
		return errors.New("give either --recipient or --passphrase-file, not both (an age passphrase cannot be combined with keys)")
	case *passFile != "":
		pass, err := readPassphraseFile(*passFile)
		if err != nil {
			return err
		}
		r, err := backup.PassphraseRecipient(pass)
		if err != nil {
			return err
		}
		id, err := backup.PassphraseIdentity(pass)
		if err != nil {
			return err
		}
		recips, ids = []age.Recipient{r}, []age.Identity{id}
	case len(recipients) > 0:
		for _, s := range recipients {
			r, err := backup.ParseRecipient(s)
			if err != nil {
				return fmt.Errorf("--recipient %q: %w", s, err)
			}
			recips = append(recips, r)
		}
		// This machine's key opens the backup only if it is one of the recipients.
		if local, err := system.LocalIdentity(cfg.DataDir); err == nil {
			for _, s := range recipients {
				if strings.TrimSpace(s) == local.Recipient().String() {
					ids = []age.Identity{local}
				}
			}
		}
	default:
		local, err := system.LocalIdentity(cfg.DataDir)
		if err != nil {
			return err
		}
		recips, ids = []age.Recipient{local.Recipient()}, []age.Identity{local}
		if set.RecoveryRecipient != "" {
			r, err := backup.ParseRecipient(set.RecoveryRecipient)
			if err != nil {
				return err
			}
			recips = append(recips, r)
		}
	}
	dir := b.Dir()
	if *out != "" {
		abs, err := filepath.Abs(*out)
		if err != nil {
			return err
		}
		*out = abs
		dir = filepath.Dir(abs)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// The plaintext snapshot and the test restore stay in the data dir's backups
	// folder, never next to --out (a USB stick or a share): only the encrypted
	// file goes there.
	scratch := b.Dir()
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return err
	}
	opt := backup.Options{DBPath: cfg.DBPath(), Dirs: dataDirs(cfg.DataDir), ScratchDir: scratch, AppVersion: app.Version,
		Kind: system.KindCLI, Compression: set.Compression, Recipients: recips}
	res, err := backup.WriteFile(ctx, opt, dir)
	if err != nil {
		return err
	}
	path := res.Path
	if *out != "" && *out != res.Path {
		if err := os.Rename(res.Path, *out); err != nil {
			return err
		}
		os.Rename(res.Path+".json", *out+".json")
		path = *out
	}
	rows := int64(0)
	for _, n := range res.Manifest.Tables {
		rows += n
	}
	fmt.Fprintf(stdout, "backup written: %s (%s, %d tables, %d rows, schema %d, %.1fs)\n", path, humanBytes(res.Size), len(res.Manifest.Tables), rows, res.Manifest.SchemaVersion, time.Since(start).Seconds())
	if len(ids) == 0 {
		fmt.Fprintln(stdout, "not test-restored: this machine holds no key for the recipients given (the snapshot itself was checked before encryption)")
		return nil
	}
	if _, err := backup.Verify(ctx, path, ids, scratch); err != nil {
		return fmt.Errorf("the backup was written but its test restore failed: %w", err)
	}
	fmt.Fprintln(stdout, "test restore: ok (integrity, tables and row counts match the manifest)")
	return nil
}

// dataDirs are the folders a backup carries besides the database.
func dataDirs(dataDir string) map[string]string {
	out := map[string]string{}
	for _, d := range system.RestoreDirs {
		if fi, err := os.Stat(filepath.Join(dataDir, d)); err == nil && fi.IsDir() {
			out[d] = filepath.Join(dataDir, d)
		}
	}
	return out
}

// restoreCmd checks a backup and swaps it in for the data dir's data. The server
// must be stopped (the data dir's lock says so). The current data is moved aside,
// an older backup is migrated forward, every session is ended and the search
// index is rebuilt.
func restoreCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := config.Defaults()
	fs := newFlags("restore", stderr, &cfg, false)
	identity := fs.String("identity", "", "age identity file (the recovery key, or keys/backup-local.agekey of the old machine)")
	passFile := fs.String("passphrase-file", "", "file whose first line is the backup's passphrase")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) > 1 { // flags after the file name
		if err := parse(fs, &cfg, rest[1:]); err != nil {
			return err
		}
		rest = append(rest[:1], fs.Args()...)
	}
	if len(rest) != 1 {
		return errors.New("usage: dealerdesk restore [--data DIR] [--identity KEYFILE | --passphrase-file F] FILE")
	}
	file := rest[0]
	if err := cfg.EnsureDataDir(); err != nil {
		return err
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("%w; a restore needs the server stopped", err)
	}
	defer unlock()
	defer fixOwner(cfg.DataDir)
	ids, err := restoreIdentities(file, *identity, *passFile, cfg.DataDir, stdin, stdout)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	fmt.Fprintf(stdout, "checking %s …\n", file)
	ex, err := system.OpenBackup(ctx, f, ids, cfg.DataDir)
	if err != nil {
		return restoreRefusal(err)
	}
	defer ex.Remove()
	m := ex.Manifest
	rows := int64(0)
	for _, n := range m.Tables {
		rows += n
	}
	fmt.Fprintf(stdout, "backup of %s (DealerDesk %s, schema %d, %d tables, %d rows): checks passed\n",
		m.CreatedAt.Local().Format("2006-01-02 15:04:05"), m.AppVersion, m.SchemaVersion, len(m.Tables), rows)
	aside, err := system.ApplyRestore(ctx, cfg.DataDir, ex, time.Now())
	if err != nil {
		return restoreRefusal(err)
	}
	res := system.RestoreResult{At: time.Now().UnixMilli(), Name: filepath.Base(file), SchemaFrom: m.SchemaVersion, AsideDir: aside, By: "console"}
	log := logger(cfg.LogLevel, stderr)
	a, err := app.New(ctx, cfg, app.Options{Log: log, NoPreUpgradeBackup: true})
	if err == nil {
		res.SchemaTo, err = a.DB.SchemaVersion(ctx)
		if err == nil {
			err = system.FinishRestore(ctx, a.DB, auth.System("console").Who(), time.Now().UnixMilli(), res)
		}
		if err != nil {
			a.Close()
		}
	}
	if err != nil {
		if rerr := system.RollbackRestore(cfg.DataDir, aside); rerr != nil {
			return fmt.Errorf("the restored data could not be opened (%v), and putting the previous data back failed: %w; it is in %s", err, rerr, aside)
		}
		return fmt.Errorf("the restored data could not be opened, so the previous data was put back: %w", err)
	}
	defer a.Close()
	fmt.Fprintln(stdout, "rebuilding the search index …")
	if err := a.Reindex(ctx); err != nil {
		fmt.Fprintf(stdout, "WARNING: search index rebuild failed (%v); it is rebuilt at the next start\n", err)
	}
	res.OK = true
	res.DurationMs = time.Since(start).Milliseconds()
	system.PruneAside(cfg.DataDir, 3, aside)
	if err := system.WriteRestoreResult(cfg.DataDir, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored in %.1fs; schema %d → %d; every session was ended.\nThe previous data is kept in %s\n",
		time.Since(start).Seconds(), res.SchemaFrom, res.SchemaTo, aside)
	return nil
}

// restoreRefusal words a refused restore for the console.
func restoreRefusal(err error) error {
	switch {
	case errors.Is(err, backup.ErrWrongKey):
		return fmt.Errorf("refused: the key does not open this backup (wrong passphrase or identity); nothing was changed: %w", err)
	case errors.Is(err, backup.ErrCorrupt):
		return fmt.Errorf("refused: the backup file is damaged or incomplete (truncated or changed); nothing was changed: %w", err)
	case errors.Is(err, backup.ErrNotBackup):
		return fmt.Errorf("refused: this is not a DealerDesk backup; nothing was changed: %w", err)
	case errors.Is(err, backup.ErrCheckFailed):
		return fmt.Errorf("refused: the backup's data does not match its manifest; nothing was changed: %w", err)
	case errors.Is(err, db.ErrNewerSchema):
		return fmt.Errorf("refused: %w; nothing was changed", err)
	}
	return err
}

// restoreIdentities picks the key: --identity, --passphrase-file, a passphrase
// typed at the terminal for a passphrase-protected file, or this machine's key.
func restoreIdentities(file, identity, passFile, dataDir string, stdin io.Reader, stdout io.Writer) ([]age.Identity, error) {
	switch {
	case identity != "" && passFile != "":
		return nil, errors.New("give either --identity or --passphrase-file, not both")
	case identity != "":
		f, err := os.Open(identity)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		ids, err := backup.ParseIdentities(f)
		if err != nil {
			return nil, fmt.Errorf("--identity %s: %w", identity, err)
		}
		return ids, nil
	case passFile != "":
		pass, err := readPassphraseFile(passFile)
		if err != nil {
			return nil, err
		}
		id, err := backup.PassphraseIdentity(pass)
		if err != nil {
			return nil, err
		}
		return []age.Identity{id}, nil
	}
	if scrypt, err := passphraseProtected(file); err != nil {
		return nil, err
	} else if scrypt {
		in, ok := stdin.(*os.File)
		if !ok || !term.IsTerminal(int(in.Fd())) {
			return nil, errors.New("this backup is protected by a passphrase: give --passphrase-file, or run the command in a terminal to type it")
		}
		fmt.Fprint(stdout, "Passphrase of the backup: ")
		pw, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return nil, err
		}
		id, err := backup.PassphraseIdentity(string(pw))
		if err != nil {
			return nil, err
		}
		return []age.Identity{id}, nil
	}
	if _, err := os.Stat(system.IdentityPath(dataDir)); err != nil {
		return nil, fmt.Errorf("no key given and this data dir has no backup key (%s): give --identity with the recovery key", system.IdentityPath(dataDir))
	}
	id, err := system.LocalIdentity(dataDir)
	if err != nil {
		return nil, err
	}
	return []age.Identity{id}, nil
}

// passphraseProtected reports whether an age file's header has a scrypt
// (passphrase) stanza.
func passphraseProtected(file string) (bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	return bytes.Contains(head[:n], []byte("\n-> scrypt ")), nil
}

func readPassphraseFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("the passphrase file %s is empty", path)
	}
	return line, nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
