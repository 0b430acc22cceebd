package sales

import (
	"math"
	"math/big"
)

// Loan limits of MonthlyPayment and Schedule: outside them (or for a principal
// ≤ 0) they return 0 and nil rather than a meaningless or overflowing figure.
// Compute applies the narrower limits of a car loan (12–60 months, 0–24%).
const (
	MaxLoanMonths = 600   // 50 years
	MaxLoanRateBP = 10000 // 100% a year
)

// MaxAmount is the largest amount of any single figure a quote accepts (and the
// largest loan principal): 100 million yuan. It keeps every sum and product far
// from overflowing int64.
const MaxAmount = Fen(100_000_000 * 100)

// monthsPerYearBP converts an annual rate in basis points to a monthly rate:
// r = annualRateBP / 120000.
const monthsPerYearBP = 12 * 10000

// Installment is one month of an amortized (等额本息) loan.
type Installment struct {
	No        int `json:"no"`        // 1-based
	Payment   Fen `json:"payment"`   // Principal + Interest
	Principal Fen `json:"principal"` // repaid this month
	Interest  Fen `json:"interest"`  // the month's interest on the opening balance
	Balance   Fen `json:"balance"`   // owed after this payment; 0 after the last
}

func loanArgsOK(principal Fen, annualRateBP, months int) bool {
	return principal > 0 && principal <= MaxAmount && months >= 1 && months <= MaxLoanMonths &&
		annualRateBP >= 0 && annualRateBP <= MaxLoanRateBP
}

// MonthlyPayment is the level monthly payment (月供) of an amortized loan:
// A = P·r(1+r)^n / ((1+r)^n − 1) with r = annualRateBP / 12 / 10000 (399 =
// 3.99% a year), computed exactly with big integers and rounded half up to the
// fen. With (1+r)^n = g/h, g = (120000+bp)^n and h = 120000^n, that is
// A = P·bp·g / (120000·(g − h)). At 0% it is P/n rounded down; Schedule puts the
// remainder on the last payment.
func MonthlyPayment(principal Fen, annualRateBP, months int) Fen {
	if !loanArgsOK(principal, annualRateBP, months) {
		return 0
	}
	if annualRateBP == 0 {
		return principal / Fen(months)
	}
	base := big.NewInt(monthsPerYearBP)
	n := big.NewInt(int64(months))
	g := new(big.Int).Exp(big.NewInt(monthsPerYearBP+int64(annualRateBP)), n, nil)
	h := new(big.Int).Exp(base, n, nil)
	num := new(big.Int).Mul(big.NewInt(int64(principal)), big.NewInt(int64(annualRateBP)))
	num.Mul(num, g)
	den := new(big.Int).Sub(g, h)
	den.Mul(den, base)
	// round half up: q+1 when 2·rem ≥ den
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return math.MaxInt64 // unreachable within the loan limits
	}
	return Fen(q.Int64())
}

// Schedule is the month-by-month repayment plan of the loan MonthlyPayment
// prices: each month's interest is the opening balance × r rounded half up to
// the fen, the principal repaid is the payment less that interest, and the last
// payment repays whatever balance is left, so it absorbs every rounding: the
// payments sum exactly to principal + total interest and the final balance is
// exactly 0. It returns nil outside the loan limits.
func Schedule(principal Fen, annualRateBP, months int) []Installment {
	if !loanArgsOK(principal, annualRateBP, months) {
		return nil
	}
	pay := MonthlyPayment(principal, annualRateBP, months)
	out := make([]Installment, months)
	bal := principal
	for k := range out {
		interest := Fen(mulDivHalfUp(int64(bal), int64(annualRateBP), monthsPerYearBP))
		repaid := bal
		if k < months-1 {
			// Tiny loans can round the payment below the interest, or above the
			// balance; neither may make the balance grow or go negative.
			repaid = min(max(pay-interest, 0), bal)
		}
		bal -= repaid
		out[k] = Installment{No: k + 1, Payment: repaid + interest, Principal: repaid, Interest: interest, Balance: bal}
	}
	return out
}

// TotalInterest sums the interest of a schedule.
func TotalInterest(s []Installment) Fen {
	var t Fen
	for _, in := range s {
		t += in.Interest
	}
	return t
}
