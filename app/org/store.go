package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Group is the dealership group (one per installation).
type Group struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// GroupInput renames the group.
type GroupInput struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// Store is one dealership (门店).
type Store struct {
	ID         int64  `json:"id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Brand      string `json:"brand"`
	Address    string `json:"address"`
	Phone      string `json:"phone"`
	Letterhead string `json:"letterhead"`
	Status     string `json:"status"`
	Version    int64  `json:"version"`
	CreatedAt  int64  `json:"createdAt"`
}

// StoreInput creates or edits a store.
type StoreInput struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Brand      string `json:"brand"`
	Address    string `json:"address"`
	Phone      string `json:"phone"`
	Letterhead string `json:"letterhead"`
	Status     string `json:"status"`
	Version    int64  `json:"version"`
}

// Normalize trims the input.
func (in *StoreInput) Normalize() {
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.Name = strings.TrimSpace(in.Name)
	in.Brand = strings.TrimSpace(in.Brand)
	in.Address = strings.TrimSpace(in.Address)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Letterhead = strings.TrimSpace(in.Letterhead)
	if in.Status == "" {
		in.Status = "active"
	}
}

// Validate checks the shape of the input.
func (in StoreInput) Validate() error {
	f := apperr.Fields{}
	checkText(f, "code", in.Code, true, 20)
	if in.Code != "" && !codePattern(in.Code) {
		f.Add("code", "invalid_format")
	}
	checkText(f, "name", in.Name, true, 60)
	checkText(f, "brand", in.Brand, false, 60)
	checkText(f, "address", in.Address, false, 200)
	checkText(f, "phone", in.Phone, false, 30)
	checkText(f, "letterhead", in.Letterhead, false, 1000)
	if in.Status != "active" && in.Status != "closed" {
		f.Add("status", "invalid_format")
	}
	return f.Err()
}

func checkText(f apperr.Fields, name, v string, required bool, max int) {
	if required && v == "" {
		f.Add(name, "required")
		return
	}
	if utf8.RuneCountInString(v) > max {
		f.Add(name, "too_long", "max", max)
	}
	for _, r := range v {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			f.Add(name, "invalid_format")
			return
		}
	}
}

func codePattern(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

const storeCols = `id, code, name, brand, address, phone, letterhead, status, version, created_at`

func scanStore(sc interface{ Scan(...any) error }) (Store, error) {
	var st Store
	err := sc.Scan(&st.ID, &st.Code, &st.Name, &st.Brand, &st.Address, &st.Phone, &st.Letterhead, &st.Status, &st.Version, &st.CreatedAt)
	return st, err
}

func getStore(ctx context.Context, q db.Querier, id int64) (Store, error) {
	st, err := scanStore(q.QueryRowContext(ctx, `SELECT `+storeCols+` FROM store WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return st, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return st, fmt.Errorf("org: get store %d: %w", id, err)
	}
	return st, nil
}

// GetGroup returns the group.
func (s *Service) GetGroup(ctx context.Context, a auth.Actor) (Group, error) {
	if err := auth.Require(a, auth.PermOrgRead); err != nil {
		return Group{}, err
	}
	var g Group
	err := s.db.R.QueryRowContext(ctx, `SELECT id, name, version FROM org_group WHERE id = 1`).Scan(&g.ID, &g.Name, &g.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return g, apperr.New(apperr.NotFound, "not_found")
	}
	return g, err
}

