package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

const importJobCols = `j.id, j.store_id, j.created_by, COALESCE(u.name, ''), j.file_name, j.file_path, j.status, j.mapping, j.options, j.headers,
	j.total, j.processed, j.created, j.attached, j.rejected, j.error, j.started_at, j.finished_at, j.created_at`

func scanImportJob(sc interface{ Scan(...any) error }) (ImportJob, error) {
	var j ImportJob
	var mapping, options, headers string
	var started, finished sql.NullInt64
	err := sc.Scan(&j.ID, &j.StoreID, &j.CreatedBy, &j.CreatedByName, &j.FileName, &j.filePath, &j.Status, &mapping, &options, &headers,
		&j.Total, &j.Processed, &j.Created, &j.Attached, &j.Rejected, &j.Error, &started, &finished, &j.CreatedAt)
	if err != nil {
		return j, err
	}
	j.StartedAt, j.FinishedAt = ptr(started), ptr(finished)
	j.Mapping, j.Headers = map[string]int{}, []string{}
	if err := json.Unmarshal([]byte(mapping), &j.Mapping); err != nil {
		return j, fmt.Errorf("crm: import %d mapping: %w", j.ID, err)
	}
	if err := json.Unmarshal([]byte(headers), &j.Headers); err != nil {
		return j, fmt.Errorf("crm: import %d headers: %w", j.ID, err)
	}
	var st importStored
	if err := json.Unmarshal([]byte(options), &st); err != nil {
		return j, fmt.Errorf("crm: import %d options: %w", j.ID, err)
	}
	j.Options, j.Format, j.Encoding, j.HeaderRow, j.fileSize = st.ImportOptions, st.Format, st.Encoding, st.HeaderRow, st.Size
	return j, nil
}

// importStored is what the options column holds: the user's choices and what
// the upload learned about the file.
type importStored struct {
	ImportOptions
	Format    string `json:"format"`
	Encoding  string `json:"encoding,omitempty"`
	HeaderRow int    `json:"headerRow"`
	Size      int64  `json:"size"`
}

func (j ImportJob) stored() importStored {
	return importStored{ImportOptions: j.Options, Format: j.Format, Encoding: j.Encoding, HeaderRow: j.HeaderRow, Size: j.fileSize}
}

