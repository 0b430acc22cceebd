package sales

import (
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"dealerdesk/app/apperr"
)

// Limits of a quote: its car loan runs 12–60 months at 0–24% a year.
const (
	MinQuoteMonths = 12
	MaxQuoteMonths = 60
	MaxQuoteRateBP = 2400 // 24% a year
	MaxAccessories = 50
	maxNameRunes   = 100
)

// Accessory is one accessory or decoration package (精品/装潢) on a quote. Cost is
// what the store pays for it, for the margin (S7); a gift has Price 0.
type Accessory struct {
	Name  string `json:"name"`
	Price Fen    `json:"price"`
	Cost  Fen    `json:"cost"`
}

// FinanceInput is the finance plan of a quote. The down payment is either an
// amount (DownPayment) or a share of the vehicle price (DownPaymentBP, used when
// > 0), not both.
type FinanceInput struct {
	DownPayment   Fen `json:"downPayment"`
	DownPaymentBP int `json:"downPaymentBp"` // 3000 = 30% of the vehicle price
	Months        int `json:"months"`        // 12–60
	AnnualRateBP  int `json:"annualRateBp"`  // 399 = 3.99% a year, 0–2400
	Fee           Fen `json:"fee"`           // finance service fee (金融服务费), paid in cash
}

// QuoteInput is what a consultant enters to price a car. All amounts are fen ≥ 0.
type QuoteInput struct {
	MSRP            Fen           `json:"msrp"`            // guide price of the trim (指导价)
	Discount        Fen           `json:"discount"`        // cash discount on the vehicle
	ColorSurcharge  Fen           `json:"colorSurcharge"`  // paint or interior option (选装/颜色加价)
	Accessories     []Accessory   `json:"accessories"`     // at most MaxAccessories
	Insurance       Fen           `json:"insurance"`       // first-year insurance estimate
	RegistrationFee Fen           `json:"registrationFee"` // 上牌费
	OtherFees       Fen           `json:"otherFees"`
	TaxRule         TaxRule       `json:"taxRule"`     // TaxRuleOn(nev, day) unless the store overrides it
	Finance         *FinanceInput `json:"finance"`     // nil: paid in full
	TradeIn         Fen           `json:"tradeIn"`     // appraised value of the customer's car (置换)
	VehicleCost     Fen           `json:"vehicleCost"` // the store's cost of the car; 0 = unknown
}

// Line codes of a quote, in print order; the UI labels them.
const (
	LineMSRP            = "msrp"
	LineDiscount        = "discount" // negative
	LineColorSurcharge  = "color_surcharge"
	LineAccessory       = "accessory" // one per accessory, Name set
	LineInsurance       = "insurance"
	LineRegistrationFee = "registration_fee"
	LineOtherFees       = "other_fees"
	LinePurchaseTax     = "purchase_tax"
	LineFinanceFee      = "finance_fee" // only when financed
)

// Line is one row of a quote's total.
type Line struct {
	Code   string `json:"code"`
	Name   string `json:"name,omitempty"` // the accessory's name
	Amount Fen    `json:"amount"`
}

// Quote is a computed quote. Total (落地价, "out the door") is exactly the sum of
// Lines; the loan's interest is not part of it.
type Quote struct {
	Lines []Line `json:"lines"`
	Total Fen    `json:"total"`

	MSRP              Fen    `json:"msrp"`
	Discount          Fen    `json:"discount"`
	VehiclePrice      Fen    `json:"vehiclePrice"` // MSRP − discount + colour surcharge: the invoice price and tax base
	AccessoryPrice    Fen    `json:"accessoryPrice"`
	PurchaseTax       Fen    `json:"purchaseTax"`
	PurchaseTaxRelief Fen    `json:"purchaseTaxRelief"` // NEV exemption or reduction granted
	TaxRule           string `json:"taxRule"`

	Financed       bool `json:"financed"`
	DownPayment    Fen  `json:"downPayment"`
	AmountFinanced Fen  `json:"amountFinanced"`
	Months         int  `json:"months"`
	AnnualRateBP   int  `json:"annualRateBp"`
	MonthlyPayment Fen  `json:"monthlyPayment"`
	LastPayment    Fen  `json:"lastPayment"` // the last month's payment, which absorbs rounding
	TotalInterest  Fen  `json:"totalInterest"`

	TradeIn Fen `json:"tradeIn"`
	// CashNeed is what the customer pays the store: Total − AmountFinanced −
	// TradeIn. Negative when the trade-in is worth more: the store pays that.
	CashNeed Fen `json:"cashNeed"`

	// Deal profit (S7), shown only to roles that may see cost. CostKnown is false
	// when the vehicle cost was not given; GrossProfit and GrossMarginBP are then 0.
	CostKnown     bool `json:"costKnown"`
	VehicleCost   Fen  `json:"vehicleCost"`
	AccessoryCost Fen  `json:"accessoryCost"`
	GrossProfit   Fen  `json:"grossProfit"`   // VehiclePrice + AccessoryPrice − VehicleCost − AccessoryCost
	GrossMarginBP int  `json:"grossMarginBp"` // GrossProfit / (VehiclePrice + AccessoryPrice), rounded half away from zero
}

