package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"dealerdesk/app/api"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/config"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/httpapi"
	"dealerdesk/app/inventory"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/org"
	"dealerdesk/app/sales"
	"dealerdesk/app/sales/order"
	"dealerdesk/app/sales/sop"
	"dealerdesk/app/sales/testdrive"
	"dealerdesk/app/sales/tradein"
	"dealerdesk/app/system"
	"dealerdesk/app/task"
	"dealerdesk/embedui"
)

// Version is set at build time with -ldflags "-X dealerdesk/app.Version=…".
var Version = "dev"

// Options are the parts tests replace.
type Options struct {
	Clock     clock.Clock  // default: the system clock
	Log       *slog.Logger // default: discard
	LoginRate float64      // sign-in requests per second per address; 0: default
	// NoPreUpgradeBackup skips the backup taken before migrating an existing
	// database: a restore migrates a backup forward, and the backup is its own copy.
	NoPreUpgradeBackup bool
}

// App is the wired application: configuration, database, services, HTTP server.
type App struct {
	Config config.Config
	DB     *db.DB
	Clock  clock.Clock
	Log    *slog.Logger
	Auth   *auth.Service
	Org    *org.Service
	System *system.Service
	// Backups makes, checks and restores the encrypted backups of the data dir.
	Backups *system.Backups
	Attach  *attach.Service
	Notify  *notify.Service
	Tasks   *task.Service
	// Approval is the workflow engine; domains Register their document types on it.
	Approval *approval.Service
	Search   *findex.Service
	CRM      *crm.Service
	// Inventory is the vehicle catalogue and stock; sales calls its SellTx.
	Inventory *inventory.Service
	// The sales process: the SOP pipeline, test drives, quotes and trade-ins,
	// orders and delivery.
	SOP       *sop.Service
	TestDrive *testdrive.Service
	TradeIns  *tradein.Service
	Sales     *sales.Service
	Orders    *order.Service
	Server    *httpapi.Server
	jobs      *jobs.Runner
	bgStop    context.CancelFunc
	jobsStop  context.CancelFunc
	onClose   []func()
}

