package testdrive_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/sales/testdrive"
)

var shanghai = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

// at is a time on 2026-11-24 (the day after apptest.Start) in the store's zone.
func at(h, m int) int64 { return time.Date(2026, 11, 24, h, m, 0, 0, shanghai).UnixMilli() }

type fixture struct {
	env               *apptest.Env
	sales, sales2     *apptest.Client
	manager           *apptest.Client
	carA, carB        testdrive.Car
	cust1, cust2      int64 // customers of sales
	other             int64 // a customer of sales2
	salesID, sales2ID int64
}

func customer(t *testing.T, c *apptest.Client, phone, name string) int64 {
	t.Helper()
	var res struct {
		CustomerID int64 `json:"customerId"`
	}
	c.Do("POST", "/leads", map[string]any{"phone": phone, "channel": "phone", "assign": "me", "name": name}).Expect(t, http.StatusCreated).JSON(t, &res)
	return res.CustomerID
}

func modelID(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM vehicle_model ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func addCar(t *testing.T, c *apptest.Client, body map[string]any) testdrive.Car {
	t.Helper()
	var car testdrive.Car
	c.Do("POST", "/test-drive-cars", body).Expect(t, http.StatusCreated).JSON(t, &car)
	return car
}

func setup(t *testing.T) *fixture {
	t.Helper()
	env := apptest.NewDemo(t)
	f := &fixture{env: env, sales: env.As("sales"), sales2: env.As("sales_HZ012"), manager: env.As("sales_manager")}
	f.salesID, f.sales2ID = env.UserID("sales"), env.UserID("sales_HZ012")
	m := modelID(t, env)
	f.carA = addCar(t, f.manager, map[string]any{"modelId": m, "plate": "浙A·D1234", "color": "白", "mileage": 1200})
	f.carB = addCar(t, f.manager, map[string]any{"modelId": m, "plate": "浙AD5678", "mileage": 300})
	f.cust1 = customer(t, f.sales, "13800001111", "张一")
	f.cust2 = customer(t, f.sales, "13800002222", "张二")
	f.other = customer(t, f.sales2, "13800003333", "李三")
	return f
}

func (f *fixture) book(c *apptest.Client, customer, car, consultant, start, end int64) *apptest.Response {
	body := map[string]any{"customerId": customer, "carId": car, "startAt": start, "endAt": end, "route": "市区常规路线"}
	if consultant != 0 {
		body["consultantId"] = consultant
	}
	return c.Do("POST", "/test-drives", body)
}

func booked(t *testing.T, r *apptest.Response) testdrive.TestDrive {
	t.Helper()
	var d testdrive.TestDrive
	r.Expect(t, http.StatusCreated).JSON(t, &d)
	return d
}

func count(t *testing.T, env *apptest.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFleet_PlateVINAndRights: plates are normalized and unique per store, a
// China-built VIN with a wrong check digit is refused, consultants read the
// fleet but do not change it, edits are version-checked, a car in
// maintenance cannot be booked.
func TestFleet_PlateVINAndRights(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if f.carA.Plate != "浙AD1234" || f.carA.Mileage != 1200 || f.carA.Status != "active" || f.carA.ModelName == "" {
		t.Fatalf("car %+v", f.carA)
	}
	m := f.carA.ModelID
	apptest.ExpectField(t, f.manager.Do("POST", "/test-drive-cars", map[string]any{"modelId": m, "plate": "浙ad1234"}), "plate", "testdrive.plate_taken")
	apptest.ExpectField(t, f.manager.Do("POST", "/test-drive-cars", map[string]any{"modelId": m, "plate": "ABC"}), "plate", "testdrive.plate_invalid")
	apptest.ExpectField(t, f.manager.Do("POST", "/test-drive-cars", map[string]any{"modelId": m, "plate": "浙A99999", "vin": "LFV2A21K5P4012345"}), "vin", "vin.check_digit")
	apptest.ExpectField(t, f.manager.Do("POST", "/test-drive-cars", map[string]any{"modelId": 999999, "plate": "浙A99999"}), "modelId", "vehicle.model_unknown")
	withVIN := addCar(t, f.manager, map[string]any{"modelId": m, "plate": "浙A99999", "vin": "LFV2A21K8P4012345"})
	if withVIN.VIN != "LFV2A21K8P4012345" {
		t.Fatalf("vin %q", withVIN.VIN)
	}
	f.sales.Do("POST", "/test-drive-cars", map[string]any{"modelId": m, "plate": "浙A88888"}).Expect(t, http.StatusForbidden)
	var list struct{ Items []testdrive.Car }
	f.sales.Do("GET", "/test-drive-cars", nil).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 3 {
		t.Fatalf("fleet %d cars", len(list.Items))
	}
	// Another store's manager does not see or edit this store's cars.
	f.env.As("sales_manager_NB011").Do("GET", fmt.Sprintf("/test-drive-cars/%d", f.carB.ID), nil).Expect(t, http.StatusNotFound)
	edit := map[string]any{"modelId": m, "plate": "浙AD5678", "mileage": 300, "status": "maintenance", "version": f.carB.Version}
	var b testdrive.Car
	f.manager.Do("PUT", fmt.Sprintf("/test-drive-cars/%d", f.carB.ID), edit).Expect(t, http.StatusOK).JSON(t, &b)
	apptest.ExpectErr(t, f.manager.Do("PUT", fmt.Sprintf("/test-drive-cars/%d", f.carB.ID), edit), http.StatusConflict, "conflict.stale")
	edit["version"], edit["mileage"] = b.Version, 100
	apptest.ExpectField(t, f.manager.Do("PUT", fmt.Sprintf("/test-drive-cars/%d", f.carB.ID), edit), "mileage", "testdrive.mileage_back")
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carB.ID, 0, at(10, 0), at(11, 0)), "carId", "testdrive.car_unavailable")
	if n := f.env.AuditCount("create", "test_drive_car"); n != 3 {
		t.Fatalf("%d create audit rows", n)
	}
}

