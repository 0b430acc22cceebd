package crm

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/sheet"
)

// Imports (L1): a manager uploads a customer list or a portal's lead sheet
// (.xlsx, or CSV in UTF-8 or GBK), maps its columns to fields, and starts it; one
// background runner takes the rows through intakeTx — the same path as every
// other lead, so deduplication by phone, assignment rules and deadlines apply —
// in short write transactions, and keeps a per-row report of what was not
// imported and why. The job's counters are written in the same transaction as
// its rows, so a restart resumes exactly after the last committed row.

// MaxImportBytes bounds an uploaded sheet.
const MaxImportBytes = 50 << 20

// importPreviewRows is how many data rows the mapping page shows.
const importPreviewRows = 10

// The states of an import job.
const (
	importUploaded  = "uploaded"
	importQueued    = "queued"
	importRunning   = "running"
	importDone      = "done"
	importFailed    = "failed"
	importCancelled = "cancelled"
)

// ImportOptions are the choices made when starting an import.
type ImportOptions struct {
	// Kind: "leads" (a portal's sheet: new leads get first-contact deadlines) or
	// "customers" (an existing customer list: already in contact).
	Kind string `json:"kind"`
	// DefaultChannel is the channel of rows whose source column is empty or
	// unrecognised.
	DefaultChannel string `json:"defaultChannel"`
	// Assign: "auto" (the store's rules), "pool" (the shared pool) or "column"
	// (the owner column names a consultant by username or name; empty: rules).
	Assign string `json:"assign"`
	// Dedupe is what a known phone does: "attach" (add the lead to the customer
	// and fill gaps in the profile) or "skip" (report it, change nothing).
	Dedupe string `json:"dedupe"`
}

// ImportJob is an uploaded sheet and the progress of its import.
type ImportJob struct {
	ID            int64          `json:"id"`
	StoreID       int64          `json:"storeId"`
	CreatedBy     int64          `json:"createdBy"`
	CreatedByName string         `json:"createdByName"`
	FileName      string         `json:"fileName"`
	Format        string         `json:"format"`   // xlsx | csv
	Encoding      string         `json:"encoding"` // of a CSV: utf-8, gb18030, utf-16le …
	HeaderRow     int            `json:"headerRow"`
	Status        string         `json:"status"` // uploaded | queued | running | done | failed | cancelled
	Headers       []string       `json:"headers"`
	Mapping       map[string]int `json:"mapping"` // field → 0-based column
	Options       ImportOptions  `json:"options"`
	Total         int64          `json:"total"`     // data rows in the file
	Processed     int64          `json:"processed"` // rows handled so far
	Created       int64          `json:"created"`   // new customers
	Attached      int64          `json:"attached"`  // known phones (attached, or skipped)
	Rejected      int64          `json:"rejected"`  // not imported, duplicates included
	Duplicates    int64          `json:"duplicates"`
	Error         string         `json:"error"` // a failed job's error code (errors.<code>)
	StartedAt     *int64         `json:"startedAt"`
	FinishedAt    *int64         `json:"finishedAt"`
	ElapsedMs     int64          `json:"elapsedMs"`
	RowsPerSecond float64        `json:"rowsPerSecond"`
	CreatedAt     int64          `json:"createdAt"`
	// Fields are the target fields the mapping may use.
	Fields []string `json:"fields"`
	// Preview (the first data rows) and Suggested (a mapping guessed from the
	// headers) are filled while the job waits to be started.
	Preview   []ImportPreviewRow `json:"preview,omitempty"`
	Suggested map[string]int     `json:"suggested,omitempty"`

	filePath string
	fileSize int64
}

// ImportPreviewRow is one data row as the sheet has it.
type ImportPreviewRow struct {
	Row   int      `json:"row"`
	Cells []string `json:"cells"`
}

// ImportRow is one line of the report: a row that was not imported, or that
// matched a known customer.
type ImportRow struct {
	Row     int           `json:"row"`     // as Excel numbers it
	Outcome string        `json:"outcome"` // rejected | duplicate_in_file | attached
	Errors  apperr.Fields `json:"errors"`  // by import field; codes are errors.<code>
	Values  []string      `json:"values"`  // the row's cells
}

// StartImportInput starts an uploaded import.
type StartImportInput struct {
	Mapping        map[string]int `json:"mapping"`
	Kind           string         `json:"kind"`
	DefaultChannel string         `json:"defaultChannel"`
	Assign         string         `json:"assign"`
	Dedupe         string         `json:"dedupe"`
}

