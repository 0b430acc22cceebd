package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/notify"
	"dealerdesk/app/sheet"
)

// importRunner is the one goroutine that imports: jobs run one at a time, in
// the order they were started. Each batch of rows is one short write
// transaction — the database has a single writer, and a long transaction would
// make every other request that writes wait — and the runner pauses between
// batches so that their writes get in.
type importRunner struct {
	s      *Service
	wakeCh chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	started bool
	// gaveUp holds jobs this process could not finish (the database kept
	// failing); they are tried again after a restart.
	gaveUp map[int64]bool

	batchRows   int           // at most this many rows per transaction
	batchBudget time.Duration // and a transaction ends after this long
	pause       time.Duration // between transactions
}

// Tuning of the runner, measured with BenchmarkImport_100k (docs/benchmarks.md):
// a transaction ends after 50 ms, so a colleague's write waits at most about
// that long, and batches stay large enough that commits (synchronous=FULL) are
// a small part of the work. After each batch the runner rests for half as long
// as the batch took (at least importPause), which leaves other requests at
// least a third of the writer and of the processor on a small machine.
const (
	importBatchRows   = 500
	importBatchBudget = 50 * time.Millisecond
	importPause       = 5 * time.Millisecond
	importRetries     = 3
)

func newImportRunner(s *Service) *importRunner {
	ctx, cancel := context.WithCancel(context.Background())
	return &importRunner{s: s, wakeCh: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}), gaveUp: map[int64]bool{},
		batchRows: importBatchRows, batchBudget: importBatchBudget, pause: importPause}
}

// wake makes the runner look for queued jobs; the goroutine starts on the
// first call.
func (r *importRunner) wake() {
	r.mu.Lock()
	if !r.started && r.ctx.Err() == nil {
		r.started = true
		go r.loop()
	}
	r.mu.Unlock()
	select {
	case r.wakeCh <- struct{}{}:
	default:
	}
}

// stop ends the runner; a job in the middle of a batch rolls that batch back and
// resumes from the last committed one at the next start.
func (r *importRunner) stop() {
	r.once.Do(func() {
		r.mu.Lock()
		started := r.started
		r.started = true // no start after stop
		r.mu.Unlock()
		r.cancel()
		if started {
			<-r.done
		}
	})
}

func (r *importRunner) loop() {
	defer close(r.done)
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.wakeCh:
		}
		for r.ctx.Err() == nil {
			id, err := r.next()
			if err != nil {
				if r.ctx.Err() == nil {
					r.s.log.Error("import: find queued job", "err", err)
				}
				break
			}
			if id == 0 {
				break
			}
			if err := r.run(id); err != nil && r.ctx.Err() == nil {
				r.s.log.Error("import: job interrupted", "job_id", id, "err", err)
				r.mu.Lock()
				r.gaveUp[id] = true
				r.mu.Unlock()
			}
		}
	}
}