// TestBook_OverlapMatrix: against a booking 10:00–11:00, the same car or the
// same consultant is refused for every overlapping interval (same, 1 ms
// either side, containment both ways) and accepted for the touching ones
// (half-open intervals). The error names the field and the clashing time.
func TestBook_OverlapMatrix(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first := booked(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(10, 0), at(11, 0)))
	if first.ConsultantID != f.salesID || first.Status != "booked" || first.CustomerName != "张一" {
		t.Fatalf("booking %+v", first)
	}
	const ms = int64(1)
	cases := []struct {
		name       string
		start, end int64
		ok         bool
	}{
		{"same interval", at(10, 0), at(11, 0), false},
		{"contained", at(10, 15), at(10, 45), false},
		{"containing", at(9, 30), at(11, 30), false},
		{"1 ms overlap at the end", at(11, 0) - ms, at(11, 30), false},
		{"1 ms overlap at the start", at(9, 30), at(10, 0) + ms, false},
		{"starts inside", at(10, 30), at(11, 30), false},
		{"touching after (end == start)", at(11, 0), at(11, 30), true},
		{"touching before", at(9, 30), at(10, 0), true},
	}
	for _, res := range []struct {
		name     string
		field    string
		code     string
		customer int64
		car      int64
		cons     int64
		by       *apptest.Client
	}{
		{"car", "carId", "testdrive.car_busy", f.other, f.carA.ID, f.sales2ID, f.manager},           // same car, other consultant
		{"consultant", "consultantId", "testdrive.consultant_busy", f.cust2, f.carB.ID, 0, f.sales}, // same consultant, other car
	} {
		for _, tc := range cases {
			r := f.book(res.by, res.customer, res.car, res.cons, tc.start, tc.end)
			if tc.ok {
				d := booked(t, r)
				res.by.Do("POST", fmt.Sprintf("/test-drives/%d/cancel", d.ID), map[string]any{"reason": "测试", "version": d.Version}).Expect(t, http.StatusOK)
				continue
			}
			e := apptest.ExpectErr(t, r, http.StatusConflict, "testdrive.clash")
			fe, ok := e.Fields[res.field]
			if !ok || fe.Code != res.code || !strings.Contains(fe.Message, "10:00–11:00") {
				t.Fatalf("%s / %s: %s", res.name, tc.name, r)
			}
			if len(e.Fields) != 1 {
				t.Fatalf("%s / %s: only %s clashes: %s", res.name, tc.name, res.field, r)
			}
		}
	}
	// Both taken: both fields.
	e := apptest.ExpectErr(t, f.book(f.sales, f.cust2, f.carA.ID, 0, at(10, 0), at(11, 0)), http.StatusConflict, "testdrive.clash")
	if e.Fields["carId"].Code != "testdrive.car_busy" || e.Fields["consultantId"].Code != "testdrive.consultant_busy" {
		t.Fatalf("both: %+v", e)
	}
	// Cancelled bookings free the slot.
	f.sales.Do("POST", fmt.Sprintf("/test-drives/%d/cancel", first.ID), map[string]any{"reason": "客户改期", "version": first.Version}).Expect(t, http.StatusOK)
	booked(t, f.book(f.sales, f.cust2, f.carA.ID, 0, at(10, 0), at(11, 0)))
	// The database refuses an overlap even when the service's check is bypassed.
	_, err := f.env.App.DB.W.Exec(`INSERT INTO test_drive (store_id, customer_id, car_id, consultant_id, start_at, end_at, status, created_at, updated_at)
		VALUES (1, ?, ?, ?, ?, ?, 'booked', 0, 0)`, f.other, f.carA.ID, f.sales2ID, at(10, 30), at(10, 45))
	if err == nil || !strings.Contains(err.Error(), "test_drive overlap") {
		t.Fatalf("trigger: %v", err)
	}
}

