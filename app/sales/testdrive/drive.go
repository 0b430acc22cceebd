package testdrive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/pii"
	"dealerdesk/app/task"
	"dealerdesk/app/timeline"
)

// The states of a test drive: booked → in_progress → completed, or cancelled /
// no_show from booked. Booked and in-progress drives occupy their car and
// consultant.
const (
	StatusBooked     = "booked"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusCancelled  = "cancelled"
	StatusNoShow     = "no_show"
)

// TestDrive is one booking (试乘试驾预约) and, once it happened, the drive.
type TestDrive struct {
	ID      int64 `json:"id"`
	StoreID int64 `json:"storeId"`
	// Hidden is true when the reader may not see the customer: the calendar
	// then shows only that the car and the consultant are taken (已预约).
	Hidden         bool   `json:"hidden"`
	CustomerID     int64  `json:"customerId"`
	CustomerName   string `json:"customerName"`
	CarID          int64  `json:"carId"`
	CarModel       string `json:"carModel"`
	CarPlate       string `json:"carPlate"`
	ConsultantID   int64  `json:"consultantId"`
	ConsultantName string `json:"consultantName"`
	StartAt        int64  `json:"startAt"`
	EndAt          int64  `json:"endAt"`
	Status         string `json:"status"`
	Route          string `json:"route"`
	Note           string `json:"note"`

	LicenceNo        string `json:"licenceNo"` // masked; POST …/licence/reveal for the full number (audited)
	LicenceClass     string `json:"licenceClass"`
	LicenceExpiry    string `json:"licenceExpiry"` // YYYY-MM-DD
	LicenceCheckedAt *int64 `json:"licenceCheckedAt"`
	AgreementSigner  string `json:"agreementSigner"`
	AgreementAt      *int64 `json:"agreementAt"`

	StartedAt  *int64    `json:"startedAt"`
	MileageOut *int64    `json:"mileageOut"`
	EndedAt    *int64    `json:"endedAt"`
	MileageIn  *int64    `json:"mileageIn"`
	Feedback   *Feedback `json:"feedback"`

	CancelReason string `json:"cancelReason"`
	ClosedAt     *int64 `json:"closedAt"`
	// NoShowAuto is true when the job, not a person, marked the no-show.
	NoShowAuto bool  `json:"noShowAuto"`
	CanWrite   bool  `json:"canWrite"` // the reader may run this drive (sales.write + customer.write)
	Version    int64 `json:"version"`
	CreatedAt  int64 `json:"createdAt"`

	customerOwner, customerDept, customerStore int64
	licenceFull                                string
}

// Feedback is the customer's verdict at the end of a drive (试驾反馈).
type Feedback struct {
	Rating       int    `json:"rating"` // overall 1–5
	Comfort      int    `json:"comfort"`
	Power        int    `json:"power"`
	Handling     int    `json:"handling"`
	Tech         int    `json:"tech"`
	IntentChange string `json:"intentChange"` // up, same, down
	Comment      string `json:"comment"`
}

func (t TestDrive) record() auth.Record {
	return auth.Record{StoreID: t.customerStore, OwnerID: t.customerOwner, DepartmentID: t.customerDept}
}

func (t TestDrive) carLabel() string { return t.CarModel + " " + t.CarPlate }

const driveCols = `t.id, t.store_id, t.customer_id, cu.name, cu.store_id, COALESCE(cu.owner_id, 0), COALESCE(cu.department_id, 0),
	t.car_id, se.name || ' ' || m.name, c.plate, t.consultant_id, COALESCE(u.name, ''), t.start_at, t.end_at, t.status, t.route, t.note,
	t.licence_no, t.licence_class, t.licence_expiry, t.licence_checked_at, t.agreement_signer, t.agreement_at,
	t.started_at, t.mileage_out, t.ended_at, t.mileage_in, t.rating, t.rating_comfort, t.rating_power, t.rating_handling, t.rating_tech,
	t.intent_change, t.feedback, t.cancel_reason, t.closed_at, t.closed_by, t.version, t.created_at`
const driveFrom = ` FROM test_drive t JOIN customer cu ON cu.id = t.customer_id JOIN test_drive_car c ON c.id = t.car_id
	JOIN vehicle_model m ON m.id = c.model_id JOIN vehicle_series se ON se.id = m.series_id LEFT JOIN app_user u ON u.id = t.consultant_id`

