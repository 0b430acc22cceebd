package org

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
)

// Service manages the organisation.
type Service struct {
	db    *db.DB
	auth  *auth.Service
	clock clock.Clock
	log   *slog.Logger
}

// NewService returns the organisation service.
func NewService(d *db.DB, a *auth.Service, c clock.Clock, log *slog.Logger) *Service {
	return &Service{db: d, auth: a, clock: c, log: log}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id int64, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

// stale is the error for an update whose version is not the stored one.
func stale() error { return apperr.New(apperr.Conflict, "conflict.stale") }

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

// nonZero returns nil for 0, else a pointer to v (JSON null for "none").
func nonZero(v sql.NullInt64) *int64 {
	if !v.Valid || v.Int64 == 0 {
		return nil
	}
	x := v.Int64
	return &x
}