// TestBook_RulesOfTheStore: length between 15 min and 4 h, within the working
// hours (09:00–18:00 by default), not in the past, car and customer of the
// same store, a reminder task for the consultant an hour before, a timeline
// entry and an audit row.
func TestBook_RulesOfTheStore(t *testing.T) {
	t.Parallel()
	f := setup(t)
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(10, 0), at(10, 10)), "endAt", "testdrive.length")
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(10, 0), at(14, 30)), "endAt", "testdrive.length")
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(17, 30), at(18, 30)), "startAt", "testdrive.outside_hours")
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(8, 0), at(9, 0)), "startAt", "testdrive.outside_hours")
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(11, 0), at(10, 0)), "endAt", "testdrive.end_before_start")
	past := time.Date(2026, 11, 22, 10, 0, 0, 0, shanghai).UnixMilli()
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, 0, past, past+3600000), "startAt", "testdrive.in_past")
	apptest.ExpectField(t, f.book(f.sales, 0, f.carA.ID, 0, at(10, 0), at(11, 0)), "customerId", "required")
	d := booked(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(17, 0), at(18, 0)))
	var due, remind int64
	if err := f.env.App.DB.R.QueryRow(`SELECT due_at, remind_at FROM task WHERE entity = 'test_drive' AND entity_id = ? AND status = 'open' AND assignee_id = ?`, d.ID, f.salesID).Scan(&due, &remind); err != nil {
		t.Fatalf("reminder task: %v", err)
	}
	if due != at(17, 0) || remind != at(16, 0) {
		t.Fatalf("task due %d remind %d", due, remind)
	}
	if n := count(t, f.env, `SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind = 'testdrive.booked'`, f.cust1); n != 1 {
		t.Fatalf("%d timeline entries", n)
	}
	if n := f.env.AuditCount("create", "test_drive"); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	// A customer of another store cannot take this store's car.
	nb := f.env.As("sales_NB011")
	nbCust := customer(t, nb, "13900004444", "王五")
	apptest.ExpectField(t, f.book(nb, nbCust, f.carA.ID, 0, at(12, 0), at(13, 0)), "carId", "testdrive.car_unknown")
}