// next returns the job to work on: an interrupted one first, then the oldest
// queued; 0 when there is none.
func (r *importRunner) next() (int64, error) {
	rows, err := r.s.db.R.QueryContext(r.ctx, `SELECT id FROM import_job WHERE status IN ('running', 'queued') ORDER BY status = 'running' DESC, id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		if !r.gaveUp[id] {
			return id, nil
		}
	}
	return 0, rows.Err()
}

// errImportStopped ends a run whose job was cancelled or finished elsewhere.
var errImportStopped = errors.New("crm: import no longer running")

// run imports one job from where it stands. It returns an error only when the
// job could not be brought to an end (the runner stopped, or the database
// failed); problems of the file or the importer fail the job instead.
func (r *importRunner) run(id int64) error {
	s, ctx := r.s, r.ctx
	var job ImportJob
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		j, err := getImportJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if j.Status != importQueued && j.Status != importRunning {
			return errImportStopped
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_job SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ?`, s.now(), id); err != nil {
			return err
		}
		job = j
		return nil
	})
	if errors.Is(err, errImportStopped) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("crm: claim import %d: %w", id, err)
	}

	a, err := importActor(ctx, s.db.R, job.CreatedBy, job.StoreID)
	if err == nil {
		err = storeAccess(a, auth.PermCustomerAssign, job.StoreID)
	}
	if err != nil {
		return r.fail(job, a, err)
	}
	if job.filePath == "" {
		return r.fail(job, a, apperr.New(apperr.Internal, "crm.import_file_missing"))
	}
	f, err := os.Open(filepath.Join(s.importDir(), job.filePath))
	if err != nil {
		return r.fail(job, a, apperr.Wrap(apperr.Internal, "crm.import_file_missing", err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return r.fail(job, a, apperr.Wrap(apperr.Internal, "crm.import_file_missing", err))
	}
	rd, err := sheet.Open(f, fi.Size(), job.FileName)
	if err != nil {
		return r.fail(job, a, err)
	}
	defer rd.Close()
	m, err := r.mapper(job)
	if err != nil {
		return err
	}

	// The phones imported so far, for duplicate_in_file; on resume, rebuilt from
	// the processed rows that were not rejected.
	seen := map[string]int{}
	if job.Processed > 0 {
		failed, err := failedRowNumbers(ctx, s.db.R, id)
		if err != nil {
			return err
		}
		for i := int64(0); i < job.Processed; i++ {
			num, cells, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return r.fail(job, a, err)
			}
			if failed[num] {
				continue
			}
			if p, _, code := normalizePhone(m.cell(cells, "phone")); code == "" {
				if _, ok := seen[p]; !ok {
					seen[p] = num
				}
			}
		}
		s.log.Info("import resumed", "job_id", id, "processed", job.Processed)
	}

	var pending []importRow
	eof := false
	for {
		for !eof && len(pending) < r.batchRows {
			num, cells, err := rd.Next()
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return r.fail(job, a, err)
			}
			pending = append(pending, m.mapRow(num, append([]string(nil), cells...)))
		}
		if len(pending) == 0 {
			break
		}
		began := time.Now()
		n, err := r.batchWithRetry(a, &job, pending, seen)
		if errors.Is(err, errImportStopped) {
			r.stopped(job)
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			return r.fail(job, a, err)
		}
		pending = pending[n:]
		// Let the requests that waited for the writer go first.
		runtime.Gosched()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(r.pause, time.Since(began)/2)):
		}
	}
	return r.finish(job, a)
}

func (r *importRunner) mapper(job ImportJob) (*importMapper, error) {
	s, ctx := r.s, r.ctx
	st, err := LoadSettings(ctx, s.db.R, job.StoreID)
	if err != nil {
		return nil, err
	}
	series, err := importSeriesList(ctx, s.db.R)
	if err != nil {
		return nil, err
	}
	var owners []importUser
	if job.Options.Assign == "column" {
		if owners, err = importOwners(ctx, s.db.R, job.StoreID); err != nil {
			return nil, err
		}
	}
	return &importMapper{mapping: job.Mapping, opts: job.Options, storeID: job.StoreID, settings: st, loc: st.location(), now: s.clock.Now(),
		series: newSeriesMatcher(series), owners: newOwnerIndex(owners)}, nil
}

