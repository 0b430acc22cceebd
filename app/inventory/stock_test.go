package inventory_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"dealerdesk/app/apptest"
	"dealerdesk/app/findex"
	"dealerdesk/app/inventory"
)

// Valid China-built VINs (check digits computed by hand, see app/pii/vin_test.go).
const (
	vinA = "LFV2A21K8P4012345"
	vinB = "LVSHCAMB6PE000001"
	vinC = "LRW3E7FS2PC999999"
	vinD = "LSVAU218XN2183294"
)

// modelID returns the id of a demo trim.
func modelID(t *testing.T, env *apptest.Env, name string) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM vehicle_model WHERE name = ?`, name).Scan(&id); err != nil {
		t.Fatalf("model %s: %v", name, err)
	}
	return id
}

// camry is the demo's cheapest 凯美瑞 (MSRP 171,800.00 yuan).
func camry(t *testing.T, env *apptest.Env) int64 { return modelID(t, env, "2.0E 精英版") }

func create(t *testing.T, c *apptest.Client, body map[string]any) inventory.Vehicle {
	t.Helper()
	var v inventory.Vehicle
	c.Do("POST", "/vehicles", body).Expect(t, http.StatusCreated).JSON(t, &v)
	return v
}

// customer makes a customer owned by the consultant c (a phone lead assigned to self).
func customer(t *testing.T, c *apptest.Client, phone, name string) int64 {
	t.Helper()
	var res struct {
		CustomerID int64 `json:"customerId"`
	}
	c.Do("POST", "/leads", map[string]any{"phone": phone, "channel": "phone", "assign": "me", "name": name}).Expect(t, http.StatusCreated).JSON(t, &res)
	return res.CustomerID
}

func count(t *testing.T, env *apptest.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCreateVehicle_VINRulesAndWarnings: a China-built VIN with a wrong check
// digit is refused, a European one is kept with a warning, I/O/Q and duplicates
// are refused, MSRP defaults to the model's, cost is kept for cost.read.
func TestCreateVehicle_VINRulesAndWarnings(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	m := camry(t, env)
	v := create(t, admin, map[string]any{"vin": " lfv2a21k8p4012345 ", "modelId": m, "color": "珍珠白", "cost": 15_000_000, "location": "A区-01"})
	if v.VIN != vinA || v.Status != "in_stock" || v.MSRP != 17_180_000 || v.Cost == nil || *v.Cost != 15_000_000 || v.ArrivalAt == nil || len(v.Warnings) != 0 {
		t.Fatalf("created %+v", v)
	}
	if v.DaysInStock == nil || *v.DaysInStock != 0 || v.AgeLevel != "normal" {
		t.Fatalf("days in stock %v level %q", v.DaysInStock, v.AgeLevel)
	}
	apptest.ExpectField(t, admin.Do("POST", "/vehicles", map[string]any{"vin": "LFV2A21K5P4012345", "modelId": m}), "vin", "vin.check_digit")
	apptest.ExpectField(t, admin.Do("POST", "/vehicles", map[string]any{"vin": "LFV2A21K8P40I2345", "modelId": m}), "vin", "vin.invalid_char")
	apptest.ExpectField(t, admin.Do("POST", "/vehicles", map[string]any{"vin": "LFV2A21K8P401234", "modelId": m}), "vin", "vin.length")
	apptest.ExpectField(t, admin.Do("POST", "/vehicles", map[string]any{"vin": vinB, "modelId": 99999}), "modelId", "vehicle.model_unknown")
	apptest.ExpectErr(t, admin.Do("POST", "/vehicles", map[string]any{"vin": vinA, "modelId": m}), http.StatusConflict, "vehicle.vin_taken")
	eu := create(t, admin, map[string]any{"vin": "WVWZZZ3CZWE689725", "modelId": m, "status": "in_transit"})
	if len(eu.Warnings) != 1 || eu.Warnings[0] != "vin.check_digit" || eu.ArrivalAt != nil || eu.DaysInStock != nil {
		t.Fatalf("European VIN: %+v", eu)
	}
	// Consultants read stock but do not create it.
	env.As("sales").Do("POST", "/vehicles", map[string]any{"vin": vinC, "modelId": m}).Expect(t, http.StatusForbidden)
	if n := env.AuditCount("create", "vehicle"); n != 2 {
		t.Fatalf("%d create audit rows, want 2", n)
	}
}

// TestVehicleStatus_AllowedMovesAndAdminCorrection: the logistics chain moves one
// step at a time, a skip or a move backwards is refused, each move is history and
// audit; an administrator may correct with a reason.
func TestVehicleStatus_AllowedMovesAndAdminCorrection(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	v := create(t, admin, map[string]any{"vin": vinA, "modelId": camry(t, env), "status": "ordered"})
	move := func(to string, extra ...any) *apptest.Response {
		body := map[string]any{"status": to}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		return admin.Do("POST", fmt.Sprintf("/vehicles/%d/status", v.ID), body)
	}
	apptest.ExpectField(t, move("in_stock"), "status", "vehicle.transition_refused") // ordered → in stock skips transit
	move("in_transit").Expect(t, http.StatusOK)
	apptest.ExpectField(t, move("ordered"), "status", "vehicle.transition_refused")
	arrived := env.Clock.Now().Add(-10 * 24 * time.Hour).UnixMilli()
	var got inventory.Vehicle
	move("in_stock", "arrivalAt", arrived).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "in_stock" || got.ArrivalAt == nil || *got.ArrivalAt != arrived || *got.DaysInStock != 10 {
		t.Fatalf("arrived: %+v", got)
	}
	apptest.ExpectField(t, move("delivered"), "status", "vehicle.transition_refused")
	apptest.ExpectField(t, move("reserved"), "status", "vehicle.transition_refused") // reserving needs a customer: /reserve
	// A correction needs settings.manage and a reason.
	env.As("gm").Do("POST", fmt.Sprintf("/vehicles/%d/status", v.ID), map[string]any{"status": "in_transit", "correction": true, "reason": "x"}).Expect(t, http.StatusForbidden)
	apptest.ExpectField(t, move("in_transit", "correction", true), "reason", "required")
	move("in_transit", "correction", true, "reason", "到店登记错了车").Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != "in_transit" || got.ArrivalAt != nil {
		t.Fatalf("corrected: %+v", got)
	}
	admin.Do("GET", fmt.Sprintf("/vehicles/%d", v.ID), nil).Expect(t, http.StatusOK).JSON(t, &got)
	var path []string
	for _, e := range got.History {
		path = append(path, e.FromStatus+">"+e.ToStatus)
	}
	if fmt.Sprint(path) != "[>ordered ordered>in_transit in_transit>in_stock in_stock>in_transit]" || got.History[3].Detail["reason"] != "到店登记错了车" {
		t.Fatalf("history %v %+v", path, got.History)
	}
	if n := env.AuditCount("status", "vehicle"); n != 3 {
		t.Fatalf("%d status audit rows, want 3", n)
	}
	// Optimistic lock on edits.
	admin.Do("PUT", fmt.Sprintf("/vehicles/%d", v.ID), map[string]any{"vin": vinA, "modelId": camry(t, env), "color": "曜石黑", "version": got.Version - 1}).Expect(t, http.StatusConflict)
	admin.Do("PUT", fmt.Sprintf("/vehicles/%d", v.ID), map[string]any{"vin": vinA, "modelId": camry(t, env), "color": "曜石黑", "version": got.Version}).Expect(t, http.StatusOK)
}

// TestConcurrent_ReserveOneVIN: 20 consultants' requests race to reserve one car
// for 20 different customers through the real API: exactly one wins, the rest get
// 409 vehicle.not_available, and the history has one reservation. The same race
// for a sale of another car.
func TestConcurrent_ReserveOneVIN(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	car := create(t, admin, map[string]any{"vin": vinA, "modelId": camry(t, env)})
	car2 := create(t, admin, map[string]any{"vin": vinB, "modelId": camry(t, env)})
	s := env.As("sales")
	const n = 20
	customers := make([]int64, n)
	for i := range customers {
		customers[i] = customer(t, s, fmt.Sprintf("1390000%04d", i), fmt.Sprintf("客户%d", i))
	}
	race := func(path string, body func(i int) map[string]any) map[int]int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				r := s.Do("POST", path, body(i))
				mu.Lock()
				codes[r.Status]++
				mu.Unlock()
				if r.Status == http.StatusConflict && r.Error(t).Code != "vehicle.not_available" {
					t.Errorf("409 with %s", r)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		return codes
	}
	codes := race(fmt.Sprintf("/vehicles/%d/reserve", car.ID), func(i int) map[string]any { return map[string]any{"customerId": customers[i]} })
	if codes[200] != 1 || codes[409] != n-1 {
		t.Fatalf("reserve race: %v", codes)
	}
	if k := count(t, env, `SELECT count(*) FROM vehicle_event WHERE vehicle_id = ? AND to_status = 'reserved'`, car.ID); k != 1 {
		t.Fatalf("%d reservation events", k)
	}
	codes = race(fmt.Sprintf("/vehicles/%d/sell", car2.ID), func(i int) map[string]any { return map[string]any{"customerId": customers[i]} })
	if codes[200] != 1 || codes[409] != n-1 {
		t.Fatalf("sell race: %v", codes)
	}
	if k := count(t, env, `SELECT count(*) FROM vehicle_event WHERE vehicle_id = ? AND to_status = 'sold'`, car2.ID); k != 1 {
		t.Fatalf("%d sale events", k)
	}
	// The reserved car sells only to its customer.
	var v inventory.Vehicle
	admin.Do("GET", fmt.Sprintf("/vehicles/%d", car.ID), nil).Expect(t, http.StatusOK).JSON(t, &v)
	other := customers[0]
	if other == *v.ReservedCustomerID {
		other = customers[1]
	}
	apptest.ExpectErr(t, s.Do("POST", fmt.Sprintf("/vehicles/%d/sell", car.ID), map[string]any{"customerId": other}), http.StatusConflict, "vehicle.not_available")
	s.Do("POST", fmt.Sprintf("/vehicles/%d/sell", car.ID), map[string]any{"customerId": *v.ReservedCustomerID}).Expect(t, http.StatusOK).JSON(t, &v)
	if v.Status != "sold" || v.SoldAt == nil || v.ReservedUntil != nil {
		t.Fatalf("sold: %+v", v)
	}
	if k := count(t, env, `SELECT count(*) FROM timeline_event WHERE customer_id = ? AND entity = 'vehicle' AND entity_id = ? AND kind IN ('vehicle.reserved', 'vehicle.sold')`, *v.ReservedCustomerID, car.ID); k != 2 {
		t.Fatalf("%d timeline entries, want reserved + sold", k)
	}
}

// TestReservation_ExpiryFreesTheCarAndNotifiesOnce: past its time the job puts
// the car back in stock, tells the consultant once, and writes the timeline.
func TestReservation_ExpiryFreesTheCarAndNotifiesOnce(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	car := create(t, env.As("admin"), map[string]any{"vin": vinA, "modelId": camry(t, env)})
	s := env.As("sales")
	cust := customer(t, s, "13900001111", "王先生")
	until := env.Clock.Now().Add(2 * time.Hour).UnixMilli()
	apptest.ExpectField(t, s.Do("POST", fmt.Sprintf("/vehicles/%d/reserve", car.ID), map[string]any{"customerId": cust, "until": env.Clock.Now().Add(31 * 24 * time.Hour).UnixMilli()}), "until", "vehicle.until_range")
	var v inventory.Vehicle
	s.Do("POST", fmt.Sprintf("/vehicles/%d/reserve", car.ID), map[string]any{"customerId": cust, "until": until}).Expect(t, http.StatusOK).JSON(t, &v)
	if v.Status != "reserved" || *v.ReservedUntil != until || v.ReservedCustomerName != "王先生" {
		t.Fatalf("reserved: %+v", v)
	}
	ctx := context.Background()
	if n, err := env.App.Inventory.ExpireReservations(ctx); err != nil || n != 0 {
		t.Fatalf("before its time: %d, %v", n, err)
	}
	env.Clock.Advance(2*time.Hour + time.Minute)
	if n, err := env.App.Inventory.ExpireReservations(ctx); err != nil || n != 1 {
		t.Fatalf("expiry: %d, %v", n, err)
	}
	if n, err := env.App.Inventory.ExpireReservations(ctx); err != nil || n != 0 {
		t.Fatalf("second run: %d, %v", n, err)
	}
	s = env.As("sales") // the clock moved past the session's idle timeout
	s.Do("GET", fmt.Sprintf("/vehicles/%d", car.ID), nil).Expect(t, http.StatusOK).JSON(t, &v)
	if v.Status != "in_stock" || v.ReservedCustomerID != nil || v.ReservedUntil != nil {
		t.Fatalf("after expiry: %+v", v)
	}
	if k := count(t, env, `SELECT count(*) FROM notification WHERE user_id = ? AND kind = 'vehicle.reservation_expired'`, env.UserID("sales")); k != 1 {
		t.Fatalf("%d expiry notifications, want 1", k)
	}
	if k := count(t, env, `SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind = 'vehicle.reservation_expired'`, cust); k != 1 {
		t.Fatalf("%d expiry timeline entries", k)
	}
	// Free again: a release of a car not reserved is a conflict; a new reservation works.
	apptest.ExpectErr(t, s.Do("POST", fmt.Sprintf("/vehicles/%d/release", car.ID), nil), http.StatusConflict, "vehicle.not_reserved")
	s.Do("POST", fmt.Sprintf("/vehicles/%d/reserve", car.ID), map[string]any{"customerId": cust}).Expect(t, http.StatusOK)
	// Another consultant may not release it; its maker may.
	env.As("sales_HZ012").Do("POST", fmt.Sprintf("/vehicles/%d/release", car.ID), nil).Expect(t, http.StatusForbidden)
	s.Do("POST", fmt.Sprintf("/vehicles/%d/release", car.ID), map[string]any{"note": "客户改期"}).Expect(t, http.StatusOK).JSON(t, &v)
	if v.Status != "in_stock" {
		t.Fatalf("released: %+v", v)
	}
}

// TestAgeing_AlertsOncePerThreshold: a car past the warn threshold notifies the
// store's sales manager once; past the alarm threshold once more; never again.
func TestAgeing_AlertsOncePerThreshold(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var st inventory.Settings
	admin.Do("GET", "/vehicles/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	if st.WarnDays != 60 || st.AlarmDays != 90 {
		t.Fatalf("defaults %+v", st)
	}
	apptest.ExpectField(t, admin.Do("PUT", "/vehicles/settings", map[string]any{"warnDays": 30, "alarmDays": 30, "version": st.Version}), "alarmDays", "vehicle.thresholds_order")
	admin.Do("PUT", "/vehicles/settings", map[string]any{"warnDays": 30, "alarmDays": 45, "version": st.Version}).Expect(t, http.StatusOK).JSON(t, &st)
	arrived := env.Clock.Now().Add(-31 * 24 * time.Hour).UnixMilli()
	old := create(t, admin, map[string]any{"vin": vinA, "modelId": camry(t, env), "arrivalAt": arrived})
	create(t, admin, map[string]any{"vin": vinB, "modelId": camry(t, env)}) // fresh
	if old.AgeLevel != "warn" {
		t.Fatalf("level %q", old.AgeLevel)
	}
	mgr := env.UserID("sales_manager")
	notes := func() int {
		return count(t, env, `SELECT count(*) FROM notification WHERE user_id = ? AND kind = 'vehicle.ageing'`, mgr)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := env.App.Inventory.RunAgeing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := notes(); n != 1 {
		t.Fatalf("%d ageing notifications after the warn threshold, want 1", n)
	}
	env.Clock.Advance(15 * 24 * time.Hour)
	for i := 0; i < 2; i++ {
		if _, err := env.App.Inventory.RunAgeing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := notes(); n != 2 {
		t.Fatalf("%d ageing notifications after the alarm threshold, want 2", n)
	}
	if n := count(t, env, `SELECT count(*) FROM notification WHERE kind = 'vehicle.ageing' AND user_id <> ?`, mgr); n != 0 {
		t.Fatalf("%d ageing notifications to others", n)
	}
}

// TestVehicleList_FiltersPagingAndVINSuffix: keyset pages cover the list once;
// status, age and VIN suffix filters; another store's consultant sees nothing.
func TestVehicleList_FiltersPagingAndVINSuffix(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	m := camry(t, env)
	now := env.Clock.Now()
	ids := map[string]int64{}
	for i, vin := range []string{vinA, vinB, vinC, vinD} {
		ids[vin] = create(t, admin, map[string]any{"vin": vin, "modelId": m, "arrivalAt": now.Add(-time.Duration(30*i+1) * 24 * time.Hour).UnixMilli(), "msrp": 17_000_000 + int64(i)}).ID
	}
	create(t, admin, map[string]any{"vin": "LGBH52E02PY123456", "modelId": m, "status": "in_transit"})
	s := env.As("sales")
	list := func(q string) inventory.VehicleList {
		var l inventory.VehicleList
		s.Do("GET", "/vehicles?"+q, nil).Expect(t, http.StatusOK).JSON(t, &l)
		return l
	}
	seen := map[int64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		l := list("limit=2&count=1&cursor=" + url.QueryEscape(cursor))
		if *l.Total != 5 {
			t.Fatalf("total %d", *l.Total)
		}
		for _, v := range l.Items {
			if seen[v.ID] {
				t.Fatalf("vehicle %d twice", v.ID)
			}
			seen[v.ID] = true
		}
		if cursor = l.Next; cursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 5 {
		t.Fatalf("paged %d vehicles", len(seen))
	}
	if l := list("status=in_transit"); len(l.Items) != 1 || l.Items[0].Status != "in_transit" {
		t.Fatalf("status filter: %+v", l.Items)
	}
	if l := list("vin=012345"); len(l.Items) != 1 || l.Items[0].VIN != vinA {
		t.Fatalf("last 6: %+v", l.Items)
	}
	if l := list("q=PC999999"); len(l.Items) != 1 || l.Items[0].VIN != vinC {
		t.Fatalf("last 8 in q: %+v", l.Items)
	}
	apptest.ExpectField(t, s.Do("GET", "/vehicles?vin=123", nil), "vin", "vehicle.vin_suffix")
	// Arrived 1, 31, 61, 91 days ago: alarm (≥ 90) is vinD, warn (60–89) vinC.
	if l := list("age=alarm"); len(l.Items) != 1 || l.Items[0].VIN != vinD || l.Items[0].AgeLevel != "alarm" {
		t.Fatalf("alarm: %+v", l.Items)
	}
	if l := list("age=warn"); len(l.Items) != 1 || l.Items[0].VIN != vinC {
		t.Fatalf("warn: %+v", l.Items)
	}
	l := list("sort=age&limit=3")
	if len(l.Items) != 3 || l.Items[0].VIN != vinD || l.Items[1].VIN != vinC || l.Next == "" {
		t.Fatalf("age sort: %+v", l.Items)
	}
	if l2 := list("sort=age&limit=3&cursor=" + url.QueryEscape(l.Next)); len(l2.Items) != 1 || l2.Items[0].VIN != vinA {
		t.Fatalf("age sort page 2: %+v", l2.Items)
	}
	if l := list("sort=msrp&order=asc&limit=1"); l.Items[0].VIN != vinA {
		t.Fatalf("msrp asc: %+v", l.Items)
	}
	if l := list("q=" + url.QueryEscape("凯美瑞")); len(l.Items) != 5 {
		t.Fatalf("text search: %d", len(l.Items))
	}
	// Store scope: another store sees none of these, and a car of store 1 is 404 there.
	other := env.As("sales_NB011")
	var ol inventory.VehicleList
	other.Do("GET", "/vehicles", nil).Expect(t, http.StatusOK).JSON(t, &ol)
	if len(ol.Items) != 0 {
		t.Fatalf("other store sees %d", len(ol.Items))
	}
	other.Do("GET", fmt.Sprintf("/vehicles/%d", ids[vinA]), nil).Expect(t, http.StatusNotFound)
	env.As("hr").Do("GET", "/vehicles", nil).Expect(t, http.StatusForbidden)
	// The global search box finds a car by its last 6 VIN characters, for consultants too.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var res findex.Result
		s.Do("GET", "/search?q=012345", nil).Expect(t, http.StatusOK).JSON(t, &res)
		found := false
		for _, h := range res.Items {
			found = found || (h.Kind == "vehicle" && h.EntityID == ids[vinA])
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search by VIN suffix: %+v", res.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVehicleCost_HiddenWithoutCostRead: consultants (no cost.read) get cost null
// in details, lists and exports; the GM sees it.
func TestVehicleCost_HiddenWithoutCostRead(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	car := create(t, env.As("admin"), map[string]any{"vin": vinA, "modelId": camry(t, env), "cost": 15_500_000})
	for _, c := range []struct {
		user string
		see  bool
	}{{"sales", false}, {"gm", true}} {
		cl := env.As(c.user)
		var v inventory.Vehicle
		cl.Do("GET", fmt.Sprintf("/vehicles/%d", car.ID), nil).Expect(t, http.StatusOK).JSON(t, &v)
		var l inventory.VehicleList
		cl.Do("GET", "/vehicles", nil).Expect(t, http.StatusOK).JSON(t, &l)
		if len(l.Items) != 1 {
			t.Fatalf("%s: %d items", c.user, len(l.Items))
		}
		for _, got := range []inventory.Vehicle{v, l.Items[0]} {
			if c.see != (got.Cost != nil && *got.Cost == 15_500_000) || got.CostHidden == c.see {
				t.Fatalf("%s: cost %v hidden %v", c.user, got.Cost, got.CostHidden)
			}
		}
		r := cl.Do("GET", "/vehicles/export", nil).Expect(t, http.StatusOK)
		f, err := excelize.OpenReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows(f.GetSheetName(0))
		hasCost := false
		for _, h := range rows[0] {
			hasCost = hasCost || h == "成本"
		}
		if hasCost != c.see || len(rows) != 2 || rows[1][0] != vinA {
			t.Fatalf("%s export: %v", c.user, rows)
		}
	}
	if n := env.AuditCount("export", "vehicle"); n != 2 {
		t.Fatalf("%d export audit rows", n)
	}
}

// TestImport_AllocationSheet: a factory sheet creates new cars, moves known ones
// forward, and rejects bad VINs, unknown models, duplicates and sold cars, each
// with its reason.
func TestImport_AllocationSheet(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	m := camry(t, env)
	known := create(t, admin, map[string]any{"vin": vinB, "modelId": m, "status": "in_transit"})
	sold := create(t, admin, map[string]any{"vin": vinC, "modelId": m})
	s := env.As("sales")
	cust := customer(t, s, "13900002222", "李女士")
	s.Do("POST", fmt.Sprintf("/vehicles/%d/sell", sold.ID), map[string]any{"customerId": cust}).Expect(t, http.StatusOK)

	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	rows := [][]any{
		{"车架号", "车型", "颜色", "开票价", "状态", "预计到店", "库位"},
		{vinA, "凯美瑞 2.0E 精英版", "珍珠白", "155,000.00", "在途", "2026-12-05", ""},   // created
		{vinB, "2.0E 精英版", "曜石黑", "156000", "在库", "", "B区-02"},                // updated, in transit → in stock
		{"LFV2A21K5P4012345", "2.0E 精英版", "珍珠白", "", "", "", ""},              // bad check digit
		{vinD, "不存在的车型", "珍珠白", "", "", "", ""},                               // unknown model
		{vinA, "2.0E 精英版", "珍珠白", "", "", "", ""},                             // duplicate in file
		{vinC, "2.0E 精英版", "珍珠白", "", "", "", ""},                             // already sold
		{"WVWZZZ3CZWE689725", "丰田凯美瑞2.0E 精英版", "铂金银", "15.2万", "已订购", "", ""}, // created (warning only)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sh, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	upload := func(path string) *apptest.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "allocation.xlsx")
		fw.Write(buf.Bytes())
		mw.Close()
		return admin.Do("POST", path, body.Bytes(), "Content-Type", mw.FormDataContentType())
	}
	var prev inventory.ImportPreview
	upload("/vehicles/import/preview").Expect(t, http.StatusOK).JSON(t, &prev)
	if prev.Total != 7 || prev.Mapping["vin"] != 0 || prev.Mapping["model"] != 1 || prev.Mapping["cost"] != 3 || prev.Mapping["status"] != 4 || prev.Mapping["expectedAt"] != 5 || prev.Mapping["location"] != 6 {
		t.Fatalf("preview %+v", prev)
	}
	var res inventory.ImportResult
	upload("/vehicles/import").Expect(t, http.StatusOK).JSON(t, &res)
	got := map[int]string{}
	for _, r := range res.Rows {
		got[r.Row] = r.Result + ":" + r.Code
	}
	want := map[int]string{2: "created:", 3: "updated:", 4: "rejected:vin.check_digit", 5: "rejected:vehicle.model_unknown",
		6: "rejected:vehicle.duplicate_in_file", 7: "rejected:vehicle.already_sold", 8: "created:"}
	if fmt.Sprint(got) != fmt.Sprint(want) || res.Created != 2 || res.Updated != 1 || res.Rejected != 4 {
		t.Fatalf("import %+v\n got %v", res, got)
	}
	var v inventory.Vehicle
	admin.Do("GET", fmt.Sprintf("/vehicles/%d", known.ID), nil).Expect(t, http.StatusOK).JSON(t, &v)
	if v.Status != "in_stock" || v.Location != "B区-02" || v.Color != "曜石黑" || *v.Cost != 15_600_000 {
		t.Fatalf("updated by import: %+v", v)
	}
	var l inventory.VehicleList
	admin.Do("GET", "/vehicles?vin="+vinA, nil).Expect(t, http.StatusOK).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].Status != "in_transit" || *l.Items[0].Cost != 15_500_000 || l.Items[0].ExpectedAt == nil {
		t.Fatalf("created by import: %+v", l.Items)
	}
	admin.Do("GET", "/vehicles?vin=WE689725", nil).Expect(t, http.StatusOK).JSON(t, &l)
	if len(l.Items) != 1 || *l.Items[0].Cost != 15_200_000 || l.Items[0].Status != "ordered" {
		t.Fatalf("European VIN by import: %+v", l.Items)
	}
}