// TestConcurrent_BookSameSlot: 20 requests for the same car and slot at once
// through the real HTTP server: exactly one 201, the others 409.
func TestConcurrent_BookSameSlot(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const n = 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, cons, cust := f.sales, int64(0), f.cust1
			if i%2 == 1 { // half through the manager for the other consultant: only the car clashes
				c, cons, cust = f.manager, f.sales2ID, f.other
			}
			statuses[i] = f.book(c, cust, f.carA.ID, cons, at(14, 0), at(15, 0)).Status
		}(i)
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Fatalf("status %d", s)
		}
	}
	if created != 1 {
		t.Fatalf("%d bookings created, want 1 (%v)", created, statuses)
	}
	if k := count(t, f.env, `SELECT count(*) FROM test_drive WHERE car_id = ? AND status = 'booked'`, f.carA.ID); k != 1 {
		t.Fatalf("%d rows", k)
	}
}

// TestReschedule_ClashAndVersion: moving a booking onto another is refused,
// a stale version is 409 conflict.stale, a good move bumps the version and
// moves the reminder task.
func TestReschedule_ClashAndVersion(t *testing.T) {
	t.Parallel()
	f := setup(t)
	d1 := booked(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(10, 0), at(11, 0)))
	d2 := booked(t, f.book(f.sales, f.cust2, f.carA.ID, 0, at(11, 0), at(12, 0)))
	move := func(d testdrive.TestDrive, car, start, end, version int64) *apptest.Response {
		return f.sales.Do("PUT", fmt.Sprintf("/test-drives/%d", d.ID), map[string]any{"carId": car, "consultantId": d.ConsultantID,
			"startAt": start, "endAt": end, "route": d.Route, "version": version})
	}
	e := apptest.ExpectErr(t, move(d2, f.carA.ID, at(10, 30), at(11, 30), d2.Version), http.StatusConflict, "testdrive.clash")
	if e.Fields["carId"].Code != "testdrive.car_busy" || e.Fields["consultantId"].Code != "testdrive.consultant_busy" {
		t.Fatalf("fields %+v", e.Fields)
	}
	// Shrinking within its own slot clashes with nothing (its own row excepted).
	var got testdrive.TestDrive
	move(d2, f.carA.ID, at(11, 0), at(11, 45), d2.Version).Expect(t, http.StatusOK).JSON(t, &got)
	apptest.ExpectErr(t, move(d2, f.carA.ID, at(13, 0), at(14, 0), d2.Version), http.StatusConflict, "conflict.stale")
	move(d2, f.carB.ID, at(13, 0), at(14, 0), got.Version).Expect(t, http.StatusOK).JSON(t, &got)
	if got.CarID != f.carB.ID || got.StartAt != at(13, 0) || got.Version != d2.Version+2 {
		t.Fatalf("moved %+v", got)
	}
	if n := count(t, f.env, `SELECT count(*) FROM task WHERE entity = 'test_drive' AND entity_id = ? AND status = 'open' AND due_at = ?`, d2.ID, at(13, 0)); n != 1 {
		t.Fatalf("open reminder at the new time: %d", n)
	}
	if n := count(t, f.env, `SELECT count(*) FROM task WHERE entity = 'test_drive' AND entity_id = ? AND status = 'open'`, d2.ID); n != 1 {
		t.Fatalf("open reminders: %d", n)
	}
	// The freed slot is bookable again; a cancelled booking cannot be moved.
	booked(t, f.book(f.manager, f.other, f.carA.ID, f.sales2ID, at(11, 0), at(12, 0)))
	f.sales.Do("POST", fmt.Sprintf("/test-drives/%d/cancel", d1.ID), map[string]any{"reason": "客户有事", "version": d1.Version}).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, move(d1, f.carA.ID, at(15, 0), at(16, 0), d1.Version+1), http.StatusConflict, "testdrive.not_booked")
	if n := count(t, f.env, `SELECT count(*) FROM task WHERE entity = 'test_drive' AND entity_id = ? AND status = 'open'`, d1.ID); n != 0 {
		t.Fatalf("cancelled booking keeps %d open tasks", n)
	}
}