// New opens the data dir, migrates the database and wires every service.
func New(ctx context.Context, cfg config.Config, opt Options) (*App, error) {
	if opt.Clock == nil {
		opt.Clock = clock.System{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, cfg.DBPath(), db.Options{})
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: d, Clock: opt.Clock, Log: opt.Log}
	if err := a.init(ctx, opt); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) init(ctx context.Context, opt Options) error {
	a.Backups = system.NewBackups(a.DB, a.Config.DataDir, a.Clock, a.Log, nil, Version)
	if err := a.preUpgradeBackup(ctx, opt); err != nil {
		return err
	}
	if _, err := a.DB.Migrate(ctx, "", a.Log); err != nil {
		return err
	}
	if err := org.SeedRoles(ctx, a.DB.W, a.Clock.Now().UnixMilli()); err != nil {
		return fmt.Errorf("app: seed roles: %w", err)
	}
	a.Auth = auth.NewService(a.DB, a.Clock, a.Log)
	a.Org = org.NewService(a.DB, a.Auth, a.Clock, a.Log)
	a.System = system.NewService(a.DB, a.Auth, a.Org, a.Clock, a.Log, Version, filepath.Join(a.Config.DataDir, "setup-token"))
	a.Notify = notify.NewService(a.DB, a.Clock, a.Log)
	a.Backups.SetNotify(a.Notify)
	a.Attach = attach.NewService(a.DB, a.Config.DataDir, a.Clock, a.Log)
	if n, err := a.Attach.SweepTemp(); err != nil {
		a.Log.Warn("sweep temporary files", "err", err)
	} else if n > 0 {
		a.Log.Info("removed temporary files left by a crash", "count", n)
	}
	a.Attach.Register("user", func(ctx context.Context, q db.Querier, id int64) (attach.Owner, error) {
		r, err := org.UserRecord(ctx, q, id)
		return attach.Owner{Record: r, ReadPerm: auth.PermUserRead, WritePerm: auth.PermUserManage}, err
	})
	a.Attach.Register("store", func(ctx context.Context, q db.Querier, id int64) (attach.Owner, error) {
		r, err := org.StoreRecord(ctx, q, id)
		return attach.Owner{Record: r, ReadPerm: auth.PermOrgRead, WritePerm: auth.PermOrgManage}, err
	})
	cat, err := httpapi.LoadCatalog()
	if err != nil {
		return err
	}
	a.Notify.SetText(cat.Text)
	a.Tasks = task.NewService(a.DB, a.Notify, a.Clock, a.Log)
	a.Approval = approval.NewService(a.DB, a.Notify, a.Clock, a.Log)
	a.Search = findex.NewService(a.DB, filepath.Join(a.Config.DataDir, "search"), a.Clock, a.Log)
	a.CRM = crm.NewService(crm.Deps{DB: a.DB, Clock: a.Clock, Log: a.Log, Notify: a.Notify, Approval: a.Approval, Index: a.Search,
		Tasks: a.Tasks, DataDir: a.Config.DataDir, Text: cat.Text})
	a.Inventory = inventory.NewService(inventory.Deps{DB: a.DB, Clock: a.Clock, Log: a.Log, Notify: a.Notify, Index: a.Search, Text: cat.Text})
	a.SOP = sop.NewService(sop.Deps{DB: a.DB, Clock: a.Clock, Log: a.Log, Notify: a.Notify, Approval: a.Approval, Index: a.Search, Tasks: a.Tasks, CRM: a.CRM, Text: cat.Text})
	a.TestDrive = testdrive.NewService(testdrive.Deps{DB: a.DB, Clock: a.Clock, Log: a.Log, Notify: a.Notify, Approval: a.Approval, Index: a.Search, Tasks: a.Tasks,
		Attach: a.Attach, CRM: a.CRM, Inventory: a.Inventory, SOP: a.SOP, Text: cat.Text})
	a.TradeIns = tradein.NewService(tradein.Deps{DB: a.DB, Clock: a.Clock, Log: a.Log, Notify: a.Notify, Approval: a.Approval, Index: a.Search, Tasks: a.Tasks,
		Attach: a.Attach, CRM: a.CRM, SOP: a.SOP, Text: cat.Text})
	a.Sales = sales.NewService(sales.Deps{DB: a.DB, Clock: a.Clock, Log: a.Log, Notify: a.Notify, Approval: a.Approval, Index: a.Search, Tasks: a.Tasks,
		Attach: a.Attach, CRM: a.CRM, Inventory: a.Inventory, SOP: a.SOP, TradeIns: a.TradeIns, Text: cat.Text})
	a.Orders = order.NewService(order.Deps{DB: a.DB, Clock: a.Clock, Log: a.Log, Notify: a.Notify, Approval: a.Approval, Index: a.Search, Tasks: a.Tasks,
		Attach: a.Attach, CRM: a.CRM, Inventory: a.Inventory, SOP: a.SOP, Sales: a.Sales, Text: cat.Text})
	for _, gates := range [][]sop.Gate{a.TestDrive.Gates(), a.TradeIns.Gates(), a.Sales.Gates(), a.Orders.Gates()} {
		for _, g := range gates {
			a.SOP.RegisterGate(g)
		}
	}
	var routes []api.Route
	routes = append(routes, a.System.Routes()...)
	routes = append(routes, a.Backups.Routes()...)
	routes = append(routes, a.Org.SessionRoutes()...)
	routes = append(routes, a.Org.Routes()...)
	routes = append(routes, a.Attach.Routes()...)
	routes = append(routes, a.Inventory.Routes()...)
	routes = append(routes, a.Notify.Routes()...)
	routes = append(routes, a.Tasks.Routes()...)
	routes = append(routes, a.Approval.Routes()...)
	routes = append(routes, a.Search.Routes()...)
	routes = append(routes, a.CRM.Routes()...)
	routes = append(routes, a.SOP.Routes()...)
	routes = append(routes, a.TestDrive.Routes()...)
	routes = append(routes, a.TradeIns.Routes()...)
	routes = append(routes, a.Sales.Routes()...)
	routes = append(routes, a.Orders.Routes()...)
	a.Server, err = httpapi.New(httpapi.Deps{Auth: a.Auth, Routes: routes, Catalog: cat, Log: a.Log, UI: embedui.Dist(), Version: Version, LoginRate: opt.LoginRate})
	return err
}