// Validate checks the input's shape; the field errors use the JSON field paths.
func (in QuoteInput) Validate() error {
	f := apperr.Fields{}
	amount := func(field string, v Fen) bool {
		if v < 0 || v > MaxAmount {
			f.Add(field, "quote.amount_range")
			return false
		}
		return true
	}
	if in.MSRP <= 0 {
		f.Add("msrp", "required")
	}
	priceOK := amount("msrp", in.MSRP) && in.MSRP > 0
	priceOK = amount("colorSurcharge", in.ColorSurcharge) && priceOK
	priceOK = amount("discount", in.Discount) && priceOK
	if priceOK && in.Discount >= in.MSRP+in.ColorSurcharge {
		f.Add("discount", "quote.discount_exceeds_price")
		priceOK = false
	}
	amount("insurance", in.Insurance)
	amount("registrationFee", in.RegistrationFee)
	amount("otherFees", in.OtherFees)
	amount("tradeIn", in.TradeIn)
	amount("vehicleCost", in.VehicleCost)
	if !in.TaxRule.Valid() {
		f.Add("taxRule", "quote.tax_rule_invalid")
	}
	if len(in.Accessories) > MaxAccessories {
		f.Add("accessories", "quote.accessories_too_many", "max", MaxAccessories)
	} else {
		for i, a := range in.Accessories {
			p := "accessories." + strconv.Itoa(i) + "."
			switch name := strings.TrimSpace(a.Name); {
			case name == "":
				f.Add(p+"name", "required")
			case utf8.RuneCountInString(name) > maxNameRunes:
				f.Add(p+"name", "too_long", "max", maxNameRunes)
			}
			amount(p+"price", a.Price)
			amount(p+"cost", a.Cost)
		}
	}
	if fin := in.Finance; fin != nil {
		if fin.Months < MinQuoteMonths || fin.Months > MaxQuoteMonths {
			f.Add("finance.months", "quote.term_range", "min", MinQuoteMonths, "max", MaxQuoteMonths)
		}
		if fin.AnnualRateBP < 0 || fin.AnnualRateBP > MaxQuoteRateBP {
			f.Add("finance.annualRateBp", "quote.rate_range", "min", 0, "max", MaxQuoteRateBP/100)
		}
		amount("finance.fee", fin.Fee)
		switch {
		case fin.DownPayment != 0 && fin.DownPaymentBP != 0:
			f.Add("finance.downPayment", "quote.down_payment_both")
		case fin.DownPaymentBP < 0 || fin.DownPaymentBP >= 10000:
			f.Add("finance.downPaymentBp", "quote.down_payment_range")
		case fin.DownPayment < 0:
			f.Add("finance.downPayment", "quote.down_payment_range")
		case priceOK && in.downPayment() >= in.vehiclePrice():
			// Nothing would be left to finance.
			field := "finance.downPayment"
			if fin.DownPaymentBP > 0 {
				field = "finance.downPaymentBp"
			}
			f.Add(field, "quote.down_payment_range")
		}
	}
	return f.Err()
}

func (in QuoteInput) vehiclePrice() Fen { return in.MSRP - in.Discount + in.ColorSurcharge }

// downPayment is the finance plan's down payment in fen: the amount, or the
// share of the vehicle price rounded half up.
func (in QuoteInput) downPayment() Fen {
	if in.Finance.DownPaymentBP > 0 {
		return Fen(mulDivHalfUp(int64(in.vehiclePrice()), int64(in.Finance.DownPaymentBP), 10000))
	}
	return in.Finance.DownPayment
}