// TestDrive_LicenceMileageFeedback walks a drive: the start needs the
// licence check and agreement; an expired licence or a non-car class is
// refused; mileage out not below the car's, mileage in not below out and not
// absurd; the feedback completes it, moves the car's odometer, writes the
// timeline, and the SOP gate sees it. The licence number is masked and its
// reveal audited.
func TestDrive_LicenceMileageFeedback(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// apptest.Start is 17:00 in Shanghai: a drive at 17:15.
	start := apptest.Start.Add(15 * time.Minute).UnixMilli()
	d := booked(t, f.book(f.sales, f.cust1, f.carA.ID, 0, start, start+30*60000))
	path := fmt.Sprintf("/test-drives/%d", d.ID)
	apptest.ExpectErr(t, f.sales.Do("POST", path+"/start", map[string]any{"mileageOut": 1250, "version": d.Version}), http.StatusConflict, "testdrive.licence_required")
	check := map[string]any{"licenceNo": "330102199001011234", "licenceClass": "C1", "licenceExpiry": "2026-11-22", "agreementSigned": true, "signerName": "张一", "version": d.Version}
	apptest.ExpectField(t, f.sales.Do("POST", path+"/check", check), "licenceExpiry", "testdrive.licence_expired")
	check["licenceExpiry"], check["licenceClass"] = "2026-11-23", "D"
	apptest.ExpectField(t, f.sales.Do("POST", path+"/check", check), "licenceClass", "testdrive.licence_class")
	check["licenceClass"], check["agreementSigned"] = "c2", false
	apptest.ExpectField(t, f.sales.Do("POST", path+"/check", check), "agreementSigned", "testdrive.agreement_required")
	check["agreementSigned"] = true
	f.sales.Do("POST", path+"/check", check).Expect(t, http.StatusOK).JSON(t, &d)
	if d.LicenceNo != "330102********1234" || d.LicenceClass != "C2" || d.LicenceCheckedAt == nil || d.AgreementSigner != "张一" {
		t.Fatalf("checked %+v", d)
	}
	// Another consultant may not run it.
	f.sales2.Do("POST", path+"/start", map[string]any{"mileageOut": 1250, "version": d.Version}).Expect(t, http.StatusNotFound)
	apptest.ExpectField(t, f.sales.Do("POST", path+"/start", map[string]any{"mileageOut": 1100, "version": d.Version}), "mileageOut", "testdrive.mileage_below_car")
	apptest.ExpectErr(t, f.sales.Do("POST", path+"/start", map[string]any{"mileageOut": 1250, "version": d.Version - 1}), http.StatusConflict, "conflict.stale")
	f.sales.Do("POST", path+"/start", map[string]any{"mileageOut": 1250, "version": d.Version}).Expect(t, http.StatusOK).JSON(t, &d)
	if d.Status != "in_progress" || *d.MileageOut != 1250 {
		t.Fatalf("started %+v", d)
	}
	f.env.Clock.Advance(35 * time.Minute)
	f.sales = f.env.As("sales") // the session idled out meanwhile
	done := map[string]any{"mileageIn": 1200, "rating": 5, "comfort": 4, "power": 5, "handling": 4, "tech": 3, "intentChange": "up", "comment": "动力很好", "version": d.Version}
	apptest.ExpectField(t, f.sales.Do("POST", path+"/complete", done), "mileageIn", "testdrive.mileage_in_below_out")
	done["mileageIn"] = 1251 + 500
	apptest.ExpectField(t, f.sales.Do("POST", path+"/complete", done), "mileageIn", "testdrive.distance_absurd")
	done["mileageIn"], done["rating"] = 1262, 0
	apptest.ExpectField(t, f.sales.Do("POST", path+"/complete", done), "rating", "testdrive.rating_required")
	gate := f.env.App.TestDrive.Gates()[0]
	if ok, err := gate.Check(context.Background(), f.env.App.DB.R, f.cust1); err != nil || ok || gate.Key != "test_drive_done" {
		t.Fatalf("gate before: %v %v", ok, err)
	}
	done["rating"] = 5
	f.sales.Do("POST", path+"/complete", done).Expect(t, http.StatusOK).JSON(t, &d)
	if d.Status != "completed" || d.Feedback == nil || d.Feedback.Rating != 5 || d.Feedback.IntentChange != "up" || *d.MileageIn != 1262 {
		t.Fatalf("completed %+v", d)
	}
	if ok, err := gate.Check(context.Background(), f.env.App.DB.R, f.cust1); err != nil || !ok {
		t.Fatalf("gate after: %v %v", ok, err)
	}
	var car testdrive.Car
	f.sales.Do("GET", fmt.Sprintf("/test-drive-cars/%d", f.carA.ID), nil).Expect(t, http.StatusOK).JSON(t, &car)
	if car.Mileage != 1262 {
		t.Fatalf("car mileage %d", car.Mileage)
	}
	for _, kind := range []string{"testdrive.booked", "testdrive.started", "testdrive.completed"} {
		if n := count(t, f.env, `SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind = ?`, f.cust1, kind); n != 1 {
			t.Fatalf("timeline %s: %d", kind, n)
		}
	}
	for _, action := range []string{"check", "start", "complete"} {
		if n := f.env.AuditCount(action, "test_drive"); n != 1 {
			t.Fatalf("audit %s: %d", action, n)
		}
	}
	if n := count(t, f.env, `SELECT count(*) FROM audit_log WHERE entity = 'test_drive' AND (after_json LIKE '%330102199001011234%' OR before_json LIKE '%330102199001011234%')`); n != 0 {
		t.Fatal("the audit log holds the full licence number")
	}
	var rev testdrive.Revealed
	f.sales.Do("POST", path+"/licence/reveal", nil).Expect(t, http.StatusOK).JSON(t, &rev)
	if rev.LicenceNo != "330102199001011234" || f.env.AuditCount("reveal", "test_drive") != 1 {
		t.Fatalf("reveal %+v", rev)
	}
	// A completed drive is no longer cancellable.
	apptest.ExpectErr(t, f.sales.Do("POST", path+"/cancel", map[string]any{"reason": "x", "version": d.Version}), http.StatusConflict, "testdrive.not_booked")
}

