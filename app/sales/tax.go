package sales

import "time"

// TaxRule is how vehicle purchase tax (车辆购置税) is levied on a car: Rate of the
// price before VAT, then a relief of Exempt of that tax, capped at ReductionCap
// per car. Rules are values so that a store setting can override them when the
// state changes the NEV policy again.
type TaxRule struct {
	Code         string `json:"code"`         // "ice", "nev_2024", "nev_2026", or a custom code
	RateBP       int    `json:"rateBp"`       // tax rate in basis points of the pre-VAT price: 1000 = 10%
	ExemptBP     int    `json:"exemptBp"`     // share of the tax relieved: 10000 = exempt, 5000 = halved
	ReductionCap Fen    `json:"reductionCap"` // most relief per car; 0 = no cap
}

// VATDivisorPermille is 1 + the 13% VAT the tax-inclusive price carries, in
// thousandths: the tax base is price ÷ 1.13.
const VATDivisorPermille = 1130

// TaxRuleICE is the ordinary rule (also for a NEV outside the relief years): 10%
// of price ÷ 1.13.
func TaxRuleICE() TaxRule { return TaxRule{Code: "ice", RateBP: 1000} }

// TaxRuleNEV2024 is the rule for new-energy passenger cars bought from 1 January
// 2024 to 31 December 2025 (财政部 税务总局 工业和信息化部公告2023年第10号): exempt,
// with the exemption capped at 30,000 yuan per car.
func TaxRuleNEV2024() TaxRule {
	return TaxRule{Code: "nev_2024", RateBP: 1000, ExemptBP: 10000, ReductionCap: Yuan(30000)}
}

// TaxRuleNEV2026 is the rule for new-energy passenger cars bought from 1 January
// 2026 to 31 December 2027 (the same announcement): tax halved, the reduction
// capped at 15,000 yuan per car.
func TaxRuleNEV2026() TaxRule {
	return TaxRule{Code: "nev_2026", RateBP: 1000, ExemptBP: 5000, ReductionCap: Yuan(15000)}
}

// TaxRuleOn returns the default rule for a car bought on day (its calendar date
// as the caller's location sees it): the NEV relief of that year for a
// new-energy car, else the ordinary rule.
func TaxRuleOn(nev bool, day time.Time) TaxRule {
	switch y := day.Year(); {
	case nev && (y == 2024 || y == 2025):
		return TaxRuleNEV2024()
	case nev && (y == 2026 || y == 2027):
		return TaxRuleNEV2026()
	}
	return TaxRuleICE()
}

// Valid reports whether the rule's rates are within 0–100% (the rate above 0)
// and its cap is not negative. The zero TaxRule is not valid, so a quote cannot
// come out tax-free because a rule was forgotten.
func (r TaxRule) Valid() bool {
	return r.RateBP > 0 && r.RateBP <= 10000 && r.ExemptBP >= 0 && r.ExemptBP <= 10000 && r.ReductionCap >= 0
}

// PurchaseTax is the purchase tax (购置税) due on a tax-inclusive vehicle price:
// price ÷ 1.13 × rate, rounded once, half up, to the fen (for 10%:
// round(price·100 / 1130)), less the rule's relief. A price ≤ 0 or an invalid
// rule gives 0.
func PurchaseTax(price Fen, rule TaxRule) Fen {
	tax, _ := purchaseTax(price, rule)
	return tax
}

// purchaseTax returns the tax due and the relief granted by the rule. It rounds
// the tax due (not the relief) half up, so a halved odd-fen tax is quoted at
// the higher fen; the relief is what remains of the full tax.
func purchaseTax(price Fen, rule TaxRule) (tax, relief Fen) {
	if price <= 0 || !rule.Valid() {
		return 0, 0
	}
	// price/1.13 × rate/10000 = price × rate / (1130 × 10)
	full := Fen(mulDivHalfUp(int64(price), int64(rule.RateBP), VATDivisorPermille*10))
	tax = Fen(mulDivHalfUp(int64(full), int64(10000-rule.ExemptBP), 10000))
	relief = full - tax
	if rule.ReductionCap > 0 && relief > rule.ReductionCap {
		relief = rule.ReductionCap
		tax = full - relief
	}
	return tax, relief
}
