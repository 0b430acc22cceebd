package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// DepartmentKinds are the kinds of department or team a store has.
var DepartmentKinds = []string{"sales", "dcc", "service", "parts", "finance", "admin", "marketing", "management", "other"}

// Department is a department or team (部门/团队) of a store.
type Department struct {
	ID        int64  `json:"id"`
	StoreID   int64  `json:"storeId"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	ParentID  *int64 `json:"parentId"`
	ManagerID *int64 `json:"managerId"`
	Version   int64  `json:"version"`
}

// DepartmentInput creates or edits a department.
type DepartmentInput struct {
	StoreID   int64  `json:"storeId"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	ParentID  *int64 `json:"parentId"`
	ManagerID *int64 `json:"managerId"`
	Version   int64  `json:"version"`
}

// Validate checks the shape of the input.
func (in *DepartmentInput) Validate(create bool) error {
	in.Name = strings.TrimSpace(in.Name)
	f := apperr.Fields{}
	if create && in.StoreID <= 0 {
		f.Add("storeId", "required")
	}
	checkText(f, "name", in.Name, true, 40)
	ok := false
	for _, k := range DepartmentKinds {
		ok = ok || k == in.Kind
	}
	if !ok {
		f.Add("kind", "invalid_format")
	}
	return f.Err()
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

const deptCols = `id, store_id, name, kind, parent_id, manager_id, version`

func scanDepartment(sc interface{ Scan(...any) error }) (Department, error) {
	var d Department
	var parent, manager sql.NullInt64
	if err := sc.Scan(&d.ID, &d.StoreID, &d.Name, &d.Kind, &parent, &manager, &d.Version); err != nil {
		return d, err
	}
	d.ParentID, d.ManagerID = nonZero(parent), nonZero(manager)
	return d, nil
}

func getDepartment(ctx context.Context, q db.Querier, id int64) (Department, error) {
	d, err := scanDepartment(q.QueryRowContext(ctx, `SELECT `+deptCols+` FROM department WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return d, fmt.Errorf("org: get department %d: %w", id, err)
	}
	return d, nil
}

// ListDepartments returns the departments of a store (0: every store in scope).
func (s *Service) ListDepartments(ctx context.Context, a auth.Actor, storeID int64) ([]Department, error) {
	if err := auth.Require(a, auth.PermOrgRead); err != nil {
		return nil, err
	}
	where, args, err := auth.Filter(a, auth.PermOrgRead, auth.Columns{Store: "store_id"}).ToSql()
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + deptCols + ` FROM department WHERE ` + where
	if storeID != 0 {
		q += ` AND store_id = ?`
		args = append(args, storeID)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY store_id, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: list departments: %w", err)
	}
	defer rows.Close()
	out := []Department{}
	for rows.Next() {
		d, err := scanDepartment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// checkDepartmentRefs validates parent and manager against the store inside tx.
func checkDepartmentRefs(ctx context.Context, q db.Querier, storeID, selfID int64, in DepartmentInput) error {
	f := apperr.Fields{}
	if p := deref(in.ParentID); p != 0 {
		var sid int64
		err := q.QueryRowContext(ctx, `SELECT store_id FROM department WHERE id = ?`, p).Scan(&sid)
		if err != nil || sid != storeID || p == selfID {
			f.Add("parentId", "department.invalid")
		} else if selfID != 0 {
			// refuse cycles: walk up from the new parent
			cur := p
			for i := 0; i < 50 && cur != 0; i++ {
				if cur == selfID {
					f.Add("parentId", "department.invalid")
					break
				}
				var next sql.NullInt64
				if err := q.QueryRowContext(ctx, `SELECT parent_id FROM department WHERE id = ?`, cur).Scan(&next); err != nil {
					break
				}
				cur = next.Int64
			}
		}
	}
	if m := deref(in.ManagerID); m != 0 {
		var sid int64
		err := q.QueryRowContext(ctx, `SELECT store_id FROM app_user WHERE id = ?`, m).Scan(&sid)
		if err != nil || sid != storeID {
			f.Add("managerId", "invalid_format")
		}
	}
	return f.Err()
}

// CreateDepartment adds a department to a store.
func (s *Service) CreateDepartment(ctx context.Context, a auth.Actor, in DepartmentInput) (Department, error) {
	if err := in.Validate(true); err != nil {
		return Department{}, err
	}
	if err := auth.Check(a, auth.PermOrgManage, auth.Record{StoreID: in.StoreID}); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Department{}, apperr.Field("storeId", "store.invalid")
		}
		return Department{}, err
	}
	var d Department
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := getStore(ctx, tx, in.StoreID); err != nil {
			return apperr.Field("storeId", "store.invalid")
		}
		if err := checkDepartmentRefs(ctx, tx, in.StoreID, 0, in); err != nil {
			return err
		}
		var err error
		d, err = CreateDepartmentTx(ctx, tx, in, s.now())
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "department", d.ID, d.StoreID, nil, d)
	})
	return d, err
}

// CreateDepartmentTx inserts a department inside tx (setup and demo use it too).
func CreateDepartmentTx(ctx context.Context, q db.Querier, in DepartmentInput, now int64) (Department, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO department(store_id, name, kind, parent_id, manager_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?)`,
		in.StoreID, in.Name, in.Kind, nullInt(deref(in.ParentID)), nullInt(deref(in.ManagerID)), now, now)
	if db.IsUnique(err) {
		return Department{}, apperr.Field("name", "department.name_taken")
	}
	if err != nil {
		return Department{}, fmt.Errorf("org: create department: %w", err)
	}
	id, _ := res.LastInsertId()
	return getDepartment(ctx, q, id)
}

// UpdateDepartment edits a department.
func (s *Service) UpdateDepartment(ctx context.Context, a auth.Actor, id int64, in DepartmentInput) (Department, error) {
	if err := in.Validate(false); err != nil {
		return Department{}, err
	}
	var d Department
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getDepartment(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := auth.Check(a, auth.PermOrgManage, auth.Record{StoreID: old.StoreID}); err != nil {
			return err
		}
		if err := checkDepartmentRefs(ctx, tx, old.StoreID, id, in); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE department SET name=?, kind=?, parent_id=?, manager_id=?, version=version+1, updated_at=? WHERE id=? AND version=?`,
			in.Name, in.Kind, nullInt(deref(in.ParentID)), nullInt(deref(in.ManagerID)), s.now(), id, in.Version)
		if db.IsUnique(err) {
			return apperr.Field("name", "department.name_taken")
		}
		if err != nil {
			return fmt.Errorf("org: update department: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale()
		}
		if d, err = getDepartment(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "department", id, d.StoreID, old, d)
	})
	return d, err
}

// DeleteDepartment removes a department that no user and no sub-department uses.
func (s *Service) DeleteDepartment(ctx context.Context, a auth.Actor, id int64) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getDepartment(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := auth.Check(a, auth.PermOrgManage, auth.Record{StoreID: old.StoreID}); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM app_user WHERE department_id = ?) + (SELECT count(*) FROM department WHERE parent_id = ?)`, id, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "department.in_use")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM department WHERE id = ?`, id); err != nil {
			return fmt.Errorf("org: delete department: %w", err)
		}
		return s.audit(ctx, tx, a, "delete", "department", id, old.StoreID, old, nil)
	})
}
