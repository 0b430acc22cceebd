// Package cli is the command line of the dealerdesk binary: serve (the default),
// demo, admin, migrate, audit, config and version.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"dealerdesk/app"
	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/config"
	"dealerdesk/app/db"
	"dealerdesk/app/demo"
	"dealerdesk/app/httpapi"
	"dealerdesk/app/org"
	"dealerdesk/app/system"
)

const usage = `DealerDesk — dealership management system (one binary, data stays on this machine)

Usage:
  dealerdesk [serve] [flags]          run the server (default command)
  dealerdesk demo [--scale demo|store|group] [flags]
                                      fill an empty data dir with a demo dealership group and exit
  dealerdesk admin create-user --username U --name N --role ROLE --store CODE [--phone P]
  dealerdesk admin reset-password --username U
                                      set a user's password from the console (read from stdin)
  dealerdesk admin unlock --username U
  dealerdesk migrate [status|up]      show or apply database schema versions
  dealerdesk audit verify             check the audit log's hash chain
  dealerdesk backup [--out FILE] [--recipient age1…]… [--passphrase-file F] [--compression gzip|zstd]
                                      write an encrypted, verified backup (default: into <data>/backups, to this
                                      machine's key and the recovery key); safe while the server runs
  dealerdesk restore [--identity KEYFILE | --passphrase-file F] FILE
                                      check a backup and swap it in for the data (server stopped); the current
                                      data is kept in <data>/backups/pre-restore-<time>/
  dealerdesk reindex                  rebuild the global search index from the database (service stopped)
  dealerdesk service install|uninstall|start|stop|restart|status [flags]
                                      run as a Windows service or systemd unit (see dealerdesk service --help)
  dealerdesk config dump              print the effective configuration
  dealerdesk version                  print the version

Common flags (also as environment variables DEALERDESK_<NAME>, or lines in --config FILE):
  --data DIR        data directory (default ./data; a service should use an absolute path)
  --log-level L     debug, info, warn, error (default info)
  --config FILE     optional config file, one "name value" per line

serve flags:
  --addr HOST:PORT  listen address (default :8090)
  --tls-cert F --tls-key F   serve HTTPS with this certificate
  --tls-self-signed          serve HTTPS with a generated certificate for this machine's LAN names
  --demo            on a new, empty data dir, fill the demo data set before serving

Run "dealerdesk COMMAND --help" for a command's flags.
`

// Stdin is where console commands read passwords from (tests replace it).
var Stdin io.Reader = os.Stdin

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		args = args[:0]
		cmd = "help"
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stdout, stderr)
	case "demo":
		err = demoCmd(ctx, args, stdout, stderr)
	case "admin":
		err = adminCmd(ctx, args, Stdin, stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, args, stdout, stderr)
	case "audit":
		err = auditCmd(ctx, args, stdout, stderr)
	case "reindex":
		err = reindexCmd(ctx, args, stdout, stderr)
	case "backup":
		err = backupCmd(ctx, args, stdout, stderr)
	case "restore":
		err = restoreCmd(ctx, args, Stdin, stdout, stderr)
	case "config":
		err = configCmd(args, stdout, stderr)
	case "service":
		err = serviceCmd(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "dealerdesk %s (schema %d)\n", app.Version, db.LatestVersion())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "dealerdesk: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "dealerdesk %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func newFlags(name string, stderr io.Writer, cfg *config.Config, serve bool) *flag.FlagSet {
	fs := flag.NewFlagSet("dealerdesk "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs, serve)
	return fs
}

func parse(fs *flag.FlagSet, cfg *config.Config, args []string) error {
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	return cfg.Validate()
}

