package sales_test

import (
	"math/big"
	"testing"
	"time"

	"dealerdesk/app/sales"
)

func TestPurchaseTax_HandComputed(t *testing.T) {
	t.Parallel()
	ice, nev24, nev26 := sales.TaxRuleICE(), sales.TaxRuleNEV2024(), sales.TaxRuleNEV2026()
	for _, tc := range []struct {
		name  string
		price sales.Fen
		rule  sales.TaxRule
		want  sales.Fen
	}{
		// 150,000 ÷ 1.13 = 132,743.362…; × 10% = 13,274.336… → 13,274.34
		{"ice 150k", sales.Yuan(150000), ice, 1327434},
		// 113,000 ÷ 1.13 = 100,000 exactly → 10,000.00
		{"ice exact", sales.Yuan(113000), ice, sales.Yuan(10000)},
		// 99,800 ÷ 1.13 × 10% = 8,831.858… → 8,831.86
		{"ice 99.8k", sales.Yuan(99800), ice, 883186},
		// 6 fen ÷ 1.13 × 10% = 0.531 fen → 1; 5 fen → 0.442 → 0
		{"rounds up", 6, ice, 1},
		{"rounds down", 5, ice, 0},
		{"zero price", 0, ice, 0},
		{"negative price", -100, ice, 0},
		{"zero rule", sales.Yuan(100000), sales.TaxRule{}, 0},
		// NEV 2024–2025: full tax 17,699.12 ≤ 30,000 → exempt
		{"nev24 under cap", sales.Yuan(200000), nev24, 0},
		// 339,000 ÷ 1.13 × 10% = 30,000.00: exactly the cap
		{"nev24 at cap", sales.Yuan(339000), nev24, 0},
		// 400,000 → 35,398.23 − 30,000 = 5,398.23
		{"nev24 over cap", sales.Yuan(400000), nev24, 539823},
		// NEV 2026–2027: 200,000 → 17,699.12 ÷ 2 = 8,849.56
		{"nev26 halved", sales.Yuan(200000), nev26, 884956},
		// 120,000 → 10,619.47; half is 5,309.735 → tax due rounds up to 5,309.74
		{"nev26 odd fen", sales.Yuan(120000), nev26, 530974},
		// 339,000 → 30,000.00; half 15,000 = the cap
		{"nev26 at cap", sales.Yuan(339000), nev26, sales.Yuan(15000)},
		// 400,000 → 35,398.23; half 17,699.12 > 15,000 → 35,398.23 − 15,000 = 20,398.23
		{"nev26 over cap", sales.Yuan(400000), nev26, 2039823},
	} {
		if got := sales.PurchaseTax(tc.price, tc.rule); got != tc.want {
			t.Errorf("%s: PurchaseTax(%v) = %v, want %v", tc.name, tc.price, got, tc.want)
		}
	}
}

// TestPurchaseTax_MatchesRational checks the integer formula against price ÷ 1.13
// × 10% in exact rationals, rounded half up, over a spread of prices.
func TestPurchaseTax_MatchesRational(t *testing.T) {
	t.Parallel()
	for price := int64(0); price < 1e11; price = price*3 + 7 {
		for _, p := range []int64{price, price + 1, price + 565, price + 1129} {
			r := new(big.Rat).SetFrac64(p, 1)
			r.Quo(r, big.NewRat(113, 100))
			r.Mul(r, big.NewRat(10, 100))
			want := roundHalfUp(r)
			if got := sales.PurchaseTax(sales.Fen(p), sales.TaxRuleICE()); int64(got) != want {
				t.Fatalf("PurchaseTax(%d) = %d, want %d", p, got, want)
			}
		}
	}
}

func TestTaxRuleOn_NEVReliefByYear(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		nev  bool
		day  string
		want string
	}{
		{false, "2025-06-01", "ice"},
		{true, "2023-12-31", "ice"},
		{true, "2024-01-01", "nev_2024"},
		{true, "2025-12-31", "nev_2024"},
		{true, "2026-01-01", "nev_2026"},
		{true, "2027-12-31", "nev_2026"},
		{true, "2028-01-01", "ice"},
	} {
		if got := sales.TaxRuleOn(tc.nev, day(tc.day)).Code; got != tc.want {
			t.Errorf("TaxRuleOn(%v, %s) = %s, want %s", tc.nev, tc.day, got, tc.want)
		}
	}
}

// roundHalfUp rounds a non-negative rational to the nearest integer, halves up.
func roundHalfUp(r *big.Rat) int64 {
	n := new(big.Int).Mul(r.Num(), big.NewInt(2))
	n.Add(n, r.Denom())
	return n.Quo(n, new(big.Int).Mul(r.Denom(), big.NewInt(2))).Int64()
}
