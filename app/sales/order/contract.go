package order

import (
	"context"
	"database/sql"
	"fmt"

	"dealerdesk/app/apperr"
	"dealerdesk/app/approval"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/notify"
	"dealerdesk/app/sales/sop"
)

// ContractDocType is the approval document type of a contract.
const ContractDocType = "contract"

func (s *Service) contractDocType() approval.DocType {
	return approval.DocType{
		Type:     ContractDocType,
		ReadPerm: auth.PermCustomerRead,
		Describe: func(ctx context.Context, q db.Querier, docID int64) (approval.Doc, error) {
			o, err := loadOrder(ctx, q, docID)
			if err != nil {
				return approval.Doc{}, err
			}
			payment := "cash"
			if o.Financed {
				payment = "loan"
			}
			fields := map[string]any{"totalFen": o.TotalFen, "vehiclePriceFen": o.VehiclePriceFen, "discountFen": o.DiscountFen, "payment": payment}
			if gp, ok, err := estimateGross(ctx, q, o); err != nil {
				return approval.Doc{}, err
			} else if ok {
				fields["grossProfitFen"] = gp
			}
			return approval.Doc{StoreID: o.StoreID, OwnerID: o.OwnerID, CustomerID: o.CustomerID,
				Title: o.ContractNo + " " + o.CustomerName + " " + o.ModelName, Link: fmt.Sprintf("/sales/orders/%d", o.ID), Fields: fields}, nil
		},
		Decided: s.contractDecided,
		Default: []approval.Step{{Name: "销售经理审批", Mode: approval.ModeAny, Approvers: []approval.Approver{{Kind: approval.ApproverRole, Role: "sales_manager"}}}},
		FieldsInfo: []approval.FieldInfo{
			{Key: "totalFen", Type: approval.FieldMoney, Label: "order.field.total"},
			{Key: "vehiclePriceFen", Type: approval.FieldMoney, Label: "order.field.vehiclePrice"},
			{Key: "discountFen", Type: approval.FieldMoney, Label: "order.field.discount"},
			{Key: "grossProfitFen", Type: approval.FieldMoney, Label: "order.field.grossProfit", Perm: auth.PermCostRead},
			{Key: "payment", Type: approval.FieldEnum, Options: []string{"cash", "loan"}, Label: "order.field.payment", OptionLabel: "order.paymentType"},
		},
	}
}

// estimateGross is the deal's gross profit before commission for approval
// routing: with the allocated car's cost, or else the average cost of the
// model's cars in the store's stock; false when no cost is known.
func estimateGross(ctx context.Context, q db.Querier, o Order) (int64, bool, error) {
	var cost sql.NullInt64
	var err error
	if o.VehicleID != nil {
		err = q.QueryRowContext(ctx, `SELECT cost FROM vehicle WHERE id = ?`, *o.VehicleID).Scan(&cost)
	} else {
		// Integer fen: the sum and count, divided rounding half up.
		var sum, n int64
		err = q.QueryRowContext(ctx, `SELECT COALESCE(sum(cost), 0), count(*) FROM vehicle WHERE store_id = ? AND model_id = ? AND cost IS NOT NULL AND status IN ('in_stock', 'reserved', 'in_transit', 'ordered')`,
			o.StoreID, o.ModelID).Scan(&sum, &n)
		if n > 0 {
			cost = sql.NullInt64{Int64: (2*sum + n) / (2 * n), Valid: true}
		}
	}
	if err != nil && err != sql.ErrNoRows {
		return 0, false, fmt.Errorf("order: cost estimate of %d: %w", o.ID, err)
	}
	if !cost.Valid {
		return 0, false, nil
	}
	return o.VehiclePriceFen - cost.Int64 + (o.AccessoriesFen - o.costRaw.accessoriesCost) + o.ServiceFeeFen +
		o.costRaw.financeCommission + o.costRaw.insuranceCommission, true, nil
}

// VersionInput carries the version of the order the page showed.
type VersionInput struct {
	Version int64 `json:"version"`
}

