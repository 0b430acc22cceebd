package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/config"
	"dealerdesk/app/system"
	"dealerdesk/backup"
)

// Host serves the App over HTTP and can replace it: a restore from the browser
// stops serving (every request answers 503 system.restoring), waits for requests
// in flight, closes the database, swaps the backup in, and opens a new App on the
// restored data. This is what makes a restore work on Windows, where open files
// cannot be replaced.
type Host struct {
	cfg      config.Config
	opt      Options
	withJobs bool
	ctx      context.Context

	mu        sync.RWMutex
	app       *App
	restoring atomic.Bool
	inflight  atomic.Int64
	restored  chan struct{}  // closed and replaced after every restore (tests wait on it)
	swapping  sync.WaitGroup // a restore in progress; Close waits for it
}

// StartHost opens the App and starts its background work (and, with jobs, the
// scheduler), ready to serve.
func StartHost(ctx context.Context, cfg config.Config, opt Options, withJobs bool) (*Host, error) {
	h := &Host{cfg: cfg, opt: opt, withJobs: withJobs, ctx: ctx, restored: make(chan struct{})}
	sweep(cfg, opt)
	a, err := New(ctx, cfg, opt)
	if err != nil {
		return nil, err
	}
	if err := h.start(a); err != nil {
		a.Close()
		return nil, err
	}
	h.app = a
	return h, nil
}

func (h *Host) start(a *App) error {
	a.Backups.SetRestorer(h.restore)
	if err := a.StartBackground(h.ctx); err != nil {
		return err
	}
	if h.withJobs {
		return a.StartJobs(h.ctx)
	}
	return nil
}

// App returns the App being served now (a restore replaces it).
func (h *Host) App() *App {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.app
}

// Restored returns a channel closed when the next restore has finished.
func (h *Host) Restored() <-chan struct{} {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.restored
}

// Close closes the App, after a restore in progress has finished (stopping in
// the middle of a swap would leave the data dir half swapped).
func (h *Host) Close() error {
	h.swapping.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.app == nil {
		return nil
	}
	err := h.app.Close()
	h.app = nil
	return err
}

// ServeHTTP hands the request to the current App, or answers 503 while a restore runs.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.inflight.Add(1)
	defer h.inflight.Add(-1)
	h.mu.RLock()
	a := h.app
	h.mu.RUnlock()
	if h.restoring.Load() || a == nil {
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Cache-Control", "no-store")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"code":"system.restoring","message":"正在恢复数据，请稍候 / Restoring data, please wait"}}`)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>DealerDesk</title><p style="font:16px sans-serif;margin:3em">正在恢复数据，请稍候…<br>Restoring data, please wait…</p>`)
		return
	}
	a.Server.Echo.ServeHTTP(w, r)
}

// Shutdown ends the live notification streams (they never end by themselves);
// http.Server.RegisterOnShutdown calls it.
func (h *Host) Shutdown() {
	if a := h.App(); a != nil {
		a.Notify.Close()
	}
}

// restore is the system.Restorer: it runs in the background after the restore
// request has been answered.
func (h *Host) restore(ex *backup.Extracted, info system.RestoreInfo, done func()) {
	h.restoring.Store(true)
	h.swapping.Add(1)
	log := h.App().Log
	go func() {
		defer h.swapping.Done()
		defer done()
		res, serving := h.swap(ex, info, log)
		h.mu.Lock()
		close(h.restored)
		h.restored = make(chan struct{})
		h.mu.Unlock()
		if !res.OK {
			log.Error("restore failed", "err", res.Error)
		}
		// Without a database that opened, keep answering 503: serving an empty,
		// new database would look like lost data (and invite a first-run setup).
		if serving {
			h.restoring.Store(false)
		}
	}()
}

