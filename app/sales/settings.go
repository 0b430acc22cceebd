package sales

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// settingKey is the settings-table key of a store's quote settings.
const settingKey = "quote"

// The NEV purchase-tax choices of a store (QuoteSettings.NEVTaxRule): auto
// follows the state's relief by the quote's date (TaxRuleOn); the others pin
// one rule for every new-energy car (ice: no relief).
var NEVTaxRules = []string{"auto", "nev_2024", "nev_2026", "ice"}

// PackageTemplate is an accessory/decoration package (精品/装潢套餐) a store
// offers, picked into a quote as one line.
type PackageTemplate struct {
	Name  string `json:"name"`
	Price int64  `json:"price"`          // fen
	Cost  *int64 `json:"cost,omitempty"` // fen; shown and saved only with cost.read
}

// Letterhead is what the printed quote shows of the store.
type Letterhead struct {
	StoreName   string `json:"storeName"`
	Address     string `json:"address"`
	Phone       string `json:"phone"`
	BankAccount string `json:"bankAccount"` // 开户行及账号
	Footer      string `json:"footer"`      // note printed under the figures
}

// QuoteSettings are a store's quote rules (报价设置): the limits a consultant may
// quote within without approval, defaults of new quotes, and the letterhead.
type QuoteSettings struct {
	// Limits; null is not set.
	MaxDiscount      *int64 `json:"maxDiscount"`      // fen
	MaxDiscountBP    *int   `json:"maxDiscountBp"`    // of MSRP
	MinGrossMarginBP *int   `json:"minGrossMarginBp"` // checked when the vehicle cost is known
	// Defaults of a new quote.
	ValidityDays     int               `json:"validityDays"`
	RegistrationFee  int64             `json:"registrationFee"`       // 上牌费, fen
	ServiceFee       int64             `json:"serviceFee"`            // 服务费, fen
	InsuranceRateBP  int               `json:"insuranceRateBp"`       // first-year insurance estimate, of the vehicle price
	NEVTaxRule       string            `json:"nevTaxRule"`            // auto | nev_2024 | nev_2026 | ice
	FinanceCommBP    int               `json:"financeCommissionBp"`   // expected lender commission, of the amount financed
	InsuranceCommBP  int               `json:"insuranceCommissionBp"` // expected insurer commission, of the premium
	DefaultMonths    int               `json:"defaultMonths"`
	DefaultRateBP    int               `json:"defaultRateBp"`
	DefaultDownPayBP int               `json:"defaultDownPaymentBp"`
	Packages         []PackageTemplate `json:"packages"`
	Letterhead       Letterhead        `json:"letterhead"`
	Version          int64             `json:"version"`
	// CostHidden: the reader lacks cost.read, so the package costs and the
	// commission rates (deal profit) are left out; saving keeps the stored ones.
	CostHidden bool `json:"costHidden,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// DefaultQuoteSettings: discounts up to 8% of MSRP or 20,000 yuan, 7 days'
// validity, 上牌 500 yuan, insurance estimated at 3.5% of the price.
func DefaultQuoteSettings() QuoteSettings {
	return QuoteSettings{
		MaxDiscount: ptr(int64(Yuan(20000))), MaxDiscountBP: ptr(800),
		ValidityDays: 7, RegistrationFee: int64(Yuan(500)), InsuranceRateBP: 350, NEVTaxRule: "auto",
		FinanceCommBP: 200, InsuranceCommBP: 1000, DefaultMonths: 36, DefaultRateBP: 399, DefaultDownPayBP: 3000,
		Packages: []PackageTemplate{}}
}

// Limits are the approval limits as sales.Limits.
func (st QuoteSettings) Limits() Limits {
	var l Limits
	if st.MaxDiscount != nil {
		l.MaxDiscount = ptr(Fen(*st.MaxDiscount))
	}
	l.MaxDiscountBP, l.MinGrossMarginBP = st.MaxDiscountBP, st.MinGrossMarginBP
	return l
}

// TaxRule is the purchase-tax rule for a car of the energy type bought on day.
func (st QuoteSettings) TaxRule(energyType string, day time.Time) TaxRule {
	nev := IsNEV(energyType)
	if !nev {
		return TaxRuleICE()
	}
	switch st.NEVTaxRule {
	case "nev_2024":
		return TaxRuleNEV2024()
	case "nev_2026":
		return TaxRuleNEV2026()
	case "ice":
		return TaxRuleICE()
	}
	return TaxRuleOn(true, day)
}

// IsNEV reports whether a catalogue energy type is a new-energy vehicle for the
// purchase tax (BEV, PHEV and EREV; a plain hybrid is not).
func IsNEV(energyType string) bool {
	return energyType == "bev" || energyType == "phev" || energyType == "erev"
}

// Normalize trims the texts.
func (st *QuoteSettings) Normalize() {
	l := &st.Letterhead
	for _, p := range []*string{&l.StoreName, &l.Address, &l.Phone, &l.BankAccount, &l.Footer, &st.NEVTaxRule} {
		*p = strings.TrimSpace(*p)
	}
	if st.NEVTaxRule == "" {
		st.NEVTaxRule = "auto"
	}
	if st.Packages == nil {
		st.Packages = []PackageTemplate{}
	}
	for i := range st.Packages {
		st.Packages[i].Name = strings.TrimSpace(st.Packages[i].Name)
	}
}

// Validate checks the settings with field errors.
func (st *QuoteSettings) Validate() error {
	f := apperr.Fields{}
	money := func(field string, v int64) {
		if v < 0 || v > int64(MaxAmount) {
			f.Add(field, "quote.amount_range")
		}
	}
	bp := func(field string, v, max int) {
		if v < 0 || v > max {
			f.Add(field, "out_of_range", "min", 0, "max", max)
		}
	}
	if st.MaxDiscount != nil {
		money("maxDiscount", *st.MaxDiscount)
	}
	if st.MaxDiscountBP != nil {
		bp("maxDiscountBp", *st.MaxDiscountBP, 10000)
	}
	if st.MinGrossMarginBP != nil && (*st.MinGrossMarginBP < -10000 || *st.MinGrossMarginBP > 10000) {
		f.Add("minGrossMarginBp", "out_of_range", "min", -10000, "max", 10000)
	}
	if st.ValidityDays < 1 || st.ValidityDays > 90 {
		f.Add("validityDays", "out_of_range", "min", 1, "max", 90)
	}
	money("registrationFee", st.RegistrationFee)
	money("serviceFee", st.ServiceFee)
	bp("insuranceRateBp", st.InsuranceRateBP, 2000)
	bp("financeCommissionBp", st.FinanceCommBP, 2000)
	bp("insuranceCommissionBp", st.InsuranceCommBP, 5000)
	if !oneOf(st.NEVTaxRule, NEVTaxRules) {
		f.Add("nevTaxRule", "quote.tax_rule_invalid")
	}
	if st.DefaultMonths != 0 && (st.DefaultMonths < MinQuoteMonths || st.DefaultMonths > MaxQuoteMonths) {
		f.Add("defaultMonths", "quote.term_range", "min", MinQuoteMonths, "max", MaxQuoteMonths)
	}
	bp("defaultRateBp", st.DefaultRateBP, MaxQuoteRateBP)
	bp("defaultDownPaymentBp", st.DefaultDownPayBP, 9900)
	if len(st.Packages) > MaxAccessories {
		f.Add("packages", "quote.accessories_too_many", "max", MaxAccessories)
	}
	seen := map[string]bool{}
	for i, p := range st.Packages {
		k := "packages." + strconv.Itoa(i) + "."
		switch {
		case p.Name == "":
			f.Add(k+"name", "required")
		case utf8.RuneCountInString(p.Name) > maxNameRunes:
			f.Add(k+"name", "too_long", "max", maxNameRunes)
		case seen[p.Name]:
			f.Add(k+"name", "quote.package_duplicate")
		}
		seen[p.Name] = true
		money(k+"price", p.Price)
		if p.Cost != nil {
			money(k+"cost", *p.Cost)
		}
	}
	l := st.Letterhead
	for name, v := range map[string]string{"letterhead.storeName": l.StoreName, "letterhead.address": l.Address, "letterhead.phone": l.Phone,
		"letterhead.bankAccount": l.BankAccount} {
		if utf8.RuneCountInString(v) > 200 {
			f.Add(name, "too_long", "max", 200)
		}
	}
	if utf8.RuneCountInString(l.Footer) > 1000 {
		f.Add("letterhead.footer", "too_long", "max", 1000)
	}
	return f.Err()
}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// LoadQuoteSettings returns a store's quote settings, or the defaults; the
// letterhead falls back to the store's own name, address and phone.
func LoadQuoteSettings(ctx context.Context, q db.Querier, storeID int64) (QuoteSettings, error) {
	st := DefaultQuoteSettings()
	found, ver, err := db.LoadSetting(ctx, q, settingKey, storeID, &st)
	if err != nil {
		return st, fmt.Errorf("sales: quote settings of store %d: %w", storeID, err)
	}
	if found {
		st.Version = ver
	}
	st.Normalize()
	if st.Letterhead.StoreName == "" || st.Letterhead.Address == "" || st.Letterhead.Phone == "" {
		var name, addr, phone, head string
		err := q.QueryRowContext(ctx, `SELECT name, address, phone, letterhead FROM store WHERE id = ?`, storeID).Scan(&name, &addr, &phone, &head)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return st, fmt.Errorf("sales: store %d: %w", storeID, err)
		}
		if head != "" {
			name = head
		}
		l := &st.Letterhead
		for _, p := range [][2]*string{{&l.StoreName, &name}, {&l.Address, &addr}, {&l.Phone, &phone}} {
			if *p[0] == "" {
				*p[0] = *p[1]
			}
		}
	}
	return st, nil
}

// withoutCost hides the package costs from an actor without cost.read.
func (st QuoteSettings) withoutCost(a auth.Actor) QuoteSettings {
	if a.Has(auth.PermCostRead) {
		return st
	}
	st.FinanceCommBP, st.InsuranceCommBP, st.CostHidden = 0, 0, true
	pk := make([]PackageTemplate, len(st.Packages))
	for i, p := range st.Packages {
		pk[i] = PackageTemplate{Name: p.Name, Price: p.Price}
	}
	st.Packages = pk
	return st
}

// storeAccess: 403 without perm, 404 for a store outside the actor's reach.
func storeAccess(a auth.Actor, perm string, storeID int64) error {
	if err := auth.Require(a, perm); err != nil {
		return err
	}
	if a.Scope != auth.ScopeGroup && storeID != a.HomeStoreID {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}

// GetSettings returns a store's quote settings (customer.read: the quote form
// needs its defaults); package costs only with cost.read.
func (s *Service) GetSettings(ctx context.Context, a auth.Actor, storeID int64) (QuoteSettings, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerRead, storeID); err != nil {
		return QuoteSettings{}, err
	}
	st, err := LoadQuoteSettings(ctx, s.d.DB.R, storeID)
	return st.withoutCost(a), err
}

// SaveSettings replaces a store's quote settings (customer.assign: a sales
// manager sets the limits), version checked and audited. Without cost.read the
// package costs stored before are kept by package name.
func (s *Service) SaveSettings(ctx context.Context, a auth.Actor, storeID int64, in QuoteSettings) (QuoteSettings, error) {
	if storeID == 0 {
		storeID = a.StoreID
	}
	if err := storeAccess(a, auth.PermCustomerAssign, storeID); err != nil {
		return QuoteSettings{}, err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return QuoteSettings{}, err
	}
	err := s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		var before QuoteSettings
		found, ver, err := db.LoadSetting(ctx, tx, settingKey, storeID, &before)
		if err != nil {
			return err
		}
		if !found {
			before = DefaultQuoteSettings()
		}
		if ver != in.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if !a.Has(auth.PermCostRead) {
			costs := map[string]*int64{}
			for _, p := range before.Packages {
				costs[p.Name] = p.Cost
			}
			for i := range in.Packages {
				in.Packages[i].Cost = costs[in.Packages[i].Name]
			}
			// The commission rates are deal profit: only cost.read changes them.
			in.FinanceCommBP, in.InsuranceCommBP = before.FinanceCommBP, before.InsuranceCommBP
		}
		in.Version, in.CostHidden = 0, false
		if err := db.SaveSetting(ctx, tx, settingKey, storeID, in, a.UserID, s.now()); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "update", Entity: "quote_settings",
			EntityID: strconv.FormatInt(storeID, 10), StoreID: storeID, Before: before, After: in})
	})
	if err != nil {
		return QuoteSettings{}, err
	}
	return s.GetSettings(ctx, a, storeID)
}
