package approval

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

const defCols = `d.id, d.store_id, COALESCE(s.name, ''), d.doc_type, d.name, d.priority, d.enabled, d.conditions, d.steps, d.version, d.updated_at`

const defFrom = ` FROM approval_definition d LEFT JOIN store s ON s.id = d.store_id`

func scanDefinition(sc interface{ Scan(...any) error }) (Definition, error) {
	var d Definition
	var store sql.NullInt64
	var enabled int
	var conds, steps string
	if err := sc.Scan(&d.ID, &store, &d.StoreName, &d.DocType, &d.Name, &d.Priority, &enabled, &conds, &steps, &d.Version, &d.UpdatedAt); err != nil {
		return d, err
	}
	d.StoreID = nonZero(store)
	d.Enabled = enabled == 1
	if err := json.Unmarshal([]byte(conds), &d.Conditions); err != nil {
		return d, fmt.Errorf("approval: definition %d conditions: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(steps), &d.Steps); err != nil {
		return d, fmt.Errorf("approval: definition %d steps: %w", d.ID, err)
	}
	if d.Conditions == nil {
		d.Conditions = []Condition{}
	}
	return d, nil
}

func getDefinition(ctx context.Context, q db.Querier, id int64) (Definition, error) {
	d, err := scanDefinition(q.QueryRowContext(ctx, `SELECT `+defCols+defFrom+` WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return d, fmt.Errorf("approval: get definition %d: %w", id, err)
	}
	return d, nil
}

// listDefinitions: group-wide definitions and those of the stores in the actor's
// scope; storeID narrows to one store (and the group-wide ones that also apply
// there). Order: doc type, the store's own before group-wide, priority — the
// order routing tries them.
func listDefinitions(ctx context.Context, q db.Querier, a auth.Actor, storeID int64, docType string) ([]Definition, error) {
	qb := sq.Select(defCols).From("approval_definition d LEFT JOIN store s ON s.id = d.store_id").
		Where(sq.Or{sq.Eq{"d.store_id": nil}, auth.Filter(a, auth.PermApprovalManage, auth.Columns{Store: "d.store_id"})}).
		OrderBy("d.doc_type", "d.store_id IS NULL", "d.store_id", "d.priority", "d.id")
	if storeID != 0 {
		qb = qb.Where(sq.Or{sq.Eq{"d.store_id": nil}, sq.Eq{"d.store_id": storeID}})
	}
	if docType != "" {
		qb = qb.Where(sq.Eq{"d.doc_type": docType})
	}
	query, args, err := qb.ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("approval: list definitions: %w", err)
	}
	defer rows.Close()
	out := []Definition{}
	for rows.Next() {
		d, err := scanDefinition(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// routeCandidates returns the enabled definitions that may apply to a document of
// the store, in the order routing tries them: the store's own, then group-wide;
// each by priority.
func routeCandidates(ctx context.Context, q db.Querier, docType string, storeID int64) ([]Definition, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+defCols+defFrom+`
		WHERE d.doc_type = ? AND d.enabled = 1 AND (d.store_id = ? OR d.store_id IS NULL)
		ORDER BY d.store_id IS NULL, d.priority, d.id`, docType, storeID)
	if err != nil {
		return nil, fmt.Errorf("approval: route %s: %w", docType, err)
	}
	defer rows.Close()
	var out []Definition
	for rows.Next() {
		d, err := scanDefinition(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func insertDefinition(ctx context.Context, q db.Querier, in DefinitionInput, by, now int64) (int64, error) {
	conds, _ := json.Marshal(in.Conditions)
	steps, _ := json.Marshal(in.Steps)
	r, err := q.ExecContext(ctx, `INSERT INTO approval_definition (store_id, doc_type, name, priority, enabled, conditions, steps, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.StoreID, in.DocType, in.Name, in.Priority, boolInt(in.Enabled), string(conds), string(steps), nullInt(by), now, now)
	if err != nil {
		return 0, fmt.Errorf("approval: create definition: %w", err)
	}
	return r.LastInsertId()
}

func updateDefinition(ctx context.Context, q db.Querier, id int64, in DefinitionInput, now int64) error {
	conds, _ := json.Marshal(in.Conditions)
	steps, _ := json.Marshal(in.Steps)
	r, err := q.ExecContext(ctx, `UPDATE approval_definition SET store_id = ?, doc_type = ?, name = ?, priority = ?, enabled = ?, conditions = ?, steps = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		in.StoreID, in.DocType, in.Name, in.Priority, boolInt(in.Enabled), string(conds), string(steps), now, id, in.Version)
	if err != nil {
		return fmt.Errorf("approval: update definition %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

func deleteDefinition(ctx context.Context, q db.Querier, id int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM approval_definition WHERE id = ?`, id); err != nil {
		return fmt.Errorf("approval: delete definition %d: %w", id, err)
	}
	return nil
}