func logger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := config.Defaults()
	fs := newFlags("serve", stderr, &cfg, true)
	withDemo := fs.Bool("demo", false, "on a new, empty data dir, fill the demo data set before serving (env DEALERDESK_DEMO)")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	log := logger(cfg.LogLevel, stderr)
	if err := cfg.EnsureDataDir(); err != nil {
		return err
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	if *withDemo {
		if err := fillDemo(ctx, cfg, log, stdout); err != nil {
			return err
		}
	}
	h, err := app.StartHost(ctx, cfg, app.Options{Log: log}, true)
	if err != nil {
		return err
	}
	defer h.Close()
	a := h.App()
	token, err := a.System.EnsureSetupToken(ctx)
	if err != nil {
		return err
	}
	certFile, keyFile := cfg.TLSCert, cfg.TLSKey
	if cfg.TLSSelfSigned {
		if certFile, keyFile, err = httpapi.SelfSignedCert(filepath.Join(cfg.DataDir, "tls"), time.Now()); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another program using the port? choose one with --addr)", cfg.Addr, err)
	}
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	// A backup upload for a restore extends its own read deadline.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	// Live notification streams never end by themselves: end them when shutting down.
	srv.RegisterOnShutdown(h.Shutdown)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fmt.Fprintf(stdout, "DealerDesk %s serving on %s://localhost:%s (data: %s)\n", app.Version, scheme, port, cfg.DataDir)
	for _, ip := range lanAddrs() {
		fmt.Fprintf(stdout, "  on the LAN: %s://%s:%s\n", scheme, ip, port)
	}
	switch {
	case token != "" && os.Getenv("INVOCATION_ID") != "":
		// Under systemd standard output is the journal, which outlives the
		// token's use: name the file instead.
		fmt.Fprintf(stdout, "First-run setup: open the address above. From another computer, enter the setup token saved in %s.\n",
			filepath.Join(cfg.DataDir, "setup-token"))
	case token != "":
		fmt.Fprintf(stdout, "First-run setup: open the address above. From another computer, enter the setup token %s\n(also saved in %s).\n",
			token, filepath.Join(cfg.DataDir, "setup-token"))
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// fillDemo fills a new, empty data dir with the demo data set before serving.
func fillDemo(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	a, err := app.New(ctx, cfg, app.Options{Log: log})
	if err != nil {
		return err
	}
	defer a.Close()
	sum, cs, err := demo.FillAll(ctx, a.DB, demo.ScaleDemo, a.Clock.Now())
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "Demo data created: %d stores, %d users, %d customers. Sign in as admin / %s (other roles: gm, sales_manager, sales, dcc, service_advisor … same password).\n",
			sum.Stores, sum.Users, cs.Customers, demo.Password)
	case strings.Contains(err.Error(), "demo.not_empty"):
		fmt.Fprintf(stdout, "Data dir already has users; demo data not added. Demo accounts (if this is the demo set): admin / %s\n", demo.Password)
	default:
		return err
	}
	return nil
}

// lockDataDir takes the data dir's lock file for as long as the server runs, so a
// second server, or a restore from the console, cannot open the same data.
func lockDataDir(dir string) (func(), error) {
	l := flock.New(filepath.Join(dir, "dealerdesk.lock"))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock the data dir: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("DealerDesk is already running on the data dir %s (stop it first, e.g. dealerdesk service stop)", dir)
	}
	return func() { l.Unlock() }, nil
}

