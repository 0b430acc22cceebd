package sales

import (
	"context"
	"database/sql"
	"fmt"

	"dealerdesk/app/approval"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// QuoteDocType is the approval document type of a quote over the store's limits
// (特价审批).
const QuoteDocType = "quote"

// quoteDocType describes quotes to the approval engine. Routing rules can look
// at the discount (fen and basis points of MSRP), the margin (basis points; only
// when the vehicle cost is known), the total, the model and whether it is
// financed, e.g. discountFen > 2,000,000 → sales manager, > 5,000,000 → GM.
func (s *Service) quoteDocType() approval.DocType {
	return approval.DocType{
		Type:     QuoteDocType,
		ReadPerm: auth.PermCustomerRead,
		Describe: func(ctx context.Context, q db.Querier, docID int64) (approval.Doc, error) {
			r, err := loadRow(ctx, q, docID)
			if err != nil {
				return approval.Doc{}, err
			}
			rec, _, err := customerRecord(ctx, q, r.CustomerID)
			if err != nil {
				return approval.Doc{}, err
			}
			var name string
			if err := q.QueryRowContext(ctx, `SELECT name FROM customer WHERE id = ?`, r.CustomerID).Scan(&name); err != nil {
				return approval.Doc{}, err
			}
			fields := map[string]any{
				"discountFen": r.Discount,
				"discountPct": ratioBP(Fen(r.Discount), Fen(r.MSRP)),
				"totalFen":    r.Total,
				"msrpFen":     r.MSRP,
				"model":       r.ModelLabel,
				"financed":    boolText(r.MonthlyPay > 0 || r.AmountFinanced > 0),
			}
			if r.VehicleCost > 0 {
				fields["marginPct"] = r.GrossMarginBP
			}
			title := fmt.Sprintf("%s 第%d版 · %s · %s", r.Number, r.Version, name, r.ModelLabel)
			return approval.Doc{StoreID: r.StoreID, OwnerID: deref(nullable(r.OwnerID)), DepartmentID: rec.DepartmentID, CustomerID: r.CustomerID,
				Title: title, Link: fmt.Sprintf("/sales/quotes/%d", r.ID), Fields: fields}, nil
		},
		Decided: s.quoteDecided,
		Default: []approval.Step{{Name: "销售经理审批", Mode: approval.ModeAny, Approvers: []approval.Approver{{Kind: approval.ApproverRole, Role: "sales_manager"}}}},
		FieldsInfo: []approval.FieldInfo{
			{Key: "discountFen", Type: approval.FieldMoney, Label: "quote.field.discountFen"},
			{Key: "discountPct", Type: approval.FieldPercent, Label: "quote.field.discountPct"},
			{Key: "marginPct", Type: approval.FieldPercent, Label: "quote.field.marginPct", Perm: auth.PermCostRead},
			{Key: "totalFen", Type: approval.FieldMoney, Label: "quote.field.totalFen"},
			{Key: "msrpFen", Type: approval.FieldMoney, Label: "quote.field.msrpFen"},
			{Key: "model", Type: approval.FieldText, Label: "quote.field.model"},
			{Key: "financed", Type: approval.FieldEnum, Options: []string{"yes", "no"}, Label: "quote.field.financed", OptionLabel: "quote.yesNo"},
		},
	}
}

func boolText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// quoteDecided applies the approval's outcome in the deciding transaction:
// approved → approved (it can be sent); rejected, returned or withdrawn → back
// to draft, with the outcome kept in approval_status.
func (s *Service) quoteDecided(ctx context.Context, tx *sql.Tx, inst approval.Instance, outcome approval.Outcome, by auth.Actor) error {
	r, err := loadRow(ctx, tx, inst.DocID)
	if err != nil {
		return err
	}
	to := StatusDraft
	if outcome == approval.Approved {
		to = StatusApproved
	}
	now := s.now()
	res, err := tx.ExecContext(ctx, `UPDATE quote SET status = ?, approval_status = ?, approval_id = ?, rev = rev + 1, updated_at = ?
		WHERE id = ? AND status = 'pending_approval'`, to, string(outcome), inst.ID, now, r.ID)
	if err != nil {
		return fmt.Errorf("sales: quote %d decided: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // not waiting any more (nothing to apply)
	}
	kind := "quote." + string(outcome)
	if err := s.event(ctx, tx, by, r.CustomerID, r.StoreID, r.ID, kind, map[string]any{"number": r.Number, "version": r.Version,
		"total": r.Total, "approvalId": inst.ID}); err != nil {
		return err
	}
	return s.audit(ctx, tx, by, "approval_"+string(outcome), r.ID, r.StoreID, map[string]any{"status": r.Status}, map[string]any{"status": to, "approvalId": inst.ID})
}
