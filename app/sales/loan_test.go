package sales_test

import (
	"math/big"
	"testing"

	"dealerdesk/app/sales"
)

// TestMonthlyPayment_PublishedFigures checks figures anyone can reproduce with a
// bank's loan calculator (等额本息).
func TestMonthlyPayment_PublishedFigures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		principal sales.Fen
		rateBP    int
		months    int
		want      sales.Fen
	}{
		// The figure every Chinese mortgage calculator printed in the 4.9% years:
		// 1,000,000 yuan over 30 years → 5,307.27 a month.
		{"mortgage 100万 30y 4.9%", sales.Yuan(1000000), 490, 360, 530727},
		// 100,000 over 36 months at 5% → 2,997.09 (the textbook example).
		{"100k 36m 5%", sales.Yuan(100000), 500, 36, 299709},
		// By hand: r = 0.0399/12 = 0.003325; (1.003325)^36 = e^(36·0.00331949)
		// = e^0.1195015 = 1.1269349; A = 100,000 × 0.003325 × 1.1269349 /
		// 0.1269349 = 332.5 × 8.87805 = 2,951.95.
		{"100k 36m 3.99%", sales.Yuan(100000), 399, 36, 295195},
		// One month: principal plus one month's interest, 100,000 × 1.003325.
		{"1 month", sales.Yuan(100000), 399, 1, 10033250},
		// 60 months: 1,841.20.
		{"100k 60m 3.99%", sales.Yuan(100000), 399, 60, 184120},
		// 0%: 100,000 ÷ 36 = 2,777.777… → 2,777.77, the remainder goes on the last.
		{"0% 36m", sales.Yuan(100000), 0, 36, 277777},
	} {
		if got := sales.MonthlyPayment(tc.principal, tc.rateBP, tc.months); got != tc.want {
			t.Errorf("%s: MonthlyPayment = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMonthlyPayment_MatchesRationalFormula compares with the textbook formula
// evaluated directly in big.Rat (not the rearranged integer form the code uses).
func TestMonthlyPayment_MatchesRationalFormula(t *testing.T) {
	t.Parallel()
	for _, p := range []int64{1, 99, 10000, 1000001, 13370000, 29999999, 1e10} {
		for _, bp := range []int{1, 99, 250, 399, 490, 888, 1299, 2400, 10000} {
			for _, n := range []int{1, 2, 11, 12, 24, 36, 48, 59, 60, 120, 360} {
				r := big.NewRat(int64(bp), 120000)
				g := new(big.Rat).SetInt64(1)
				onePlusR := new(big.Rat).Add(big.NewRat(1, 1), r)
				for range n {
					g.Mul(g, onePlusR)
				}
				a := new(big.Rat).Mul(big.NewRat(p, 1), r)
				a.Mul(a, g)
				a.Quo(a, new(big.Rat).Sub(g, big.NewRat(1, 1)))
				want := roundHalfUp(a)
				if got := sales.MonthlyPayment(sales.Fen(p), bp, n); int64(got) != want {
					t.Fatalf("MonthlyPayment(%d, %d, %d) = %d, want %d", p, bp, n, got, want)
				}
			}
		}
	}
}

func TestMonthlyPayment_OutsideLimitsIsZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p      sales.Fen
		bp, mo int
	}{
		{0, 399, 36}, {-1, 399, 36}, {sales.MaxAmount + 1, 399, 36},
		{100, 399, 0}, {100, 399, -1}, {100, 399, sales.MaxLoanMonths + 1},
		{100, -1, 36}, {100, sales.MaxLoanRateBP + 1, 36},
	} {
		if got := sales.MonthlyPayment(tc.p, tc.bp, tc.mo); got != 0 {
			t.Errorf("MonthlyPayment(%d, %d, %d) = %d, want 0", tc.p, tc.bp, tc.mo, got)
		}
		if got := sales.Schedule(tc.p, tc.bp, tc.mo); got != nil {
			t.Errorf("Schedule(%d, %d, %d) = %d rows, want nil", tc.p, tc.bp, tc.mo, len(got))
		}
	}
}

func TestSchedule_HandComputedRows(t *testing.T) {
	t.Parallel()
	// 100,000 at 3.99% over 36 months. Month 1: interest 100,000 × 0.003325 =
	// 332.50, principal 2,951.95 − 332.50 = 2,619.45. Month 2: interest
	// 97,380.55 × 0.003325 = 323.7853 → 323.79. The last payment absorbs the
	// rounding: 2,952.09, and the interest totals 6,270.34.
	s := sales.Schedule(sales.Yuan(100000), 399, 36)
	want := map[int]sales.Installment{
		0:  {No: 1, Payment: 295195, Principal: 261945, Interest: 33250, Balance: 9738055},
		1:  {No: 2, Payment: 295195, Principal: 262816, Interest: 32379, Balance: 9475239},
		35: {No: 36, Payment: 295209, Principal: 294231, Interest: 978, Balance: 0},
	}
	for i, w := range want {
		if s[i] != w {
			t.Errorf("row %d = %+v, want %+v", i, s[i], w)
		}
	}
	if got := sales.TotalInterest(s); got != 627034 {
		t.Errorf("total interest = %v, want ¥6,270.34", got)
	}
	// 0%: 35 × 2,777.77 + 2,778.05 = 100,000.00.
	z := sales.Schedule(sales.Yuan(100000), 0, 36)
	if z[0].Payment != 277777 || z[35].Payment != 277805 || sales.TotalInterest(z) != 0 || z[35].Balance != 0 {
		t.Errorf("0%% schedule: first %+v last %+v", z[0], z[35])
	}
	// 60 months: last row 1,841.26 with 6.10 interest, interest total 10,472.06.
	l := sales.Schedule(sales.Yuan(100000), 399, 60)
	if l[59] != (sales.Installment{No: 60, Payment: 184126, Principal: 183516, Interest: 610, Balance: 0}) || sales.TotalInterest(l) != 1047206 {
		t.Errorf("60-month schedule: last %+v, interest %v", l[59], sales.TotalInterest(l))
	}
}

// TestSchedule_SumsExactly: over many loans, the rows add up to the fen, the
// balance falls to exactly 0, every payment but the last is MonthlyPayment, and
// the last differs from it by no more than the rounding can accumulate.
func TestSchedule_SumsExactly(t *testing.T) {
	t.Parallel()
	for _, p := range []sales.Fen{1, 7, 100, 2500, 9999, 1000000, 13370000, 123456789, sales.MaxAmount} {
		for _, bp := range []int{0, 1, 399, 1299, 2400} {
			for _, n := range []int{1, 2, 12, 36, 60} {
				checkSchedule(t, p, bp, n)
			}
		}
	}
}

func checkSchedule(t *testing.T, p sales.Fen, bp, n int) {
	t.Helper()
	s := sales.Schedule(p, bp, n)
	a := sales.MonthlyPayment(p, bp, n)
	if len(s) != n {
		t.Fatalf("Schedule(%d, %d, %d): %d rows", p, bp, n, len(s))
	}
	var paid, principal sales.Fen
	bal := p
	for i, in := range s {
		if in.No != i+1 || in.Payment != in.Principal+in.Interest || in.Principal < 0 || in.Interest < 0 || in.Balance != bal-in.Principal {
			t.Fatalf("Schedule(%d, %d, %d) row %d inconsistent: %+v (balance before %d)", p, bp, n, i, in, bal)
		}
		if i < n-1 && in.Payment != a && p >= 10000 {
			t.Fatalf("Schedule(%d, %d, %d) row %d pays %d, want %d", p, bp, n, i, in.Payment, a)
		}
		bal = in.Balance
		paid += in.Payment
		principal += in.Principal
	}
	if bal != 0 || principal != p || paid != p+sales.TotalInterest(s) {
		t.Fatalf("Schedule(%d, %d, %d): balance %d, principal %d, paid %d, interest %d", p, bp, n, bal, principal, paid, sales.TotalInterest(s))
	}
	if d := s[n-1].Payment - a; d > sales.Fen(4*n) || d < -sales.Fen(4*n) {
		t.Fatalf("Schedule(%d, %d, %d): last payment %d is %d from %d", p, bp, n, s[n-1].Payment, d, a)
	}
}
