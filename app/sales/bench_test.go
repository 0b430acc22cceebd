package sales_test

import (
	"testing"

	"dealerdesk/app/sales"
)

// BenchmarkCompute prices a quote with five accessories and a 60-month loan: the
// work of every keystroke in the quote form and of every quote on a print view.
func BenchmarkCompute(b *testing.B) {
	in := sampleInput()
	in.Accessories = append(in.Accessories,
		sales.Accessory{Name: "太阳膜", Price: sales.Yuan(2800), Cost: sales.Yuan(700)},
		sales.Accessory{Name: "底盘装甲", Price: sales.Yuan(1500), Cost: sales.Yuan(300)})
	in.Finance = &sales.FinanceInput{DownPaymentBP: 2000, Months: 60, AnnualRateBP: 399, Fee: sales.Yuan(1500)}
	b.ReportAllocs()
	for b.Loop() {
		q, err := sales.Compute(in)
		if err != nil || q.MonthlyPayment == 0 {
			b.Fatal(q, err)
		}
	}
}