// Normalize fills the defaults.
func (in *StartImportInput) Normalize() {
	for _, p := range []*string{&in.Kind, &in.DefaultChannel, &in.Assign, &in.Dedupe} {
		*p = strings.TrimSpace(*p)
	}
	if in.Kind == "" {
		in.Kind = "leads"
	}
	if in.DefaultChannel == "" {
		in.DefaultChannel = "other"
	}
	if in.Assign == "" {
		in.Assign = "auto"
	}
	if in.Dedupe == "" {
		in.Dedupe = "attach"
	}
}

// Validate checks the choices against a sheet of columns columns.
func (in *StartImportInput) Validate(columns int) error {
	f := apperr.Fields{}
	used := map[int]string{}
	for _, key := range sortedKeys(in.Mapping) {
		col := in.Mapping[key]
		k := "mapping." + key
		switch {
		case !importFieldKnown(key):
			f.Add(k, "crm.import_field_unknown")
		case col < 0 || col >= columns:
			f.Add(k, "out_of_range", "min", 0, "max", columns-1)
		case used[col] != "":
			f.Add(k, "crm.import_column_twice")
		default:
			used[col] = key
		}
	}
	if _, ok := in.Mapping["phone"]; !ok {
		f.Add("mapping.phone", "required")
	}
	if !oneOf(in.Kind, []string{"leads", "customers"}) {
		f.Add("kind", "invalid_format")
	}
	if !oneOf(in.DefaultChannel, Channels) {
		f.Add("defaultChannel", "crm.channel_unknown")
	}
	if !oneOf(in.Assign, []string{"auto", "pool", "column"}) {
		f.Add("assign", "invalid_format")
	} else if _, ok := in.Mapping["owner"]; in.Assign == "column" && !ok {
		f.Add("mapping.owner", "required")
	}
	if !oneOf(in.Dedupe, []string{"attach", "skip"}) {
		f.Add("dedupe", "invalid_format")
	}
	return f.Err()
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for _, f := range importFields { // field order first, unknown keys after
		if _, ok := m[f.Key]; ok {
			keys = append(keys, f.Key)
		}
	}
	for k := range m {
		if !importFieldKnown(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func (s *Service) importDir() string { return filepath.Join(s.dataDir, "imports") }

// stagedImport is an upload written to a temporary file in the imports folder.
type stagedImport struct {
	path string
	size int64
}

func importTooLarge() error {
	mb := MaxImportBytes >> 20
	e := apperr.New(apperr.TooLarge, "crm.import_too_large")
	e.Fields = apperr.Fields{"file": {Code: "crm.import_too_large", Params: map[string]any{"max": mb}}}
	e.Details = map[string]any{"max": mb}
	return e
}

// stageImport writes an upload to a temporary file, synced to disk, refusing
// more than MaxImportBytes.
func (s *Service) stageImport(r io.Reader) (stagedImport, error) {
	if err := os.MkdirAll(s.importDir(), 0o700); err != nil {
		return stagedImport{}, fmt.Errorf("crm: imports folder: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	path := filepath.Join(s.importDir(), ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return stagedImport{}, fmt.Errorf("crm: stage import: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, MaxImportBytes+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		os.Remove(path)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return stagedImport{}, importTooLarge()
		}
		return stagedImport{}, apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
	case n > MaxImportBytes:
		os.Remove(path)
		return stagedImport{}, importTooLarge()
	case n == 0:
		os.Remove(path)
		return stagedImport{}, apperr.Field("file", "required")
	}
	return stagedImport{path: path, size: n}, nil
}

// cleanFileName keeps a display name: the base name, printable, at most 200 characters.
func cleanFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, name)
	if r := []rune(strings.TrimSpace(name)); len(r) > 200 {
		name = string(r[len(r)-200:])
	}
	if name == "" || name == "." || name == "/" {
		name = "import"
	}
	return name
}

// UploadImport reads a staged sheet: its header, first rows and row count. The
// job waits, with its file, until StartImport. The staged file is moved into
// place (or removed on error).
func (s *Service) UploadImport(ctx context.Context, a auth.Actor, storeID int64, fileName string, st stagedImport) (ImportJob, error) {
	keep := false
	defer func() {
		if !keep {
			os.Remove(st.path)
		}
	}()
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, storeID); err != nil {
		return ImportJob{}, err
	}
	job := ImportJob{StoreID: storeID, CreatedBy: a.UserID, CreatedByName: a.Name, FileName: cleanFileName(fileName), Status: importUploaded,
		Mapping: map[string]int{}, CreatedAt: s.now(), fileSize: st.size}
	f, err := os.Open(st.path)
	if err != nil {
		return ImportJob{}, fmt.Errorf("crm: open staged import: %w", err)
	}
	defer f.Close()
	rd, err := sheet.Open(f, st.size, job.FileName)
	if err != nil {
		return ImportJob{}, err
	}
	defer rd.Close()
	job.Headers, job.Format, job.Encoding, job.HeaderRow = rd.Header(), string(rd.Format()), rd.Encoding(), rd.HeaderRow()
	if job.Preview, err = preview(rd); err != nil {
		return ImportJob{}, err
	}
	// Read it all once: the progress bar needs the total, and a damaged or
	// oversized file is refused now rather than half-way through.
	for {
		_, _, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ImportJob{}, err
		}
		job.Total++
	}
	if job.Total == 0 {
		return ImportJob{}, apperr.New(apperr.Invalid, "crm.import_no_rows")
	}
	ext := ".csv"
	if rd.Format() == sheet.FormatXLSX {
		ext = ".xlsx"
	}
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		id, err := insertImportJob(ctx, tx, job)
		if err != nil {
			return err
		}
		job.ID, job.filePath = id, strconv.FormatInt(id, 10)+ext
		if _, err := tx.ExecContext(ctx, `UPDATE import_job SET file_path = ? WHERE id = ?`, job.filePath, id); err != nil {
			return fmt.Errorf("crm: import file path: %w", err)
		}
		if err := s.audit(ctx, tx, a, "upload", "import_job", id, storeID, nil, map[string]any{"fileName": job.FileName, "size": st.size, "rows": job.Total}); err != nil {
			return err
		}
		// Moved in place inside the transaction: a failed rename rolls the job
		// back; a failed commit leaves a file the next start sweeps away.
		return os.Rename(st.path, filepath.Join(s.importDir(), job.filePath))
	})
	if err != nil {
		return ImportJob{}, err
	}
	keep = true
	job.Fields = ImportFieldKeys()
	job.Suggested = suggestMapping(job.Headers)
	return job, nil
}

