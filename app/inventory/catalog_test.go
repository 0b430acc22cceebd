package inventory_test

import (
	"testing"

	"dealerdesk/app/apptest"
	"dealerdesk/app/inventory"
)

// TestCatalog_DemoTreeWithPricesInFen: the demo catalogue comes back as brand →
// series → models, prices exact in fen, colours attached, for roles that may see
// vehicles only.
func TestCatalog_DemoTreeWithPricesInFen(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	sum := env.Demo()
	var cat struct{ Items []inventory.Brand }
	env.As("sales").Do("GET", "/catalog", nil).Expect(t, 200).JSON(t, &cat)
	models := 0
	var camry *inventory.Series
	for bi := range cat.Items {
		for si := range cat.Items[bi].Series {
			s := &cat.Items[bi].Series[si]
			models += len(s.Models)
			if cat.Items[bi].Name == "丰田" && s.Name == "凯美瑞" {
				camry = s
			}
		}
	}
	if models != sum.Models || models < 15 {
		t.Fatalf("catalogue has %d models, demo made %d", models, sum.Models)
	}
	if camry == nil || len(camry.Models) != 3 {
		t.Fatalf("丰田 凯美瑞 missing or incomplete: %+v", camry)
	}
	first := camry.Models[0] // cheapest first
	if first.Name != "2.0E 精英版" || first.MSRP != 17_180_000 || first.EnergyType != "ice" || len(first.Colors) != 3 {
		t.Fatalf("凯美瑞 2.0E: %+v (want 171,800.00 yuan = 17180000 fen, ice, 3 colours)", first)
	}
	if camry.Models[1].MSRP <= first.MSRP {
		t.Fatalf("models not ordered by price: %+v", camry.Models)
	}
	env.As("hr").Do("GET", "/catalog", nil).Expect(t, 403)
}
