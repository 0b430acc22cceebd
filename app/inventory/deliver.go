package inventory

import (
	"context"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/timeline"
)

// DeliverTx marks a sold car delivered (已交付) inside the caller's transaction
// (the sales order's delivery): sold → delivered by a conditional update on its
// status and version, with history, audit, search mark and the customer's
// timeline. A car that is not sold is 409 vehicle.transition_refused. The
// caller wakes the index after commit.
func (s *Service) DeliverTx(ctx context.Context, tx db.Querier, a auth.Actor, vehicleID, orderID int64) error {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return err
	}
	v, err := readable(ctx, tx, a, vehicleID)
	if err != nil {
		return err
	}
	if v.Status != StatusSold {
		return apperr.New(apperr.Conflict, "vehicle.transition_refused")
	}
	if err := s.moveTx(ctx, tx, a, v, StatusDelivered, nil, map[string]any{"orderId": orderID}); err != nil {
		return err
	}
	if v.ReservedCustomerID == nil {
		return nil
	}
	return timeline.Append(ctx, tx, timeline.Event{CustomerID: *v.ReservedCustomerID, StoreID: v.StoreID, At: s.now(), Kind: "vehicle.delivered",
		Entity: "vehicle", EntityID: vehicleID, Data: map[string]any{"vin": v.VIN, "model": v.SeriesName + " " + v.ModelName}}.By(a))
}