func scanDrive(sc interface{ Scan(...any) error }) (TestDrive, error) {
	var t TestDrive
	var checked, agreed, started, out, ended, in, closed, closedBy sql.NullInt64
	var f Feedback
	err := sc.Scan(&t.ID, &t.StoreID, &t.CustomerID, &t.CustomerName, &t.customerStore, &t.customerOwner, &t.customerDept,
		&t.CarID, &t.CarModel, &t.CarPlate, &t.ConsultantID, &t.ConsultantName, &t.StartAt, &t.EndAt, &t.Status, &t.Route, &t.Note,
		&t.licenceFull, &t.LicenceClass, &t.LicenceExpiry, &checked, &t.AgreementSigner, &agreed,
		&started, &out, &ended, &in, &f.Rating, &f.Comfort, &f.Power, &f.Handling, &f.Tech,
		&f.IntentChange, &f.Comment, &t.CancelReason, &closed, &closedBy, &t.Version, &t.CreatedAt)
	if err != nil {
		return t, err
	}
	t.LicenceNo = MaskLicence(t.licenceFull)
	t.LicenceCheckedAt, t.AgreementAt = nullInt(checked), nullInt(agreed)
	t.StartedAt, t.MileageOut, t.EndedAt, t.MileageIn = nullInt(started), nullInt(out), nullInt(ended), nullInt(in)
	t.ClosedAt = nullInt(closed)
	t.NoShowAuto = t.Status == StatusNoShow && !closedBy.Valid
	if f.Rating > 0 {
		t.Feedback = &f
	}
	return t, nil
}

func loadDrive(ctx context.Context, q db.Querier, id int64) (TestDrive, error) {
	t, err := scanDrive(q.QueryRowContext(ctx, `SELECT `+driveCols+driveFrom+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return t, fmt.Errorf("testdrive: load %d: %w", id, err)
	}
	return t, nil
}

// hide blanks what a reader outside the customer's scope may not see.
func (t *TestDrive) hide() {
	*t = TestDrive{ID: t.ID, StoreID: t.StoreID, Hidden: true, CarID: t.CarID, CarModel: t.CarModel, CarPlate: t.CarPlate,
		ConsultantID: t.ConsultantID, ConsultantName: t.ConsultantName, StartAt: t.StartAt, EndAt: t.EndAt, Status: t.Status, Version: t.Version}
}

// MaskLicence masks a driving-licence number like an ID number (it usually is
// one): first 6 and last 4 characters of 18; first and last 2 of others.
func MaskLicence(no string) string {
	switch n := len(no); {
	case n == 0:
		return ""
	case n == 18:
		return pii.MaskIDNo(no)
	case n > 6:
		return no[:2] + strings.Repeat("*", n-4) + no[n-2:]
	default:
		return "****"
	}
}

// readable loads a test drive whose customer the actor may read; 404 otherwise.
func (s *Service) readable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (TestDrive, error) {
	t, err := loadDrive(ctx, q, id)
	if err != nil {
		return t, err
	}
	if !auth.Can(a, auth.PermCustomerRead, t.record()) {
		return t, apperr.New(apperr.NotFound, "not_found")
	}
	t.CanWrite = a.Has(auth.PermSalesWrite) && auth.Can(a, auth.PermCustomerWrite, t.record())
	return t, nil
}

// writable loads a test drive the actor may run: sales.write and customer.write
// on its customer (own scope: the consultant's own customers).
func (s *Service) writable(ctx context.Context, q db.Querier, a auth.Actor, id int64) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	t, err := s.readable(ctx, q, a, id)
	if err != nil {
		return t, err
	}
	if !t.CanWrite {
		return t, apperr.New(apperr.NotFound, "not_found")
	}
	return t, nil
}

// GetDrive returns one test drive.
func (s *Service) GetDrive(ctx context.Context, a auth.Actor, id int64) (TestDrive, error) {
	return s.readable(ctx, s.d.DB.R, a, id)
}