// StartJobs starts the scheduler with every service's jobs (serve only; the
// console commands run none).
func (a *App) StartJobs(ctx context.Context) error {
	var list []jobs.Job
	list = append(list, a.Auth.Jobs()...)
	list = append(list, a.Backups.Jobs()...)
	list = append(list, a.Notify.Jobs()...)
	list = append(list, a.Tasks.Jobs()...)
	list = append(list, a.Approval.Jobs()...)
	list = append(list, a.CRM.Jobs()...)
	list = append(list, a.Inventory.Jobs()...)
	list = append(list, a.SOP.Jobs()...)
	list = append(list, a.TestDrive.Jobs()...)
	list = append(list, a.TradeIns.Jobs()...)
	list = append(list, a.Sales.Jobs()...)
	list = append(list, a.Orders.Jobs()...)
	// Closing the App cancels the jobs' context, so a long job (a backup, an SLA
	// sweep) stops at its next check instead of running on against a closed
	// database.
	ctx, cancel := context.WithCancel(ctx)
	a.jobsStop = cancel
	r, err := jobs.Start(ctx, a.Log, list)
	if err != nil {
		cancel()
		return err
	}
	a.jobs = r
	return nil
}

// StartBackground starts the workers: the search index (rebuilt from the database
// when missing), the delivery of chat-robot, e-mail and webhook messages, and
// imports left unfinished.
// serve and the test harness call it; one-shot console commands do not, so they
// can run beside a serving instance.
func (a *App) StartBackground(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	a.bgStop = cancel
	if err := a.Search.Start(ctx); err != nil {
		return err
	}
	a.Notify.StartDelivery(ctx)
	a.CRM.ResumeImports(ctx)
	return nil
}

// Reindex rebuilds the search index from the database (the reindex command).
func (a *App) Reindex(ctx context.Context) error {
	return a.Search.Rebuild(ctx)
}

// Close stops the jobs and workers and closes the database.
func (a *App) Close() error {
	if a == nil || a.DB == nil {
		return nil
	}
	var errs []error
	if a.jobsStop != nil {
		a.jobsStop()
	}
	errs = append(errs, a.jobs.Stop())
	if a.bgStop != nil {
		a.bgStop()
	}
	if a.Backups != nil {
		a.Backups.Close()
	}
	if a.Notify != nil {
		a.Notify.Close()
	}
	if a.CRM != nil {
		a.CRM.Close()
	}
	if a.Search != nil {
		errs = append(errs, a.Search.Stop())
	}
	errs = append(errs, a.DB.Close())
	for _, f := range a.onClose {
		f()
	}
	return errors.Join(errs...)
}

// OnClose adds a function Close runs after the database is closed.
func (a *App) OnClose(f func()) { a.onClose = append(a.onClose, f) }

// preUpgradeBackup takes an encrypted, verified backup before migrations change an
// existing database: upgrading is replacing the binary, and this is the way back.
// If it fails the upgrade stops here, with the database untouched.
func (a *App) preUpgradeBackup(ctx context.Context, opt Options) error {
	if opt.NoPreUpgradeBackup {
		return nil
	}
	cur, err := a.DB.SchemaVersion(ctx)
	if err != nil || cur == 0 {
		return err
	}
	if _, err := a.DB.MigrationStatus(ctx); err != nil {
		return err // newer database or edited migration: refused before anything
	}
	if cur >= db.LatestVersion() {
		return nil
	}
	a.Log.Info("taking a backup before upgrading the database", "from_version", cur, "to_version", db.LatestVersion())
	out, err := a.Backups.Run(ctx, system.KindPreUpgrade)
	if err != nil {
		return fmt.Errorf("app: the backup before upgrading the database (schema %d to %d) failed, so the database was not changed: %w", cur, db.LatestVersion(), err)
	}
	a.Log.Info("pre-upgrade backup kept", "file", out.Name, "bytes", out.Size)
	return nil
}
