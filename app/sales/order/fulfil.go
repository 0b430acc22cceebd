package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/inventory"
	"dealerdesk/app/task"
)

// AllocateInput picks the car (VIN) for an order.
type AllocateInput struct {
	VehicleID int64 `json:"vehicleId"`
	Version   int64 `json:"version"`
}

// AllocateVehicle locks a car of the order's model to the order: the car is
// sold to the customer (inventory.SellTx, one conditional update) in the
// order's transaction, and the order's partial unique index on vehicle_id
// makes sure one VIN serves one live order. Changing the VIN returns the old
// car to stock in the same transaction and starts the PDI again. A colour
// different from the contract's is allowed with the warning
// order.color_mismatch.
func (s *Service) AllocateVehicle(ctx context.Context, a auth.Actor, id int64, in AllocateInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	if in.VehicleID <= 0 {
		return Order{}, apperr.Field("vehicleId", "required")
	}
	var warnings []string
	o, err := s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		if err := fresh(o, in.Version); err != nil {
			return err
		}
		allowed := []string{StatusSigned, StatusVINAllocated, StatusPDIDone}
		if !contains(allowed, o.Status) {
			if o.Status == StatusDraft || o.Status == StatusPendingApproval {
				return apperr.New(apperr.Conflict, "order.not_signed")
			}
			return wrongStatus(o.Status)
		}
		if o.VehicleID != nil && *o.VehicleID == in.VehicleID {
			return apperr.Field("vehicleId", "order.same_vehicle")
		}
		var modelID int64
		var color string
		err := tx.QueryRowContext(ctx, `SELECT model_id, color FROM vehicle WHERE id = ?`, in.VehicleID).Scan(&modelID, &color)
		if err == sql.ErrNoRows {
			return apperr.Field("vehicleId", "order.vehicle_unknown")
		} else if err != nil {
			return err
		}
		if modelID != o.ModelID {
			return apperr.Field("vehicleId", "order.model_mismatch")
		}
		if o.Color != "" && color != o.Color {
			warnings = append(warnings, "order.color_mismatch")
		}
		old := o.VehicleID
		if old != nil {
			if err := s.d.Inventory.ReturnToStockTx(ctx, tx, a, *old, "vin_changed"); err != nil {
				return err
			}
		}
		v, err := s.d.Inventory.SellTx(ctx, tx, a, in.VehicleID, o.CustomerID, o.ID)
		if err != nil {
			if apperr.Is(err, apperr.Invalid) {
				return apperr.Field("vehicleId", "order.vehicle_unknown")
			}
			return err
		}
		st, err := LoadSettings(ctx, tx, o.StoreID)
		if err != nil {
			return err
		}
		pdi, _ := json.Marshal(pdiFrom(st.PDIItems))
		now := s.now()
		after, err := s.move(ctx, tx, a, o, 0, allowed, StatusVINAllocated, map[string]any{"vehicle_id": v.ID, "vin": v.VIN, "vin_at": now,
			"pdi": string(pdi), "pdi_at": nil, "pdi_by": nil})
		if err != nil {
			return err
		}
		kind, data := "order.vin_allocated", map[string]any{"vin": v.VIN, "color": v.Color, "model": o.ModelName}
		if old != nil {
			kind, data["oldVin"] = "order.vin_changed", o.VIN
		}
		return s.event(ctx, tx, a, after, kind, data)
	})
	if err == nil {
		o.Warnings = warnings
	}
	return o, err
}

func pdiFrom(items []CheckItem) []PDIItem {
	out := make([]PDIItem, len(items))
	for i, it := range items {
		out[i] = PDIItem{Key: it.Key, Label: it.Label}
	}
	return out
}

// PDIInput saves the PDI checklist; Complete finishes it (every item ok).
type PDIInput struct {
	Items    []PDIItem `json:"items"`
	Complete bool      `json:"complete"`
	Version  int64     `json:"version"`
}

