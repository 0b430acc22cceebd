package inventory

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
	"dealerdesk/app/findex"
	"dealerdesk/app/pii"
)

// The vehicle statuses (DOMAIN.md I1).
const (
	StatusOrdered   = "ordered"    // 已订购
	StatusInTransit = "in_transit" // 在途
	StatusInStock   = "in_stock"   // 在库
	StatusReserved  = "reserved"   // 已预订
	StatusSold      = "sold"       // 已售
	StatusDelivered = "delivered"  // 已交付
)

// Statuses lists the statuses in their life order.
var Statuses = []string{StatusOrdered, StatusInTransit, StatusInStock, StatusReserved, StatusSold, StatusDelivered}

// transitions are the moves a vehicle may make in normal work; anything else is
// an admin correction. Reserve, release and sell have their own endpoints (they
// need a customer); /status serves the logistics moves and delivery.
var transitions = map[string][]string{
	StatusOrdered:   {StatusInTransit},
	StatusInTransit: {StatusInStock},
	StatusInStock:   {StatusReserved, StatusSold}, // sold directly: a walk-in buying the car on the spot
	StatusReserved:  {StatusInStock, StatusSold},  // in stock again on release or expiry
	StatusSold:      {StatusDelivered},
}

// CanMove reports whether from → to is an allowed move (without correction).
func CanMove(from, to string) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// Vehicle is one car of the stock (a VIN).
type Vehicle struct {
	ID                   int64    `json:"id"`
	StoreID              int64    `json:"storeId"`
	StoreName            string   `json:"storeName"`
	VIN                  string   `json:"vin"`
	ModelID              int64    `json:"modelId"`
	ModelName            string   `json:"modelName"`
	ModelYear            int      `json:"modelYear"`
	SeriesID             int64    `json:"seriesId"`
	SeriesName           string   `json:"seriesName"`
	BrandID              int64    `json:"brandId"`
	BrandName            string   `json:"brandName"`
	EnergyType           string   `json:"energyType"`
	Color                string   `json:"color"`
	Options              string   `json:"options"`
	Status               string   `json:"status"`
	Location             string   `json:"location"`
	ArrivalAt            *int64   `json:"arrivalAt"`
	ExpectedAt           *int64   `json:"expectedAt"`
	SoldAt               *int64   `json:"soldAt"`
	DaysInStock          *int     `json:"daysInStock"`
	AgeLevel             string   `json:"ageLevel"` // normal | warn | alarm | "" (not arrived)
	Cost                 *int64   `json:"cost"`     // fen; null when unknown or hidden
	CostHidden           bool     `json:"costHidden"`
	MSRP                 int64    `json:"msrp"` // fen
	ReservedCustomerID   *int64   `json:"reservedCustomerId"`
	ReservedCustomerName string   `json:"reservedCustomerName"`
	ReservedBy           *int64   `json:"reservedBy"`
	ReservedByName       string   `json:"reservedByName"`
	ReservedUntil        *int64   `json:"reservedUntil"`
	OrderID              *int64   `json:"orderId"`
	Note                 string   `json:"note"`
	Version              int64    `json:"version"`
	CreatedAt            int64    `json:"createdAt"`
	CreatedBy            *int64   `json:"createdBy"`
	UpdatedAt            int64    `json:"updatedAt"`
	UpdatedBy            *int64   `json:"updatedBy"`
	Warnings             []string `json:"warnings,omitempty"` // e.g. vin.check_digit on a non-China VIN
	// History is filled by GetVehicle only.
	History []Event `json:"history,omitempty"`
}

// Event is one entry of a vehicle's history.
type Event struct {
	ID         int64          `json:"id"`
	At         int64          `json:"at"`
	By         *int64         `json:"by"`
	ByName     string         `json:"byName"`
	FromStatus string         `json:"fromStatus"`
	ToStatus   string         `json:"toStatus"`
	Detail     map[string]any `json:"detail"`
}

// VehicleInput creates or edits a vehicle. Status is used on create only.
type VehicleInput struct {
	StoreID    int64  `json:"storeId"`
	VIN        string `json:"vin"`
	ModelID    int64  `json:"modelId"`
	Color      string `json:"color"`
	Options    string `json:"options"`
	Status     string `json:"status"`
	Location   string `json:"location"`
	ArrivalAt  *int64 `json:"arrivalAt"`
	ExpectedAt *int64 `json:"expectedAt"`
	Cost       *int64 `json:"cost"`
	MSRP       *int64 `json:"msrp"`
	Note       string `json:"note"`
	Version    int64  `json:"version"`

	checkOK bool
}