func getImportJob(ctx context.Context, q db.Querier, id int64) (ImportJob, error) {
	j, err := scanImportJob(q.QueryRowContext(ctx, `SELECT `+importJobCols+` FROM import_job j LEFT JOIN app_user u ON u.id = j.created_by WHERE j.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return j, fmt.Errorf("crm: get import %d: %w", id, err)
	}
	return j, nil
}

func insertImportJob(ctx context.Context, q db.Querier, j ImportJob) (int64, error) {
	opts, _ := json.Marshal(j.stored())
	headers, _ := json.Marshal(j.Headers)
	r, err := q.ExecContext(ctx, `INSERT INTO import_job (store_id, created_by, file_name, file_path, status, options, headers, total, created_at)
		VALUES (?, ?, ?, '', 'uploaded', ?, ?, ?, ?)`, j.StoreID, j.CreatedBy, j.FileName, string(opts), string(headers), j.Total, j.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("crm: insert import: %w", err)
	}
	return r.LastInsertId()
}

// listImportJobs lists a store's jobs newest first (keyset on id).
func listImportJobs(ctx context.Context, q db.Querier, storeID, before int64, limit int) ([]ImportJob, error) {
	query := `SELECT ` + importJobCols + ` FROM import_job j LEFT JOIN app_user u ON u.id = j.created_by WHERE j.store_id = ?`
	args := []any{storeID}
	if before > 0 {
		query += ` AND j.id < ?`
		args = append(args, before)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY j.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("crm: list imports: %w", err)
	}
	defer rows.Close()
	out := []ImportJob{}
	for rows.Next() {
		j, err := scanImportJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// countDuplicates counts a job's rows reported as duplicate_in_file (they are
// part of rejected).
func countDuplicates(ctx context.Context, q db.Querier, id int64) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM import_row WHERE job_id = ? AND outcome = 'duplicate_in_file'`, id).Scan(&n)
	return n, err
}

func insertImportRow(ctx context.Context, q db.Querier, jobID int64, num int, outcome string, fields apperr.Fields, cells []string) error {
	if fields == nil {
		fields = apperr.Fields{}
	}
	errs, _ := json.Marshal(fields)
	vals, _ := json.Marshal(trimTrailing(cells))
	_, err := q.ExecContext(ctx, `INSERT INTO import_row (job_id, row_no, outcome, errors, values_json) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (job_id, row_no) DO UPDATE SET outcome = excluded.outcome, errors = excluded.errors, values_json = excluded.values_json`,
		jobID, num, outcome, string(errs), string(vals))
	if err != nil {
		return fmt.Errorf("crm: import row %d: %w", num, err)
	}
	return nil
}

func trimTrailing(cells []string) []string {
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return cells[:n]
}

// listImportRows pages through a job's report by row number.
func listImportRows(ctx context.Context, q db.Querier, jobID int64, after int64, outcomes []string, limit int) ([]ImportRow, error) {
	query := `SELECT row_no, outcome, errors, values_json FROM import_row WHERE job_id = ? AND row_no > ?`
	args := []any{jobID, after}
	if len(outcomes) > 0 {
		query += ` AND outcome IN (?` + strings.Repeat(", ?", len(outcomes)-1) + `)`
		for _, o := range outcomes {
			args = append(args, o)
		}
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY row_no LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("crm: import rows: %w", err)
	}
	defer rows.Close()
	out := []ImportRow{}
	for rows.Next() {
		var r ImportRow
		var errs, vals string
		if err := rows.Scan(&r.Row, &r.Outcome, &errs, &vals); err != nil {
			return nil, err
		}
		r.Errors = apperr.Fields{}
		r.Values = []string{}
		if err := json.Unmarshal([]byte(errs), &r.Errors); err != nil {
			return nil, fmt.Errorf("crm: import row %d errors: %w", r.Row, err)
		}
		if err := json.Unmarshal([]byte(vals), &r.Values); err != nil {
			return nil, fmt.Errorf("crm: import row %d values: %w", r.Row, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// failedRowNumbers returns the rows of a job that imported nothing (rejected or
// duplicates): on resume, every other processed row counts as seen.
func failedRowNumbers(ctx context.Context, q db.Querier, jobID int64) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT row_no FROM import_row WHERE job_id = ? AND outcome IN ('rejected', 'duplicate_in_file')`, jobID)
	if err != nil {
		return nil, fmt.Errorf("crm: import rows of %d: %w", jobID, err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// importSeriesList loads the catalogue's series with their match keys.
func importSeriesList(ctx context.Context, q db.Querier) ([]importSeries, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.id, s.name, b.name FROM vehicle_series s JOIN vehicle_brand b ON b.id = s.brand_id`)
	if err != nil {
		return nil, fmt.Errorf("crm: series for import: %w", err)
	}
	defer rows.Close()
	var out []importSeries
	for rows.Next() {
		var id int64
		var name, brand string
		if err := rows.Scan(&id, &name, &brand); err != nil {
			return nil, err
		}
		out = append(out, importSeries{ID: id, Key: foldKey(name), BrandedKey: foldKey(brand + name)})
	}
	return out, rows.Err()
}

// importOwners are the users who may own customers of the store (checkOwner's
// rule: active, in the store, with customer.write).
func importOwners(ctx context.Context, q db.Querier, storeID int64) ([]importUser, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.username, u.name FROM app_user u
		JOIN role_permission rp ON rp.role_id = u.role_id AND rp.permission = ?
		WHERE u.store_id = ? AND u.status = 'active' ORDER BY u.id`, auth.PermCustomerWrite, storeID)
	if err != nil {
		return nil, fmt.Errorf("crm: owners for import: %w", err)
	}
	defer rows.Close()
	var out []importUser
	for rows.Next() {
		var u importUser
		if err := rows.Scan(&u.ID, &u.Username, &u.Name); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// importActor rebuilds the importer's actor for the background run: the job
// acts with the rights its starter has now (a disabled account stops it).
func importActor(ctx context.Context, q db.Querier, userID, storeID int64) (auth.Actor, error) {
	var a auth.Actor
	var dept sql.NullInt64
	var status string
	err := q.QueryRowContext(ctx, `SELECT u.id, u.username, u.name, u.role_id, r.code, r.scope, u.store_id, u.department_id, u.locale, u.status
		FROM app_user u JOIN role r ON r.id = u.role_id WHERE u.id = ?`, userID).
		Scan(&a.UserID, &a.Username, &a.Name, &a.RoleID, &a.RoleCode, &a.Scope, &a.HomeStoreID, &dept, &a.Locale, &status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && status != "active") {
		return a, apperr.New(apperr.Forbidden, "forbidden")
	}
	if err != nil {
		return a, fmt.Errorf("crm: importer %d: %w", userID, err)
	}
	a.DepartmentID = dept.Int64
	a.StoreID = storeID
	a.Perms = map[string]bool{}
	rows, err := q.QueryContext(ctx, `SELECT permission FROM role_permission WHERE role_id = ?`, a.RoleID)
	if err != nil {
		return a, fmt.Errorf("crm: importer permissions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return a, err
		}
		a.Perms[p] = true
	}
	return a, rows.Err()
}

// importOwnerCounts counts, per owner, the new customers a job brought in that
// they own now: the summary each of them is sent. Key 0 counts those left
// without an owner (in the pool).
func importOwnerCounts(ctx context.Context, q db.Querier, jobID int64) (map[int64]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT COALESCE(c.owner_id, 0), count(*) FROM lead l JOIN customer c ON c.id = l.customer_id
		WHERE l.import_job_id = ? AND l.outcome = 'new' GROUP BY 1`, jobID)
	if err != nil {
		return nil, fmt.Errorf("crm: import %d owners: %w", jobID, err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