// SavePDI records the PDI results of the allocated car. Completing it needs
// every item checked ok (an issue must be fixed and checked again) and moves
// the order to pdi_done.
func (s *Service) SavePDI(ctx context.Context, a auth.Actor, id int64, in PDIInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		if o.Status != StatusVINAllocated {
			if contains([]string{StatusDraft, StatusPendingApproval, StatusSigned}, o.Status) {
				return apperr.New(apperr.Conflict, "order.no_vehicle")
			}
			return wrongStatus(o.Status)
		}
		got := map[string]PDIItem{}
		for _, it := range in.Items {
			got[it.Key] = it
		}
		f := apperr.Fields{}
		items := o.PDI
		for i := range items {
			g, ok := got[items[i].Key]
			if !ok {
				continue
			}
			g.Note = strings.TrimSpace(g.Note)
			if g.State != "" && g.State != "ok" && g.State != "issue" {
				f.Add(fmt.Sprintf("items.%d.state", i), "invalid_format")
			}
			if g.State == "issue" && g.Note == "" {
				f.Add(fmt.Sprintf("items.%d.note", i), "order.pdi_issue_note")
			}
			limitText(f, fmt.Sprintf("items.%d.note", i), g.Note, 300)
			items[i].State, items[i].Note = g.State, g.Note
		}
		if in.Complete {
			for i, it := range items {
				switch it.State {
				case "":
					f.Add(fmt.Sprintf("items.%d.state", i), "order.pdi_unchecked")
				case "issue":
					f.Add(fmt.Sprintf("items.%d.state", i), "order.pdi_issue_open")
				}
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		b, _ := json.Marshal(items)
		set := map[string]any{"pdi": string(b)}
		to := o.Status
		if in.Complete {
			to, set["pdi_at"], set["pdi_by"] = StatusPDIDone, s.now(), nullable(a.UserID)
		}
		after, err := s.move(ctx, tx, a, o, in.Version, []string{StatusVINAllocated}, to, set)
		if err != nil {
			return err
		}
		if in.Complete {
			return s.event(ctx, tx, a, after, "order.pdi_done", map[string]any{"vin": o.VIN, "items": len(items)})
		}
		return nil
	})
}

// ScheduleInput books the delivery (交车预约).
type ScheduleInput struct {
	DeliveryAt int64  `json:"deliveryAt"`
	Place      string `json:"place"` // 交车区/工位
	Version    int64  `json:"version"`
}

// ScheduleDelivery books or moves the delivery appointment after the PDI. The
// consultant gets a task due at the appointment with a reminder a day before;
// moving the appointment replaces that task.
func (s *Service) ScheduleDelivery(ctx context.Context, a auth.Actor, id int64, in ScheduleInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	now := s.now()
	in.Place = strings.TrimSpace(in.Place)
	f := apperr.Fields{}
	if in.DeliveryAt <= now || in.DeliveryAt > now+180*day {
		f.Add("deliveryAt", "order.delivery_future")
	}
	limitText(f, "place", in.Place, 100)
	if err := f.Err(); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		from := []string{StatusPDIDone, StatusDeliveryScheduled}
		if !contains(from, o.Status) {
			if contains([]string{StatusDraft, StatusPendingApproval, StatusSigned, StatusVINAllocated}, o.Status) {
				return apperr.New(apperr.Conflict, "order.pdi_not_done")
			}
			return wrongStatus(o.Status)
		}
		set := map[string]any{"delivery_at": in.DeliveryAt, "delivery_place": in.Place}
		if len(o.DeliveryChecklist) == 0 {
			st, err := LoadSettings(ctx, tx, o.StoreID)
			if err != nil {
				return err
			}
			items := make([]DeliveryItem, len(st.DeliveryItems))
			for i, it := range st.DeliveryItems {
				items[i] = DeliveryItem{Key: it.Key, Label: it.Label, Required: it.Required}
			}
			b, _ := json.Marshal(items)
			set["delivery_checklist"] = string(b)
		}
		after, err := s.move(ctx, tx, a, o, in.Version, from, StatusDeliveryScheduled, set)
		if err != nil {
			return err
		}
		if err := cancelOrderTasks(ctx, tx, o.ID, "delivery", now); err != nil {
			return err
		}
		remind := in.DeliveryAt - day
		if remind < now {
			remind = now
		}
		if _, err := task.Create(ctx, tx, task.New{StoreID: o.StoreID, AssigneeID: o.OwnerID, Title: s.text("order.task.delivery") + " " + o.CustomerName + " " + o.ModelName,
			Note: in.Place, Kind: "delivery", CustomerID: o.CustomerID, Entity: "order", EntityID: o.ID, DueAt: in.DeliveryAt, RemindAt: remind, CreatedBy: a.UserID}, now); err != nil {
			return err
		}
		return s.event(ctx, tx, a, after, "order.delivery_scheduled", map[string]any{"deliveryAt": in.DeliveryAt, "place": in.Place, "vin": o.VIN})
	})
}