func limitText(f apperr.Fields, field, v string, max int) {
	if utf8.RuneCountInString(v) > max {
		f.Add(field, "too_long", "max", max)
	}
}

// vinField adds the field error of a VIN and returns the normalized VIN and
// whether its check digit is right.
func vinField(f apperr.Fields, field, raw string) (string, bool) {
	vin, ok, err := pii.ValidateVIN(raw)
	var ve *pii.VINError
	if errors.As(err, &ve) {
		f.Add(field, ve.Code)
	}
	return vin, ok
}

// Normalize trims the texts and validates the VIN.
func (in *VehicleInput) Normalize() apperr.Fields {
	f := apperr.Fields{}
	in.VIN, in.checkOK = vinField(f, "vin", in.VIN)
	in.Color = strings.TrimSpace(in.Color)
	in.Options = strings.TrimSpace(in.Options)
	in.Location = strings.TrimSpace(in.Location)
	in.Note = strings.TrimSpace(in.Note)
	in.Status = strings.TrimSpace(in.Status)
	return f
}

// Validate checks the shape of the input (create when creating is true).
func (in *VehicleInput) Validate(creating bool) error {
	f := in.Normalize()
	if in.ModelID <= 0 {
		f.Add("modelId", "required")
	}
	limitText(f, "color", in.Color, 30)
	limitText(f, "options", in.Options, 500)
	limitText(f, "location", in.Location, 50)
	limitText(f, "note", in.Note, 500)
	if in.Cost != nil && (*in.Cost < 0 || *in.Cost > 1e12) {
		f.Add("cost", "out_of_range", "min", 0, "max", int64(1e12))
	}
	if in.MSRP != nil && (*in.MSRP < 0 || *in.MSRP > 1e12) {
		f.Add("msrp", "out_of_range", "min", 0, "max", int64(1e12))
	}
	if creating {
		if in.Status == "" {
			in.Status = StatusInStock
		}
		if in.Status != StatusOrdered && in.Status != StatusInTransit && in.Status != StatusInStock {
			f.Add("status", "invalid_format")
		}
		if in.Status != StatusInStock && in.ArrivalAt != nil {
			f.Add("arrivalAt", "vehicle.arrival_not_in_stock")
		}
	}
	if in.ArrivalAt != nil && *in.ArrivalAt <= 0 {
		f.Add("arrivalAt", "invalid_format")
	}
	if in.ExpectedAt != nil && *in.ExpectedAt <= 0 {
		f.Add("expectedAt", "invalid_format")
	}
	return f.Err()
}

// modelMSRP returns a model's list price, or a field error when there is no such model.
func modelMSRP(ctx context.Context, q db.Querier, id int64) (int64, error) {
	var msrp int64
	err := q.QueryRowContext(ctx, `SELECT msrp FROM vehicle_model WHERE id = ?`, id).Scan(&msrp)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.Field("modelId", "vehicle.model_unknown")
	}
	return msrp, err
}