func lanAddrs() []string {
	var out []string
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

func openApp(ctx context.Context, name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*app.App, *flag.FlagSet, error) {
	cfg := config.Defaults()
	fs := newFlags(name, stderr, &cfg, false)
	if extra != nil {
		extra(fs)
	}
	if err := parse(fs, &cfg, args); err != nil {
		return nil, fs, err
	}
	a, err := app.New(ctx, cfg, app.Options{Log: logger(cfg.LogLevel, stderr)})
	if a != nil {
		// Console commands run as root give what they created back to the
		// service's user (see fixOwner).
		dir := cfg.DataDir
		a.OnClose(func() { fixOwner(dir) })
	}
	return a, fs, err
}

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var scale string
	a, _, err := openApp(ctx, "demo", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&scale, "scale", "demo", "size: demo (3 stores), store (1 store, ~50 staff) or group (50 stores, ~1,500 staff)")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	sc, err := demo.ParseScale(scale)
	if err != nil {
		return err
	}
	start := time.Now()
	sum, cs, err := demo.FillAll(ctx, a.DB, sc, a.Clock.Now())
	if err != nil {
		if strings.Contains(err.Error(), "demo.not_empty") {
			return errors.New("the data dir already has users; demo data goes only into a new, empty data dir (choose one with --data)")
		}
		return err
	}
	fmt.Fprintf(stdout, "Demo data created in %s (%.1fs): %d stores, %d departments, %d users, %d vehicle models, %d customers, %d leads, %d follow-ups.\nSign in as admin / %s; every role has a demo account (gm, sales_manager, sales, dcc, service_advisor, technician, parts, finance, hr, marketing) with the same password.\n",
		a.Config.DataDir, time.Since(start).Seconds(), sum.Stores, sum.Departments, sum.Users, sum.Models, cs.Customers, cs.Leads, cs.Followups, demo.Password)
	return nil
}

func readPassword(in io.Reader, stdout io.Writer) (string, error) {
	fmt.Fprint(stdout, "New password (input is read from standard input): ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func adminCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("say what to do: create-user, reset-password or unlock (see dealerdesk --help)")
	}
	sub, args := args[0], args[1:]
	var username, name, role, storeCode, phone string
	a, _, err := openApp(ctx, "admin "+sub, args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "the user's sign-in name")
		if sub == "create-user" {
			fs.StringVar(&name, "name", "", "the user's full name")
			fs.StringVar(&role, "role", auth.RoleAdmin, "role code (admin, gm, sales_manager, sales, dcc, service_advisor, technician, parts, finance, hr, marketing)")
			fs.StringVar(&storeCode, "store", "", "store code (default: the first store)")
			fs.StringVar(&phone, "phone", "", "mobile number (optional)")
		}
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if username == "" {
		return errors.New("--username is required")
	}
	console := auth.System("console")
	switch sub {
	case "create-user":
		var storeID, roleID int64
		q := `SELECT id FROM store ORDER BY id LIMIT 1`
		qa := []any{}
		if storeCode != "" {
			q, qa = `SELECT id FROM store WHERE code = ?`, []any{storeCode}
		}
		if err := a.DB.R.QueryRowContext(ctx, q, qa...).Scan(&storeID); err != nil {
			return fmt.Errorf("no store %q: run the first-run setup in the browser first, or give --store CODE", storeCode)
		}
		if roleID, err = org.RoleIDByCode(ctx, a.DB.R, role); err != nil {
			return fmt.Errorf("no role %q", role)
		}
		pw, err := readPassword(stdin, stdout)
		if err != nil {
			return err
		}
		if name == "" {
			name = username
		}
		u, err := a.Org.CreateUser(ctx, console, org.UserInput{Username: username, Name: name, Phone: phone, RoleID: roleID, StoreID: storeID, Password: pw})
		if err != nil {
			return describe(err)
		}
		// A console-made account is the administrator's own: no forced change.
		if _, err := a.DB.W.ExecContext(ctx, `UPDATE app_user SET must_change_password = 0 WHERE id = ?`, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nUser %s created (id %d, role %s, store %s).\n", u.Username, u.ID, u.RoleName, u.StoreName)
	case "reset-password", "unlock":
		var id int64
		if err := a.DB.R.QueryRowContext(ctx, `SELECT id FROM app_user WHERE username = ?`, username).Scan(&id); err != nil {
			return fmt.Errorf("no user %q", username)
		}
		if sub == "unlock" {
			if err := a.Org.UnlockUser(ctx, console, id); err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "User %s unlocked.\n", username)
			return nil
		}
		pw, err := readPassword(stdin, stdout)
		if err != nil {
			return err
		}
		if err := a.Org.ResetPassword(ctx, console, id, org.ResetPasswordInput{Password: pw}); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "\nPassword of %s reset; they must choose a new one at the next sign-in. Their sessions were ended.\n", username)
	default:
		return fmt.Errorf("unknown admin command %q", sub)
	}
	return nil
}