func preview(rd *sheet.Reader) ([]ImportPreviewRow, error) {
	rows, err := rd.Preview(importPreviewRows)
	if err != nil {
		return nil, err
	}
	out := make([]ImportPreviewRow, len(rows))
	for i, r := range rows {
		out[i] = ImportPreviewRow{Row: r.Num, Cells: r.Cells}
	}
	return out, nil
}

// suggestMapping guesses field → column from the headers.
func suggestMapping(headers []string) map[string]int {
	out := map[string]int{}
	for col, key := range sheet.SuggestMapping(headers, importFields) {
		out[key] = col
	}
	return out
}

// importJob loads a job the actor may manage (customer.assign in its store).
func (s *Service) importJob(ctx context.Context, q db.Querier, a auth.Actor, id int64) (ImportJob, error) {
	j, err := getImportJob(ctx, q, id)
	if err != nil {
		return j, err
	}
	if err := storeAccess(a, auth.PermCustomerAssign, j.StoreID); err != nil {
		return ImportJob{}, apperr.New(apperr.NotFound, "not_found")
	}
	return j, nil
}

// StartImport queues an uploaded import with its column mapping and options.
func (s *Service) StartImport(ctx context.Context, a auth.Actor, id int64, in StartImportInput) (ImportJob, error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return ImportJob{}, err
	}
	in.Normalize()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		j, err := s.importJob(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if j.Status != importUploaded {
			return apperr.New(apperr.Conflict, "crm.import_started")
		}
		if err := in.Validate(len(j.Headers)); err != nil {
			return err
		}
		j.Options = ImportOptions{Kind: in.Kind, DefaultChannel: in.DefaultChannel, Assign: in.Assign, Dedupe: in.Dedupe}
		mapping, _ := json.Marshal(in.Mapping)
		opts, _ := json.Marshal(j.stored())
		r, err := tx.ExecContext(ctx, `UPDATE import_job SET status = 'queued', mapping = ?, options = ? WHERE id = ? AND status = 'uploaded'`, string(mapping), string(opts), id)
		if err != nil {
			return fmt.Errorf("crm: start import %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "crm.import_started")
		}
		return s.audit(ctx, tx, a, "create", "import_job", id, j.StoreID, nil, map[string]any{"fileName": j.FileName, "rows": j.Total, "options": j.Options, "mapping": in.Mapping})
	})
	if err != nil {
		return ImportJob{}, err
	}
	s.imports.wake()
	return s.GetImport(ctx, a, id)
}