// TestNoShow_JobAfterGrace: a booking never started becomes a no-show 30
// minutes after its start (not before); a consultant may mark one only after
// the start; the stats count them per consultant.
func TestNoShow_JobAfterGrace(t *testing.T) {
	t.Parallel()
	f := setup(t)
	start := apptest.Start.Add(15 * time.Minute).UnixMilli() // 17:15 Shanghai
	d := booked(t, f.book(f.sales, f.cust1, f.carA.ID, 0, start, start+30*60000))
	d2 := booked(t, f.book(f.sales, f.cust2, f.carB.ID, 0, at(10, 0), at(11, 0)))
	apptest.ExpectErr(t, f.sales.Do("POST", fmt.Sprintf("/test-drives/%d/no-show", d.ID), map[string]any{"version": d.Version}), http.StatusConflict, "testdrive.not_due")
	svc := f.env.App.TestDrive
	f.env.Clock.Advance(44 * time.Minute) // 17:44: 29 minutes after the start
	if n, err := svc.MarkNoShows(context.Background()); err != nil || n != 0 {
		t.Fatalf("early: %d %v", n, err)
	}
	f.env.Clock.Advance(time.Minute) // 17:45: grace over
	if n, err := svc.MarkNoShows(context.Background()); err != nil || n != 1 {
		t.Fatalf("job: %d %v", n, err)
	}
	f.sales = f.env.As("sales")
	var got testdrive.TestDrive
	f.sales.Do("GET", fmt.Sprintf("/test-drives/%d", d.ID), nil).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "no_show" || !got.NoShowAuto {
		t.Fatalf("after job %+v", got)
	}
	if n, _ := svc.MarkNoShows(context.Background()); n != 0 {
		t.Fatal("marked twice")
	}
	if n := count(t, f.env, `SELECT count(*) FROM task WHERE entity = 'test_drive' AND entity_id = ? AND status = 'open'`, d.ID); n != 0 {
		t.Fatal("no-show keeps its reminder open")
	}
	// The next day the consultant marks the other one by hand.
	f.env.Clock.Set(time.UnixMilli(at(10, 5)))
	f.sales, f.manager, f.sales2 = f.env.As("sales"), f.env.As("sales_manager"), f.env.As("sales_HZ012")
	f.sales.Do("POST", fmt.Sprintf("/test-drives/%d/no-show", d2.ID), map[string]any{"version": d2.Version}).Expect(t, http.StatusOK).JSON(t, &got)
	if got.NoShowAuto {
		t.Fatal("marked by hand counts as auto")
	}
	var stats struct{ Items []testdrive.ConsultantStats }
	f.manager.Do("GET", "/test-drives/stats", nil).Expect(t, http.StatusOK).JSON(t, &stats)
	if len(stats.Items) != 1 || stats.Items[0].ConsultantID != f.salesID || stats.Items[0].NoShow != 2 || stats.Items[0].Booked != 2 {
		t.Fatalf("stats %+v", stats.Items)
	}
	f.sales2.Do("GET", "/test-drives/stats", nil).Expect(t, http.StatusOK).JSON(t, &stats)
	if len(stats.Items) != 0 {
		t.Fatalf("a consultant sees others' stats: %+v", stats.Items)
	}
}

