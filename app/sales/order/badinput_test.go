package order_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

// salesPrefixes are the paths of the sales process routes.
var salesPrefixes = []string{"/sop/", "/orders", "/quotes", "/test-drives", "/test-drive-cars", "/trade-ins",
	"/customers/:id/orders", "/customers/:id/test-drives"}

func isSalesRoute(path string) bool {
	for _, p := range salesPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// oddValue returns the k-th odd value for a field of type t: zero, negative,
// absurdly large, far-future timestamps, huge strings, wrong JSON types.
func oddValue(t reflect.Type, k int) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return []any{0, -1, int64(1e15), int64(math.MaxInt64), int64(math.MinInt64), int64(1) << 53, 253402300800000, -1e15, 1.5, "12"}[k%10]
	case reflect.String:
		return []any{"", strings.Repeat("长", 20000), " ", "\x00\x01", "-1", "99999999999999999999", "<script>", "2099-13-45", 7, nil}[k%10]
	case reflect.Bool:
		return []any{true, false, "yes", 1, nil, true, false, true, false, nil}[k%10]
	case reflect.Slice:
		switch k % 5 {
		case 0:
			return []any{}
		case 1:
			return nil
		case 2:
			return "x"
		}
		el := oddValue(t.Elem(), k)
		out := make([]any, 0, 300)
		n := 1
		if k%5 == 4 {
			n = 300
		}
		for i := 0; i < n; i++ {
			out = append(out, el)
		}
		return out
	case reflect.Map:
		if k%2 == 0 {
			return map[string]any{}
		}
		return map[string]any{"": oddValue(t.Elem(), k), strings.Repeat("k", 300): oddValue(t.Elem(), k+1)}
	case reflect.Struct:
		return oddBody(t, k)
	}
	return nil
}

// oddBody is a JSON object with every field of t set to its k-th odd value.
func oddBody(t reflect.Type, k int) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	m := map[string]any{}
	if t.Kind() != reflect.Struct {
		return m
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			for k2, v := range oddBody(f.Type, k) {
				m[k2] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = oddValue(f.Type, k+i) // shift per field so bodies mix values
	}
	return m
}

// TestSalesRoutes_BadInputNever500 sends odd bodies (missing fields, zero ids,
// huge strings, negative and absurd amounts, timestamps 0 and far in the
// future, wrong JSON types, broken JSON) to every POST/PUT/DELETE of the sales
// routes, on real records, as roles allowed to call them, and odd query
// parameters to every GET: nothing may answer 5xx.
func TestSalesRoutes_BadInputNever500(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	if _, _, err := demo.FillAll(t.Context(), env.App.DB, demo.ScaleDemo, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for prefix, q := range map[string]string{
		"/orders": `SELECT max(id) FROM sales_order`, "/quotes": `SELECT max(id) FROM quote`,
		"/test-drives": `SELECT max(id) FROM test_drive`, "/test-drive-cars": `SELECT max(id) FROM test_drive_car`,
		"/trade-ins": `SELECT max(id) FROM trade_in`, "/sop/stages": `SELECT max(id) FROM sop_stage`,
		"/sop/customers": `SELECT min(id) FROM customer`, "/customers": `SELECT min(id) FROM customer`,
	} {
		var id *int64
		if err := env.App.DB.R.QueryRow(q).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if id == nil {
			t.Fatalf("%s: demo has none", q)
		}
		ids[prefix] = *id
	}
	idOf := func(path string) int64 {
		best, id := "", int64(1)
		for p, v := range ids {
			if strings.HasPrefix(path, p) && len(p) > len(best) {
				best, id = p, v
			}
		}
		return id
	}
	var payment int64
	_ = env.App.DB.R.QueryRow(`SELECT COALESCE(max(id), 1) FROM sales_order_payment`).Scan(&payment)

	clients := map[string]*apptest.Client{"admin": env.As("admin"), "sales": env.As("sales")}
	n := 0
	for _, rt := range env.App.Server.Routes {
		if !isSalesRoute(rt.Path) {
			continue
		}
		for _, who := range []string{"admin", "sales"} {
			c := clients[who]
			path := strings.NewReplacer(":paymentId", fmt.Sprint(payment), ":id", fmt.Sprint(idOf(rt.Path))).Replace(rt.Path)
			if rt.Method == http.MethodGet {
				for _, q := range []string{"", "?storeId=abc", "?storeId=-1&ownerId=0&customerId=99999999", "?from=0&to=253402300800000",
					"?from=-9223372036854775808&to=9223372036854775807", "?limit=0", "?limit=100000", "?cursor=%%%", "?cursor=eyJpZCI6LTF9",
					"?status=bogus", "?q=" + strings.Repeat("%25", 2000), "?date=2099-99-99&view=year", "?start=-1&end=1", "?days=99999999"} {
					r := c.Do(rt.Method, path+q, nil)
					n++
					if r.Status >= 500 {
						t.Errorf("%s %s%s as %s: %d %s", rt.Method, rt.Path, q, who, r.Status, r.Body)
					}
				}
				continue
			}
			bodies := []any{"", "{}", "null", "[]", "{", `"x"`, `{"version":-1}`, `{"id":0,"customerId":0,"quoteId":0}`}
			if rt.In != nil {
				for k := 0; k < 10; k++ {
					bodies = append(bodies, oddBody(reflect.TypeOf(rt.In), k))
				}
			}
			for _, b := range bodies {
				r := c.Do(rt.Method, path, b)
				n++
				if r.Status >= 500 {
					j, _ := json.Marshal(b)
					if len(j) > 300 {
						j = append(j[:300], "…"...)
					}
					t.Errorf("%s %s as %s with %s: %d %s", rt.Method, rt.Path, who, j, r.Status, r.Body)
				}
			}
		}
	}
	if n < 200 {
		t.Fatalf("only %d requests: the sales routes were not found", n)
	}
}