func (h *Host) swap(ex *backup.Extracted, info system.RestoreInfo, log *slog.Logger) (res system.RestoreResult, serving bool) {
	start := time.Now()
	ctx := context.WithoutCancel(h.ctx)
	old := h.App()
	res = system.RestoreResult{At: old.Clock.Now().UnixMilli(), Name: info.Name, SchemaFrom: ex.Manifest.SchemaVersion, By: info.By.UserName}
	defer func() {
		res.DurationMs = time.Since(start).Milliseconds()
		if err := system.WriteRestoreResult(h.cfg.DataDir, res); err != nil {
			log.Error("write restore result", "err", err)
		}
		ex.Remove()
	}()
	fail := func(err error) {
		res.OK, res.Error, res.ErrorCode = false, err.Error(), apperr.As(err).Code
	}
	// Let the requests in flight finish (the restore request itself among them);
	// live notification streams are ended first, they never finish by themselves.
	old.Notify.Close()
	deadline := time.Now().Add(30 * time.Second)
	for h.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h.mu.Lock()
	h.app = nil
	h.mu.Unlock()
	if err := old.Close(); err != nil {
		log.Warn("close before restore", "err", err)
	}
	aside, err := system.ApplyRestore(ctx, h.cfg.DataDir, ex, old.Clock.Now())
	res.AsideDir = aside
	if err != nil {
		fail(err)
		return res, h.reopen(log, "", info.By, &res)
	}
	serving = h.reopen(log, aside, info.By, &res)
	if res.Error == "" {
		res.OK = true
		system.PruneAside(h.cfg.DataDir, 3, aside)
		log.Info("restore done", "backup", info.Name, "aside", aside, "schema_from", res.SchemaFrom, "schema_to", res.SchemaTo)
	}
	return res, serving
}

// reopen opens the App on the data dir; after a swap (aside set) it migrates the
// restored database forward, ends every session and records the restore. When
// the restored data cannot be opened, the previous data is put back.
func (h *Host) reopen(log *slog.Logger, aside string, by audit.Who, res *system.RestoreResult) bool {
	opt := h.opt
	opt.NoPreUpgradeBackup = true
	ctx := context.WithoutCancel(h.ctx)
	if _, err := os.Stat(h.cfg.DBPath()); err != nil {
		res.OK = false
		res.Error += fmt.Sprintf("; the database file is missing after the swap (the previous data is in %s): DealerDesk stays unavailable until it is restored with `dealerdesk restore`", res.AsideDir)
		return false
	}
	a, err := New(ctx, h.cfg, opt)
	if err == nil && aside != "" {
		res.SchemaTo, err = a.DB.SchemaVersion(ctx)
		if err == nil {
			err = system.FinishRestore(ctx, a.DB, by, a.Clock.Now().UnixMilli(), *res)
		}
	}
	if err != nil && aside != "" {
		if a != nil {
			a.Close()
		}
		res.OK, res.Error, res.ErrorCode = false, err.Error(), apperr.As(err).Code
		if rerr := system.RollbackRestore(h.cfg.DataDir, aside); rerr != nil {
			res.Error += "; putting the previous data back failed: " + rerr.Error()
		}
		a, err = New(ctx, h.cfg, opt)
	}
	if err != nil {
		log.Error("reopen after restore", "err", err)
		res.Error = errors.Join(errors.New(res.Error), err).Error()
		return false
	}
	if err := h.start(a); err != nil {
		log.Error("restart background work after restore", "err", err)
	}
	h.mu.Lock()
	h.app = a
	h.mu.Unlock()
	return true
}

// sweep removes what an interrupted backup or restore left behind: partial
// snapshots and archives, half-extracted restores, upload spools. Only the
// host does it, at start: serve holds the data dir's lock, while console
// commands (admin, reindex) may run beside a server whose backup is under way.
func sweep(cfg config.Config, opt Options) {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, dir := range []string{system.BackupDir(cfg.DataDir), cfg.DataDir} {
		if n, err := backup.Sweep(dir); err != nil {
			log.Warn("sweep leftovers", "dir", dir, "err", err)
		} else if n > 0 {
			log.Info("removed leftovers of an interrupted backup or restore", "dir", dir, "count", n)
		}
	}
}