// TestScope_ConsultantsAndCalendar: a consultant books only their own
// customers with themselves as consultant; a manager books for a consultant
// of the store; the calendar shows every car's occupancy to everyone but the
// customer only within the reader's scope.
func TestScope_ConsultantsAndCalendar(t *testing.T) {
	t.Parallel()
	f := setup(t)
	apptest.ExpectField(t, f.book(f.sales, f.other, f.carA.ID, 0, at(10, 0), at(11, 0)), "customerId", "testdrive.customer_unknown")
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, f.sales2ID, at(10, 0), at(11, 0)), "consultantId", "testdrive.consultant_not_allowed")
	apptest.ExpectField(t, f.book(f.manager, f.cust1, f.carA.ID, f.env.UserID("service_advisor"), at(10, 0), at(11, 0)), "consultantId", "testdrive.consultant_unknown")
	mine := booked(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(10, 0), at(11, 0)))
	theirs := booked(t, f.book(f.manager, f.other, f.carB.ID, 0, at(10, 0), at(11, 0))) // consultant: the owner, sales2
	if theirs.ConsultantID != f.sales2ID {
		t.Fatalf("default consultant %d", theirs.ConsultantID)
	}
	var cal testdrive.Calendar
	f.sales.Do("GET", fmt.Sprintf("/test-drives?from=%d&to=%d", at(0, 0), at(0, 0)+86400000), nil).Expect(t, http.StatusOK).JSON(t, &cal)
	if len(cal.Cars) != 2 || len(cal.Items) != 2 {
		t.Fatalf("calendar %d cars %d items", len(cal.Cars), len(cal.Items))
	}
	for _, it := range cal.Items {
		switch it.ID {
		case mine.ID:
			if it.Hidden || it.CustomerName != "张一" || !it.CanWrite {
				t.Fatalf("own %+v", it)
			}
		case theirs.ID:
			if !it.Hidden || it.CustomerName != "" || it.CustomerID != 0 || it.Route != "" || it.CarID != f.carB.ID || it.ConsultantName == "" {
				t.Fatalf("other's %+v", it)
			}
		}
	}
	f.sales.Do("GET", fmt.Sprintf("/test-drives/%d", theirs.ID), nil).Expect(t, http.StatusNotFound)
	f.sales.Do("POST", fmt.Sprintf("/test-drives/%d/cancel", theirs.ID), map[string]any{"reason": "x", "version": theirs.Version}).Expect(t, http.StatusNotFound)
	f.manager.Do("GET", fmt.Sprintf("/test-drives?from=%d&to=%d&carId=%d", at(0, 0), at(0, 0)+86400000, f.carB.ID), nil).Expect(t, http.StatusOK).JSON(t, &cal)
	if len(cal.Items) != 1 || cal.Items[0].Hidden || cal.Items[0].CustomerName != "李三" {
		t.Fatalf("manager %+v", cal.Items)
	}
	var list struct{ Items []testdrive.TestDrive }
	f.sales.Do("GET", fmt.Sprintf("/customers/%d/test-drives", f.cust1), nil).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != mine.ID {
		t.Fatalf("customer list %+v", list.Items)
	}
	f.sales.Do("GET", fmt.Sprintf("/customers/%d/test-drives", f.other), nil).Expect(t, http.StatusNotFound)
	// Another store's consultant sees nothing of this store.
	f.env.As("sales_NB011").Do("GET", "/test-drives?storeId=1", nil).Expect(t, http.StatusNotFound)
}