// BookInput books a test drive. ConsultantID 0 means the customer's owner (or
// the one booking when the customer has none).
type BookInput struct {
	CustomerID   int64  `json:"customerId"`
	CarID        int64  `json:"carId"`
	ConsultantID int64  `json:"consultantId"`
	StartAt      int64  `json:"startAt"` // unix ms
	EndAt        int64  `json:"endAt"`   // unix ms, exclusive
	Route        string `json:"route"`
	Note         string `json:"note"`
}

// RescheduleInput moves a booking (times, car, consultant) or edits its route
// and note; the version must match.
type RescheduleInput struct {
	CarID        int64  `json:"carId"`
	ConsultantID int64  `json:"consultantId"`
	StartAt      int64  `json:"startAt"`
	EndAt        int64  `json:"endAt"`
	Route        string `json:"route"`
	Note         string `json:"note"`
	Version      int64  `json:"version"`
}

// shape checks what needs no database: ids, times present and ordered, texts.
func shape(f apperr.Fields, carID, start, end int64, route, note *string) {
	*route = strings.TrimSpace(*route)
	*note = strings.TrimSpace(*note)
	if carID <= 0 {
		f.Add("carId", "required")
	}
	if start <= 0 {
		f.Add("startAt", "required")
	}
	if end <= 0 {
		f.Add("endAt", "required")
	} else if start > 0 && end <= start {
		f.Add("endAt", "testdrive.end_before_start")
	}
	if utf8.RuneCountInString(*route) > 200 {
		f.Add("route", "too_long", "max", 200)
	}
	if utf8.RuneCountInString(*note) > 500 {
		f.Add("note", "too_long", "max", 500)
	}
}

// slot is a proposed booking to check.
type slot struct {
	storeID, carID, consultantID, start, end, except int64
}

// checkTimes applies the store's rules to the times: length, not in the past,
// not too far ahead, within the working hours.
func (s *Service) checkTimes(r rules, start, end int64, fresh bool) error {
	f := apperr.Fields{}
	mins := (end - start) / 60000
	if end-start < int64(r.MinMinutes)*60000 || end-start > int64(r.MaxMinutes)*60000 {
		f.Add("endAt", "testdrive.length", "min", r.MinMinutes, "max", r.MaxMinutes, "minutes", mins)
	}
	now := s.now()
	if fresh && start < now-int64(r.NoShowGraceMinutes)*60000 {
		f.Add("startAt", "testdrive.in_past")
	}
	if start > now+maxAheadDays*24*3600*1000 {
		f.Add("startAt", "testdrive.too_far", "days", maxAheadDays)
	}
	if r.StoreHours && len(r.crm.WorkingHours.Days) > 0 {
		ls, le := time.UnixMilli(start).In(r.loc), time.UnixMilli(end).In(r.loc)
		open, close := dayBounds(r, ls)
		if !openDay(r, ls) || ls.Before(open) || le.After(close) {
			f.Add("startAt", "testdrive.outside_hours", "open", r.crm.WorkingHours.Start, "close", r.crm.WorkingHours.End)
		}
	}
	return f.Err()
}

// maxAheadDays bounds how far ahead a drive can be booked.
const maxAheadDays = 90

func dayBounds(r rules, t time.Time) (time.Time, time.Time) {
	var sh, sm, eh, em int
	fmt.Sscanf(r.crm.WorkingHours.Start, "%d:%d", &sh, &sm)
	fmt.Sscanf(r.crm.WorkingHours.End, "%d:%d", &eh, &em)
	y, mo, d := t.Date()
	return time.Date(y, mo, d, sh, sm, 0, 0, t.Location()), time.Date(y, mo, d, eh, em, 0, 0, t.Location())
}

func openDay(r rules, t time.Time) bool {
	wd := int(t.Weekday())
	if wd == 0 {
		wd = 7
	}
	for _, d := range r.crm.WorkingHours.Days {
		if d == wd {
			return true
		}
	}
	return false
}

// span formats a booking's time for a message in the store's zone: 11-24 10:00–11:00.
func span(loc *time.Location, start, end int64) string {
	a, b := time.UnixMilli(start).In(loc), time.UnixMilli(end).In(loc)
	if a.YearDay() == b.YearDay() {
		return a.Format("01-02 15:04") + "–" + b.Format("15:04")
	}
	return a.Format("01-02 15:04") + "–" + b.Format("01-02 15:04")
}

