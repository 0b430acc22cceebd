package testdrive

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/timeline"
)

// CheckInput records the driving-licence check and the signed agreement, both
// needed before the drive starts.
type CheckInput struct {
	LicenceNo       string `json:"licenceNo"`
	LicenceClass    string `json:"licenceClass"`  // 准驾车型: C1, C2, B1 …
	LicenceExpiry   string `json:"licenceExpiry"` // YYYY-MM-DD, not past
	AgreementSigned bool   `json:"agreementSigned"`
	SignerName      string `json:"signerName"`
	Version         int64  `json:"version"`
}

// StartInput starts the drive with the odometer reading.
type StartInput struct {
	MileageOut int64 `json:"mileageOut"`
	Version    int64 `json:"version"`
}

// CompleteInput ends the drive: odometer and the customer's feedback.
type CompleteInput struct {
	MileageIn    int64  `json:"mileageIn"`
	Rating       int    `json:"rating"`
	Comfort      int    `json:"comfort"`
	Power        int    `json:"power"`
	Handling     int    `json:"handling"`
	Tech         int    `json:"tech"`
	IntentChange string `json:"intentChange"` // up, same (default), down
	Comment      string `json:"comment"`
	Version      int64  `json:"version"`
}

// CancelInput cancels a booking.
type CancelInput struct {
	Reason  string `json:"reason"`
	Version int64  `json:"version"`
}

// VersionInput carries only the version (no-show).
type VersionInput struct {
	Version int64 `json:"version"`
}

// LicenceClasses are the licence classes allowed to drive a passenger car
// (A and B classes include C1; C2 is automatic only).
var LicenceClasses = []string{"A1", "A2", "A3", "B1", "B2", "C1", "C2"}

var licenceRe = regexp.MustCompile(`^[0-9A-Z]{8,20}$`)

// startEarly is how long before its booked time a drive may start.
const startEarly = time.Hour

// Check records the licence check and the agreement. A licence past its
// expiry (in the store's zone) is refused.
func (s *Service) Check(ctx context.Context, a auth.Actor, id int64, in CheckInput) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	in.LicenceNo = strings.ToUpper(strings.Join(strings.Fields(in.LicenceNo), ""))
	in.LicenceClass = strings.ToUpper(strings.TrimSpace(in.LicenceClass))
	in.LicenceExpiry = strings.TrimSpace(in.LicenceExpiry)
	in.SignerName = strings.TrimSpace(in.SignerName)
	f := apperr.Fields{}
	switch {
	case in.LicenceNo == "":
		f.Add("licenceNo", "required")
	case !licenceRe.MatchString(in.LicenceNo):
		f.Add("licenceNo", "testdrive.licence_no_invalid")
	}
	if in.LicenceClass == "" {
		f.Add("licenceClass", "required")
	} else if !allowedClass(in.LicenceClass) {
		f.Add("licenceClass", "testdrive.licence_class", "classes", strings.Join(LicenceClasses, "/"))
	}
	expiry, err := time.Parse("2006-01-02", in.LicenceExpiry)
	if in.LicenceExpiry == "" {
		f.Add("licenceExpiry", "required")
	} else if err != nil {
		f.Add("licenceExpiry", "invalid_format")
	}
	if !in.AgreementSigned {
		f.Add("agreementSigned", "testdrive.agreement_required")
	}
	if in.SignerName == "" {
		f.Add("signerName", "required")
	} else if utf8.RuneCountInString(in.SignerName) > 40 {
		f.Add("signerName", "too_long", "max", 40)
	}
	if err := f.Err(); err != nil {
		return TestDrive{}, err
	}
	return s.change(ctx, a, id, func(tx *sql.Tx, t TestDrive) error {
		if t.Status != StatusBooked {
			return apperr.New(apperr.Conflict, "testdrive.not_booked")
		}
		r, err := loadRules(ctx, tx, t.StoreID)
		if err != nil {
			return err
		}
		if expired(expiry, s.d.Clock.Now().In(r.loc)) {
			return apperr.Field("licenceExpiry", "testdrive.licence_expired")
		}
		now := s.now()
		if err := s.step(ctx, tx, a, t, in.Version, `licence_no = ?, licence_class = ?, licence_expiry = ?, licence_checked_at = ?, licence_checked_by = ?,
			agreement_signer = ?, agreement_at = ?`, "status = 'booked'", in.LicenceNo, in.LicenceClass, in.LicenceExpiry, now, userID(a), in.SignerName, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "check", "test_drive", id, t.StoreID, nil, map[string]any{"licenceNo": MaskLicence(in.LicenceNo),
			"licenceClass": in.LicenceClass, "licenceExpiry": in.LicenceExpiry, "agreementSigner": in.SignerName})
	})
}