// UpdateGroup renames the group (group scope only).
func (s *Service) UpdateGroup(ctx context.Context, a auth.Actor, in GroupInput) (Group, error) {
	in.Name = strings.TrimSpace(in.Name)
	f := apperr.Fields{}
	checkText(f, "name", in.Name, true, 60)
	if err := f.Err(); err != nil {
		return Group{}, err
	}
	if err := auth.Require(a, auth.PermOrgManage); err != nil {
		return Group{}, err
	}
	if a.Scope != auth.ScopeGroup {
		return Group{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	var g Group
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var old Group
		if err := tx.QueryRowContext(ctx, `SELECT id, name, version FROM org_group WHERE id = 1`).Scan(&old.ID, &old.Name, &old.Version); err != nil {
			return fmt.Errorf("org: group: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE org_group SET name = ?, version = version + 1, updated_at = ? WHERE id = 1 AND version = ?`, in.Name, s.now(), in.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale()
		}
		g = Group{ID: 1, Name: in.Name, Version: old.Version + 1}
		return s.audit(ctx, tx, a, "update", "group", 1, 0, old, g)
	})
	return g, err
}

// ListStores returns the stores in the actor's scope, by code.
func (s *Service) ListStores(ctx context.Context, a auth.Actor) ([]Store, error) {
	if err := auth.Require(a, auth.PermOrgRead); err != nil {
		return nil, err
	}
	where, args, err := auth.Filter(a, auth.PermOrgRead, auth.Columns{Store: "id"}).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+storeCols+` FROM store WHERE `+where+` ORDER BY code`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: list stores: %w", err)
	}
	defer rows.Close()
	out := []Store{}
	for rows.Next() {
		st, err := scanStore(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// GetStore returns one store.
func (s *Service) GetStore(ctx context.Context, a auth.Actor, id int64) (Store, error) {
	if err := auth.Check(a, auth.PermOrgRead, auth.Record{StoreID: id}); err != nil {
		return Store{}, err
	}
	return getStore(ctx, s.db.R, id)
}

// CreateStore adds a store (group scope: only group administrators open stores).
func (s *Service) CreateStore(ctx context.Context, a auth.Actor, in StoreInput) (Store, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return Store{}, err
	}
	if err := auth.Require(a, auth.PermOrgManage); err != nil {
		return Store{}, err
	}
	if a.Scope != auth.ScopeGroup {
		return Store{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	var st Store
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		st, err = CreateStoreTx(ctx, tx, in, s.now())
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "store", st.ID, st.ID, nil, st)
	})
	return st, err
}

// CreateStoreTx inserts a store inside tx (used by setup and demo too).
func CreateStoreTx(ctx context.Context, q db.Querier, in StoreInput, now int64) (Store, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO store(code, name, brand, address, phone, letterhead, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)`,
		in.Code, in.Name, in.Brand, in.Address, in.Phone, in.Letterhead, in.Status, now, now)
	if db.IsUnique(err) {
		return Store{}, apperr.Field("code", "store.code_taken")
	}
	if err != nil {
		return Store{}, fmt.Errorf("org: create store: %w", err)
	}
	id, _ := res.LastInsertId()
	return getStore(ctx, q, id)
}

// UpdateStore edits a store.
func (s *Service) UpdateStore(ctx context.Context, a auth.Actor, id int64, in StoreInput) (Store, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return Store{}, err
	}
	if err := auth.Check(a, auth.PermOrgManage, auth.Record{StoreID: id}); err != nil {
		return Store{}, err
	}
	var st Store
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getStore(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE store SET code=?, name=?, brand=?, address=?, phone=?, letterhead=?, status=?, version=version+1, updated_at=? WHERE id=? AND version=?`,
			in.Code, in.Name, in.Brand, in.Address, in.Phone, in.Letterhead, in.Status, s.now(), id, in.Version)
		if db.IsUnique(err) {
			return apperr.Field("code", "store.code_taken")
		}
		if err != nil {
			return fmt.Errorf("org: update store: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return stale()
		}
		if st, err = getStore(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "update", "store", id, id, old, st)
	})
	return st, err
}

// StoreRecord is the access-check view of a store (attachments such as a logo).
func StoreRecord(ctx context.Context, q db.Querier, id int64) (auth.Record, error) {
	if _, err := getStore(ctx, q, id); err != nil {
		return auth.Record{}, err
	}
	return auth.Record{StoreID: id}, nil
}
