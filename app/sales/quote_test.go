package sales_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dealerdesk/app/apperr"
	"dealerdesk/app/sales"
)

// sampleInput is a financed ICE quote whose every figure is worked out by hand
// in TestCompute_HandComputed.
func sampleInput() sales.QuoteInput {
	return sales.QuoteInput{
		MSRP:           sales.Yuan(200000),
		Discount:       sales.Yuan(12000),
		ColorSurcharge: sales.Yuan(3000),
		Accessories: []sales.Accessory{
			{Name: "隐形车衣", Price: sales.Yuan(3000), Cost: sales.Yuan(800)},
			{Name: "全包围脚垫", Price: sales.Yuan(500), Cost: sales.Yuan(120)},
			{Name: "行车记录仪", Price: sales.Yuan(1200), Cost: sales.Yuan(400)},
		},
		Insurance:       sales.Yuan(6500),
		RegistrationFee: sales.Yuan(500),
		OtherFees:       sales.Yuan(300),
		TaxRule:         sales.TaxRuleICE(),
		Finance:         &sales.FinanceInput{DownPaymentBP: 3000, Months: 36, AnnualRateBP: 399, Fee: sales.Yuan(1000)},
		TradeIn:         sales.Yuan(50000),
		VehicleCost:     sales.Yuan(180000),
	}
}