// GetImport returns a job with its progress; a job waiting to be started also
// carries its preview and suggested mapping.
func (s *Service) GetImport(ctx context.Context, a auth.Actor, id int64) (ImportJob, error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return ImportJob{}, err
	}
	j, err := s.importJob(ctx, s.db.R, a, id)
	if err != nil {
		return j, err
	}
	if j.Duplicates, err = countDuplicates(ctx, s.db.R, id); err != nil {
		return j, fmt.Errorf("crm: import %d duplicates: %w", id, err)
	}
	s.fillTimings(&j)
	j.Fields = ImportFieldKeys()
	if j.Status == importUploaded && j.filePath != "" {
		j.Suggested = suggestMapping(j.Headers)
		if p, err := s.previewFile(j); err == nil {
			j.Preview = p
		} else {
			s.log.Warn("import preview", "job_id", id, "err", err)
		}
	}
	return j, nil
}

func (s *Service) fillTimings(j *ImportJob) {
	if j.StartedAt == nil {
		return
	}
	end := s.now()
	if j.FinishedAt != nil {
		end = *j.FinishedAt
	}
	j.ElapsedMs = max(end-*j.StartedAt, 0)
	if j.ElapsedMs > 0 {
		j.RowsPerSecond = float64(j.Processed) * 1000 / float64(j.ElapsedMs)
	}
}

func (s *Service) previewFile(j ImportJob) ([]ImportPreviewRow, error) {
	f, err := os.Open(filepath.Join(s.importDir(), j.filePath))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rd, err := sheet.Open(f, fi.Size(), j.FileName)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return preview(rd)
}

// ImportList is a page of a store's imports, newest first.
type ImportList = api.List[ImportJob]

// ListImports lists a store's recent imports.
func (s *Service) ListImports(ctx context.Context, a auth.Actor, storeID int64, cursor string, limit int) (ImportList, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, storeID); err != nil {
		return ImportList{}, err
	}
	cur, err := api.ParseCursor(cursor)
	if err != nil {
		return ImportList{}, err
	}
	items, err := listImportJobs(ctx, s.db.R, storeID, cur.ID, limit+1)
	if err != nil {
		return ImportList{}, err
	}
	out := ImportList{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.Next = api.Cursor{ID: out.Items[limit-1].ID}.Encode()
	}
	for i := range out.Items {
		s.fillTimings(&out.Items[i])
		out.Items[i].Fields = ImportFieldKeys()
	}
	return out, nil
}

// ImportRows pages through a job's report; outcome filters ("rejected" also
// takes duplicates, which were not imported either).
func (s *Service) ImportRows(ctx context.Context, a auth.Actor, id int64, outcome, cursor string, limit int) (api.List[ImportRow], error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return api.List[ImportRow]{}, err
	}
	if _, err := s.importJob(ctx, s.db.R, a, id); err != nil {
		return api.List[ImportRow]{}, err
	}
	var outcomes []string
	switch outcome {
	case "":
	case "rejected":
		outcomes = []string{"rejected", "duplicate_in_file"}
	case "duplicate_in_file", "attached":
		outcomes = []string{outcome}
	default:
		return api.List[ImportRow]{}, apperr.Field("outcome", "invalid_format")
	}
	cur, err := api.ParseCursor(cursor)
	if err != nil {
		return api.List[ImportRow]{}, err
	}
	items, err := listImportRows(ctx, s.db.R, id, cur.ID, outcomes, limit+1)
	if err != nil {
		return api.List[ImportRow]{}, err
	}
	out := api.List[ImportRow]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.Next = api.Cursor{ID: int64(out.Items[limit-1].Row)}.Encode()
	}
	return out, nil
}