// TestSettings_VersionedAndApplied: a manager changes the store's rules
// (version checked, audited); consultants may not; the new lengths apply to
// the next booking.
func TestSettings_VersionedAndApplied(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var st testdrive.StoreSettings
	f.sales.Do("GET", "/test-drives/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	if st.MaxMinutes != 240 || st.Timezone != "Asia/Shanghai" || st.Hours.Start != "09:00" || len(st.Routes) == 0 {
		t.Fatalf("defaults %+v", st)
	}
	body := map[string]any{"minMinutes": 30, "maxMinutes": 90, "noShowGraceMinutes": 20, "reminderMinutes": 0, "maxDistanceKm": 100,
		"storeHours": true, "routes": []string{" 东线 ", "东线", "西线"}, "version": st.Version}
	f.sales.Do("PUT", "/test-drives/settings", body).Expect(t, http.StatusForbidden)
	f.manager.Do("PUT", "/test-drives/settings", body).Expect(t, http.StatusOK).JSON(t, &st)
	if st.MaxMinutes != 90 || len(st.Routes) != 2 || st.Routes[0] != "东线" || st.Version != 1 {
		t.Fatalf("saved %+v", st)
	}
	apptest.ExpectErr(t, f.manager.Do("PUT", "/test-drives/settings", body), http.StatusConflict, "conflict.stale")
	body["version"], body["maxMinutes"] = st.Version, 10
	apptest.ExpectField(t, f.manager.Do("PUT", "/test-drives/settings", body), "maxMinutes", "out_of_range")
	apptest.ExpectField(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(10, 0), at(12, 0)), "endAt", "testdrive.length")
	d := booked(t, f.book(f.sales, f.cust1, f.carA.ID, 0, at(10, 0), at(11, 0)))
	if n := count(t, f.env, `SELECT count(*) FROM task WHERE entity = 'test_drive' AND entity_id = ? AND remind_at IS NULL`, d.ID); n != 1 {
		t.Fatal("reminderMinutes 0 still sets a reminder")
	}
	if f.env.AuditCount("update", "test_drive_settings") != 1 {
		t.Fatal("settings change not audited")
	}
}
