package inventory_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"dealerdesk/app/api"
	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/inventory"
	"dealerdesk/app/pii"
)

// benchVehicles is the stock size of BenchmarkVehicleList (DEALERDESK_BENCH_VEHICLES).
func benchVehicles(b *testing.B) int {
	if v := os.Getenv("DEALERDESK_BENCH_VEHICLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("DEALERDESK_BENCH_VEHICLES=%q", v)
		}
		return n
	}
	return 100_000
}

// fillStock inserts n vehicles over the demo's 3 stores: statuses as a busy
// group has them (mostly sold/delivered history, a fifth in stock), arrivals over
// two years, every demo model and colour. Returns the VINs.
func fillStock(b *testing.B, env *apptest.Env, n int) []string {
	b.Helper()
	ctx := context.Background()
	var models []int64
	rows, err := env.App.DB.R.Query(`SELECT id FROM vehicle_model`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		models = append(models, id)
	}
	rows.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	now := env.Clock.Now().UnixMilli()
	const chars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
	statuses := []string{"in_stock", "in_stock", "reserved", "sold", "sold", "delivered", "delivered", "delivered", "delivered", "in_transit"}
	colors := []string{"珍珠白", "曜石黑", "铂金银", "星光灰", "烈焰红", "海洋蓝"}
	vins := make([]string, 0, n)
	var cust int64
	if err := env.App.DB.W.QueryRow(`INSERT INTO customer (store_id, channel, name, created_at, updated_at) VALUES (1, 'phone', '基准客户', ?, ?) RETURNING id`, now, now).Scan(&cust); err != nil {
		b.Fatal(err)
	}
	for done := 0; done < n; {
		err := env.App.DB.WriteTx(ctx, func(tx *sql.Tx) error {
			st, err := tx.Prepare(`INSERT INTO vehicle (store_id, vin, vin_rev, model_id, color, status, arrival_at, sold_at, cost, msrp, reserved_customer_id, reserved_until, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer st.Close()
			for k := 0; k < 5000 && done < n; k++ {
				v := []byte("LFV")
				for i := 0; i < 5; i++ {
					v = append(v, chars[rng.IntN(len(chars))])
				}
				v = append(v, '0', 'T', 'A')
				v = append(v, []byte(fmt.Sprintf("%06d", done))...)
				d, _ := pii.VINCheckDigit(string(v))
				v[8] = d
				vin := string(v)
				status := statuses[rng.IntN(len(statuses))]
				var arrival, sold, cust2, until any
				if status != "in_transit" {
					a := now - int64(rng.IntN(730))*24*3600*1000
					arrival = a
					if status == "sold" || status == "delivered" {
						sold = a + int64(rng.IntN(60))*24*3600*1000
					}
				}
				if status == "reserved" || status == "sold" || status == "delivered" {
					cust2 = cust
				}
				if status == "reserved" {
					until = now + 3600*1000
				}
				msrp := int64(8_000_000 + rng.IntN(25_000_000))
				if _, err := st.Exec(1+done%3, vin, reverseVIN(vin), models[rng.IntN(len(models))], colors[rng.IntN(len(colors))], status, arrival, sold,
					msrp*9/10, msrp, cust2, until, now-int64(n-done)*1000, now); err != nil {
					return err
				}
				vins = append(vins, vin)
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := env.App.DB.W.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return vins
}

func reverseVIN(s string) string {
	r := []byte(s)
	slices.Reverse(r)
	return string(r)
}

// BenchmarkVehicleList measures the stock list at 100,000 vehicles (3 stores)
// for the filters a store uses daily, as a store-scope manager, and reports the
// p50/p99 latency of each case.
func BenchmarkVehicleList(b *testing.B) {
	env := apptest.New(b)
	env.Demo()
	n := benchVehicles(b)
	vins := fillStock(b, env, n)
	svc := env.App.Inventory
	mgr := auth.Actor{UserID: 1, Scope: auth.ScopeStore, StoreID: 1, HomeStoreID: 1, Perms: map[string]bool{auth.PermVehicleRead: true, auth.PermCostRead: true}}
	group := auth.Actor{UserID: 1, Scope: auth.ScopeGroup, StoreID: 1, HomeStoreID: 1, Perms: map[string]bool{auth.PermVehicleRead: true}}
	// A deep page: the cursor of the row half-way down store 1's list by days in stock.
	var deepAt, deepID int64
	if err := env.App.DB.R.QueryRow(`SELECT arrival_at, id FROM vehicle WHERE store_id = 1 AND arrival_at IS NOT NULL ORDER BY arrival_at, id LIMIT 1 OFFSET ?`, n/6).Scan(&deepAt, &deepID); err != nil {
		b.Fatal(err)
	}
	deep := api.Cursor{Sort: strconv.FormatInt(deepAt, 10), ID: deepID}.Encode()
	cases := []struct {
		name string
		a    auth.Actor
		f    inventory.ListFilter
	}{
		{"default", mgr, inventory.ListFilter{}},
		{"default_count", mgr, inventory.ListFilter{Count: true}},
		{"status_in_stock", mgr, inventory.ListFilter{Statuses: []string{"in_stock"}}},
		{"status_in_stock_reserved", mgr, inventory.ListFilter{Statuses: []string{"in_stock", "reserved"}}},
		{"vin_suffix_6", mgr, inventory.ListFilter{VIN: vins[len(vins)/6*3][11:]}}, // index divisible by 3: store 1
		{"vin_suffix_group", group, inventory.ListFilter{VIN: vins[len(vins)/3][9:]}},
		{"ageing_sort", mgr, inventory.ListFilter{Sort: "age", Statuses: []string{"in_stock", "reserved"}}},
		{"age_alarm", mgr, inventory.ListFilter{Age: "alarm"}},
		{"msrp_sort", mgr, inventory.ListFilter{Sort: "msrp"}},
		{"deep_page_age", mgr, inventory.ListFilter{Sort: "age", Cursor: deep}},
		{"group_default", group, inventory.ListFilter{}},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				l, err := svc.ListVehicles(ctx, c.a, c.f)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				if len(l.Items) == 0 {
					b.Fatalf("%s: empty page", c.name)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