func TestCompute_HandComputed(t *testing.T) {
	t.Parallel()
	q, err := sales.Compute(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want sales.Fen
	}{
		// 200,000 − 12,000 + 3,000
		{"vehicle price", q.VehiclePrice, sales.Yuan(191000)},
		// 191,000 ÷ 1.13 × 10% = 16,902.654… → 16,902.65
		{"purchase tax", q.PurchaseTax, 1690265},
		{"tax relief", q.PurchaseTaxRelief, 0},
		{"accessories", q.AccessoryPrice, sales.Yuan(4700)},
		// 191,000 + 4,700 + 6,500 + 500 + 300 + 16,902.65 + 1,000
		{"total", q.Total, 22090265},
		// 30% of 191,000
		{"down payment", q.DownPayment, sales.Yuan(57300)},
		{"financed", q.AmountFinanced, sales.Yuan(133700)},
		// 133,700 × 0.003325 × 1.1269349 / 0.1269349 = 3,946.76
		{"monthly", q.MonthlyPayment, 394676},
		{"last", q.LastPayment, 394683},
		{"interest", q.TotalInterest, 838343},
		// 220,902.65 − 133,700 − 50,000
		{"cash need", q.CashNeed, 3720265},
		// 191,000 + 4,700 − 180,000 − 1,320
		{"gross profit", q.GrossProfit, sales.Yuan(14380)},
		{"accessory cost", q.AccessoryCost, sales.Yuan(1320)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// 14,380 / 195,700 = 7.348% → 735 bp
	if !q.CostKnown || q.GrossMarginBP != 735 || !q.Financed || q.Months != 36 || q.AnnualRateBP != 399 || q.TaxRule != "ice" {
		t.Errorf("quote = %+v", q)
	}
	var codes []string
	var sum sales.Fen
	for _, l := range q.Lines {
		codes = append(codes, l.Code)
		sum += l.Amount
	}
	want := "msrp discount color_surcharge accessory accessory accessory insurance registration_fee other_fees purchase_tax finance_fee"
	if strings.Join(codes, " ") != want || sum != q.Total || q.Lines[1].Amount != -sales.Yuan(12000) || q.Lines[3].Name != "隐形车衣" {
		t.Errorf("lines = %+v", q.Lines)
	}
}

func TestCompute_NEVTaxOnDiscountedPriceWithColor(t *testing.T) {
	t.Parallel()
	in := sales.QuoteInput{MSRP: sales.Yuan(420000), Discount: sales.Yuan(25000), ColorSurcharge: sales.Yuan(5000), TaxRule: sales.TaxRuleNEV2026()}
	q, err := sales.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	// Tax base 400,000: full 35,398.23, relief capped at 15,000 → 20,398.23.
	if q.VehiclePrice != sales.Yuan(400000) || q.PurchaseTax != 2039823 || q.PurchaseTaxRelief != sales.Yuan(15000) {
		t.Errorf("price %v tax %v relief %v", q.VehiclePrice, q.PurchaseTax, q.PurchaseTaxRelief)
	}
	// Paid in full: no finance line, nothing financed, the cash need is the total.
	if q.Financed || q.AmountFinanced != 0 || q.MonthlyPayment != 0 || q.CashNeed != q.Total || q.Total != sales.Yuan(400000)+2039823 || q.CostKnown {
		t.Errorf("cash quote = %+v", q)
	}
	for _, l := range q.Lines {
		if l.Code == sales.LineFinanceFee {
			t.Error("cash quote has a finance fee line")
		}
	}
}

func TestCompute_TradeInAboveCashPartGivesNegativeCashNeed(t *testing.T) {
	t.Parallel()
	in := sales.QuoteInput{MSRP: sales.Yuan(113000), TaxRule: sales.TaxRuleICE(), TradeIn: sales.Yuan(130000)}
	q, err := sales.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	// 113,000 + 10,000 tax − 130,000: the store owes the customer 7,000.
	if q.CashNeed != -sales.Yuan(7000) {
		t.Errorf("cash need = %v", q.CashNeed)
	}
}

func TestCompute_DownPaymentAmountAndZeroRate(t *testing.T) {
	t.Parallel()
	in := sampleInput()
	in.Finance = &sales.FinanceInput{DownPayment: sales.Yuan(91000), Months: 12, AnnualRateBP: 0}
	q, err := sales.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	// 100,000 over 12 months at 0%: 8,333.33 × 11 + 8,333.37.
	if q.AmountFinanced != sales.Yuan(100000) || q.MonthlyPayment != 833333 || q.LastPayment != 833337 || q.TotalInterest != 0 {
		t.Errorf("financed %v monthly %v last %v interest %v", q.AmountFinanced, q.MonthlyPayment, q.LastPayment, q.TotalInterest)
	}
}

// invalidCases maps a broken input to the field and code Compute must report.
var invalidCases = []struct {
	name  string
	edit  func(*sales.QuoteInput)
	field string
	code  string
}{
	{"no msrp", func(in *sales.QuoteInput) { in.MSRP = 0 }, "msrp", "required"},
	{"msrp too large", func(in *sales.QuoteInput) { in.MSRP = sales.MaxAmount + 1 }, "msrp", "quote.amount_range"},
	{"negative discount", func(in *sales.QuoteInput) { in.Discount = -1 }, "discount", "quote.amount_range"},
	{"discount = price", func(in *sales.QuoteInput) { in.Discount = in.MSRP + in.ColorSurcharge }, "discount", "quote.discount_exceeds_price"},
	{"discount > price", func(in *sales.QuoteInput) { in.Discount = in.MSRP * 2 }, "discount", "quote.discount_exceeds_price"},
	{"negative colour", func(in *sales.QuoteInput) { in.ColorSurcharge = -1 }, "colorSurcharge", "quote.amount_range"},
	{"negative insurance", func(in *sales.QuoteInput) { in.Insurance = -1 }, "insurance", "quote.amount_range"},
	{"negative registration", func(in *sales.QuoteInput) { in.RegistrationFee = -100 }, "registrationFee", "quote.amount_range"},
	{"huge other fees", func(in *sales.QuoteInput) { in.OtherFees = sales.MaxAmount + 1 }, "otherFees", "quote.amount_range"},
	{"negative trade-in", func(in *sales.QuoteInput) { in.TradeIn = -1 }, "tradeIn", "quote.amount_range"},
	{"negative cost", func(in *sales.QuoteInput) { in.VehicleCost = -1 }, "vehicleCost", "quote.amount_range"},
	{"no tax rule", func(in *sales.QuoteInput) { in.TaxRule = sales.TaxRule{} }, "taxRule", "quote.tax_rule_invalid"},
	{"exempt over 100%", func(in *sales.QuoteInput) { in.TaxRule.ExemptBP = 10001 }, "taxRule", "quote.tax_rule_invalid"},
	{"accessory name", func(in *sales.QuoteInput) { in.Accessories[1].Name = "  " }, "accessories.1.name", "required"},
	{"accessory name long", func(in *sales.QuoteInput) { in.Accessories[0].Name = strings.Repeat("膜", 101) }, "accessories.0.name", "too_long"},
	{"accessory price", func(in *sales.QuoteInput) { in.Accessories[2].Price = -1 }, "accessories.2.price", "quote.amount_range"},
	{"accessory cost", func(in *sales.QuoteInput) { in.Accessories[2].Cost = -1 }, "accessories.2.cost", "quote.amount_range"},
	{"too many accessories", func(in *sales.QuoteInput) {
		in.Accessories = make([]sales.Accessory, sales.MaxAccessories+1)
	}, "accessories", "quote.accessories_too_many"},
	{"term 11", func(in *sales.QuoteInput) { in.Finance.Months = 11 }, "finance.months", "quote.term_range"},
	{"term 61", func(in *sales.QuoteInput) { in.Finance.Months = 61 }, "finance.months", "quote.term_range"},
	{"rate negative", func(in *sales.QuoteInput) { in.Finance.AnnualRateBP = -1 }, "finance.annualRateBp", "quote.rate_range"},
	{"rate 24.01%", func(in *sales.QuoteInput) { in.Finance.AnnualRateBP = 2401 }, "finance.annualRateBp", "quote.rate_range"},
	{"finance fee", func(in *sales.QuoteInput) { in.Finance.Fee = -1 }, "finance.fee", "quote.amount_range"},
	{"down both", func(in *sales.QuoteInput) { in.Finance.DownPayment = 100 }, "finance.downPayment", "quote.down_payment_both"},
	{"down 100%", func(in *sales.QuoteInput) { in.Finance.DownPaymentBP = 10000 }, "finance.downPaymentBp", "quote.down_payment_range"},
	{"down negative %", func(in *sales.QuoteInput) { in.Finance.DownPaymentBP = -1 }, "finance.downPaymentBp", "quote.down_payment_range"},
	{"down negative", func(in *sales.QuoteInput) {
		in.Finance.DownPaymentBP, in.Finance.DownPayment = 0, -1
	}, "finance.downPayment", "quote.down_payment_range"},
	{"down = price", func(in *sales.QuoteInput) {
		in.Finance.DownPaymentBP, in.Finance.DownPayment = 0, in.MSRP-in.Discount+in.ColorSurcharge
	}, "finance.downPayment", "quote.down_payment_range"},
	{"down % rounds to price", func(in *sales.QuoteInput) {
		in.MSRP, in.Discount, in.ColorSurcharge, in.Finance.DownPaymentBP = 1, 0, 0, 5000
	}, "finance.downPaymentBp", "quote.down_payment_range"},
}

func TestCompute_FieldErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range invalidCases {
		in := sampleInput()
		in.Accessories = append([]sales.Accessory(nil), in.Accessories...)
		fin := *in.Finance
		in.Finance = &fin
		tc.edit(&in)
		_, err := sales.Compute(in)
		e := apperr.As(err)
		if err == nil || e.Kind != apperr.Invalid || e.Fields[tc.field].Code != tc.code {
			t.Errorf("%s: err = %v, want %s: %s", tc.name, err, tc.field, tc.code)
		}
	}
}

// TestCompute_ErrorCodesTranslated: every code in invalidCases, and every
// DiscountCheck reason, has a message in both locale files (the httpapi test
// finds only codes passed with a literal field name).
func TestCompute_ErrorCodesTranslated(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"zh-CN.json", "en.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "embedui", "src", "locales", file))
		if err != nil {
			t.Fatal(err)
		}
		var cat map[string]any
		if err := json.Unmarshal(b, &cat); err != nil {
			t.Fatal(err)
		}
		keys := []string{}
		for _, tc := range invalidCases {
			keys = append(keys, "errors."+tc.code)
		}
		for _, r := range []string{sales.ReasonDiscountAmount, sales.ReasonDiscountPercent, sales.ReasonGrossMargin} {
			keys = append(keys, "sales.approvalReason."+r)
		}
		for _, k := range keys {
			var cur any = cat
			for _, part := range strings.Split(k, ".") {
				m, _ := cur.(map[string]any)
				cur = m[part]
			}
			if s, _ := cur.(string); s == "" {
				t.Errorf("%s: no message for %s", file, k)
			}
		}
	}
}