// batchWithRetry runs a batch, trying again a few times when the database
// fails (not when the job was stopped or the runner is closing).
func (r *importRunner) batchWithRetry(a auth.Actor, job *ImportJob, rows []importRow, seen map[string]int) (int, error) {
	var err error
	for attempt := 0; attempt < importRetries; attempt++ {
		var n int
		n, err = r.batch(a, job, rows, seen)
		if err == nil || errors.Is(err, errImportStopped) || r.ctx.Err() != nil {
			return n, err
		}
		r.s.log.Warn("import batch failed", "job_id", job.ID, "attempt", attempt+1, "err", err)
		select {
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	return 0, err
}

// batch imports rows from the front of rows in one transaction, as many as
// fit in the batch size and time budget, and returns how many it took.
func (r *importRunner) batch(a auth.Actor, job *ImportJob, rows []importRow, seen map[string]int) (int, error) {
	s, ctx := r.s, r.ctx
	var n int
	var created, attached, rejected int64
	added := map[string]int{}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		begun := time.Now()
		st, err := LoadSettings(ctx, tx, job.StoreID)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if n >= r.batchRows || (n > 0 && time.Since(begun) > r.batchBudget) {
				break
			}
			n++
			outcome, err := r.row(ctx, tx, a, st, job, row, seen, added)
			if err != nil {
				return err
			}
			switch outcome {
			case "new":
				created++
			case "attached":
				attached++
			default:
				rejected++
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE import_job SET processed = processed + ?, created = created + ?, attached = attached + ?, rejected = rejected + ?
			WHERE id = ? AND status = 'running'`, n, created, attached, rejected, job.ID)
		if err != nil {
			return fmt.Errorf("crm: import %d progress: %w", job.ID, err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return errImportStopped // cancelled: this batch is rolled back
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for p, num := range added {
		seen[p] = num
	}
	job.Processed += int64(n)
	job.Created += created
	job.Attached += attached
	job.Rejected += rejected
	s.afterCommit()
	return n, nil
}

// row imports one mapped row inside the batch's transaction and returns its
// outcome: new, attached, rejected or duplicate_in_file. A row the database
// refuses (unknown grade, an owner who left…) is rolled back to its savepoint
// and reported; only a failure of the database itself ends the batch.
func (r *importRunner) row(ctx context.Context, tx *sql.Tx, a auth.Actor, st Settings, job *ImportJob, row importRow, seen, added map[string]int) (string, error) {
	if len(row.fields) > 0 {
		return "rejected", insertImportRow(ctx, tx, job.ID, row.num, "rejected", row.fields, row.cells)
	}
	first, dup := seen[row.phone]
	if !dup {
		first, dup = added[row.phone]
	}
	if dup {
		f := apperr.Fields{}
		f.Add("phone", "crm.import_duplicate_in_file", "row", first)
		return "duplicate_in_file", insertImportRow(ctx, tx, job.ID, row.num, "duplicate_in_file", f, row.cells)
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT import_row`); err != nil {
		return "", err
	}
	outcome, err := r.intake(ctx, tx, a, st, job, row)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO import_row`); rerr != nil {
			return "", errors.Join(err, rerr)
		}
		if _, rerr := tx.ExecContext(ctx, `RELEASE import_row`); rerr != nil {
			return "", errors.Join(err, rerr)
		}
		e := apperr.As(err)
		if e.Kind == apperr.Internal || ctx.Err() != nil {
			return "", err
		}
		f := apperr.Fields{}
		for k, fe := range e.Fields {
			k = importFieldOf(k)
			if _, ok := f[k]; !ok {
				f[k] = fe
			}
		}
		if len(f) == 0 {
			f["row"] = apperr.FieldError{Code: e.Code}
		}
		return "rejected", insertImportRow(ctx, tx, job.ID, row.num, "rejected", f, row.cells)
	}
	if _, err := tx.ExecContext(ctx, `RELEASE import_row`); err != nil {
		return "", err
	}
	added[row.phone] = row.num
	if outcome == "attached" {
		return outcome, insertImportRow(ctx, tx, job.ID, row.num, "attached", nil, row.cells)
	}
	return outcome, nil
}

// intake takes the row through the one lead path. With dedupe "skip" a known
// phone changes nothing and is reported as attached.
func (r *importRunner) intake(ctx context.Context, tx *sql.Tx, a auth.Actor, st Settings, job *ImportJob, row importRow) (string, error) {
	s := r.s
	if job.Options.Dedupe == "skip" {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_phone WHERE store_id = ? AND phone = ?`, job.StoreID, row.phone).Scan(&id)
		if err == nil {
			return "attached", nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("crm: import look up phone: %w", err)
		}
	}
	res, err := s.intakeTx(ctx, tx, a, st, row.in, row.phone, row.kind,
		leadSource{importJob: job.ID, at: row.at, contacted: job.Options.Kind == "customers", quiet: true})
	if err != nil {
		return "", err
	}
	if row.wechat != "" && !res.Repeated {
		if _, err := tx.ExecContext(ctx, `UPDATE customer SET wechat = ? WHERE id = ? AND wechat = ''`, row.wechat, res.CustomerID); err != nil {
			return "", fmt.Errorf("crm: import wechat: %w", err)
		}
	}
	if res.Repeated {
		return "attached", nil
	}
	return res.Outcome, nil
}

// importDoneKind is the notification kind of "your import finished". Until
// notify registers it, the message goes out as lead.assigned (whose group the
// importer's preferences already list).
func importDoneKind() string {
	if _, ok := notify.LookupKind("import.done"); ok {
		return "import.done"
	}
	return "lead.assigned"
}

func importLink(id int64) string { return fmt.Sprintf("/crm/import?job=%d", id) }