// SubmitContract sends a draft contract to approval (draft → pending_approval).
func (s *Service) SubmitContract(ctx context.Context, a auth.Actor, id int64, in VersionInput) (Order, error) {
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		if o.Status != StatusDraft {
			return wrongStatus(o.Status)
		}
		if s.d.Approval == nil {
			return fmt.Errorf("order: no approval engine")
		}
		o, err := s.move(ctx, tx, a, o, in.Version, []string{StatusDraft}, StatusPendingApproval, nil)
		if err != nil {
			return err
		}
		inst, err := s.d.Approval.Submit(ctx, tx, a, ContractDocType, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sales_order SET approval_id = ? WHERE id = ?`, inst.ID, id)
		return err
	})
}

// contractDecided applies the approval: approved signs the contract (the
// customer moves to the contract stage and the ordered lifecycle stage); any
// other outcome returns the order to draft so it can be corrected or cancelled.
func (s *Service) contractDecided(ctx context.Context, tx *sql.Tx, inst approval.Instance, outcome approval.Outcome, by auth.Actor) error {
	o, err := loadOrder(ctx, tx, inst.DocID)
	if err != nil {
		return err
	}
	if o.Status != StatusPendingApproval {
		return nil // cancelled meanwhile is impossible (cancel refuses a pending order); be lenient
	}
	if outcome != approval.Approved {
		after, err := s.move(ctx, tx, by, o, 0, []string{StatusPendingApproval}, StatusDraft, nil)
		if err != nil {
			return err
		}
		// The customer's timeline says the contract came back (rejected,
		// returned or withdrawn), as it says when it is signed.
		return s.event(ctx, tx, by, after, "order.contract_"+string(outcome), map[string]any{"approvalId": inst.ID, "totalFen": o.TotalFen})
	}
	now := s.now()
	o, err = s.move(ctx, tx, by, o, 0, []string{StatusPendingApproval}, StatusSigned, map[string]any{"signed_at": now})
	if err != nil {
		return err
	}
	if err := s.event(ctx, tx, by, o, "order.signed", map[string]any{"totalFen": o.TotalFen, "model": o.ModelName}); err != nil {
		return err
	}
	if s.d.CRM != nil {
		if err := s.d.CRM.AdvanceStageTx(ctx, tx, o.CustomerID, "ordered"); err != nil {
			return err
		}
	}
	if s.d.SOP != nil {
		if err := s.d.SOP.AdvanceTx(ctx, tx, o.CustomerID, "contract"); err != nil {
			return err
		}
	}
	if s.d.Notify != nil {
		return s.d.Notify.Emit(ctx, tx, notify.Event{Type: "order.signed", StoreID: o.StoreID, Entity: "order", EntityID: o.ID,
			Data: map[string]any{"contractNo": o.ContractNo, "customerId": o.CustomerID, "ownerId": o.OwnerID, "model": o.ModelName, "color": o.Color, "totalFen": o.TotalFen}})
	}
	return nil
}

// gates are the SOP conditions orders prove.
func gates() []sop.Gate {
	exists := func(key, query string) sop.Gate {
		return sop.Gate{Key: key, Check: func(ctx context.Context, q db.Querier, id int64) (bool, error) {
			var ok int
			if err := q.QueryRowContext(ctx, query, id).Scan(&ok); err != nil {
				return false, fmt.Errorf("order: gate %s for customer %d: %w", key, id, err)
			}
			return ok == 1, nil
		}}
	}
	return []sop.Gate{
		// A contract signed (approved) and not cancelled.
		exists("order_signed", `SELECT EXISTS (SELECT 1 FROM sales_order WHERE customer_id = ? AND status IN ('signed', 'vin_allocated', 'pdi_done', 'delivery_scheduled', 'delivered', 'closed'))`),
		// A deposit recorded on an order that is not cancelled.
		exists("deposit_paid", `SELECT EXISTS (SELECT 1 FROM sales_order o JOIN sales_order_payment p ON p.order_id = o.id
			WHERE o.customer_id = ? AND o.status <> 'cancelled' AND p.kind = 'deposit' AND p.status <> 'void')`),
		// A VIN allocated to a live order.
		exists("vin_allocated", `SELECT EXISTS (SELECT 1 FROM sales_order WHERE customer_id = ? AND vehicle_id IS NOT NULL AND status <> 'cancelled')`),
		// The PDI of a live order completed.
		exists("pdi_done", `SELECT EXISTS (SELECT 1 FROM sales_order WHERE customer_id = ? AND pdi_at IS NOT NULL AND status IN ('pdi_done', 'delivery_scheduled', 'delivered', 'closed'))`),
	}
}

var _ = apperr.New