func TestDiscountCheck_StoreLimits(t *testing.T) {
	t.Parallel()
	q, err := sales.Compute(sampleInput()) // discount 12,000 of 200,000 (6%), margin 7.348%
	if err != nil {
		t.Fatal(err)
	}
	noCost := q
	noCost.CostKnown = false
	fen := func(y int64) *sales.Fen { f := sales.Yuan(y); return &f }
	bp := func(n int) *int { return &n }
	for _, tc := range []struct {
		name   string
		q      sales.Quote
		limits sales.Limits
		want   string
	}{
		{"no limits", q, sales.Limits{}, ""},
		{"amount at limit", q, sales.Limits{MaxDiscount: fen(12000)}, ""},
		{"amount over", q, sales.Limits{MaxDiscount: fen(11999)}, "discount_amount"},
		{"zero allowed", q, sales.Limits{MaxDiscount: fen(0)}, "discount_amount"},
		{"percent at limit", q, sales.Limits{MaxDiscountBP: bp(600)}, ""},
		{"percent over", q, sales.Limits{MaxDiscountBP: bp(599)}, "discount_percent"},
		{"margin above", q, sales.Limits{MinGrossMarginBP: bp(734)}, ""},
		{"margin below", q, sales.Limits{MinGrossMarginBP: bp(735)}, "gross_margin"}, // 7.348% < 7.35%
		{"margin unknown", noCost, sales.Limits{MinGrossMarginBP: bp(5000)}, ""},
		{"all three", q, sales.Limits{MaxDiscount: fen(10000), MaxDiscountBP: bp(500), MinGrossMarginBP: bp(800)}, "discount_amount discount_percent gross_margin"},
	} {
		needs, reasons := sales.DiscountCheck(tc.q, tc.limits)
		if got := strings.Join(reasons, " "); got != tc.want || needs != (tc.want != "") {
			t.Errorf("%s: DiscountCheck = %v %q, want %q", tc.name, needs, got, tc.want)
		}
	}
	// A loss: margin negative, checked against a minimum of 0.
	loss := sampleInput()
	loss.VehicleCost = sales.Yuan(200000)
	lq, _ := sales.Compute(loss)
	if needs, reasons := sales.DiscountCheck(lq, sales.Limits{MinGrossMarginBP: bp(0)}); !needs || lq.GrossMarginBP >= 0 || reasons[0] != sales.ReasonGrossMargin {
		t.Errorf("loss: margin %d bp, %v %v", lq.GrossMarginBP, needs, reasons)
	}
}