// checkClash looks for active bookings overlapping [start, end) of the same
// car or consultant. It runs inside the write transaction (BEGIN IMMEDIATE on
// the one writer connection), so no other booking can slip in between this
// check and the insert; the triggers of migration 0014 back it up. Intervals
// are half-open: one ending at 10:00 and one starting at 10:00 do not clash.
func checkClash(ctx context.Context, q db.Querier, loc *time.Location, sl slot) error {
	rows, err := q.QueryContext(ctx, `SELECT id, car_id, consultant_id, start_at, end_at FROM test_drive
		WHERE status IN ('booked', 'in_progress') AND id <> ? AND start_at < ? AND end_at > ? AND (car_id = ? OR consultant_id = ?)
		ORDER BY start_at`, sl.except, sl.end, sl.start, sl.carID, sl.consultantID)
	if err != nil {
		return fmt.Errorf("testdrive: overlap check: %w", err)
	}
	defer rows.Close()
	fields := apperr.Fields{}
	details := map[string]any{}
	for rows.Next() {
		var id, car, cons, start, end int64
		if err := rows.Scan(&id, &car, &cons, &start, &end); err != nil {
			return err
		}
		when := span(loc, start, end)
		if car == sl.carID {
			fields.Add("carId", "testdrive.car_busy", "time", when)
			if _, ok := details["carClashId"]; !ok {
				details["carClashId"], details["carClashStart"], details["carClashEnd"] = id, start, end
			}
		}
		if cons == sl.consultantID {
			fields.Add("consultantId", "testdrive.consultant_busy", "time", when)
			if _, ok := details["consultantClashId"]; !ok {
				details["consultantClashId"], details["consultantClashStart"], details["consultantClashEnd"] = id, start, end
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(fields) == 0 {
		return nil
	}
	return &apperr.Error{Kind: apperr.Conflict, Code: "testdrive.clash", Fields: fields, Details: details}
}

// overlapErr turns the trigger's refusal into the clash error (only reachable
// if something bypassed checkClash).
func overlapErr(err error) error {
	if err != nil && strings.Contains(err.Error(), "test_drive overlap") {
		return apperr.Wrap(apperr.Conflict, "testdrive.clash", err)
	}
	return err
}

// bookableCar loads a car for a booking in the actor's reach; field errors
// otherwise.
func bookableCar(ctx context.Context, q db.Querier, a auth.Actor, id int64) (Car, error) {
	c, err := loadCar(ctx, q, id)
	if apperr.Is(err, apperr.NotFound) || (err == nil && a.Scope != auth.ScopeGroup && c.StoreID != a.HomeStoreID) {
		return c, apperr.Field("carId", "testdrive.car_unknown")
	}
	if err != nil {
		return c, err
	}
	if c.Status != CarActive {
		return c, apperr.Field("carId", "testdrive.car_unavailable")
	}
	return c, nil
}

// consultantFor checks the consultant: an active user of the store who sells
// (sales.write). Only a manager (customer.assign) books for someone else.
func consultantFor(ctx context.Context, q db.Querier, a auth.Actor, id, storeID int64) (string, error) {
	if id != a.UserID && !a.Has(auth.PermCustomerAssign) {
		return "", apperr.Field("consultantId", "testdrive.consultant_not_allowed")
	}
	var name, status string
	var store int64
	var sells int
	err := q.QueryRowContext(ctx, `SELECT u.name, u.status, u.store_id, EXISTS (SELECT 1 FROM role_permission p WHERE p.role_id = u.role_id AND p.permission = ?)
		FROM app_user u WHERE u.id = ?`, auth.PermSalesWrite, id).Scan(&name, &status, &store, &sells)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (status != "active" || store != storeID || sells == 0)) {
		return "", apperr.Field("consultantId", "testdrive.consultant_unknown")
	}
	if err != nil {
		return "", fmt.Errorf("testdrive: consultant %d: %w", id, err)
	}
	return name, nil
}

// Book books a test drive: the customer must be writable by the actor (own
// scope: their own customer), the car active in the customer's store, the
// consultant free, the time within the store's rules. Of any number of
// concurrent requests for the same slot exactly one wins; the others get 409
// testdrive.clash naming the clashing booking at carId / consultantId.
func (s *Service) Book(ctx context.Context, a auth.Actor, in BookInput) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	f := apperr.Fields{}
	if in.CustomerID <= 0 {
		f.Add("customerId", "required")
	}
	shape(f, in.CarID, in.StartAt, in.EndAt, &in.Route, &in.Note)
	if err := f.Err(); err != nil {
		return TestDrive{}, err
	}
	var id int64
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		cust, err := s.d.CRM.Writable(ctx, tx, a, in.CustomerID)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Field("customerId", "testdrive.customer_unknown")
		}
		if err != nil {
			return err
		}
		car, err := bookableCar(ctx, tx, a, in.CarID)
		if err != nil {
			return err
		}
		if car.StoreID != cust.StoreID {
			return apperr.Field("customerId", "testdrive.customer_other_store")
		}
		if in.ConsultantID == 0 {
			in.ConsultantID = cust.OwnerID
			if in.ConsultantID == 0 {
				in.ConsultantID = a.UserID
			}
		}
		consultant, err := consultantFor(ctx, tx, a, in.ConsultantID, car.StoreID)
		if err != nil {
			return err
		}
		r, err := loadRules(ctx, tx, car.StoreID)
		if err != nil {
			return err
		}
		if err := s.checkTimes(r, in.StartAt, in.EndAt, true); err != nil {
			return err
		}
		if err := checkClash(ctx, tx, r.loc, slot{storeID: car.StoreID, carID: car.ID, consultantID: in.ConsultantID, start: in.StartAt, end: in.EndAt}); err != nil {
			return err
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO test_drive (store_id, customer_id, car_id, consultant_id, start_at, end_at, status, route, note,
			created_at, created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?, ?, ?, ?)`,
			car.StoreID, cust.ID, car.ID, in.ConsultantID, in.StartAt, in.EndAt, in.Route, in.Note, now, userID(a), now, userID(a))
		if err != nil {
			return overlapErr(fmt.Errorf("testdrive: book: %w", err))
		}
		id, _ = res.LastInsertId()
		if err := s.remind(ctx, tx, r, id, car.StoreID, in.ConsultantID, cust.ID, cust.Name, car.Label(), in.StartAt, userID(a)); err != nil {
			return err
		}
		if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: cust.ID, StoreID: cust.StoreID, At: now, Kind: "testdrive.booked",
			Entity: "test_drive", EntityID: id, Data: map[string]any{"car": car.Label(), "startAt": in.StartAt, "endAt": in.EndAt,
				"consultant": consultant, "route": in.Route}}.By(a)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "test_drive", id, car.StoreID, nil, map[string]any{"customerId": cust.ID, "carId": car.ID,
			"consultantId": in.ConsultantID, "startAt": in.StartAt, "endAt": in.EndAt, "route": in.Route, "note": in.Note})
	})
	if err != nil {
		return TestDrive{}, err
	}
	s.afterCommit()
	return s.readable(ctx, s.d.DB.R, a, id)
}

// remind creates the consultant's reminder task of a booking: due at the
// start, reminding ReminderMinutes before (at once when that has passed).
func (s *Service) remind(ctx context.Context, tx db.Querier, r rules, id, storeID, consultantID, customerID int64, customer, car string, start int64, by any) error {
	now := s.now()
	if start <= now {
		return nil
	}
	var remindAt int64
	if r.ReminderMinutes > 0 {
		remindAt = max(start-int64(r.ReminderMinutes)*60000, now)
	}
	createdBy, _ := by.(int64)
	_, err := task.Create(ctx, tx, task.New{StoreID: storeID, AssigneeID: consultantID, Kind: taskKind, CustomerID: customerID,
		Title:  s.text("testdrive.task.title", map[string]string{"customer": customer, "car": car, "time": time.UnixMilli(start).In(r.loc).Format("01-02 15:04")}),
		Entity: "test_drive", EntityID: id, DueAt: start, RemindAt: remindAt, CreatedBy: createdBy}, now)
	return err
}

// taskKind is the kind of the reminder tasks of test drives.
const taskKind = "test_drive"

// closeTasks ends the open reminder task of a drive: done when it happened,
// cancelled otherwise.
func closeTasks(ctx context.Context, q db.Querier, id int64, status string, now int64) error {
	done := any(nil)
	if status == "done" {
		done = now
	}
	_, err := q.ExecContext(ctx, `UPDATE task SET status = ?, done_at = ?, updated_at = ?, version = version + 1
		WHERE entity = 'test_drive' AND entity_id = ? AND kind = ? AND status = 'open'`, status, done, now, id, taskKind)
	if err != nil {
		return fmt.Errorf("testdrive: close tasks of %d: %w", id, err)
	}
	return nil
}

// Reschedule moves a booked drive: new times, car or consultant are checked
// like a new booking (the drive's own slot excepted); the version must match
// (409 conflict.stale). The reminder task follows the new time.
func (s *Service) Reschedule(ctx context.Context, a auth.Actor, id int64, in RescheduleInput) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	f := apperr.Fields{}
	shape(f, in.CarID, in.StartAt, in.EndAt, &in.Route, &in.Note)
	if in.ConsultantID <= 0 {
		f.Add("consultantId", "required")
	}
	if err := f.Err(); err != nil {
		return TestDrive{}, err
	}
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		old, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if old.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if old.Status != StatusBooked {
			return apperr.New(apperr.Conflict, "testdrive.not_booked")
		}
		car, err := loadCar(ctx, tx, old.CarID)
		if err != nil {
			return err
		}
		if in.CarID != old.CarID {
			if car, err = bookableCar(ctx, tx, a, in.CarID); err != nil {
				return err
			}
			if car.StoreID != old.StoreID {
				return apperr.Field("carId", "testdrive.car_unknown")
			}
		}
		consultant := old.ConsultantName
		if in.ConsultantID != old.ConsultantID {
			if consultant, err = consultantFor(ctx, tx, a, in.ConsultantID, old.StoreID); err != nil {
				return err
			}
		}
		r, err := loadRules(ctx, tx, old.StoreID)
		if err != nil {
			return err
		}
		moved := in.StartAt != old.StartAt || in.EndAt != old.EndAt || in.CarID != old.CarID || in.ConsultantID != old.ConsultantID
		if in.StartAt != old.StartAt || in.EndAt != old.EndAt {
			if err := s.checkTimes(r, in.StartAt, in.EndAt, true); err != nil {
				return err
			}
		}
		if moved {
			if err := checkClash(ctx, tx, r.loc, slot{storeID: old.StoreID, carID: in.CarID, consultantID: in.ConsultantID, start: in.StartAt, end: in.EndAt, except: id}); err != nil {
				return err
			}
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE test_drive SET car_id = ?, consultant_id = ?, start_at = ?, end_at = ?, route = ?, note = ?,
			version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ? AND status = 'booked'`,
			in.CarID, in.ConsultantID, in.StartAt, in.EndAt, in.Route, in.Note, now, userID(a), id, in.Version)
		if err != nil {
			return overlapErr(fmt.Errorf("testdrive: reschedule %d: %w", id, err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if moved {
			if err := closeTasks(ctx, tx, id, "cancelled", now); err != nil {
				return err
			}
			if err := s.remind(ctx, tx, r, id, old.StoreID, in.ConsultantID, old.CustomerID, old.CustomerName, car.Label(), in.StartAt, userID(a)); err != nil {
				return err
			}
			if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: old.CustomerID, StoreID: old.customerStore, At: now, Kind: "testdrive.rescheduled",
				Entity: "test_drive", EntityID: id, Data: map[string]any{"car": car.Label(), "startAt": in.StartAt, "endAt": in.EndAt,
					"consultant": consultant, "fromStartAt": old.StartAt}}.By(a)); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "update", "test_drive", id, old.StoreID,
			map[string]any{"carId": old.CarID, "consultantId": old.ConsultantID, "startAt": old.StartAt, "endAt": old.EndAt, "route": old.Route, "note": old.Note},
			map[string]any{"carId": in.CarID, "consultantId": in.ConsultantID, "startAt": in.StartAt, "endAt": in.EndAt, "route": in.Route, "note": in.Note})
	})
	if err != nil {
		return TestDrive{}, err
	}
	s.afterCommit()
	return s.readable(ctx, s.d.DB.R, a, id)
}