// finish ends a job that read its whole file: status done, one summary to
// each consultant who received customers, one to the importer, the audit row.
func (r *importRunner) finish(job ImportJob, a auth.Actor) error {
	s, ctx := r.s, r.ctx
	owners, err := importOwnerCounts(ctx, s.db.R, job.ID)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_job SET status = 'done', finished_at = ?, file_path = '' WHERE id = ? AND status = 'running'`, now, job.ID)
		if err != nil {
			return fmt.Errorf("crm: finish import %d: %w", job.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errImportStopped
		}
		var msgs []notify.Message
		for _, uid := range sortedIDs(owners) {
			if uid == 0 || uid == job.CreatedBy {
				continue // the pool; the importer's own summary says it all
			}
			msgs = append(msgs, notify.Message{UserID: uid, StoreID: job.StoreID, Kind: "lead.assigned", TitleKey: "notify.msg.import_assigned",
				Params: map[string]any{"count": owners[uid], "file": job.FileName}, Link: "/crm/customers", Entity: "import_job", EntityID: job.ID,
				DedupKey: fmt.Sprintf("import:%d:%d", job.ID, uid), Level: notify.LevelInfo})
		}
		msgs = append(msgs, notify.Message{UserID: job.CreatedBy, StoreID: job.StoreID, Kind: importDoneKind(), TitleKey: "notify.msg.import_done",
			Params: map[string]any{"file": job.FileName, "created": job.Created, "attached": job.Attached, "rejected": job.Rejected},
			Link:   importLink(job.ID), Entity: "import_job", EntityID: job.ID, DedupKey: fmt.Sprintf("import:%d:done", job.ID), Level: notify.LevelInfo})

		if n := owners[0]; n > 0 && job.Options.Assign != "pool" {
			// No rule took them: the store's lead managers (the importer too) hear it
			// once, not once a lead.
			managers, err := storeManagers(ctx, tx, job.StoreID, nil)
			if err != nil {
				return err
			}
			for _, uid := range managers {
				msgs = append(msgs, notify.Message{UserID: uid, StoreID: job.StoreID, Kind: "lead.unassigned", TitleKey: "notify.msg.import_unassigned",
					Params: map[string]any{"count": n, "file": job.FileName}, Link: "/crm/pool", Entity: "import_job", EntityID: job.ID,
					DedupKey: fmt.Sprintf("import:%d:pool:%d", job.ID, uid), Level: notify.LevelWarning})
			}
		}
		if s.notify != nil {
			if _, err := s.notify.Send(ctx, tx, msgs...); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "update", "import_job", job.ID, job.StoreID, map[string]any{"status": importRunning},
			map[string]any{"status": importDone, "total": job.Total, "processed": job.Processed, "created": job.Created, "attached": job.Attached,
				"rejected": job.Rejected, "ms": now - deref(job.StartedAt)})
	})
	if errors.Is(err, errImportStopped) {
		r.stopped(job)
		return nil
	}
	if err != nil {
		return err
	}
	s.removeImportFile(job.filePath)
	s.afterCommit()
	s.log.Info("import done", "job_id", job.ID, "rows", job.Processed, "created", job.Created, "attached", job.Attached, "rejected", job.Rejected)
	return nil
}

// fail ends a job that cannot go on (a damaged file, an importer who lost the
// right to import): status failed with the error's code, the importer is told.
func (r *importRunner) fail(job ImportJob, a auth.Actor, cause error) error {
	s, ctx := r.s, r.ctx
	e := apperr.As(cause)
	if e.Kind == apperr.Internal {
		s.log.Error("import failed", "job_id", job.ID, "err", cause)
	} else {
		s.log.Warn("import failed", "job_id", job.ID, "err", cause)
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_job SET status = 'failed', error = ?, finished_at = ?, file_path = '' WHERE id = ? AND status IN ('queued', 'running')`,
			e.Code, s.now(), job.ID)
		if err != nil {
			return fmt.Errorf("crm: fail import %d: %w", job.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if s.notify != nil {
			if _, err := s.notify.Send(ctx, tx, notify.Message{UserID: job.CreatedBy, StoreID: job.StoreID, Kind: importDoneKind(), TitleKey: "notify.msg.import_failed",
				Params: map[string]any{"file": job.FileName}, Link: importLink(job.ID), Entity: "import_job", EntityID: job.ID,
				DedupKey: fmt.Sprintf("import:%d:failed", job.ID), Level: notify.LevelWarning}); err != nil {
				return err
			}
		}
		if a.UserID == 0 {
			a = auth.System("import")
		}
		return s.audit(ctx, tx, a, "update", "import_job", job.ID, job.StoreID, map[string]any{"status": job.Status},
			map[string]any{"status": importFailed, "error": e.Code, "processed": job.Processed})
	})
	if err != nil {
		return err
	}
	s.removeImportFile(job.filePath)
	s.afterCommit()
	return nil
}

// stopped cleans up after a job that was cancelled while it ran.
func (r *importRunner) stopped(job ImportJob) {
	s := r.s
	s.removeImportFile(job.filePath)
	if err := s.db.WriteTx(r.ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(r.ctx, `UPDATE import_job SET file_path = '' WHERE id = ? AND status <> 'running'`, job.ID)
		return err
	}); err != nil && r.ctx.Err() == nil {
		s.log.Warn("import: clear file path", "job_id", job.ID, "err", err)
	}
	s.log.Info("import cancelled", "job_id", job.ID, "processed", job.Processed)
}

func sortedIDs(m map[int64]int) []int64 {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}