// Compute prices a quote: every line, the purchase tax on the vehicle price
// (MSRP − discount + colour surcharge), the total out the door, the loan, the
// customer's cash need after the trade-in, and the deal's gross margin. It
// returns an apperr Invalid error with field codes when the input is not valid.
func Compute(in QuoteInput) (Quote, error) {
	if err := in.Validate(); err != nil {
		return Quote{}, err
	}
	q := Quote{
		MSRP:         in.MSRP,
		Discount:     in.Discount,
		VehiclePrice: in.vehiclePrice(),
		TaxRule:      in.TaxRule.Code,
		TradeIn:      in.TradeIn,
	}
	q.PurchaseTax, q.PurchaseTaxRelief = purchaseTax(q.VehiclePrice, in.TaxRule)

	q.Lines = make([]Line, 0, 8+len(in.Accessories))
	q.Lines = append(q.Lines,
		Line{Code: LineMSRP, Amount: in.MSRP},
		Line{Code: LineDiscount, Amount: -in.Discount},
		Line{Code: LineColorSurcharge, Amount: in.ColorSurcharge})
	for _, a := range in.Accessories {
		q.Lines = append(q.Lines, Line{Code: LineAccessory, Name: strings.TrimSpace(a.Name), Amount: a.Price})
		q.AccessoryPrice += a.Price
		q.AccessoryCost += a.Cost
	}
	q.Lines = append(q.Lines,
		Line{Code: LineInsurance, Amount: in.Insurance},
		Line{Code: LineRegistrationFee, Amount: in.RegistrationFee},
		Line{Code: LineOtherFees, Amount: in.OtherFees},
		Line{Code: LinePurchaseTax, Amount: q.PurchaseTax})

	if fin := in.Finance; fin != nil {
		q.Lines = append(q.Lines, Line{Code: LineFinanceFee, Amount: fin.Fee})
		q.Financed, q.Months, q.AnnualRateBP = true, fin.Months, fin.AnnualRateBP
		q.DownPayment = in.downPayment()
		q.AmountFinanced = q.VehiclePrice - q.DownPayment // > 0: Validate saw to it
		s := Schedule(q.AmountFinanced, fin.AnnualRateBP, fin.Months)
		q.MonthlyPayment = MonthlyPayment(q.AmountFinanced, fin.AnnualRateBP, fin.Months)
		q.LastPayment = s[len(s)-1].Payment
		q.TotalInterest = TotalInterest(s)
	}

	for _, l := range q.Lines {
		q.Total += l.Amount
	}
	q.CashNeed = q.Total - q.AmountFinanced - q.TradeIn

	if in.VehicleCost > 0 {
		q.CostKnown, q.VehicleCost = true, in.VehicleCost
		revenue := q.VehiclePrice + q.AccessoryPrice
		q.GrossProfit = revenue - q.VehicleCost - q.AccessoryCost
		q.GrossMarginBP = ratioBP(q.GrossProfit, revenue)
	}
	return q, nil
}

// ratioBP is num/den in basis points, rounded half away from zero (den > 0).
func ratioBP(num, den Fen) int {
	if num < 0 {
		return -int(mulDivHalfUp(int64(-num), 10000, int64(den)))
	}
	return int(mulDivHalfUp(int64(num), 10000, int64(den)))
}

// Limits are a store's discount limits (S4/S5): a quote beyond any of them needs
// a manager's approval before it can become an order. A nil limit is not set.
type Limits struct {
	MaxDiscount      *Fen `json:"maxDiscount"`      // largest cash discount per car
	MaxDiscountBP    *int `json:"maxDiscountBp"`    // largest discount as a share of MSRP
	MinGrossMarginBP *int `json:"minGrossMarginBp"` // smallest gross margin (vehicle + accessories); checked only when the vehicle cost is known
}

// Reasons DiscountCheck gives, i18n keys under "sales.approvalReason.".
const (
	ReasonDiscountAmount  = "discount_amount"
	ReasonDiscountPercent = "discount_percent"
	ReasonGrossMargin     = "gross_margin"
)

// DiscountCheck reports whether q exceeds the store's limits, and which ones.
// The comparisons are exact (cross-multiplied in big integers), so a discount of
// exactly the limit passes. Without a known vehicle cost the margin cannot be
// judged and only the discount limits apply.
func DiscountCheck(q Quote, limits Limits) (needsApproval bool, reasons []string) {
	if l := limits.MaxDiscount; l != nil && q.Discount > *l {
		reasons = append(reasons, ReasonDiscountAmount)
	}
	// Discount/MSRP > limit/10000 ⇔ Discount·10000 > limit·MSRP
	if l := limits.MaxDiscountBP; l != nil && q.MSRP > 0 && cmpProducts(int64(q.Discount), 10000, int64(*l), int64(q.MSRP)) > 0 {
		reasons = append(reasons, ReasonDiscountPercent)
	}
	// Profit/revenue < limit/10000 ⇔ Profit·10000 < limit·revenue (revenue > 0)
	if l := limits.MinGrossMarginBP; l != nil && q.CostKnown {
		revenue := q.VehiclePrice + q.AccessoryPrice
		if revenue > 0 && cmpProducts(int64(q.GrossProfit), 10000, int64(*l), int64(revenue)) < 0 {
			reasons = append(reasons, ReasonGrossMargin)
		}
	}
	return len(reasons) > 0, reasons
}

// cmpProducts compares a·b with c·d exactly (-1, 0, +1).
func cmpProducts(a, b, c, d int64) int {
	x := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	return x.Cmp(new(big.Int).Mul(big.NewInt(c), big.NewInt(d)))
}