// describe turns a classified error into a console message (codes are the i18n
// keys the UI shows, e.g. "password: password.too_short").
func describe(err error) error {
	e := apperr.As(err)
	if e.Kind == apperr.Internal {
		return err
	}
	var parts []string
	for name, f := range e.Fields {
		parts = append(parts, name+": "+f.Code)
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		parts = append(parts, e.Code)
	}
	return fmt.Errorf("refused: %s", strings.Join(parts, ", "))
}

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := "status"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	cfg := config.Defaults()
	fs := newFlags("migrate "+sub, stderr, &cfg, false)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DBPath(), db.Options{})
	if err != nil {
		return err
	}
	defer fixOwner(cfg.DataDir)
	defer d.Close()
	switch sub {
	case "status":
		ms, err := d.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		cur, _ := d.SchemaVersion(ctx)
		fmt.Fprintf(stdout, "database %s: schema version %d; this binary knows %d\n", cfg.DBPath(), cur, db.LatestVersion())
		for _, m := range ms {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "  %04d  %-8s %s\n", m.Version, state, m.Name)
		}
	case "up":
		ms, err := d.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		cur, _ := d.SchemaVersion(ctx)
		if cur > 0 && !ms[len(ms)-1].Applied {
			b := system.NewBackups(d, cfg.DataDir, clock.System{}, logger(cfg.LogLevel, stderr), nil, app.Version)
			res, err := b.Run(ctx, system.KindPreUpgrade)
			if err != nil {
				return fmt.Errorf("the backup before migrating failed, so nothing was changed: %w", err)
			}
			fmt.Fprintf(stdout, "pre-upgrade backup: %s\n", filepath.Join(b.Dir(), res.Name))
		}
		applied, err := d.Migrate(ctx, "", nil)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "schema is up to date")
		} else {
			fmt.Fprintf(stdout, "applied migrations %v\n", applied)
		}
	default:
		return fmt.Errorf("unknown migrate command %q (status or up)", sub)
	}
	return nil
}

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: dealerdesk audit verify [--data DIR]")
	}
	a, _, err := openApp(ctx, "audit verify", args[1:], stderr, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := audit.Verify(ctx, a.DB.R)
	if err != nil {
		return err
	}
	if !res.OK {
		return fmt.Errorf("audit log chain BROKEN at row %d (%s) after %d rows checked: rows were changed or removed outside DealerDesk", res.BrokenAt, res.Reason, res.Checked)
	}
	fmt.Fprintf(stdout, "audit log intact: %d rows verified\n", res.Checked)
	return nil
}

// reindexCmd rebuilds the global search index from the database (the index is
// derived data). It needs the index free: stop the service first.
func reindexCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, _, err := openApp(ctx, "reindex", args, stderr, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	if err := a.Reindex(ctx); err != nil {
		return fmt.Errorf("%w (is DealerDesk still running on this data dir? stop it first, or call POST /api/v1/search/rebuild on the running server)", err)
	}
	fmt.Fprintf(stdout, "search index rebuilt in %.1fs\n", time.Since(start).Seconds())
	return nil
}

func configCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "dump" {
		return errors.New("usage: dealerdesk config dump [flags]")
	}
	cfg := config.Defaults()
	fs := newFlags("config dump", stderr, &cfg, true)
	fs.Bool("demo", false, "")
	if err := parse(fs, &cfg, args[1:]); err != nil {
		return err
	}
	fmt.Fprint(stdout, cfg.Dump())
	return nil
}