// text is server-made UI text (task titles) in the store's language (zh-CN).
func (s *Service) text(key string) string {
	if s.d.Text != nil {
		if t := s.d.Text("zh-CN", key); t != "" && t != key {
			return t
		}
	}
	return map[string]string{"order.task.delivery": "交车", "order.task.callback": "交车回访"}[key]
}

func cancelOrderTasks(ctx context.Context, q db.Querier, orderID int64, kind string, now int64) error {
	query := `UPDATE task SET status = 'cancelled', updated_at = ?, version = version + 1 WHERE entity = 'order' AND entity_id = ? AND status = 'open'`
	args := []any{now, orderID}
	if kind != "" {
		query += ` AND kind = ?`
		args = append(args, kind)
	}
	_, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("order: cancel tasks of %d: %w", orderID, err)
	}
	return nil
}

// ChecklistInput ticks the delivery checklist.
type ChecklistInput struct {
	Items   []DeliveryItem `json:"items"`
	Version int64          `json:"version"`
}

// SaveChecklist records the delivery checklist (from PDI done on).
func (s *Service) SaveChecklist(ctx context.Context, a auth.Actor, id int64, in ChecklistInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		if o.Status != StatusDeliveryScheduled {
			return wrongStatus(o.Status)
		}
		got := map[string]bool{}
		for _, it := range in.Items {
			got[it.Key] = it.Done
		}
		items := o.DeliveryChecklist
		for i := range items {
			if d, ok := got[items[i].Key]; ok {
				items[i].Done = d
			}
		}
		b, _ := json.Marshal(items)
		_, err := s.move(ctx, tx, a, o, in.Version, []string{StatusDeliveryScheduled}, o.Status, map[string]any{"delivery_checklist": string(b)})
		return err
	})
}