// FuzzCompute: Compute never panics; an invalid input is an Invalid error with
// fields; a valid one has Total exactly the sum of its lines, and its payments
// cover the amount financed plus interest to within the rounding.
func FuzzCompute(f *testing.F) {
	f.Add(int64(20000000), int64(1200000), int64(300000), int64(300000), int64(650000), int64(50000), int64(30000), int64(5000000), int64(18000000), uint8(0), true, int64(0), 3000, 36, 399, int64(100000))
	f.Add(int64(42000000), int64(2500000), int64(500000), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), uint8(2), true, int64(100), 0, 60, 2400, int64(0))
	f.Add(int64(1), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), uint8(1), false, int64(0), 0, 12, 0, int64(0))
	f.Add(int64(-5), int64(-1), int64(1<<62), int64(-1<<62), int64(7), int64(7), int64(7), int64(7), int64(7), uint8(7), true, int64(-1), -1, -1, -1, int64(-1))
	rules := []sales.TaxRule{sales.TaxRuleICE(), sales.TaxRuleNEV2024(), sales.TaxRuleNEV2026(), {}}
	f.Fuzz(func(t *testing.T, msrp, discount, color, acc, insurance, reg, other, tradeIn, cost int64, rule uint8, financed bool, down int64, downBP, months, rateBP int, fee int64) {
		in := sales.QuoteInput{
			MSRP: sales.Fen(msrp), Discount: sales.Fen(discount), ColorSurcharge: sales.Fen(color),
			Insurance: sales.Fen(insurance), RegistrationFee: sales.Fen(reg), OtherFees: sales.Fen(other),
			TaxRule: rules[int(rule)%len(rules)], TradeIn: sales.Fen(tradeIn), VehicleCost: sales.Fen(cost),
		}
		for i := range int(rule % 6) {
			in.Accessories = append(in.Accessories, sales.Accessory{Name: "精品", Price: sales.Fen(acc / int64(i+1)), Cost: sales.Fen(acc / int64(i+2))})
		}
		if financed {
			in.Finance = &sales.FinanceInput{DownPayment: sales.Fen(down), DownPaymentBP: downBP, Months: months, AnnualRateBP: rateBP, Fee: sales.Fen(fee)}
		}
		q, err := sales.Compute(in)
		if err != nil {
			if e := apperr.As(err); e.Kind != apperr.Invalid || len(e.Fields) == 0 {
				t.Fatalf("Compute error is not a field error: %v", err)
			}
			return
		}
		var sum sales.Fen
		for _, l := range q.Lines {
			sum += l.Amount
		}
		if sum != q.Total || q.VehiclePrice <= 0 || q.PurchaseTax < 0 || q.PurchaseTax > q.VehiclePrice {
			t.Fatalf("total %d, lines sum %d, price %d, tax %d", q.Total, sum, q.VehiclePrice, q.PurchaseTax)
		}
		if q.CashNeed != q.Total-q.AmountFinanced-q.TradeIn {
			t.Fatalf("cash need %d", q.CashNeed)
		}
		if !q.Financed {
			return
		}
		if q.AmountFinanced <= 0 || q.DownPayment < 0 || q.DownPayment+q.AmountFinanced != q.VehiclePrice || q.TotalInterest < 0 {
			t.Fatalf("finance: down %d financed %d interest %d", q.DownPayment, q.AmountFinanced, q.TotalInterest)
		}
		n := sales.Fen(q.Months)
		paid := q.MonthlyPayment*(n-1) + q.LastPayment
		d := q.MonthlyPayment*n - (q.AmountFinanced + q.TotalInterest)
		if q.AmountFinanced >= 10000 && paid != q.AmountFinanced+q.TotalInterest {
			t.Fatalf("payments %d ≠ financed %d + interest %d", paid, q.AmountFinanced, q.TotalInterest)
		}
		if d > 4*n || d < -4*n {
			t.Fatalf("monthly %d × %d is %d from financed %d + interest %d", q.MonthlyPayment, n, d, q.AmountFinanced, q.TotalInterest)
		}
	})
}
