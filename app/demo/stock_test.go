package demo_test

import (
	"context"
	"net/http"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
	"dealerdesk/app/inventory"
	"dealerdesk/app/pii"
)

// TestFillStock_EveryStatusSomeAgedOneReserved: each demo store gets its dozens of
// cars of its own brand with valid VINs, across statuses, some past the 90-day
// alarm, some in transit, one reserved for a customer, and the API lists them.
// None is sold or delivered: only orders sell cars (TestFillAll_OrdersAcrossTheLifeCycle).
func TestFillStock_EveryStatusSomeAgedOneReserved(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	ctx := context.Background()
	if _, err := demo.FillCRM(ctx, env.App.DB, env.Clock.Now(), 20); err != nil {
		t.Fatal(err)
	}
	n, err := demo.FillStock(ctx, env.App.DB, env.Clock.Now(), 36)
	if err != nil || n != 3*36 {
		t.Fatalf("FillStock: %d, %v", n, err)
	}
	var l inventory.VehicleList
	env.As("sales_manager").Do("GET", "/vehicles?limit=200&count=1", nil).Expect(t, http.StatusOK).JSON(t, &l)
	byStatus := map[string]int{}
	alarm := 0
	for _, v := range l.Items {
		byStatus[v.Status]++
		if v.AgeLevel == "alarm" && (v.Status == "in_stock" || v.Status == "reserved") {
			alarm++
		}
		if v.BrandName != "丰田" {
			t.Fatalf("store 1 sells 丰田, got %s", v.BrandName)
		}
		if _, ok, err := pii.ValidateVIN(v.VIN); err != nil || !ok {
			t.Fatalf("demo VIN %s invalid", v.VIN)
		}
	}
	if len(l.Items) != 36 || byStatus["reserved"] != 1 || byStatus["in_transit"] < 3 || byStatus["ordered"] < 2 || byStatus["sold"] != 0 || byStatus["delivered"] != 0 || alarm < 2 {
		t.Fatalf("store 1 stock: %d cars %v, %d past 90 days", len(l.Items), byStatus, alarm)
	}
}