// CancelImport stops an import: one waiting is cancelled at once, a running one
// at the end of its current batch (rows committed so far stay imported).
func (s *Service) CancelImport(ctx context.Context, a auth.Actor, id int64) (ImportJob, error) {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return ImportJob{}, err
	}
	var removeFile string
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		j, err := s.importJob(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if !oneOf(j.Status, []string{importUploaded, importQueued, importRunning}) {
			return apperr.New(apperr.Conflict, "crm.import_finished")
		}
		path := j.filePath
		if j.Status != importRunning {
			// nobody reads the file: remove it now; a running job's runner does
			removeFile, path = j.filePath, ""
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_job SET status = 'cancelled', finished_at = ?, file_path = ? WHERE id = ?`, s.now(), path, id); err != nil {
			return fmt.Errorf("crm: cancel import %d: %w", id, err)
		}
		return s.audit(ctx, tx, a, "update", "import_job", id, j.StoreID, map[string]any{"status": j.Status}, map[string]any{"status": importCancelled, "processed": j.Processed})
	})
	if err != nil {
		return ImportJob{}, err
	}
	if removeFile != "" {
		s.removeImportFile(removeFile)
	}
	return s.GetImport(ctx, a, id)
}

func (s *Service) removeImportFile(name string) {
	if name == "" {
		return
	}
	if err := os.Remove(filepath.Join(s.importDir(), name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("remove import file", "file", name, "err", err)
	}
}

// ImportReport writes the rows that were not imported as an .xlsx: the sheet's
// own columns first, so that the user can correct the rows and import the file
// again, then the reason and the original row number.
func (s *Service) ImportReport(ctx context.Context, a auth.Actor, id int64, w http.ResponseWriter) error {
	if err := auth.Require(a, auth.PermCustomerAssign); err != nil {
		return err
	}
	j, err := s.importJob(ctx, s.db.R, a, id)
	if err != nil {
		return err
	}
	tr := func(key string) string {
		if s.text == nil {
			return key
		}
		return s.text(a.Locale, key)
	}
	cols := make([]sheet.Col, 0, len(j.Headers)+2)
	for i, h := range j.Headers {
		if h == "" {
			h = sheet.ColumnName(i)
		}
		cols = append(cols, sheet.Col{Header: h, Text: true, Width: 14})
	}
	cols = append(cols, sheet.Col{Header: tr("crmImport.report.reason"), Width: 40}, sheet.Col{Header: tr("crmImport.report.row"), Kind: sheet.KindInt, Width: 8})
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	name := fmt.Sprintf("import-%d-rejected.xlsx", j.ID)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	xw, err := sheet.NewWriter(w, tr("crmImport.report.sheet"), cols, sheet.WithLocation(loc))
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	var after int64
	for {
		rows, err := listImportRows(ctx, s.db.R, id, after, []string{"rejected", "duplicate_in_file"}, 500)
		if err != nil {
			xw.Close()
			return err
		}
		for _, r := range rows {
			for i := range j.Headers {
				vals[i] = nil
				if i < len(r.Values) && r.Values[i] != "" {
					vals[i] = r.Values[i]
				}
			}
			vals[len(j.Headers)] = reasonText(tr, r.Errors)
			vals[len(j.Headers)+1] = r.Row
			if err := xw.Write(vals...); err != nil {
				xw.Close()
				return err
			}
			after = int64(r.Row)
		}
		if len(rows) < 500 {
			break
		}
	}
	return xw.Close()
}

// reasonText renders a row's field errors as "字段：原因；…" in the reader's language.
func reasonText(tr func(string) string, errs apperr.Fields) string {
	var parts []string
	for _, key := range append(ImportFieldKeys(), "row") {
		fe, ok := errs[key]
		if !ok {
			continue
		}
		msg := tr("errors." + fe.Code)
		for k, v := range fe.Params {
			msg = strings.ReplaceAll(msg, "{"+k+"}", fmt.Sprint(v))
		}
		if key != "row" {
			msg = tr("crmImport.field."+key) + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

// ResumeImports is called at start: it sweeps files no job needs any more,
// cancels uploads never started within a week, and lets the runner continue the
// jobs that were queued or running when the server stopped — each exactly after
// its last committed row.
func (s *Service) ResumeImports(ctx context.Context) error {
	week := s.now() - 7*24*time.Hour.Milliseconds()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE import_job SET status = 'cancelled', finished_at = ? WHERE status = 'uploaded' AND created_at < ?`, s.now(), week)
		return err
	})
	if err != nil {
		return fmt.Errorf("crm: expire imports: %w", err)
	}
	if err := s.sweepImportFiles(ctx); err != nil {
		s.log.Warn("sweep import files", "err", err)
	}
	s.imports.wake()
	return nil
}

// sweepImportFiles removes files of finished jobs and staged uploads older than
// an hour.
func (s *Service) sweepImportFiles(ctx context.Context) error {
	entries, err := os.ReadDir(s.importDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	live := map[string]bool{}
	rows, err := s.db.R.QueryContext(ctx, `SELECT file_path FROM import_job WHERE status IN ('uploaded', 'queued', 'running') AND file_path <> ''`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		live[p] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if live[name] || e.IsDir() {
			continue
		}
		if strings.HasPrefix(name, ".tmp-") {
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < time.Hour {
				continue
			}
		}
		s.removeImportFile(name)
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE import_job SET file_path = '' WHERE status IN ('done', 'failed', 'cancelled') AND file_path <> ''`)
		return err
	})
}