// change runs fn on a test drive the actor may change, in one write
// transaction, and returns the test drive as the actor then sees it.
func (s *Service) change(ctx context.Context, a auth.Actor, id int64, fn func(tx *sql.Tx, t TestDrive) error) (TestDrive, error) {
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		t, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		return fn(tx, t)
	})
	if err != nil {
		return TestDrive{}, err
	}
	return s.readable(ctx, s.d.DB.R, a, id)
}

func allowedClass(c string) bool {
	for _, x := range LicenceClasses {
		if x == c {
			return true
		}
	}
	return false
}

// expired reports whether a licence valid through the day expiry is past on
// the local day of now.
func expired(expiry, now time.Time) bool {
	y, m, d := now.Date()
	return expiry.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// step applies one conditional update of a drive's state: the version must
// match and the status condition hold, else 409 (conflict.stale when the
// version moved, testdrive.not_booked / not_started otherwise).
func (s *Service) step(ctx context.Context, tx db.Querier, a auth.Actor, t TestDrive, version int64, set, cond string, args ...any) error {
	if version != t.Version {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	args = append(args, s.now(), userID(a), t.ID, version)
	r, err := tx.ExecContext(ctx, `UPDATE test_drive SET `+set+`, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ? AND `+cond, args...)
	if err != nil {
		return overlapErr(fmt.Errorf("testdrive: update %d: %w", t.ID, err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "conflict.stale")
	}
	return nil
}

// Start starts the drive: the licence check and agreement must be on record
// (and the licence still valid), the car free and not in maintenance, the
// mileage out not below the car's last reading.
func (s *Service) Start(ctx context.Context, a auth.Actor, id int64, in StartInput) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	if in.MileageOut <= 0 || in.MileageOut > 1_000_000 {
		return TestDrive{}, apperr.Field("mileageOut", "out_of_range", "min", 1, "max", 1_000_000)
	}
	return s.change(ctx, a, id, func(tx *sql.Tx, t TestDrive) error {
		if t.Status != StatusBooked {
			return apperr.New(apperr.Conflict, "testdrive.not_booked")
		}
		if t.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if t.LicenceCheckedAt == nil {
			return apperr.New(apperr.Conflict, "testdrive.licence_required")
		}
		if t.AgreementAt == nil {
			return apperr.New(apperr.Conflict, "testdrive.agreement_required")
		}
		r, err := loadRules(ctx, tx, t.StoreID)
		if err != nil {
			return err
		}
		now := s.d.Clock.Now()
		if exp, err := time.Parse("2006-01-02", t.LicenceExpiry); err != nil || expired(exp, now.In(r.loc)) {
			return apperr.New(apperr.Conflict, "testdrive.licence_expired")
		}
		if now.UnixMilli() < t.StartAt-startEarly.Milliseconds() {
			return apperr.New(apperr.Conflict, "testdrive.too_early")
		}
		car, err := loadCar(ctx, tx, t.CarID)
		if err != nil {
			return err
		}
		if car.Status != CarActive {
			return apperr.New(apperr.Conflict, "testdrive.car_unavailable")
		}
		var busy int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM test_drive WHERE car_id = ? AND status = 'in_progress' AND id <> ?`, t.CarID, id).Scan(&busy); err != nil {
			return err
		}
		if busy > 0 {
			return apperr.New(apperr.Conflict, "testdrive.car_in_use")
		}
		if in.MileageOut < car.Mileage {
			return apperr.Field("mileageOut", "testdrive.mileage_below_car", "km", car.Mileage)
		}
		ms := now.UnixMilli()
		if err := s.step(ctx, tx, a, t, in.Version, `status = 'in_progress', started_at = ?, mileage_out = ?`, "status = 'booked'", ms, in.MileageOut); err != nil {
			return err
		}
		if err := setMileage(ctx, tx, car.ID, in.MileageOut, ms); err != nil {
			return err
		}
		if err := closeTasks(ctx, tx, id, "done", ms); err != nil {
			return err
		}
		if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: t.CustomerID, StoreID: t.customerStore, At: ms, Kind: "testdrive.started",
			Entity: "test_drive", EntityID: id, Data: map[string]any{"car": car.Label(), "mileageOut": in.MileageOut, "route": t.Route}}.By(a)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "start", "test_drive", id, t.StoreID, nil, map[string]any{"mileageOut": in.MileageOut, "startedAt": ms})
	})
}

// setMileage moves the car's odometer forward (never back).
func setMileage(ctx context.Context, q db.Querier, carID, km, now int64) error {
	_, err := q.ExecContext(ctx, `UPDATE test_drive_car SET mileage = ?, version = version + 1, updated_at = ? WHERE id = ? AND mileage < ?`, km, now, carID, km)
	if err != nil {
		return fmt.Errorf("testdrive: car %d mileage: %w", carID, err)
	}
	return nil
}

// IntentChanges are the answers to "has the drive changed your wish to buy".
var IntentChanges = []string{"up", "same", "down"}

// Complete ends a drive in progress: mileage in (not below out, not an absurd
// distance), the feedback (overall rating required), the car's odometer moves,
// the customer's timeline gets the summary, and the SOP pipeline moves the
// customer to 接待/试驾 if they were earlier.
func (s *Service) Complete(ctx context.Context, a auth.Actor, id int64, in CompleteInput) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	in.Comment = strings.TrimSpace(in.Comment)
	if in.IntentChange == "" {
		in.IntentChange = "same"
	}
	f := apperr.Fields{}
	if in.MileageIn <= 0 || in.MileageIn > 1_000_000 {
		f.Add("mileageIn", "out_of_range", "min", 1, "max", 1_000_000)
	}
	if in.Rating < 1 || in.Rating > 5 {
		f.Add("rating", "testdrive.rating_required")
	}
	for name, v := range map[string]int{"comfort": in.Comfort, "power": in.Power, "handling": in.Handling, "tech": in.Tech} {
		if v < 0 || v > 5 {
			f.Add(name, "out_of_range", "min", 0, "max", 5)
		}
	}
	switch in.IntentChange {
	case "up", "same", "down":
	default:
		f.Add("intentChange", "invalid_format")
	}
	if utf8.RuneCountInString(in.Comment) > 1000 {
		f.Add("comment", "too_long", "max", 1000)
	}
	if err := f.Err(); err != nil {
		return TestDrive{}, err
	}
	return s.change(ctx, a, id, func(tx *sql.Tx, t TestDrive) error {
		if t.Status != StatusInProgress {
			return apperr.New(apperr.Conflict, "testdrive.not_started")
		}
		if t.Version != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		r, err := loadRules(ctx, tx, t.StoreID)
		if err != nil {
			return err
		}
		out := *t.MileageOut
		if in.MileageIn < out {
			return apperr.Field("mileageIn", "testdrive.mileage_in_below_out", "km", out)
		}
		if in.MileageIn-out > int64(r.MaxDistanceKm) {
			return apperr.Field("mileageIn", "testdrive.distance_absurd", "max", r.MaxDistanceKm, "km", in.MileageIn-out)
		}
		now := s.now()
		if err := s.step(ctx, tx, a, t, in.Version, `status = 'completed', ended_at = ?, mileage_in = ?, rating = ?, rating_comfort = ?, rating_power = ?,
			rating_handling = ?, rating_tech = ?, intent_change = ?, feedback = ?`, "status = 'in_progress'",
			now, in.MileageIn, in.Rating, in.Comfort, in.Power, in.Handling, in.Tech, in.IntentChange, in.Comment); err != nil {
			return err
		}
		if err := setMileage(ctx, tx, t.CarID, in.MileageIn, now); err != nil {
			return err
		}
		if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: t.CustomerID, StoreID: t.customerStore, At: now, Kind: "testdrive.completed",
			Entity: "test_drive", EntityID: id, Data: map[string]any{"car": t.carLabel(), "rating": in.Rating, "distanceKm": in.MileageIn - out,
				"intentChange": in.IntentChange, "comment": in.Comment}}.By(a)); err != nil {
			return err
		}
		if s.d.SOP != nil {
			if err := s.d.SOP.AdvanceTx(ctx, tx, t.CustomerID, "visit"); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "complete", "test_drive", id, t.StoreID, nil, map[string]any{"mileageIn": in.MileageIn, "rating": in.Rating,
			"comfort": in.Comfort, "power": in.Power, "handling": in.Handling, "tech": in.Tech, "intentChange": in.IntentChange, "comment": in.Comment})
	})
}

// Cancel cancels a booking with a reason; its reminder task is cancelled.
func (s *Service) Cancel(ctx context.Context, a auth.Actor, id int64, in CancelInput) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		return TestDrive{}, apperr.Field("reason", "required")
	}
	if utf8.RuneCountInString(in.Reason) > 200 {
		return TestDrive{}, apperr.Field("reason", "too_long", "max", 200)
	}
	return s.change(ctx, a, id, func(tx *sql.Tx, t TestDrive) error {
		if t.Status != StatusBooked {
			return apperr.New(apperr.Conflict, "testdrive.not_booked")
		}
		return s.close(ctx, tx, a, t, in.Version, StatusCancelled, in.Reason)
	})
}

// NoShow marks a booking the customer did not come to; only once its start
// has passed.
func (s *Service) NoShow(ctx context.Context, a auth.Actor, id int64, in VersionInput) (TestDrive, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return TestDrive{}, err
	}
	return s.change(ctx, a, id, func(tx *sql.Tx, t TestDrive) error {
		if t.Status != StatusBooked {
			return apperr.New(apperr.Conflict, "testdrive.not_booked")
		}
		if s.now() < t.StartAt {
			return apperr.New(apperr.Conflict, "testdrive.not_due")
		}
		return s.close(ctx, tx, a, t, in.Version, StatusNoShow, "")
	})
}

// close ends a booking that did not happen (cancelled or no-show): state,
// reminder task, timeline, audit. a.UserID 0 (the job) leaves closed_by NULL.
func (s *Service) close(ctx context.Context, tx db.Querier, a auth.Actor, t TestDrive, version int64, status, reason string) error {
	now := s.now()
	if err := s.step(ctx, tx, a, t, version, `status = ?, cancel_reason = ?, closed_at = ?, closed_by = ?`, "status = 'booked'",
		status, reason, now, userID(a)); err != nil {
		return err
	}
	if err := closeTasks(ctx, tx, t.ID, "cancelled", now); err != nil {
		return err
	}
	data := map[string]any{"car": t.carLabel(), "startAt": t.StartAt}
	kind := "testdrive.no_show"
	if status == StatusCancelled {
		kind = "testdrive.cancelled"
		data["reason"] = reason
	}
	if err := timeline.Append(ctx, tx, timeline.Event{CustomerID: t.CustomerID, StoreID: t.customerStore, At: now, Kind: kind,
		Entity: "test_drive", EntityID: t.ID, Data: data}.By(a)); err != nil {
		return err
	}
	action := "cancel"
	if status == StatusNoShow {
		action = "no_show"
	}
	return s.audit(ctx, tx, a, action, "test_drive", t.ID, t.StoreID, map[string]any{"status": t.Status}, map[string]any{"status": status, "reason": reason})
}

// MarkNoShows marks every booking never started whose start is more than the
// store's grace ago. Each goes in its own transaction through the same
// conditional update as a person's click, so a start racing the job wins or
// loses cleanly. It returns how many it marked.
func (s *Service) MarkNoShows(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT id, store_id, start_at FROM test_drive WHERE status = 'booked' AND start_at <= ? ORDER BY start_at LIMIT 1000`, now-5*60000)
	if err != nil {
		return 0, fmt.Errorf("testdrive: due no-shows: %w", err)
	}
	type due struct{ id, store, start int64 }
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.store, &d.start); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	grace := map[int64]int64{}
	sys := auth.System("system")
	marked := 0
	for _, d := range list {
		if ctx.Err() != nil {
			break
		}
		g, ok := grace[d.store]
		if !ok {
			st, err := LoadSettings(ctx, s.d.DB.R, d.store)
			if err != nil {
				return marked, err
			}
			g = int64(st.NoShowGraceMinutes) * 60000
			grace[d.store] = g
		}
		if d.start+g > now {
			continue
		}
		err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
			t, err := loadDrive(ctx, tx, d.id)
			if err != nil {
				return err
			}
			if t.Status != StatusBooked {
				return nil // started or closed meanwhile
			}
			if err := s.close(ctx, tx, sys, t, t.Version, StatusNoShow, ""); err != nil {
				if apperr.Is(err, apperr.Conflict) {
					return nil
				}
				return err
			}
			marked++
			return nil
		})
		if err != nil {
			return marked, err
		}
	}
	if marked > 0 {
		s.d.Log.Info("test drives marked no-show", "count", marked)
	}
	return marked, nil
}

// Revealed is a drive's full licence number.
type Revealed struct {
	LicenceNo string `json:"licenceNo"`
}

// RevealLicence returns the full licence number (pi.reveal), audited.
func (s *Service) RevealLicence(ctx context.Context, a auth.Actor, id int64) (Revealed, error) {
	var out Revealed
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		t, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := auth.Require(a, auth.PermPIReveal); err != nil {
			return err
		}
		out.LicenceNo = t.licenceFull
		return s.audit(ctx, tx, a, "reveal", "test_drive", id, t.StoreID, nil, map[string]any{"fields": []string{"licenceNo"}})
	})
	return out, err
}
