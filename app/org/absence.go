package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Absence is a period a user is away (leave, training, day off). While absent a
// user receives no new leads (L3) and a delegate may decide their approvals (S5).
type Absence struct {
	ID           int64  `json:"id"`
	UserID       int64  `json:"userId"`
	UserName     string `json:"userName"`
	FromAt       int64  `json:"fromAt"`
	UntilAt      int64  `json:"untilAt"`
	DelegateID   *int64 `json:"delegateId"`
	DelegateName string `json:"delegateName"`
	Reason       string `json:"reason"`
}

// AbsenceInput records an absence.
type AbsenceInput struct {
	FromAt     int64  `json:"fromAt"`
	UntilAt    int64  `json:"untilAt"`
	DelegateID *int64 `json:"delegateId"`
	Reason     string `json:"reason"`
}

// Validate checks the shape of an absence.
func (in *AbsenceInput) Validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	f := apperr.Fields{}
	if in.FromAt <= 0 {
		f.Add("fromAt", "required")
	}
	if in.UntilAt <= in.FromAt {
		f.Add("untilAt", "absence.until_before_from")
	}
	if len([]rune(in.Reason)) > 200 {
		f.Add("reason", "too_long", "max", 200)
	}
	return f.Err()
}

// mayManageAbsence: one's own absence, or a user the actor manages (user.manage)
// or whose leads they assign (customer.assign, e.g. the sales manager) in scope.
func mayManageAbsence(a auth.Actor, u User) error {
	if a.UserID != 0 && a.UserID == u.ID {
		return nil
	}
	if auth.Can(a, auth.PermUserManage, u.record()) || auth.Can(a, auth.PermCustomerAssign, u.record()) {
		return nil
	}
	// Someone else's absences are not shown to those who do not manage them.
	return apperr.New(apperr.NotFound, "not_found")
}

// ListAbsences returns a user's current and future absences.
func (s *Service) ListAbsences(ctx context.Context, a auth.Actor, userID int64) (api.List[Absence], error) {
	u, err := getUser(ctx, s.db.R, userID)
	if err != nil {
		return api.List[Absence]{}, err
	}
	if err := mayManageAbsence(a, u); err != nil {
		return api.List[Absence]{}, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT a.id, a.user_id, u.name, a.from_at, a.until_at, a.delegate_id, COALESCE(d.name, ''), a.reason
		FROM user_absence a JOIN app_user u ON u.id = a.user_id LEFT JOIN app_user d ON d.id = a.delegate_id
		WHERE a.user_id = ? AND a.until_at > ? ORDER BY a.from_at`, userID, s.now())
	if err != nil {
		return api.List[Absence]{}, fmt.Errorf("org: list absences: %w", err)
	}
	defer rows.Close()
	out := api.List[Absence]{Items: []Absence{}}
	for rows.Next() {
		var x Absence
		var del sql.NullInt64
		if err := rows.Scan(&x.ID, &x.UserID, &x.UserName, &x.FromAt, &x.UntilAt, &del, &x.DelegateName, &x.Reason); err != nil {
			return out, err
		}
		x.DelegateID = nonZero(del)
		out.Items = append(out.Items, x)
	}
	return out, rows.Err()
}

// CreateAbsence records an absence for a user.
func (s *Service) CreateAbsence(ctx context.Context, a auth.Actor, userID int64, in AbsenceInput) (Absence, error) {
	if err := in.Validate(); err != nil {
		return Absence{}, err
	}
	var out Absence
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := mayManageAbsence(a, u); err != nil {
			return err
		}
		var delegateName string
		if in.DelegateID != nil {
			if *in.DelegateID == userID {
				return apperr.Field("delegateId", "absence.self_delegate")
			}
			d, err := getUser(ctx, tx, *in.DelegateID)
			if apperr.Is(err, apperr.NotFound) || (err == nil && (d.Status != "active" || d.StoreID != u.StoreID)) {
				return apperr.Field("delegateId", "absence.bad_delegate")
			} else if err != nil {
				return err
			}
			delegateName = d.Name
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO user_absence (user_id, from_at, until_at, delegate_id, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			userID, in.FromAt, in.UntilAt, in.DelegateID, in.Reason, nullInt(a.UserID), s.now())
		if err != nil {
			return fmt.Errorf("org: create absence: %w", err)
		}
		id, _ := r.LastInsertId()
		out = Absence{ID: id, UserID: userID, UserName: u.Name, FromAt: in.FromAt, UntilAt: in.UntilAt, DelegateID: in.DelegateID, DelegateName: delegateName, Reason: in.Reason}
		return s.audit(ctx, tx, a, "create", "user_absence", id, u.StoreID, nil, out)
	})
	return out, err
}

// DeleteAbsence removes an absence (e.g. the user came back early).
func (s *Service) DeleteAbsence(ctx context.Context, a auth.Actor, userID, id int64) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := mayManageAbsence(a, u); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM user_absence WHERE id = ? AND user_id = ?`, id, userID)
		if err != nil {
			return fmt.Errorf("org: delete absence: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "not_found")
		}
		return s.audit(ctx, tx, a, "delete", "user_absence", id, u.StoreID, nil, nil)
	})
}

// AbsentAt returns which of the users are absent at time t (unix ms).
func AbsentAt(ctx context.Context, q db.Querier, userIDs []int64, t int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(userIDs) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(userIDs)+2)
	for _, id := range userIDs {
		args = append(args, id)
	}
	args = append(args, t, t)
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT user_id FROM user_absence WHERE user_id IN (?`+strings.Repeat(",?", len(userIDs)-1)+`) AND from_at <= ? AND until_at > ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: absent at: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// DelegateAt returns the delegate named by the user's absence covering t, or 0.
func DelegateAt(ctx context.Context, q db.Querier, userID, t int64) (int64, error) {
	var id sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT delegate_id FROM user_absence WHERE user_id = ? AND from_at <= ? AND until_at > ? AND delegate_id IS NOT NULL ORDER BY from_at DESC LIMIT 1`, userID, t, t).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("org: delegate of %d: %w", userID, err)
	}
	return id.Int64, nil
}

// DelegatorsAt returns the users who are absent at t and named userID as their
// delegate (so userID may act for them).
func DelegatorsAt(ctx context.Context, q db.Querier, userID, t int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT user_id FROM user_absence WHERE delegate_id = ? AND from_at <= ? AND until_at > ?`, userID, t, t)
	if err != nil {
		return nil, fmt.Errorf("org: delegators of %d: %w", userID, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
