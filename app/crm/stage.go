package crm

import (
	"context"
	"fmt"
	"slices"

	"dealerdesk/app/db"
	"dealerdesk/app/findex"
)

// AdvanceStageTx moves a customer's lifecycle stage (L6) forward to stage —
// ordered when a contract is signed, delivered when the car is handed over —
// inside the caller's transaction; it never moves a customer backward (an
// owner stays an owner). The sales module calls it; the timeline entry is the
// caller's event (order signed, car delivered).
func (s *Service) AdvanceStageTx(ctx context.Context, q db.Querier, customerID int64, stage string) error {
	rank := slices.Index(Stages, stage)
	if rank < 0 {
		return fmt.Errorf("crm: unknown stage %q", stage)
	}
	var lower []any
	for _, st := range Stages[:rank] {
		lower = append(lower, st)
	}
	if len(lower) == 0 {
		return nil
	}
	in := "?"
	for i := 1; i < len(lower); i++ {
		in += ", ?"
	}
	now := s.now()
	args := append([]any{stage, now, customerID}, lower...)
	r, err := q.ExecContext(ctx, `UPDATE customer SET stage = ?, updated_at = ?, version = version + 1 WHERE id = ? AND stage IN (`+in+`)`, args...)
	if err != nil {
		return fmt.Errorf("crm: advance stage of %d: %w", customerID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil
	}
	return findex.Mark(ctx, q, searchKind, customerID)
}

// ReopenOrderedTx takes a customer whose only contract was cancelled back from
// lifecycle stage "ordered" to "prospect" (意向), inside the caller's
// transaction; a customer at any other stage is left alone. The caller decides
// that no other live contract keeps the customer ordered.
func (s *Service) ReopenOrderedTx(ctx context.Context, q db.Querier, customerID int64) error {
	r, err := q.ExecContext(ctx, `UPDATE customer SET stage = 'prospect', updated_at = ?, version = version + 1 WHERE id = ? AND stage = 'ordered'`, s.now(), customerID)
	if err != nil {
		return fmt.Errorf("crm: reopen %d: %w", customerID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil
	}
	return findex.Mark(ctx, q, searchKind, customerID)
}