// Deliver hands the car over: the appointment is booked, every required
// checklist item is ticked and the balance is paid. In one transaction the
// car becomes delivered, the customer moves to the delivered lifecycle stage
// and the SOP delivery stage, and the callback ladder becomes tasks.
func (s *Service) Deliver(ctx context.Context, a auth.Actor, id int64, in VersionInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		if err := fresh(o, in.Version); err != nil {
			return err
		}
		if o.Status != StatusDeliveryScheduled {
			switch {
			case contains([]string{StatusDraft, StatusPendingApproval}, o.Status):
				return apperr.New(apperr.Conflict, "order.not_signed")
			case contains([]string{StatusSigned, StatusVINAllocated, StatusPDIDone}, o.Status):
				return apperr.New(apperr.Conflict, "order.not_scheduled")
			}
			return wrongStatus(o.Status)
		}
		f := apperr.Fields{}
		for i, it := range o.DeliveryChecklist {
			if it.Required && !it.Done {
				f.Add(fmt.Sprintf("checklist.%d", i), "order.checklist_open")
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if o.BalanceFen > 0 {
			e := apperr.New(apperr.Conflict, "order.balance_due")
			e.Details = map[string]any{"balanceFen": o.BalanceFen}
			return e
		}
		now := s.now()
		if err := s.d.Inventory.DeliverTx(ctx, tx, a, *o.VehicleID, o.ID); err != nil {
			return err
		}
		after, err := s.move(ctx, tx, a, o, 0, []string{StatusDeliveryScheduled}, StatusDelivered, map[string]any{"delivered_at": now, "delivered_by": nullable(a.UserID)})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE task SET status = 'done', done_at = ?, updated_at = ?, version = version + 1
			WHERE entity = 'order' AND entity_id = ? AND kind = 'delivery' AND status = 'open'`, now, now, o.ID); err != nil {
			return err
		}
		n, err := s.createCallbacks(ctx, tx, a, after, now)
		if err != nil {
			return err
		}
		if s.d.CRM != nil {
			if err := s.d.CRM.AdvanceStageTx(ctx, tx, o.CustomerID, "delivered"); err != nil {
				return err
			}
		}
		if s.d.SOP != nil {
			if err := s.d.SOP.AdvanceTx(ctx, tx, o.CustomerID, "delivery"); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, a, after, "order.delivered", map[string]any{"vin": o.VIN, "model": o.ModelName, "callbacks": n})
	})
}

// createCallbacks makes the callback ladder of the store's settings into
// tasks, due offsetDays after delivery, each with its owner.
func (s *Service) createCallbacks(ctx context.Context, tx db.Querier, a auth.Actor, o Order, now int64) (int, error) {
	st, err := LoadSettings(ctx, tx, o.StoreID)
	if err != nil {
		return 0, err
	}
	for _, rule := range st.Callbacks {
		who, err := s.assignee(ctx, tx, o, rule.Assignee)
		if err != nil {
			return 0, err
		}
		title := rule.Title
		if title == "" {
			title = s.text("order.task.callback") + fmt.Sprintf(" D+%d", rule.OffsetDays)
		}
		title += " · " + o.CustomerName
		due := now + int64(rule.OffsetDays)*day
		if _, err := task.Create(ctx, tx, task.New{StoreID: o.StoreID, AssigneeID: who, Title: title, Note: o.ContractNo + " " + o.ModelName,
			Kind: "callback", CustomerID: o.CustomerID, Entity: "order", EntityID: o.ID, DueAt: due, RemindAt: due - 2*int64(time.Hour/time.Millisecond), CreatedBy: a.UserID}, now); err != nil {
			return 0, err
		}
	}
	return len(st.Callbacks), nil
}

// assignee resolves a callback rule's owner: the consultant, the store's sales
// manager (else GM), a role's first active user in the store, or a user of
// the store; the consultant when nobody fits.
func (s *Service) assignee(ctx context.Context, q db.Querier, o Order, rule string) (int64, error) {
	byRole := func(roles ...string) (int64, error) {
		for _, r := range roles {
			var id int64
			err := q.QueryRowContext(ctx, `SELECT u.id FROM app_user u JOIN role r ON r.id = u.role_id WHERE u.store_id = ? AND u.status = 'active' AND r.code = ? ORDER BY u.id LIMIT 1`,
				o.StoreID, r).Scan(&id)
			if err == nil {
				return id, nil
			}
			if err != sql.ErrNoRows {
				return 0, err
			}
		}
		return o.OwnerID, nil
	}
	switch {
	case rule == AssignSalesManager:
		return byRole("sales_manager", "gm")
	case strings.HasPrefix(rule, "role:"):
		return byRole(strings.TrimPrefix(rule, "role:"))
	case strings.HasPrefix(rule, "user:"):
		uid, _ := strconv.ParseInt(strings.TrimPrefix(rule, "user:"), 10, 64)
		var id int64
		err := q.QueryRowContext(ctx, `SELECT id FROM app_user WHERE id = ? AND store_id = ? AND status = 'active'`, uid, o.StoreID).Scan(&id)
		if err == nil {
			return id, nil
		}
		if err != sql.ErrNoRows {
			return 0, err
		}
	}
	return o.OwnerID, nil
}

func loadCallbacks(ctx context.Context, q db.Querier, orderID int64) ([]Callback, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.id, t.title, t.assignee_id, COALESCE(u.name, ''), t.due_at, t.status, t.done_at, t.note FROM task t
		LEFT JOIN app_user u ON u.id = t.assignee_id WHERE t.entity = 'order' AND t.entity_id = ? AND t.kind = 'callback' ORDER BY t.due_at, t.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("order: callbacks of %d: %w", orderID, err)
	}
	defer rows.Close()
	out := []Callback{}
	for rows.Next() {
		var c Callback
		var done sql.NullInt64
		if err := rows.Scan(&c.TaskID, &c.Title, &c.AssigneeID, &c.AssigneeName, &c.DueAt, &c.Status, &done, &c.Note); err != nil {
			return nil, err
		}
		c.DoneAt = ptr(done)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Close ends a delivered order once no callback is open (the job does this by
// itself; the manager's button does it at once).
func (s *Service) Close(ctx context.Context, a auth.Actor, id int64, in VersionInput) (Order, error) {
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		return s.closeTx(ctx, tx, a, o, in.Version)
	})
}

func (s *Service) closeTx(ctx context.Context, tx db.Querier, a auth.Actor, o Order, version int64) error {
	if o.Status != StatusDelivered {
		return wrongStatus(o.Status)
	}
	var open int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM task WHERE entity = 'order' AND entity_id = ? AND kind = 'callback' AND status = 'open'`, o.ID).Scan(&open); err != nil {
		return err
	}
	if open > 0 {
		e := apperr.New(apperr.Conflict, "order.callbacks_open")
		e.Details = map[string]any{"open": open}
		return e
	}
	after, err := s.move(ctx, tx, a, o, version, []string{StatusDelivered}, StatusClosed, map[string]any{"closed_at": s.now()})
	if err != nil {
		return err
	}
	return s.event(ctx, tx, a, after, "order.closed", nil)
}

// CloseDone closes every delivered order whose callback ladder is finished
// (each in its own transaction, conditional like the button). It returns how many.
func (s *Service) CloseDone(ctx context.Context) (int, error) {
	ids, err := db.IDs(ctx, s.d.DB.R, `SELECT o.id FROM sales_order o WHERE o.status = 'delivered'
		AND EXISTS (SELECT 1 FROM task t WHERE t.entity = 'order' AND t.entity_id = o.id AND t.kind = 'callback')
		AND NOT EXISTS (SELECT 1 FROM task t WHERE t.entity = 'order' AND t.entity_id = o.id AND t.kind = 'callback' AND t.status = 'open') LIMIT 500`)
	if err != nil {
		return 0, fmt.Errorf("order: closable: %w", err)
	}
	sys := auth.System("system")
	n := 0
	for _, id := range ids {
		err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
			o, err := loadOrder(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := s.closeTx(ctx, tx, sys, o, 0); err != nil {
				if apperr.Is(err, apperr.Conflict) {
					return nil
				}
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// CancelInput cancels an order.
type CancelInput struct {
	Reason  string `json:"reason"` // one of the settings' cancel reasons
	Note    string `json:"note"`
	Version int64  `json:"version"`
}

// Cancel ends an order before delivery. A draft is the consultant's to cancel;
// once signed, cancelling breaks a contract, so it needs customer.assign (the
// sales manager, the GM). A contract in approval is withdrawn or decided
// first. In one transaction the car goes back to stock, the quote back to
// accepted, the order's open tasks are cancelled; money paid stays as a
// refund due until finance records the refund.
func (s *Service) Cancel(ctx context.Context, a auth.Actor, id int64, in CancelInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	in.Reason, in.Note = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Note)
	f := apperr.Fields{}
	if in.Reason == "" {
		f.Add("reason", "required")
	}
	limitText(f, "reason", in.Reason, 50)
	limitText(f, "note", in.Note, 500)
	if in.Reason == "other" && in.Note == "" {
		f.Add("note", "required")
	}
	if err := f.Err(); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		if err := fresh(o, in.Version); err != nil {
			return err
		}
		st, err := LoadSettings(ctx, tx, o.StoreID)
		if err != nil {
			return err
		}
		if !contains(st.CancelReasons, in.Reason) {
			return apperr.Field("reason", "order.cancel_reason")
		}
		switch o.Status {
		case StatusPendingApproval:
			return apperr.New(apperr.Conflict, "order.approval_pending")
		case StatusDelivered, StatusClosed, StatusCancelled:
			return wrongStatus(o.Status)
		case StatusDraft:
		default:
			if !a.Has(auth.PermCustomerAssign) {
				return apperr.New(apperr.Forbidden, "order.cancel_needs_manager")
			}
		}
		now := s.now()
		if o.VehicleID != nil {
			if err := s.d.Inventory.ReturnToStockTx(ctx, tx, a, *o.VehicleID, "order_cancelled"); err != nil {
				return err
			}
		}
		if s.d.Sales != nil {
			if err := s.d.Sales.ReleaseQuoteTx(ctx, tx, o.QuoteID); err != nil {
				return err
			}
		}
		if err := cancelOrderTasks(ctx, tx, o.ID, "", now); err != nil {
			return err
		}
		after, err := s.move(ctx, tx, a, o, 0, []string{o.Status}, StatusCancelled, map[string]any{"cancel_reason": in.Reason, "cancel_note": in.Note,
			"cancelled_at": now, "cancelled_by": nullable(a.UserID)})
		if err != nil {
			return err
		}
		// A broken contract takes the customer back from 订单 to 意向, unless
		// another live contract keeps them ordered.
		if o.Status != StatusDraft && s.d.CRM != nil {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sales_order WHERE customer_id = ? AND id <> ? AND status IN (?, ?, ?, ?)`,
				o.CustomerID, o.ID, StatusSigned, StatusVINAllocated, StatusPDIDone, StatusDeliveryScheduled).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				if err := s.d.CRM.ReopenOrderedTx(ctx, tx, o.CustomerID); err != nil {
					return err
				}
			}
		}
		return s.event(ctx, tx, a, after, "order.cancelled", map[string]any{"reason": in.Reason, "note": in.Note, "refundDueFen": after.RefundDueFen, "vin": o.VIN})
	})
}

var _ = inventory.StatusSold