func vinTaken(ctx context.Context, q db.Querier, vin string, except int64) error {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM vehicle WHERE vin = ? AND id <> ?`, vin, except).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	e := apperr.New(apperr.Conflict, "vehicle.vin_taken")
	e.Fields = map[string]apperr.FieldError{"vin": {Code: "vehicle.vin_taken"}}
	return e
}

// CreateVehicle adds a car to a store's stock (vehicle.write).
func (s *Service) CreateVehicle(ctx context.Context, a auth.Actor, in VehicleInput) (Vehicle, error) {
	if in.StoreID == 0 {
		in.StoreID = a.StoreID
	}
	if err := storeAccess(a, auth.PermVehicleWrite, in.StoreID); err != nil {
		return Vehicle{}, err
	}
	if err := in.Validate(true); err != nil {
		return Vehicle{}, err
	}
	if !a.Has(auth.PermCostRead) {
		in.Cost = nil // who may not see cost may not set it either
	}
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.insertTx(ctx, tx, a, in, "create")
		return err
	})
	if err != nil {
		return Vehicle{}, err
	}
	s.afterCommit()
	v, err := s.get(ctx, s.db.R, a, id, false)
	if !in.checkOK {
		v.Warnings = []string{"vin.check_digit"}
	}
	return v, err
}

// insertTx inserts a validated vehicle with its first history row, audit row and
// search mark.
func (s *Service) insertTx(ctx context.Context, tx db.Querier, a auth.Actor, in VehicleInput, how string) (int64, error) {
	msrp, err := modelMSRP(ctx, tx, in.ModelID)
	if err != nil {
		return 0, err
	}
	if in.MSRP != nil {
		msrp = *in.MSRP
	}
	if err := vinTaken(ctx, tx, in.VIN, 0); err != nil {
		return 0, err
	}
	now := s.now()
	arrival := in.ArrivalAt
	if in.Status == StatusInStock && arrival == nil {
		arrival = &now
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO vehicle (store_id, vin, vin_rev, model_id, color, options, status, location, arrival_at, expected_at, cost, msrp,
		note, created_at, created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.StoreID, in.VIN, reverse(in.VIN), in.ModelID, in.Color, in.Options, in.Status, in.Location, arrival, in.ExpectedAt, in.Cost, msrp,
		in.Note, now, userID(a), now, userID(a)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("inventory: insert vehicle: %w", err)
	}
	detail := map[string]any{"how": how}
	if !in.checkOK {
		detail["vinCheckDigit"] = false
	}
	if err := s.eventTx(ctx, tx, a, id, "", in.Status, detail); err != nil {
		return 0, err
	}
	after := map[string]any{"vin": in.VIN, "modelId": in.ModelID, "status": in.Status, "color": in.Color, "msrp": msrp, "location": in.Location, "how": how}
	if err := s.audit(ctx, tx, a, "create", "vehicle", id, in.StoreID, nil, after); err != nil {
		return 0, err
	}
	return id, findex.Mark(ctx, tx, searchKind, id)
}

// UpdateVehicle edits a vehicle's facts (not its status) with optimistic locking.
func (s *Service) UpdateVehicle(ctx context.Context, a auth.Actor, id int64, in VehicleInput) (Vehicle, error) {
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return Vehicle{}, err
	}
	if err := in.Validate(false); err != nil {
		return Vehicle{}, err
	}
	var warn bool
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if _, err := modelMSRP(ctx, tx, in.ModelID); err != nil {
			return err
		}
		if in.VIN != cur.VIN {
			if err := vinTaken(ctx, tx, in.VIN, id); err != nil {
				return err
			}
			warn = !in.checkOK
		}
		msrp := cur.MSRP
		if in.MSRP != nil {
			msrp = *in.MSRP
		}
		arrival := cur.ArrivalAt
		if in.ArrivalAt != nil {
			if cur.ArrivalAt == nil {
				return apperr.Field("arrivalAt", "vehicle.arrival_not_in_stock")
			}
			arrival = in.ArrivalAt
		}
		cost := cur.Cost
		if a.Has(auth.PermCostRead) {
			cost = in.Cost
		}
		r, err := tx.ExecContext(ctx, `UPDATE vehicle SET vin = ?, vin_rev = ?, model_id = ?, color = ?, options = ?, location = ?, arrival_at = ?, expected_at = ?,
			cost = ?, msrp = ?, note = ?, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ?`,
			in.VIN, reverse(in.VIN), in.ModelID, in.Color, in.Options, in.Location, arrival, in.ExpectedAt, cost, msrp, in.Note, s.now(), userID(a), id, in.Version)
		if err != nil {
			return fmt.Errorf("inventory: update vehicle %d: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		before := map[string]any{"vin": cur.VIN, "modelId": cur.ModelID, "color": cur.Color, "options": cur.Options, "location": cur.Location,
			"arrivalAt": cur.ArrivalAt, "expectedAt": cur.ExpectedAt, "msrp": cur.MSRP, "note": cur.Note}
		after := map[string]any{"vin": in.VIN, "modelId": in.ModelID, "color": in.Color, "options": in.Options, "location": in.Location,
			"arrivalAt": arrival, "expectedAt": in.ExpectedAt, "msrp": msrp, "note": in.Note}
		if a.Has(auth.PermCostRead) {
			before["cost"], after["cost"] = cur.Cost, cost
		}
		if err := s.audit(ctx, tx, a, "update", "vehicle", id, cur.StoreID, before, after); err != nil {
			return err
		}
		return findex.Mark(ctx, tx, searchKind, id)
	})
	if err != nil {
		return Vehicle{}, err
	}
	s.afterCommit()
	v, err := s.get(ctx, s.db.R, a, id, false)
	if warn {
		v.Warnings = []string{"vin.check_digit"}
	}
	return v, err
}

// GetVehicle returns a vehicle with its history.
func (s *Service) GetVehicle(ctx context.Context, a auth.Actor, id int64) (Vehicle, error) {
	if err := auth.Require(a, auth.PermVehicleRead); err != nil {
		return Vehicle{}, err
	}
	return s.get(ctx, s.db.R, a, id, true)
}

// get reads a vehicle the actor may read (404 otherwise), finished for the actor.
func (s *Service) get(ctx context.Context, q db.Querier, a auth.Actor, id int64, history bool) (Vehicle, error) {
	v, err := loadVehicle(ctx, q, id)
	if err != nil {
		return v, err
	}
	if !a.Has(auth.PermVehicleRead) || (a.Scope != auth.ScopeGroup && v.StoreID != a.HomeStoreID) {
		return Vehicle{}, apperr.New(apperr.NotFound, "not_found")
	}
	th, err := LoadSettings(ctx, q, v.StoreID)
	if err != nil {
		return v, err
	}
	v.finish(s.now(), th, a.Has(auth.PermCostRead))
	if history {
		if v.History, err = loadHistory(ctx, q, id); err != nil {
			return v, err
		}
	}
	return v, nil
}

// writable reads a vehicle inside a write transaction for an actor who may
// change it (vehicle.write, the vehicle's store in reach).
func (s *Service) writable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Vehicle, error) {
	v, err := loadVehicle(ctx, q, id)
	if err != nil {
		return v, err
	}
	if err := storeAccess(a, auth.PermVehicleWrite, v.StoreID); err != nil {
		return Vehicle{}, err
	}
	return v, nil
}

// readable reads a vehicle inside a transaction for an actor who may read it.
func readable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Vehicle, error) {
	v, err := loadVehicle(ctx, q, id)
	if err != nil {
		return v, err
	}
	if err := storeAccess(a, auth.PermVehicleRead, v.StoreID); err != nil {
		return Vehicle{}, err
	}
	return v, nil
}

// StatusInput moves a vehicle along its life (logistics and delivery), or, as a
// correction by an administrator, anywhere.
type StatusInput struct {
	Status     string `json:"status"`
	ArrivalAt  *int64 `json:"arrivalAt"` // when it reached the store (default now) on → in_stock
	Note       string `json:"note"`
	Correction bool   `json:"correction"`
	Reason     string `json:"reason"`
	Version    int64  `json:"version"` // 0: do not check
}

// SetStatus runs a move of /status: ordered → in_transit → in_stock, sold →
// delivered; reserve, release and sell have their own calls. A correction (any
// status but reserved) needs settings.manage and a reason.
func (s *Service) SetStatus(ctx context.Context, a auth.Actor, id int64, in StatusInput) (Vehicle, error) {
	if err := auth.Require(a, auth.PermVehicleWrite); err != nil {
		return Vehicle{}, err
	}
	in.Note, in.Reason = strings.TrimSpace(in.Note), strings.TrimSpace(in.Reason)
	f := apperr.Fields{}
	if !oneOf(in.Status, Statuses) {
		f.Add("status", "invalid_format")
	}
	limitText(f, "note", in.Note, 500)
	limitText(f, "reason", in.Reason, 500)
	if in.Correction {
		if !a.Has(auth.PermSettingsManage) {
			return Vehicle{}, apperr.New(apperr.Forbidden, "forbidden")
		}
		if in.Reason == "" {
			f.Add("reason", "required")
		}
	}
	if in.ArrivalAt != nil && (*in.ArrivalAt <= 0 || *in.ArrivalAt > s.now()) {
		f.Add("arrivalAt", "vehicle.arrival_future")
	}
	if err := f.Err(); err != nil {
		return Vehicle{}, err
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Version != 0 && in.Version != cur.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		detail := map[string]any{}
		if in.Note != "" {
			detail["note"] = in.Note
		}
		if in.Correction {
			detail["correction"], detail["reason"] = true, in.Reason
			return s.correctTx(ctx, tx, a, cur, in.Status, detail)
		}
		logistics := (cur.Status == StatusOrdered && in.Status == StatusInTransit) || (cur.Status == StatusInTransit && in.Status == StatusInStock) ||
			(cur.Status == StatusSold && in.Status == StatusDelivered)
		if !logistics {
			return apperr.Field("status", "vehicle.transition_refused")
		}
		set := map[string]any{}
		if in.Status == StatusInStock {
			at := s.now()
			if in.ArrivalAt != nil {
				at = *in.ArrivalAt
			}
			set["arrival_at"] = at
			detail["arrivalAt"] = at
		}
		return s.moveTx(ctx, tx, a, cur, in.Status, set, detail)
	})
	if err != nil {
		return Vehicle{}, err
	}
	s.afterCommit()
	return s.get(ctx, s.db.R, a, id, false)
}

// correctTx is the administrator's way out of a wrong status: back to ordered,
// in transit or in stock (clearing the reservation and sale), or on to sold or
// delivered when the car has a customer. Reserving needs the reserve call.
func (s *Service) correctTx(ctx context.Context, tx db.Querier, a auth.Actor, cur Vehicle, to string, detail map[string]any) error {
	set := map[string]any{}
	switch to {
	case StatusOrdered, StatusInTransit:
		set = map[string]any{"arrival_at": nil, "reserved_customer_id": nil, "reserved_by": nil, "reserved_until": nil, "sold_at": nil, "order_id": nil}
	case StatusInStock:
		set = map[string]any{"reserved_customer_id": nil, "reserved_by": nil, "reserved_until": nil, "sold_at": nil, "order_id": nil}
		if cur.ArrivalAt == nil {
			set["arrival_at"] = s.now()
		}
	case StatusSold, StatusDelivered:
		if cur.ReservedCustomerID == nil {
			return apperr.Field("status", "vehicle.transition_refused")
		}
		set["reserved_until"] = nil
		if cur.SoldAt == nil {
			set["sold_at"] = s.now()
		}
	default:
		return apperr.Field("status", "vehicle.transition_refused")
	}
	if to == cur.Status {
		return apperr.Field("status", "vehicle.transition_refused")
	}
	return s.moveTx(ctx, tx, a, cur, to, set, detail)
}

// moveTx changes the status of cur to `to` with the extra column values, on the
// condition that nobody moved it meanwhile (status and version unchanged), and
// records the history row, the audit row and the search mark.
func (s *Service) moveTx(ctx context.Context, tx db.Querier, a auth.Actor, cur Vehicle, to string, set map[string]any, detail map[string]any) error {
	cols := []string{"status = ?", "version = version + 1", "updated_at = ?", "updated_by = ?"}
	args := []any{to, s.now(), userID(a)}
	for _, c := range sortedKeys(set) {
		cols = append(cols, c+" = ?")
		args = append(args, set[c])
	}
	if to == StatusInStock || to == StatusOrdered || to == StatusInTransit {
		cols = append(cols, "age_alerted = 0")
	}
	args = append(args, cur.ID, cur.Status, cur.Version)
	r, err := tx.ExecContext(ctx, `UPDATE vehicle SET `+strings.Join(cols, ", ")+` WHERE id = ? AND status = ? AND version = ?`, args...)
	if err != nil {
		return fmt.Errorf("inventory: move vehicle %d to %s: %w", cur.ID, to, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return s.recordMove(ctx, tx, a, cur.ID, cur.StoreID, cur.Status, to, detail)
}

// recordMove writes what every status change leaves behind: the history row, the
// audit row and the search mark (the status shows in search results).
func (s *Service) recordMove(ctx context.Context, tx db.Querier, a auth.Actor, id, storeID int64, from, to string, detail map[string]any) error {
	if err := s.eventTx(ctx, tx, a, id, from, to, detail); err != nil {
		return err
	}
	after := map[string]any{"status": to}
	for k, v := range detail {
		after[k] = v
	}
	if err := s.audit(ctx, tx, a, "status", "vehicle", id, storeID, map[string]any{"status": from}, after); err != nil {
		return err
	}
	return findex.Mark(ctx, tx, searchKind, id)
}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func userID(a auth.Actor) any {
	if a.UserID == 0 {
		return nil
	}
	return a.UserID
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
